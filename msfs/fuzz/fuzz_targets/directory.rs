//! Directory queries with arbitrary classes, flags, patterns and buffer sizes: replies stay
//! inside the buffer, records chain correctly, and a scan never returns a name twice.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use msfs::dir::DirClass;
use msfs::{Access, Config, CreateParameters, DirQuery, Msfs, NtStatus};

#[derive(Arbitrary, Debug)]
struct Query {
    class: u8,
    restart: bool,
    single: bool,
    pattern: Option<Vec<u8>>,
    buffer: u16,
}

#[derive(Arbitrary, Debug)]
struct Input {
    names: Vec<Vec<u8>>,
    queries: Vec<Query>,
}

const CLASSES: [u32; 6] = [1, 2, 3, 12, 0, 37];

fuzz_target!(|input: Input| {
    let mut e = Msfs::new(Config { budget_bytes: 1 << 16, hash_keys: [3, 4], owner_limit_bytes: u64::MAX });
    let params = CreateParameters { mailslot_quota: 0, maximum_message_size: 0, read_timeout: Some(0) };
    let mut servers = Vec::new();
    for mut raw in input.names.into_iter().take(32) {
        raw.truncate(200);
        let mut name = vec![0x5C, 0];
        name.extend(raw);
        if let Ok(h) = e.create_server(&name, &params, Access::READ, 0) {
            servers.push(h);
        }
    }
    let mut root = e.open(&[], Access::READ).unwrap();
    let mut returned = std::collections::HashSet::new();
    for q in input.queries.into_iter().take(64) {
        let class = CLASSES[q.class as usize % CLASSES.len()];
        let query = DirQuery {
            class,
            restart_scan: q.restart,
            return_single_entry: q.single,
            pattern: q.pattern.as_deref(),
        };
        if q.restart {
            returned.clear();
        }
        let mut buf = vec![0u8; q.buffer as usize % 2048];
        let r = e.query_directory(&mut root, &query, &mut buf);
        assert!(r.information <= buf.len());
        match r.status {
            NtStatus::SUCCESS | NtStatus::BUFFER_OVERFLOW => {
                let base = DirClass::from_raw(class).unwrap().base_len();
                let len_at = if class == 12 { 8 } else { 0x3C };
                let mut offset = 0usize;
                let mut count = 0;
                loop {
                    let next = u32::from_le_bytes(buf[offset..offset + 4].try_into().unwrap()) as usize;
                    let name_len = u32::from_le_bytes(buf[offset + len_at..offset + len_at + 4].try_into().unwrap()) as usize;
                    assert_eq!(offset % 8, 0);
                    count += 1;
                    if next == 0 {
                        if r.status == NtStatus::SUCCESS {
                            assert_eq!(offset + base + name_len, r.information);
                            let name = buf[offset + base..r.information].to_vec();
                            assert!(returned.insert(name), "a name came twice in one scan");
                        } else {
                            assert!(offset + base + name_len > r.information);
                        }
                        break;
                    }
                    assert!(next >= base + name_len);
                    let name = buf[offset + base..offset + base + name_len].to_vec();
                    assert!(returned.insert(name), "a name came twice in one scan");
                    offset += next;
                }
                if q.single {
                    assert_eq!(count, 1);
                }
            }
            NtStatus::NO_MORE_FILES
            | NtStatus::NO_SUCH_FILE
            | NtStatus::INFO_LENGTH_MISMATCH
            | NtStatus::INVALID_INFO_CLASS
            | NtStatus::OBJECT_NAME_INVALID => assert_eq!(r.information, 0),
            other => panic!("unexpected {other:?}"),
        }
    }
    e.close(root, |_, _| {});
    for s in servers {
        e.close(s, |_, _| {});
    }
    e.check_invariants().unwrap();
    assert!(e.is_idle());
});
