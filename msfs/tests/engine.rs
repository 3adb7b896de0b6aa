//! One test per MSFS rule of the engine, and per row of the research's Wine conformance
//! checklist (`docs/mailslot-reference.md` section 10) that applies at this level.
//! Rows are cited as `[W n]`; choices where Windows is unknown as `[choice]`.

mod common;

use common::*;
use msfs::wire::{MAILSLOT_NO_MESSAGE, READ_TIMEOUT_FOREVER};
use msfs::{Access, Arbitration, HandleRole, MailslotInfo, NtStatus, ReadOutcome, Wait};

// ---------------------------------------------------------------- namespace

#[test]
fn names_are_case_insensitive_under_simple_folding() {
    let mut e = engine();
    let _s = server(&mut e, "\\App\\ÉVÉNEMENTS", 0, Some(0));
    let c = client(&mut e, "\\app\\événements");
    assert_eq!(c.role(), HandleRole::Client);
    // Kelvin sign and k fold alike.
    let _k = server(&mut e, "\\\u{212A}elvin", 0, Some(0));
    assert_eq!(
        e.create_server(&utf16("\\kelvin"), &params(0, 0, None), Access::READ, 0)
            .unwrap_err(),
        NtStatus::OBJECT_NAME_COLLISION
    );
}

#[test]
fn pseudo_directories_need_not_exist() {
    let mut e = engine();
    let _s = server(&mut e, "\\abc\\def\\ghi", 0, Some(0));
    assert_eq!(
        e.open(&utf16("\\abc"), Access::WRITE).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    assert_eq!(
        e.open(&utf16("\\abc\\def"), Access::WRITE).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    let _c = client(&mut e, "\\ABC\\def\\GHI");
    // A slot may also sit "inside" another one's name.
    let _s2 = server(&mut e, "\\abc", 0, Some(0));
}

#[test]
fn empty_and_malformed_names_on_create() {
    let mut e = engine();
    let p = params(0, 0, None);
    let create =
        |e: &mut msfs::Msfs, b: &[u8]| e.create_server(b, &p, Access::READ, 0).unwrap_err();
    assert_eq!(create(&mut e, &[]), NtStatus::OBJECT_PATH_SYNTAX_BAD);
    assert_eq!(create(&mut e, &utf16("\\")), NtStatus::OBJECT_NAME_INVALID);
    assert_eq!(
        create(&mut e, &utf16("blah")),
        NtStatus::OBJECT_NAME_INVALID
    );
    assert_eq!(
        create(&mut e, &[0x5C, 0, 0x41]),
        NtStatus::OBJECT_NAME_INVALID,
        "odd length"
    );
    assert_eq!(
        create(&mut e, &utf16("\\a\\\\b")),
        NtStatus::OBJECT_NAME_INVALID
    );
    assert_eq!(
        create(&mut e, &utf16("\\a*")),
        NtStatus::OBJECT_NAME_INVALID
    );
    let too_long = format!("\\{}", "a".repeat(msfs::name::MAX_NAME_BYTES / 2));
    assert_eq!(
        create(&mut e, &utf16(&too_long)),
        NtStatus::OBJECT_NAME_INVALID
    );
    let longest = format!("\\{}", "a".repeat(msfs::name::MAX_NAME_BYTES / 2 - 1));
    assert!(e
        .create_server(&utf16(&longest), &p, Access::READ, 0)
        .is_ok());
    assert_eq!(e.slot_count(), 1);
    assert_eq!(e.open_handles(), 1);
}

#[test]
fn open_of_root_is_a_directory_handle() {
    let mut e = engine();
    assert_eq!(e.open(&[], Access::READ).unwrap().role(), HandleRole::Root);
    assert_eq!(
        e.open(&utf16("\\"), Access::READ).unwrap().role(),
        HandleRole::Root
    );
    assert_eq!(e.open_handles(), 2);
}

// ---------------------------------------------------------------- server create

#[test]
fn w5_create_minus_one_reads_back_verbatim() {
    // [W 5] CreateMailslot(name, -1, -1): max 0xFFFFFFFF, next NO_MESSAGE, count 0, timeout -1.
    let mut e = engine();
    let s = server(&mut e, "\\wine_mailslot_test", u32::MAX, Some(-1));
    assert_eq!(
        e.query_info(&s).unwrap(),
        MailslotInfo {
            maximum_message_size: 0xFFFF_FFFF,
            mailslot_quota: 0,
            next_message_size: MAILSLOT_NO_MESSAGE,
            messages_available: 0,
            read_timeout: -1,
        }
    );
}

#[test]
fn w22_create_zero_zero_reads_back_zero() {
    // [W 22]
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let info = e.query_info(&s).unwrap();
    assert_eq!((info.maximum_message_size, info.read_timeout), (0, 0));
    assert_eq!(
        (info.next_message_size, info.messages_available),
        (MAILSLOT_NO_MESSAGE, 0)
    );
}

#[test]
fn quota_and_relative_timeout_are_stored_verbatim() {
    let mut e = engine();
    let s = e
        .create_server(
            &utf16("\\q"),
            &params(424, 4096, Some(-12_345_678)),
            Access::READ,
            7,
        )
        .unwrap();
    let info = e.query_info(&s).unwrap();
    assert_eq!(info.mailslot_quota, 4096);
    assert_eq!(info.maximum_message_size, 424);
    assert_eq!(info.read_timeout, -12_345_678);
}

#[test]
fn absent_timeout_is_forever() {
    // NtCreateMailslotFile with a NULL ReadTimeout (TimeoutSpecified FALSE) waits forever.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    assert_eq!(e.query_info(&s).unwrap().read_timeout, READ_TIMEOUT_FOREVER);
    match e.read(&s, 16).unwrap() {
        ReadOutcome::Pending { wait, .. } => assert_eq!(wait, Wait::Forever),
        other => panic!("{other:?}"),
    }
}

#[test]
fn w20_duplicate_name_collides_ignoring_case() {
    // [W 20]
    let mut e = engine();
    let _s = server(&mut e, "\\Dup", 0, Some(0));
    let r = e.create_server(&utf16("\\dUP"), &params(0, 0, None), Access::READ, 0);
    assert_eq!(r.unwrap_err(), NtStatus::OBJECT_NAME_COLLISION);
    assert_eq!(e.slot_count(), 1);
    assert_eq!(e.open_handles(), 1, "a failed create opens nothing");
}

// ---------------------------------------------------------------- client open

#[test]
fn w2_open_before_server_exists_is_not_found() {
    // [W 2]
    let mut e = engine();
    assert_eq!(
        e.open(&utf16("\\nobody"), Access::WRITE).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    assert_eq!(e.open_handles(), 0);
}

#[test]
fn w12_w13_w21_clients_open_whatever_their_access() {
    // [W 12, 13, 21] Vista and later: share modes are not checked; read/write access allowed.
    let mut e = engine();
    let _s = server(&mut e, "\\x", 0, Some(0));
    for access in [
        Access::WRITE,
        Access::READ_WRITE,
        Access::READ,
        Access::NONE,
    ] {
        assert_eq!(
            e.open(&utf16("\\x"), access).unwrap().role(),
            HandleRole::Client
        );
    }
}

#[test]
fn w15_w17_client_reads_fail() {
    // [W 15, 17] NtReadFile on a client with read access: STATUS_INVALID_PARAMETER; without
    // read access the request is refused as ACCESS_DENIED.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let rw = e.open(&utf16("\\x"), Access::READ_WRITE).unwrap();
    let w = e.open(&utf16("\\x"), Access::WRITE).unwrap();
    write(&mut e, &w, b"keep").unwrap();
    assert_eq!(e.read(&rw, 100).unwrap_err(), NtStatus::INVALID_PARAMETER);
    assert_eq!(e.read(&w, 100).unwrap_err(), NtStatus::ACCESS_DENIED);
    assert_eq!(
        read(&mut e, &s, 100).unwrap(),
        b"keep",
        "the message was not consumed"
    );
}

#[test]
fn w14_server_unchanged_by_client_open() {
    // [W 14]
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let _c = e.open(&utf16("\\x"), Access::READ_WRITE).unwrap();
    assert_eq!(e.read(&s, 16).unwrap_err(), NtStatus::IO_TIMEOUT);
    assert_eq!(
        write(&mut e, &s, b"x").unwrap_err(),
        NtStatus::ACCESS_DENIED
    );
}

// ---------------------------------------------------------------- write

#[test]
fn w9_w11_w35_server_writes_fail() {
    // [W 9, 11] A CreateMailslot handle has no write access: ACCESS_DENIED.
    // [W 35] A server opened with write access: INVALID_PARAMETER.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    assert_eq!(
        write(&mut e, &s, b"x").unwrap_err(),
        NtStatus::ACCESS_DENIED
    );
    let s2 = e
        .create_server(&utf16("\\y"), &params(0, 0, None), Access::READ_WRITE, 0)
        .unwrap();
    assert_eq!(
        write(&mut e, &s2, b"x").unwrap_err(),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(e.query_info(&s2).unwrap().messages_available, 0);
}

#[test]
fn client_without_write_access_cannot_write() {
    let mut e = engine();
    let _s = server(&mut e, "\\x", 0, Some(0));
    let r = e.open(&utf16("\\x"), Access::READ).unwrap();
    assert_eq!(
        write(&mut e, &r, b"x").unwrap_err(),
        NtStatus::ACCESS_DENIED
    );
}

#[test]
fn w16_w18_one_write_is_one_message() {
    // [W 16, 18]
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    assert_eq!(write(&mut e, &c, b"12345678"), Ok(8));
    assert_eq!(read(&mut e, &s, 16).unwrap(), b"12345678");
    assert_eq!(e.read(&s, 16).unwrap_err(), NtStatus::IO_TIMEOUT);
}

#[test]
fn w21_to_w29_boundaries_zero_length_and_global_fifo() {
    // [W 21-29] Two writers, messages of 1, 2 and 0 bytes, one global FIFO.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let a = client(&mut e, "\\x");
    let b = client(&mut e, "\\x");
    let info = |e: &msfs::Msfs| {
        let i = e.query_info(&s).unwrap();
        (i.next_message_size, i.messages_available)
    };
    assert_eq!(write(&mut e, &a, b"a"), Ok(1));
    assert_eq!(info(&e), (1, 1));
    assert_eq!(write(&mut e, &b, b"bc"), Ok(2));
    assert_eq!(info(&e), (1, 2));
    assert_eq!(write(&mut e, &a, b""), Ok(0));
    assert_eq!(info(&e), (1, 3));
    assert_eq!(read(&mut e, &s, 1000).unwrap(), b"a");
    assert_eq!(info(&e), (2, 2));
    assert_eq!(read(&mut e, &s, 1000).unwrap(), b"bc");
    assert_eq!(info(&e), (0, 1));
    assert_eq!(read(&mut e, &s, 1000).unwrap(), b"");
    assert_eq!(info(&e), (MAILSLOT_NO_MESSAGE, 0));
    assert_eq!(e.read(&s, 1000).unwrap_err(), NtStatus::IO_TIMEOUT);
}

#[test]
fn zero_length_message_fits_a_zero_length_buffer() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    write(&mut e, &c, b"").unwrap();
    assert_eq!(read(&mut e, &s, 0).unwrap(), b"");
}

#[test]
fn oversize_message_is_refused_and_nothing_queued() {
    // [choice] Windows unknown: STATUS_INVALID_PARAMETER over a non-zero MaximumMessageSize.
    let mut e = engine();
    let s = server(&mut e, "\\x", 4, Some(0));
    let c = client(&mut e, "\\x");
    assert_eq!(
        write(&mut e, &c, b"12345").unwrap_err(),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(write(&mut e, &c, b"1234"), Ok(4));
    assert_eq!(e.query_info(&s).unwrap().messages_available, 1);
    // 0 means any size.
    let s0 = server(&mut e, "\\any", 0, Some(0));
    let c0 = client(&mut e, "\\any");
    assert_eq!(write(&mut e, &c0, &vec![7u8; 70_000]), Ok(70_000));
    assert_eq!(e.query_info(&s0).unwrap().next_message_size, 70_000);
}

#[test]
fn oversize_write_leaves_pending_reads_pending() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 4, None);
    let c = client(&mut e, "\\x");
    let id = pend(&mut e, &s, 100);
    let (r, log) = write_log(&mut e, &c, b"12345");
    assert_eq!(r, Err(NtStatus::INVALID_PARAMETER));
    assert!(log.is_empty());
    let (r, log) = write_log(&mut e, &c, b"123");
    assert_eq!(r, Ok(3));
    assert_eq!(log, vec![(id, Done::Data(b"123".to_vec()))]);
}

#[test]
fn per_slot_quota_counts_payload_bytes() {
    // [choice] STATUS_QUOTA_EXCEEDED past a non-zero MailslotQuota; nothing queued.
    let mut e = engine();
    let s = e
        .create_server(&utf16("\\q"), &params(0, 10, Some(0)), Access::READ, 0)
        .unwrap();
    let c = client(&mut e, "\\q");
    assert_eq!(write(&mut e, &c, b"123456"), Ok(6));
    assert_eq!(
        write(&mut e, &c, b"12345").unwrap_err(),
        NtStatus::QUOTA_EXCEEDED
    );
    assert_eq!(write(&mut e, &c, b"1234"), Ok(4));
    assert_eq!(
        write(&mut e, &c, b""),
        Ok(0),
        "zero-length messages carry no payload"
    );
    assert_eq!(
        write(&mut e, &c, b"1").unwrap_err(),
        NtStatus::QUOTA_EXCEEDED
    );
    assert_eq!(e.query_info(&s).unwrap().messages_available, 3);
    assert_eq!(read(&mut e, &s, 100).unwrap(), b"123456");
    assert_eq!(write(&mut e, &c, b"123456"), Ok(6), "reading frees quota");
}

#[test]
fn quota_does_not_apply_to_direct_delivery() {
    // A message handed straight to a pending read never occupies the queue.
    let mut e = engine();
    let s = e
        .create_server(&utf16("\\q"), &params(0, 2, None), Access::READ, 0)
        .unwrap();
    let c = client(&mut e, "\\q");
    let id = pend(&mut e, &s, 100);
    let (r, log) = write_log(&mut e, &c, b"longer than quota");
    assert_eq!(r, Ok(17));
    assert_eq!(log, vec![(id, Done::Data(b"longer than quota".to_vec()))]);
}

#[test]
fn driver_wide_budget_counts_payload_and_overhead() {
    // [choice] STATUS_INSUFFICIENT_RESOURCES past the budget; nothing queued.
    let overhead = msfs::MESSAGE_OVERHEAD;
    let mut e = engine_with_budget(2 * (10 + overhead));
    let s1 = server(&mut e, "\\a", 0, Some(0));
    let _s2 = server(&mut e, "\\b", 0, Some(0));
    let c1 = client(&mut e, "\\a");
    let c2 = client(&mut e, "\\b");
    assert_eq!(write(&mut e, &c1, &[1; 10]), Ok(10));
    assert_eq!(write(&mut e, &c2, &[2; 10]), Ok(10));
    assert_eq!(e.budget_used(), 2 * (10 + overhead));
    assert_eq!(
        write(&mut e, &c2, b"").unwrap_err(),
        NtStatus::INSUFFICIENT_RESOURCES
    );
    assert_eq!(read(&mut e, &s1, 10).unwrap(), [1; 10]);
    assert_eq!(e.budget_used(), 10 + overhead);
    assert_eq!(write(&mut e, &c1, b""), Ok(0));
}

#[test]
fn deleting_a_slot_returns_its_budget() {
    let mut e = engine();
    let s = server(&mut e, "\\a", 0, Some(0));
    let c = client(&mut e, "\\a");
    write(&mut e, &c, &[0; 100]).unwrap();
    write(&mut e, &c, &[0; 5]).unwrap();
    assert_eq!(e.budget_used(), 105 + 2 * msfs::MESSAGE_OVERHEAD);
    assert!(cleanup(&mut e, &s).is_empty());
    assert_eq!(e.budget_used(), 0);
}

// ---------------------------------------------------------------- read

#[test]
fn w6_w7_w8_w10_empty_read_with_timeout_zero() {
    // [W 7, 8, 10] Empty, timeout 0: STATUS_IO_TIMEOUT at once, whatever the buffer size.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    assert_eq!(e.read(&s, 0).unwrap_err(), NtStatus::IO_TIMEOUT);
    assert_eq!(e.read(&s, 16).unwrap_err(), NtStatus::IO_TIMEOUT);
}

#[test]
fn w30_w31_short_buffer_keeps_the_message() {
    // [W 30, 31] STATUS_BUFFER_TOO_SMALL; next 2, count 1 afterwards.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    write(&mut e, &c, b"bc").unwrap();
    assert_eq!(e.read(&s, 1).unwrap_err(), NtStatus::BUFFER_TOO_SMALL);
    let info = e.query_info(&s).unwrap();
    assert_eq!(
        (
            info.next_message_size,
            info.messages_available,
            info.read_timeout
        ),
        (2, 1, 0)
    );
    assert_eq!(read(&mut e, &s, 2).unwrap(), b"bc");
}

#[test]
fn timed_read_pends_with_its_own_deadline() {
    // [W 33] Each read starts its own timer from the stored relative timeout.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(-10_000_000));
    match e.read(&s, 16).unwrap() {
        ReadOutcome::Pending { wait, .. } => assert_eq!(wait, Wait::Until(-10_000_000)),
        other => panic!("{other:?}"),
    }
    e.set_read_timeout(&s, 132_000_000_000_000_000).unwrap();
    match e.read(&s, 16).unwrap() {
        ReadOutcome::Pending { wait, .. } => assert_eq!(wait, Wait::Until(132_000_000_000_000_000)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn w33_expiry_completes_with_io_timeout() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(-10_000_000));
    let c = client(&mut e, "\\x");
    let id = pend(&mut e, &s, 16);
    assert_eq!(e.expire(id), Arbitration::Won(NtStatus::IO_TIMEOUT));
    // Once expired, a write queues instead of completing it.
    let (r, log) = write_log(&mut e, &c, b"late");
    assert_eq!((r, log.len()), (Ok(4), 0));
    assert_eq!(e.expire(id), Arbitration::Lost);
    assert_eq!(e.cancel(id), Arbitration::Lost);
}

#[test]
fn w36_w37_pending_read_is_completed_by_a_write() {
    // [W 36, 37] Forever read pends; a client writes "data"; the read gets {SUCCESS, 4}.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let c = client(&mut e, "\\x");
    let id = pend(&mut e, &s, 100);
    let (r, log) = write_log(&mut e, &c, b"data");
    assert_eq!(r, Ok(4));
    assert_eq!(log, vec![(id, Done::Data(b"data".to_vec()))]);
    // The message went to the reader, not to the queue.
    assert_eq!(e.query_info(&s).unwrap().messages_available, 0);
    assert_eq!(e.expire(id), Arbitration::Lost, "the write won");
    assert_eq!(e.cancel(id), Arbitration::Lost, "the write won");
}

#[test]
fn write_serves_pending_reads_oldest_first_failing_small_buffers() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let c = client(&mut e, "\\x");
    let small1 = pend(&mut e, &s, 2);
    let big = pend(&mut e, &s, 10);
    let small2 = pend(&mut e, &s, 1);
    let later = pend(&mut e, &s, 10);
    let (r, log) = write_log(&mut e, &c, b"hello");
    assert_eq!(r, Ok(5));
    assert_eq!(
        log,
        vec![
            (small1, Done::Failed(NtStatus::BUFFER_TOO_SMALL)),
            (big, Done::Data(b"hello".to_vec())),
        ]
    );
    // The next message goes on: small2 is too small, `later` takes it.
    let (_, log) = write_log(&mut e, &c, b"again");
    assert_eq!(
        log,
        vec![
            (small2, Done::Failed(NtStatus::BUFFER_TOO_SMALL)),
            (later, Done::Data(b"again".to_vec())),
        ]
    );
}

#[test]
fn when_no_pending_read_fits_all_fail_and_the_message_is_queued() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let c = client(&mut e, "\\x");
    let a = pend(&mut e, &s, 1);
    let b = pend(&mut e, &s, 2);
    let (r, log) = write_log(&mut e, &c, b"abc");
    assert_eq!(r, Ok(3));
    assert_eq!(
        log,
        vec![
            (a, Done::Failed(NtStatus::BUFFER_TOO_SMALL)),
            (b, Done::Failed(NtStatus::BUFFER_TOO_SMALL)),
        ]
    );
    assert_eq!(read(&mut e, &s, 3).unwrap(), b"abc");
}

#[test]
fn zero_length_message_completes_a_zero_length_pending_read() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let c = client(&mut e, "\\x");
    let id = pend(&mut e, &s, 0);
    let (_, log) = write_log(&mut e, &c, b"");
    assert_eq!(log, vec![(id, Done::Data(vec![]))]);
}

#[test]
fn cancel_wins_over_later_expiry_and_write() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(-1_000));
    let c = client(&mut e, "\\x");
    let id = pend(&mut e, &s, 8);
    assert_eq!(e.cancel(id), Arbitration::Won(NtStatus::CANCELLED));
    assert_eq!(e.expire(id), Arbitration::Lost);
    let (_, log) = write_log(&mut e, &c, b"m");
    assert!(log.is_empty());
    assert_eq!(e.query_info(&s).unwrap().messages_available, 1);
}

#[test]
fn cancelling_one_of_several_pending_reads_keeps_the_others_in_order() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let c = client(&mut e, "\\x");
    let ids: Vec<_> = (0..4).map(|_| pend(&mut e, &s, 8)).collect();
    assert_eq!(e.cancel(ids[1]), Arbitration::Won(NtStatus::CANCELLED));
    for expect in [ids[0], ids[2], ids[3]] {
        let (_, log) = write_log(&mut e, &c, b"m");
        assert_eq!(log, vec![(expect, Done::Data(b"m".to_vec()))]);
    }
}

#[test]
fn set_information_applies_to_later_reads_only() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let c = client(&mut e, "\\x");
    let forever = pend(&mut e, &s, 8);
    e.set_read_timeout(&s, 0).unwrap();
    assert_eq!(e.query_info(&s).unwrap().read_timeout, 0);
    // A read issued now times out at once; the old one still waits.
    let (_, log) = write_log(&mut e, &c, b"1");
    assert_eq!(log, vec![(forever, Done::Data(b"1".to_vec()))]);
    assert_eq!(e.read(&s, 8).unwrap_err(), NtStatus::IO_TIMEOUT);
    e.set_read_timeout(&s, -1).unwrap();
    assert_eq!(e.query_info(&s).unwrap().read_timeout, -1);
}

#[test]
fn set_information_is_for_the_server_only() {
    // [choice] A client may not change the server's timeout: STATUS_INVALID_PARAMETER.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    let root = e.open(&[], Access::READ).unwrap();
    assert_eq!(
        e.set_read_timeout(&c, 5).unwrap_err(),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(
        e.set_read_timeout(&root, 5).unwrap_err(),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(e.query_info(&s).unwrap().read_timeout, 0);
}

// ---------------------------------------------------------------- query information

#[test]
fn w32_query_on_a_client_gives_the_same_data() {
    // [W 32] Windows 8 and later.
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    write(&mut e, &c, b"bc").unwrap();
    assert_eq!(e.query_info(&c).unwrap(), e.query_info(&s).unwrap());
}

#[test]
fn w31_query_encodes_24_bytes() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    write(&mut e, &c, b"bc").unwrap();
    let mut out = [0u8; 24];
    assert_eq!(e.query_info(&s).unwrap().encode(&mut out), Ok(24));
    assert_eq!(
        out,
        [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    let mut short = [0u8; 23];
    assert_eq!(
        e.query_info(&s).unwrap().encode(&mut short),
        Err(NtStatus::INFO_LENGTH_MISMATCH)
    );
}

#[test]
fn query_on_root_is_invalid() {
    let mut e = engine();
    let root = e.open(&[], Access::READ).unwrap();
    assert_eq!(
        e.query_info(&root).unwrap_err(),
        NtStatus::INVALID_PARAMETER
    );
}

// ---------------------------------------------------------------- peek

#[test]
fn peek_copies_the_head_without_dequeuing() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    write(&mut e, &c, b"first").unwrap();
    write(&mut e, &c, b"second!").unwrap();
    let mut out = [0u8; 16];
    let p = e.peek(&s, &mut out).unwrap();
    assert_eq!(p.status, NtStatus::SUCCESS);
    assert_eq!(p.copied, 5);
    assert_eq!(&out[..5], b"first");
    assert_eq!(
        (
            p.header.read_data_available,
            p.header.number_of_messages,
            p.header.message_length
        ),
        (12, 2, 5)
    );
    let mut small = [0u8; 3];
    let p = e.peek(&s, &mut small).unwrap();
    assert_eq!(
        (p.status, p.copied, &small),
        (NtStatus::BUFFER_OVERFLOW, 3, b"fir")
    );
    assert_eq!(
        read(&mut e, &s, 16).unwrap(),
        b"first",
        "nothing was dequeued"
    );
}

#[test]
fn peek_on_empty_slot_and_on_wrong_handles() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = e.open(&utf16("\\x"), Access::READ_WRITE).unwrap();
    let root = e.open(&[], Access::READ).unwrap();
    let p = e.peek(&s, &mut []).unwrap();
    assert_eq!((p.status, p.copied), (NtStatus::SUCCESS, 0));
    assert_eq!(p.header, msfs::PeekHeader::default());
    assert_eq!(
        e.peek(&c, &mut []).unwrap_err(),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(
        e.peek(&root, &mut []).unwrap_err(),
        NtStatus::INVALID_DEVICE_REQUEST
    );
}

// ---------------------------------------------------------------- root handle

#[test]
fn root_handle_cannot_read_or_write() {
    let mut e = engine();
    let root = e.open(&[], Access::READ_WRITE).unwrap();
    assert_eq!(
        e.read(&root, 8).unwrap_err(),
        NtStatus::INVALID_DEVICE_REQUEST
    );
    assert_eq!(
        write(&mut e, &root, b"x").unwrap_err(),
        NtStatus::INVALID_DEVICE_REQUEST
    );
}

// ---------------------------------------------------------------- lifetime

#[test]
fn server_cleanup_deletes_the_slot_and_cancels_pending_reads() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let c = client(&mut e, "\\x");
    let a = pend(&mut e, &s, 8);
    let b = pend(&mut e, &s, 8);
    let log = cleanup(&mut e, &s);
    assert_eq!(
        log,
        vec![
            (a, Done::Failed(NtStatus::CANCELLED)),
            (b, Done::Failed(NtStatus::CANCELLED))
        ]
    );
    assert_eq!(e.slot_count(), 0);
    assert_eq!(e.expire(a), Arbitration::Lost);
    assert_eq!(e.cancel(b), Arbitration::Lost);
    // The name is free at once, even with a client still open.
    let s2 = server(&mut e, "\\X", 0, Some(0));
    // [choice] The orphaned client stays bound to the dead slot.
    assert_eq!(
        write(&mut e, &c, b"lost").unwrap_err(),
        NtStatus::FILE_FORCED_CLOSED
    );
    assert_eq!(e.query_info(&c).unwrap_err(), NtStatus::FILE_FORCED_CLOSED);
    assert_eq!(
        e.query_info(&s2).unwrap().messages_available,
        0,
        "never reaches the new slot"
    );
    // A new client reaches the new slot.
    let c2 = client(&mut e, "\\x");
    write(&mut e, &c2, b"new").unwrap();
    assert_eq!(read(&mut e, &s2, 8).unwrap(), b"new");
}

#[test]
fn server_cleanup_frees_queued_messages() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    write(&mut e, &c, b"one").unwrap();
    write(&mut e, &c, b"two").unwrap();
    assert!(cleanup(&mut e, &s).is_empty());
    let s2 = server(&mut e, "\\x", 0, Some(0));
    assert_eq!(
        e.read(&s2, 8).unwrap_err(),
        NtStatus::IO_TIMEOUT,
        "messages died with the slot"
    );
}

#[test]
fn server_handle_after_cleanup_is_closed() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    cleanup(&mut e, &s);
    assert!(cleanup(&mut e, &s).is_empty(), "cleanup is idempotent");
    assert_eq!(e.read(&s, 8).unwrap_err(), NtStatus::FILE_CLOSED);
    assert_eq!(e.query_info(&s).unwrap_err(), NtStatus::FILE_CLOSED);
    assert_eq!(
        e.set_read_timeout(&s, 0).unwrap_err(),
        NtStatus::FILE_CLOSED
    );
    assert_eq!(e.peek(&s, &mut []).unwrap_err(), NtStatus::FILE_CLOSED);
}

#[test]
fn client_cleanup_and_close_leave_the_slot() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    assert!(cleanup(&mut e, &c).is_empty());
    assert!(close(&mut e, c).is_empty());
    assert_eq!(e.slot_count(), 1);
    assert_eq!(e.open_handles(), 1);
    assert!(e.query_info(&s).is_ok());
}

#[test]
fn close_without_cleanup_still_deletes_and_cancels() {
    let mut e = engine();
    let s = server(&mut e, "\\x", 0, None);
    let id = pend(&mut e, &s, 1);
    assert_eq!(
        close(&mut e, s),
        vec![(id, Done::Failed(NtStatus::CANCELLED))]
    );
    assert!(e.is_idle());
}

#[test]
fn w34_recreate_after_close_works() {
    // [W] The test closes everything and creates the same name again at once.
    let mut e = engine();
    for round in 0..3 {
        let s = server(&mut e, "\\wine_mailslot_test", 0, Some(0));
        let c = client(&mut e, "\\wine_mailslot_test");
        write(&mut e, &c, &[round]).unwrap();
        assert_eq!(read(&mut e, &s, 1).unwrap(), [round]);
        close(&mut e, c);
        cleanup(&mut e, &s);
        close(&mut e, s);
    }
    assert!(e.is_idle());
}

#[test]
fn idle_only_when_no_slot_and_no_handle() {
    let mut e = engine();
    assert!(e.is_idle());
    let root = e.open(&[], Access::READ).unwrap();
    assert!(!e.is_idle());
    let s = server(&mut e, "\\x", 0, Some(0));
    let c = client(&mut e, "\\x");
    close(&mut e, root);
    cleanup(&mut e, &s);
    close(&mut e, s);
    assert!(!e.is_idle(), "an orphaned client keeps the driver busy");
    close(&mut e, c);
    assert!(e.is_idle());
}

#[test]
fn many_slots_reuse_slab_entries_without_confusion() {
    let mut e = engine();
    let mut clients = Vec::new();
    for round in 0..50u32 {
        let name = format!("\\s{}", round % 7);
        let s = server(&mut e, &name, 0, Some(0));
        let c = client(&mut e, &name);
        write(&mut e, &c, &round.to_le_bytes()).unwrap();
        assert_eq!(read(&mut e, &s, 4).unwrap(), round.to_le_bytes());
        close(&mut e, s);
        clients.push(c);
    }
    for c in &clients {
        assert_eq!(
            write(&mut e, c, b"x").unwrap_err(),
            NtStatus::FILE_FORCED_CLOSED
        );
    }
    assert_eq!(e.slot_count(), 0);
    e.check_invariants().unwrap();
}

#[test]
fn pending_reads_carry_the_callers_token_and_a_refused_pend_queues_nothing() {
    let mut e = engine();
    let s = server(&mut e, "\\tok", 0, Some(-10_000));
    let c = client(&mut e, "\\tok");
    // The pend hook sees the wait the timer must use and may refuse.
    let refused = e.read_or_pend(&s, 8, |wait| {
        assert_eq!(wait, msfs::Wait::Until(-10_000));
        Err(NtStatus::INSUFFICIENT_RESOURCES)
    });
    assert_eq!(refused, Err(NtStatus::INSUFFICIENT_RESOURCES));
    assert_eq!(
        write_log(&mut e, &c, b"x").1,
        Log::new(),
        "nothing was queued"
    );
    assert_eq!(read(&mut e, &s, 8), Ok(b"x".to_vec()));

    let id = match e.read_or_pend(&s, 8, |_| Ok(0xC0FFEE)) {
        Ok(msfs::ReadOutcome::Pending { id, .. }) => id,
        other => panic!("expected a pending read, got {other:?}"),
    };
    assert_eq!(id.token(), 0xC0FFEE);
    let (written, log) = write_log(&mut e, &c, b"yz");
    assert_eq!(written, Ok(2));
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].0, id);
    assert_eq!(log[0].0.token(), 0xC0FFEE);
    // A message already queued never calls the hook.
    write(&mut e, &c, b"q").unwrap();
    let r = e.read_or_pend(&s, 8, |_| panic!("must not pend"));
    assert!(matches!(r, Ok(msfs::ReadOutcome::Message(_))));
}

#[test]
fn describe_reports_role_name_time_and_queued_bytes() {
    let mut e = engine();
    let s = e
        .create_server(&utf16("\\App\\Ev"), &params(0, 0, None), Access::READ, 1234)
        .unwrap();
    let c = client(&mut e, "\\app\\ev");
    write(&mut e, &c, b"abc").unwrap();
    let f = e.describe(&s).unwrap();
    assert_eq!(f.role, msfs::HandleRole::Server);
    assert_eq!((f.created, f.queued_bytes), (1234, 3));
    assert_eq!(String::from_utf16(f.name).unwrap(), "App\\Ev");
    assert_eq!(e.describe(&c).unwrap().role, msfs::HandleRole::Client);
    let root = e.open(&utf16("\\"), Access::READ).unwrap();
    let r = e.describe(&root).unwrap();
    assert_eq!(
        (r.role, r.created, r.name.len()),
        (msfs::HandleRole::Root, 0, 0)
    );
    cleanup(&mut e, &s);
    assert_eq!(e.describe(&s), Err(NtStatus::FILE_CLOSED));
    assert_eq!(e.describe(&c), Err(NtStatus::FILE_FORCED_CLOSED));
}

#[test]
fn flush_succeeds_on_a_live_mailslot_and_nowhere_else() {
    // [choice] Nothing is buffered (a write is queued whole before it completes).
    let mut e = engine();
    let s = server(&mut e, "\\flush", 0, Some(0));
    let c = client(&mut e, "\\flush");
    assert_eq!(e.flush(&c), Ok(()));
    assert_eq!(e.flush(&s), Ok(()));
    let root = e.open(&[], Access::READ).unwrap();
    assert_eq!(e.flush(&root), Err(NtStatus::INVALID_DEVICE_REQUEST));
    assert!(cleanup(&mut e, &s).is_empty());
    assert_eq!(e.flush(&c), Err(NtStatus::FILE_FORCED_CLOSED));
    assert_eq!(e.flush(&s), Err(NtStatus::FILE_CLOSED));
}

// ---------------------------------------------------------------- names prepared before the lock

#[test]
fn prepared_names_create_and_open_as_bytes_do() {
    use msfs::PreparedName;
    let mut e = engine();
    let keys = engine_keys();
    let p = |s: &str| PreparedName::prepare(&utf16(s), keys).unwrap();
    let s = e
        .create_server_prepared(
            p("\\Prep\\Ared"),
            &params(0, 0, None),
            Access::READ,
            0,
            msfs::Owner::default(),
            None,
        )
        .unwrap();
    assert_eq!(s.role(), HandleRole::Server);
    // Found by either path, in any case.
    let c = e.open_prepared(&p("\\prep\\ARED"), Access::WRITE).unwrap();
    assert_eq!(c.role(), HandleRole::Client);
    let b = e.open(&utf16("\\PREP\\ared"), Access::WRITE).unwrap();
    assert_eq!(b.role(), HandleRole::Client);
    assert_eq!(
        e.create_server(&utf16("\\prep\\ared"), &params(0, 0, None), Access::READ, 0)
            .unwrap_err(),
        NtStatus::OBJECT_NAME_COLLISION
    );
    assert_eq!(
        e.create_server_prepared(
            p("\\PREP\\ARED"),
            &params(0, 0, None),
            Access::READ,
            0,
            msfs::Owner::default(),
            None
        )
        .unwrap_err(),
        NtStatus::OBJECT_NAME_COLLISION
    );
    // A name prepared with other keys is still found and still collides: its hash is redone.
    let other = |s: &str| PreparedName::prepare(&utf16(s), [!keys[0], keys[1] ^ 7]).unwrap();
    assert_eq!(
        e.open_prepared(&other("\\prep\\ared"), Access::WRITE)
            .unwrap()
            .role(),
        HandleRole::Client
    );
    assert_eq!(
        e.create_server_prepared(
            other("\\Prep\\Ared"),
            &params(0, 0, None),
            Access::READ,
            0,
            msfs::Owner::default(),
            None
        )
        .unwrap_err(),
        NtStatus::OBJECT_NAME_COLLISION
    );
    let _t = e
        .create_server_prepared(
            other("\\second"),
            &params(0, 0, None),
            Access::READ,
            0,
            msfs::Owner::default(),
            None,
        )
        .unwrap();
    assert_eq!(
        e.open(&utf16("\\SECOND"), Access::WRITE).unwrap().role(),
        HandleRole::Client
    );
    // The root: opened, never created.
    let root = e.open_prepared(&p("\\"), Access::READ).unwrap();
    assert_eq!(root.role(), HandleRole::Root);
    assert_eq!(
        e.create_server_prepared(
            p("\\"),
            &params(0, 0, None),
            Access::READ,
            0,
            msfs::Owner::default(),
            None
        )
        .unwrap_err(),
        NtStatus::OBJECT_NAME_INVALID
    );
    assert_eq!(
        e.create_server_prepared(
            p(""),
            &params(0, 0, None),
            Access::READ,
            0,
            msfs::Owner::default(),
            None
        )
        .unwrap_err(),
        NtStatus::OBJECT_PATH_SYNTAX_BAD
    );
    assert_eq!(
        e.open_prepared(&p("\\nothing"), Access::WRITE).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
}

// ---------------------------------------------------------------- bounded resources

#[test]
fn a_slot_holds_at_most_max_pending_reads_and_the_next_one_changes_nothing() {
    use msfs::MAX_PENDING_READS;
    let mut e = engine();
    let s = server(&mut e, "\\busy", 0, Some(READ_TIMEOUT_FOREVER));
    let ids: Vec<_> = (0..MAX_PENDING_READS)
        .map(|_| pend(&mut e, &s, 8))
        .collect();
    let mut asked = false;
    assert_eq!(
        e.read_or_pend(&s, 8, |_| {
            asked = true;
            Ok(1)
        })
        .unwrap_err(),
        NtStatus::INSUFFICIENT_RESOURCES
    );
    assert!(
        !asked,
        "the kernel layer was asked for a context it must not allocate"
    );
    // Another slot is not affected.
    let t = server(&mut e, "\\other", 0, Some(READ_TIMEOUT_FOREVER));
    let _other = pend(&mut e, &t, 8);
    // One finished read makes room for one more.
    assert_eq!(e.cancel(ids[0]), Arbitration::Won(NtStatus::CANCELLED));
    let _again = pend(&mut e, &s, 8);
    assert_eq!(e.read(&s, 8).unwrap_err(), NtStatus::INSUFFICIENT_RESOURCES);
    // A message still goes to the oldest waiting read.
    let c = client(&mut e, "\\busy");
    let (r, log) = write_log(&mut e, &c, b"hi");
    assert_eq!(r, Ok(2));
    assert_eq!(log, vec![(ids[1], Done::Data(b"hi".to_vec()))]);
}

#[test]
fn each_owner_holds_at_most_its_limit_and_others_go_on() {
    use msfs::{Config, CreateParameters, Msfs, Owner, PreparedName, PENDING_CHARGE, SLOT_CHARGE};
    let limit = 4096;
    let mut e = Msfs::new(Config {
        budget_bytes: 1 << 20,
        hash_keys: engine_keys(),
        owner_limit_bytes: limit,
    });
    let (a, b) = (Owner(0xA), Owner(0xB));
    let create = |e: &mut Msfs, name: &str, owner: Owner| {
        let p = PreparedName::prepare(&utf16(name), engine_keys()).unwrap();
        let params = CreateParameters {
            mailslot_quota: 0,
            maximum_message_size: 0,
            read_timeout: Some(READ_TIMEOUT_FOREVER),
        };
        e.create_server_prepared(p, &params, Access::READ, 0, owner, None)
    };
    // A slot costs its owner its name twice (as created and folded) and SLOT_CHARGE.
    let s = create(&mut e, "\\a\\slot", a).unwrap();
    let name_cost = 2 * 2 * "a\\slot".len() as u64 + SLOT_CHARGE;
    assert_eq!(e.owner_used(a), name_cost);
    // Long names until the owner's share is used up: then QUOTA_EXCEEDED, nothing created.
    let long = "x".repeat(200);
    let mut made = Vec::new();
    let refused = loop {
        match create(&mut e, &format!("\\a\\{}{}", made.len(), long), a) {
            Ok(h) => made.push(h),
            Err(status) => break status,
        }
    };
    assert_eq!(refused, NtStatus::QUOTA_EXCEEDED);
    assert!(!made.is_empty());
    e.check_invariants().unwrap();
    let slots = e.slot_count();
    assert!(e.owner_used(a) <= limit);
    // Another owner creates, writes and reads as before.
    let t = create(&mut e, "\\b\\slot", b).unwrap();
    let c = client(&mut e, "\\b\\slot");
    assert_eq!(e.write(&c, b"still works", |_, _| {}), Ok(11));
    assert_eq!(read(&mut e, &t, 64).unwrap(), b"still works");
    assert_eq!(e.slot_count(), slots + 1);
    // A message queued in a's slot is a's, whoever writes it: a's share refuses it.
    let to_a = client(&mut e, "\\a\\slot");
    let room = limit - e.owner_used(a);
    let too_big = vec![0u8; room as usize];
    assert_eq!(
        e.write(&to_a, &too_big, |_, _| {}),
        Err(NtStatus::QUOTA_EXCEEDED)
    );
    e.check_invariants().unwrap();
    let fits = vec![0u8; (room - msfs::MESSAGE_OVERHEAD) as usize];
    let before = e.owner_used(a);
    assert_eq!(e.write(&to_a, &fits, |_, _| {}), Ok(fits.len()));
    assert_eq!(e.owner_used(a), limit);
    // Reading it gives the bytes back.
    assert_eq!(read(&mut e, &s, 1 << 16).unwrap().len(), fits.len());
    assert_eq!(e.owner_used(a), before);
    // A waiting read costs its buffer and PENDING_CHARGE.
    let free = limit - e.owner_used(a);
    assert_eq!(
        e.read(&s, free as usize).unwrap_err(),
        NtStatus::QUOTA_EXCEEDED,
        "a buffer the share cannot hold"
    );
    let id = pend(&mut e, &s, (free - PENDING_CHARGE) as usize);
    assert_eq!(e.owner_used(a), limit);
    e.check_invariants().unwrap();
    assert_eq!(e.cancel(id), Arbitration::Won(NtStatus::CANCELLED));
    assert_eq!(e.owner_used(a), before);
    // Closing a's slots empties a's account; b's is untouched.
    let b_used = e.owner_used(b);
    drop(to_a);
    for h in made {
        close(&mut e, h);
    }
    close(&mut e, s);
    assert_eq!(e.owner_used(a), 0);
    assert_eq!(e.owner_used(b), b_used);
    assert_eq!(e.owners(), 1);
    e.check_invariants().unwrap();
}

#[test]
fn a_lookup_copies_the_creators_descriptor_and_an_open_of_a_vanished_slot_fails() {
    use msfs::{Found, Owner, PreparedName, MAX_SECURITY_BYTES};
    let mut e = engine();
    let p = |s: &str| PreparedName::prepare(&utf16(s), engine_keys()).unwrap();
    let sd: Vec<u8> = vec![1, 0, 4, 0x80, 0, 0, 0, 0];
    let s = e
        .create_server_prepared(
            p("\\secured"),
            &params(0, 0, None),
            Access::READ,
            0,
            Owner(7),
            Some(sd.clone().into_boxed_slice()),
        )
        .unwrap();
    // The descriptor is charged to the creator with the name.
    let with = e.owner_used(Owner(7));
    let mut buf = [0xAAu8; MAX_SECURITY_BYTES];
    let found = e.lookup(&p("\\SECURED")).unwrap();
    let Found::Slot { slot, security } = found else {
        panic!("{found:?}");
    };
    assert_eq!(security, Some(sd.len()));
    assert_eq!(e.copy_security(slot, &mut buf), Ok(Some(sd.len())));
    assert_eq!(&buf[..sd.len()], &sd[..]);
    // A buffer too small for it is refused, nothing copied.
    let mut small = [0u8; 4];
    assert_eq!(
        e.copy_security(slot, &mut small).unwrap_err(),
        NtStatus::BUFFER_TOO_SMALL
    );
    assert_eq!(e.lookup(&p("\\")).unwrap(), Found::Root);
    assert_eq!(
        e.lookup(&p("\\nothing")).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    let c = e.open_found(&found, Access::WRITE).unwrap();
    assert_eq!(c.role(), HandleRole::Client);
    // The slot goes and a new one takes the name: what was found refers to the old one.
    close(&mut e, c);
    close(&mut e, s);
    assert_eq!(e.owner_used(Owner(7)), 0);
    let _again = e
        .create_server_prepared(
            p("\\secured"),
            &params(0, 0, None),
            Access::READ,
            0,
            Owner(7),
            None,
        )
        .unwrap();
    assert!(e.owner_used(Owner(7)) < with, "no descriptor this time");
    assert_eq!(
        e.open_found(&found, Access::WRITE).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    assert_eq!(
        e.copy_security(slot, &mut buf).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    // A descriptor longer than MAX_SECURITY_BYTES is refused, nothing created.
    let slots = e.slot_count();
    assert_eq!(
        e.create_server_prepared(
            p("\\too-big"),
            &params(0, 0, None),
            Access::READ,
            0,
            Owner(7),
            Some(vec![0u8; MAX_SECURITY_BYTES + 1].into_boxed_slice()),
        )
        .unwrap_err(),
        NtStatus::INVALID_SECURITY_DESCR
    );
    assert_eq!(e.slot_count(), slots);
    e.check_invariants().unwrap();
}
