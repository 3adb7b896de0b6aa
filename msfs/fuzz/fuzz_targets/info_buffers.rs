//! Decoders of information buffers: create parameters, query and set information, and the
//! encoders writing into buffers of any length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msfs::wire::{CreateParameters, MailslotInfo, PeekHeader, PointerWidth, SetInformation};
use msfs::NtStatus;

fuzz_target!(|data: &[u8]| {
    match CreateParameters::decode(data) {
        Ok(p) => {
            assert!(data.len() >= CreateParameters::WIRE_SIZE);
            let mut back = [0u8; 24];
            p.encode(&mut back).unwrap();
            assert_eq!(CreateParameters::decode(&back).unwrap(), p);
            assert_eq!(&back[..16], &data[..16].iter().enumerate().map(|(i, &b)| if i >= 8 && p.read_timeout.is_none() { 0 } else { b }).collect::<Vec<_>>()[..]);
        }
        Err(s) => assert_eq!((s, data.len() < 24), (NtStatus::INVALID_PARAMETER, true)),
    }
    match MailslotInfo::decode(data) {
        Ok(info) => {
            let mut out = vec![0xAAu8; data.len()];
            assert_eq!(info.encode(&mut out), Ok(24));
            assert_eq!(&out[..24], &data[..24]);
            assert!(out[24..].iter().all(|&b| b == 0xAA));
        }
        Err(s) => assert_eq!((s, data.len() < 24), (NtStatus::INFO_LENGTH_MISMATCH, true)),
    }
    match SetInformation::decode(data) {
        Ok(s) => assert_eq!(s.read_timeout_ptr.get().to_le_bytes(), data[..8]),
        Err(NtStatus::INFO_LENGTH_MISMATCH) => assert!(data.len() < 8),
        Err(NtStatus::INVALID_PARAMETER) => assert_eq!(&data[..8], &[0; 8]),
        Err(other) => panic!("unexpected {other:?}"),
    }
    match SetInformation::decode_for(data, PointerWidth::Bits32) {
        Ok(s) => assert_eq!(s.read_timeout_ptr.get().to_le_bytes()[..4], data[..4]),
        Err(NtStatus::INFO_LENGTH_MISMATCH) => assert!(data.len() < 4),
        Err(NtStatus::INVALID_PARAMETER) => assert_eq!(&data[..4], &[0; 4]),
        Err(other) => panic!("unexpected {other:?}"),
    }
    let header = PeekHeader { read_data_available: 1, number_of_messages: 2, message_length: 3 };
    let mut out = vec![0u8; data.len()];
    match header.encode(&mut out) {
        Ok(n) => assert_eq!((n, data.len() >= 12), (12, true)),
        Err(s) => assert_eq!((s, data.len() < 12), (NtStatus::BUFFER_TOO_SMALL, true)),
    }
});
