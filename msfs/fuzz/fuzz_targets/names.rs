//! Name decoding: any bytes are either rejected with OBJECT_NAME_INVALID, the root, or a name
//! that a server can create and clients can open under any ASCII case change.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msfs::name::{parse_target, Target};
use msfs::{Access, Config, CreateParameters, Msfs, NtStatus};

fuzz_target!(|data: &[u8]| {
    let target = parse_target(data);
    let mut e = Msfs::new(Config { budget_bytes: 1 << 16, hash_keys: [1, 2], owner_limit_bytes: u64::MAX });
    let params = CreateParameters { mailslot_quota: 0, maximum_message_size: 0, read_timeout: None };
    match target {
        Err(status) => {
            assert_eq!(status, NtStatus::OBJECT_NAME_INVALID);
            assert_eq!(e.create_server(data, &params, Access::READ, 0).unwrap_err(), status);
            assert_eq!(e.open(data, Access::WRITE).unwrap_err(), status);
        }
        Ok(Target::Root) => assert!(data.is_empty() || data == [0x5C, 0]),
        Ok(Target::Slot(name)) => {
            assert_eq!(name.len_units() * 2 + 2, data.len());
            let server = e.create_server(data, &params, Access::READ, 0).unwrap();
            let flipped: Vec<u8> = data
                .chunks_exact(2)
                .flat_map(|p| {
                    let u = u16::from_le_bytes([p[0], p[1]]);
                    let f = match u {
                        0x41..=0x5A => u + 0x20,
                        0x61..=0x7A => u - 0x20,
                        _ => u,
                    };
                    f.to_le_bytes()
                })
                .collect();
            let client = e.open(&flipped, Access::WRITE).unwrap();
            assert_eq!(
                e.create_server(&flipped, &params, Access::READ, 0).unwrap_err(),
                NtStatus::OBJECT_NAME_COLLISION
            );
            e.write(&client, b"x", |_, _| unreachable!()).unwrap();
            e.close(client, |_, _| {});
            e.close(server, |_, _| {});
            e.check_invariants().unwrap();
            assert!(e.is_idle());
        }
    }
});
