//! Directory enumeration of the device root: records, patterns, scan state, partial buffers.

mod common;

use common::*;
use msfs::dir::DirClass;
use msfs::{Access, DirQuery, DirReply, Handle, Msfs, NtStatus};

const DIRECTORY: u32 = 1;
const FULL: u32 = 2;
const BOTH: u32 = 3;
const NAMES: u32 = 12;

fn query(class: u32) -> DirQuery<'static> {
    DirQuery {
        class,
        restart_scan: false,
        return_single_entry: false,
        pattern: None,
    }
}

/// Walks the records of one reply: (offset, FileNameLength, name bytes present).
fn records(class: u32, buf: &[u8], information: usize) -> Vec<(usize, u32, String)> {
    let c = DirClass::from_raw(class).unwrap();
    let len_at = if class == NAMES { 0x08 } else { 0x3C };
    let mut out = Vec::new();
    let mut offset = 0usize;
    loop {
        assert_eq!(offset % 8, 0, "records are 8-byte aligned");
        let next = u32::from_le_bytes(buf[offset..offset + 4].try_into().unwrap()) as usize;
        let name_len = u32::from_le_bytes(
            buf[offset + len_at..offset + len_at + 4]
                .try_into()
                .unwrap(),
        );
        let start = offset + c.base_len();
        let end = if next == 0 {
            information
        } else {
            (start + name_len as usize).min(information)
        };
        let units: Vec<u16> = buf[start..end]
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        out.push((offset, name_len, String::from_utf16(&units).unwrap()));
        if next == 0 {
            assert!(end <= information);
            break;
        }
        assert!(
            next >= c.base_len() + name_len as usize,
            "records do not overlap"
        );
        offset += next;
    }
    out
}

fn names(class: u32, buf: &[u8], reply: DirReply) -> Vec<String> {
    records(class, buf, reply.information)
        .into_iter()
        .map(|r| r.2)
        .collect()
}

fn root(e: &mut Msfs) -> Handle {
    e.open(&[], Access::READ).unwrap()
}

fn list_all(e: &Msfs, h: &mut Handle, class: u32, pattern: Option<&str>) -> Vec<String> {
    let bytes = pattern.map(utf16);
    let mut q = query(class);
    q.restart_scan = true;
    q.pattern = bytes.as_deref();
    let mut all = Vec::new();
    loop {
        let mut buf = vec![0u8; 4096];
        let r = e.query_directory(h, &q, &mut buf);
        q.restart_scan = false;
        q.pattern = None;
        match r.status {
            NtStatus::SUCCESS => all.extend(names(class, &buf, r)),
            NtStatus::NO_MORE_FILES | NtStatus::NO_SUCH_FILE => return all,
            other => panic!("{other:?}"),
        }
    }
}

fn populate(e: &mut Msfs, list: &[&str]) -> Vec<Handle> {
    list.iter().map(|n| server(e, n, 0, Some(0))).collect()
}

#[test]
fn lists_live_mailslots_in_creation_order_without_leading_backslash() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\zeta", "\\App\\Events", "\\alpha"]);
    let mut h = root(&mut e);
    for class in [DIRECTORY, FULL, BOTH, NAMES] {
        assert_eq!(
            list_all(&e, &mut h, class, None),
            ["zeta", "App\\Events", "alpha"]
        );
    }
}

#[test]
fn empty_root_first_query_is_no_such_file_then_no_more_files() {
    let mut e = engine();
    let mut h = root(&mut e);
    let mut buf = [0u8; 256];
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(
        r,
        DirReply {
            status: NtStatus::NO_SUCH_FILE,
            information: 0
        }
    );
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(
        r,
        DirReply {
            status: NtStatus::NO_MORE_FILES,
            information: 0
        }
    );
    let mut q = query(DIRECTORY);
    q.restart_scan = true;
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(
        r.status,
        NtStatus::NO_SUCH_FILE,
        "a restart is a first query again"
    );
}

#[test]
fn single_entry_scan_like_winobjex() {
    // Restart first, then one entry per call until the scan ends.
    let mut e = engine();
    let _s = populate(&mut e, &["\\a", "\\b\\c", "\\d"]);
    let mut h = root(&mut e);
    let mut q = query(DIRECTORY);
    q.return_single_entry = true;
    q.restart_scan = true;
    let mut seen = Vec::new();
    loop {
        let mut buf = [0u8; 512];
        let r = e.query_directory(&mut h, &q, &mut buf);
        q.restart_scan = false;
        if r.status != NtStatus::SUCCESS {
            assert_eq!(r.status, NtStatus::NO_MORE_FILES);
            break;
        }
        let recs = records(DIRECTORY, &buf, r.information);
        assert_eq!(recs.len(), 1);
        assert_eq!(
            u32::from_le_bytes(buf[0..4].try_into().unwrap()),
            0,
            "last NextEntryOffset is 0"
        );
        assert_eq!(
            r.information,
            0x40 + recs[0].1 as usize,
            "Information is unpadded"
        );
        seen.push(recs[0].2.clone());
    }
    assert_eq!(seen, ["a", "b\\c", "d"]);
}

#[test]
fn multi_entry_reply_layout() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\a", "\\bbb", "\\cc"]);
    let mut h = root(&mut e);
    let mut buf = [0u8; 1024];
    let r = e.query_directory(&mut h, &query(NAMES), &mut buf);
    assert_eq!(r.status, NtStatus::SUCCESS);
    let recs = records(NAMES, &buf, r.information);
    // FILE_NAMES_INFORMATION: 12-byte fixed part, each record 8-aligned.
    assert_eq!(
        recs,
        vec![
            (0, 2, "a".into()),
            (16, 6, "bbb".into()),
            (40, 4, "cc".into())
        ]
    );
    assert_eq!(r.information, 40 + 12 + 4);
}

#[test]
fn buffer_smaller_than_the_fixed_part_is_info_length_mismatch() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\a"]);
    let mut h = root(&mut e);
    for (class, base) in [(DIRECTORY, 0x40), (FULL, 0x44), (BOTH, 0x5E), (NAMES, 0x0C)] {
        let mut buf = vec![0u8; base - 1];
        let r = e.query_directory(&mut h, &query(class), &mut buf);
        assert_eq!(
            r,
            DirReply {
                status: NtStatus::INFO_LENGTH_MISMATCH,
                information: 0
            }
        );
    }
    // The failed calls did not start the scan.
    let mut buf = [0u8; 0x40 + 2];
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(r.status, NtStatus::SUCCESS);
}

#[test]
fn first_record_cut_short_is_buffer_overflow_and_returned_again() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\abcdef", "\\g"]);
    let mut h = root(&mut e);
    let mut buf = vec![0xEEu8; 0x40 + 5];
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(
        r,
        DirReply {
            status: NtStatus::BUFFER_OVERFLOW,
            information: 0x40 + 4
        }
    );
    assert_eq!(
        u32::from_le_bytes(buf[0x3C..0x40].try_into().unwrap()),
        12,
        "full FileNameLength"
    );
    assert_eq!(&buf[0x40..0x44], &[b'a', 0, b'b', 0]);
    assert_eq!(buf[0x44], 0xEE, "no half code unit");
    // A bigger buffer gets the same record, whole, then the next.
    let mut buf = vec![0u8; 512];
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(names(DIRECTORY, &buf, r), ["abcdef", "g"]);
}

#[test]
fn later_record_that_does_not_fit_waits_for_the_next_call() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\a", "\\bbbbbbbb"]);
    let mut h = root(&mut e);
    // Room for the first record (0x40 + 2, aligned to 0x48) and part of the second.
    let mut buf = vec![0u8; 0x48 + 0x40 + 4];
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(
        r,
        DirReply {
            status: NtStatus::SUCCESS,
            information: 0x42
        }
    );
    assert_eq!(names(DIRECTORY, &buf, r), ["a"]);
    let mut buf = vec![0u8; 512];
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(names(DIRECTORY, &buf, r), ["bbbbbbbb"]);
    let r = e.query_directory(&mut h, &query(DIRECTORY), &mut buf);
    assert_eq!(r.status, NtStatus::NO_MORE_FILES);
}

#[test]
fn patterns_filter_case_insensitively() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\App\\One", "\\app\\two", "\\other", "\\APPS"]);
    let mut h = root(&mut e);
    assert_eq!(
        list_all(&e, &mut h, NAMES, Some("app\\*")),
        ["App\\One", "app\\two"]
    );
    assert_eq!(list_all(&e, &mut h, NAMES, Some("APP?")), ["APPS"]);
    assert_eq!(
        list_all(&e, &mut h, NAMES, Some("*o*")),
        ["App\\One", "app\\two", "other"]
    );
    assert_eq!(list_all(&e, &mut h, NAMES, Some("OTHER")), ["other"]);
    assert_eq!(list_all(&e, &mut h, NAMES, Some("*")).len(), 4);
}

#[test]
fn no_match_on_first_query_is_no_such_file() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\a"]);
    let mut h = root(&mut e);
    let p = utf16("zzz*");
    let q = DirQuery {
        pattern: Some(&p),
        ..query(DIRECTORY)
    };
    let r = e.query_directory(&mut h, &q, &mut [0u8; 256]);
    assert_eq!(r.status, NtStatus::NO_SUCH_FILE);
}

#[test]
fn pattern_is_kept_for_the_scan_and_replaced_on_restart() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\a1", "\\b1", "\\a2"]);
    let mut h = root(&mut e);
    let pa = utf16("a*");
    let pb = utf16("b*");
    let mut q = DirQuery {
        pattern: Some(&pa),
        return_single_entry: true,
        ..query(NAMES)
    };
    let mut buf = [0u8; 128];
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["a1"]);
    // A pattern on a later call without restart is ignored, as on Windows file systems.
    q.pattern = Some(&pb);
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["a2"]);
    q.restart_scan = true;
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["b1"]);
    // A restart without a pattern keeps the current one.
    q.pattern = None;
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["b1"]);
}

#[test]
fn bad_pattern_fails_and_leaves_the_scan_alone() {
    let mut e = engine();
    let _s = populate(&mut e, &["\\a", "\\b"]);
    let mut h = root(&mut e);
    let mut buf = [0u8; 128];
    let q = DirQuery {
        return_single_entry: true,
        ..query(NAMES)
    };
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["a"]);
    let odd = [0x61u8];
    let bad = DirQuery {
        pattern: Some(&odd),
        restart_scan: true,
        ..q
    };
    let r = e.query_directory(&mut h, &bad, &mut buf);
    assert_eq!(
        r,
        DirReply {
            status: NtStatus::OBJECT_NAME_INVALID,
            information: 0
        }
    );
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(
        names(NAMES, &buf, r),
        ["b"],
        "the scan went on where it was"
    );
}

#[test]
fn scan_survives_creation_and_deletion_between_calls() {
    let mut e = engine();
    let mut servers = populate(&mut e, &["\\a", "\\b", "\\c"]);
    let mut h = root(&mut e);
    let q = DirQuery {
        return_single_entry: true,
        ..query(NAMES)
    };
    let mut buf = [0u8; 128];
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["a"]);
    // Delete the returned one and the next one; add a new one.
    let b = servers.remove(1);
    cleanup(&mut e, &b);
    let a = servers.remove(0);
    cleanup(&mut e, &a);
    let _d = server(&mut e, "\\d", 0, Some(0));
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["c"]);
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(names(NAMES, &buf, r), ["d"]);
    let r = e.query_directory(&mut h, &q, &mut buf);
    assert_eq!(r.status, NtStatus::NO_MORE_FILES);
    e.check_invariants().unwrap();
}

#[test]
fn scan_after_heavy_churn_compacts_and_stays_in_order() {
    let mut e = engine();
    let mut keep = Vec::new();
    for i in 0..200 {
        let s = server(&mut e, &format!("\\n{i}"), 0, Some(0));
        if i % 10 == 0 {
            keep.push(s);
        } else {
            close(&mut e, s);
        }
    }
    e.check_invariants().unwrap();
    let mut h = root(&mut e);
    let expect: Vec<String> = (0..200).step_by(10).map(|i| format!("n{i}")).collect();
    assert_eq!(list_all(&e, &mut h, NAMES, None), expect);
}

#[test]
fn records_report_times_and_queued_bytes() {
    let mut e = engine();
    let _s = e
        .create_server(
            &utf16("\\t"),
            &params(0, 0, Some(0)),
            Access::READ,
            0x01D9_0000_0000_0000,
        )
        .unwrap();
    let c = client(&mut e, "\\t");
    write(&mut e, &c, b"12345").unwrap();
    let mut h = root(&mut e);
    let mut buf = [0u8; 0x60];
    let r = e.query_directory(&mut h, &query(BOTH), &mut buf);
    assert_eq!(r.status, NtStatus::SUCCESS);
    for o in [0x08, 0x10, 0x18, 0x20] {
        assert_eq!(
            i64::from_le_bytes(buf[o..o + 8].try_into().unwrap()),
            0x01D9_0000_0000_0000
        );
    }
    assert_eq!(i64::from_le_bytes(buf[0x28..0x30].try_into().unwrap()), 5);
    assert_eq!(
        u32::from_le_bytes(buf[0x38..0x3C].try_into().unwrap()),
        0x80
    );
}

#[test]
fn wrong_handle_and_class() {
    let mut e = engine();
    let mut s = server(&mut e, "\\x", 0, Some(0));
    let mut buf = [0u8; 256];
    let r = e.query_directory(&mut s, &query(DIRECTORY), &mut buf);
    assert_eq!(r.status, NtStatus::INVALID_PARAMETER);
    let mut h = root(&mut e);
    for class in [0, 4, 26, 37, 100] {
        let r = e.query_directory(&mut h, &query(class), &mut buf);
        assert_eq!(r.status, NtStatus::INVALID_INFO_CLASS);
    }
}
