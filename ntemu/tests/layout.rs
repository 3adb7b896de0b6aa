//! Every structure layout and constant the emulated kernel builds, and the NTSTATUS to Win32
//! mapping its kernel32 applies, against an independent source: `tools/layout-probe.sh` prints
//! them from mingw-w64's DDK headers and Wine's ntdll (target/layout-probe.txt). Nothing here
//! is compared with driver/src/ffi.rs.

use std::collections::HashMap;
use std::path::PathBuf;

use ntemu::kernel32::{dos_error, MAPPED};
use ntemu::layout;

fn probe() -> HashMap<String, u64> {
    let path = std::env::var_os("NTEMU_LAYOUT_PROBE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/layout-probe.txt")
        });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run tools/layout-probe.sh first (tools/test.sh does)",
            path.display()
        )
    });
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| {
            (
                k.to_string(),
                v.trim().parse::<u64>().expect("a decimal value"),
            )
        })
        .collect()
}

#[test]
fn every_layout_matches_the_ddk_headers() {
    let probed = probe();
    let io_types = [
        ("const.IO_TYPE_DEVICE", layout::IO_TYPE_DEVICE),
        ("const.IO_TYPE_DRIVER", layout::IO_TYPE_DRIVER),
        ("const.IO_TYPE_FILE", layout::IO_TYPE_FILE),
        ("const.IO_TYPE_IRP", layout::IO_TYPE_IRP),
    ];
    let ours = layout::PROBED
        .iter()
        .map(|&(k, v)| (k, v as u64))
        .chain(io_types.iter().map(|&(k, v)| (k, u64::from(v))));
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (key, value) in ours {
        match probed.get(key) {
            Some(&p) if p == value => checked += 1,
            Some(&p) => wrong.push(format!("{key}: ntemu {value}, headers {p}")),
            None => wrong.push(format!("{key}: the probe does not print it")),
        }
    }
    assert!(
        wrong.is_empty(),
        "layouts that differ:\n{}",
        wrong.join("\n")
    );
    assert!(checked > 150, "only {checked} values checked");
}

#[test]
fn status_mapping_matches_wines_ntdll() {
    let probed = probe();
    let mut wrong = Vec::new();
    for status in MAPPED {
        let key = format!("dos.0x{status:08X}");
        match probed.get(&key) {
            Some(&e) if e == u64::from(dos_error(status as i32)) => {}
            Some(&e) => wrong.push(format!(
                "{key}: ntemu {}, Wine {e}",
                dos_error(status as i32)
            )),
            None => wrong.push(format!("{key}: not in the probe's list")),
        }
    }
    assert!(
        wrong.is_empty(),
        "mappings that differ:\n{}",
        wrong.join("\n")
    );
    // Every status the probe lists is mapped by ours too (not left to ERROR_MR_MID_NOT_FOUND).
    let unlisted: Vec<&String> = probed
        .keys()
        .filter(|k| k.starts_with("dos."))
        .filter(|k| !MAPPED.iter().any(|s| **k == format!("dos.0x{s:08X}")))
        .collect();
    assert!(unlisted.is_empty(), "probed but not mapped: {unlisted:?}");
}
