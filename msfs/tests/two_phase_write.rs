//! The write a driver makes in two halves, so that nothing proportional to the message is done
//! under its lock: `write_or_admit` (a pending read takes the message, or the write is refused,
//! or it is admitted) and `write_message` with a message made outside the lock. Each half is
//! all or nothing, and the second checks again, since the slot may change between them.

mod common;

use common::*;
use msfs::{Message, NtStatus, Written, MESSAGE_OVERHEAD};

fn queue_message(
    e: &mut msfs::Msfs,
    h: &msfs::Handle,
    data: &[u8],
) -> (Result<usize, NtStatus>, Option<Message>, Log) {
    let mut log = Log::new();
    let message = Message::copy_from(data).expect("memory");
    let (r, back) = e.write_message(h, message, recorder(&mut log));
    (r, back, log)
}

#[test]
fn a_queue_entry_is_a_pointer_and_a_length() {
    assert_eq!(MESSAGE_OVERHEAD, 16);
    assert_eq!(std::mem::size_of::<Message>(), 16);
    assert_eq!(Message::copy_from(b"abc").unwrap().as_bytes(), b"abc");
    assert!(Message::copy_from(&[]).unwrap().is_empty());
}

#[test]
fn admission_refuses_what_the_write_would_refuse_and_changes_nothing() {
    let mut e = engine();
    let s = server(&mut e, "\\two\\refuse", 4, Some(0));
    let c = client(&mut e, "\\two\\refuse");
    let before = e.audit();
    let mut log = Log::new();
    assert_eq!(
        e.write_or_admit(&c, b"12345", recorder(&mut log)),
        Err(NtStatus::INVALID_PARAMETER)
    );
    assert_eq!(
        e.write_or_admit(&s, b"1", recorder(&mut log)),
        Err(NtStatus::ACCESS_DENIED)
    );
    assert!(log.is_empty());
    assert_eq!(e.audit(), before, "a refused admission changed the engine");
    // An admitted write queues nothing until its message is handed over.
    assert_eq!(
        e.write_or_admit(&c, b"1234", recorder(&mut log)),
        Ok(Written::NeedsMessage)
    );
    assert_eq!(e.audit(), before);
    let (r, back, log) = queue_message(&mut e, &c, b"1234");
    assert_eq!((r, back, log), (Ok(4), None, Log::new()));
    assert_eq!(read(&mut e, &s, 4), Ok(b"1234".to_vec()));
}

#[test]
fn a_pending_read_takes_the_message_at_admission_without_a_copy() {
    let mut e = engine();
    let s = server(&mut e, "\\two\\direct", 0, None);
    let c = client(&mut e, "\\two\\direct");
    let small = pend(&mut e, &s, 1);
    let big = pend(&mut e, &s, 16);
    let mut log = Log::new();
    assert_eq!(
        e.write_or_admit(&c, b"hello", recorder(&mut log)),
        Ok(Written::Delivered(5))
    );
    assert_eq!(
        log,
        vec![
            (small, Done::Failed(NtStatus::BUFFER_TOO_SMALL)),
            (big, Done::Data(b"hello".to_vec()))
        ]
    );
    assert_eq!(e.query_info(&s).unwrap().messages_available, 0);
}

#[test]
fn the_second_half_checks_again() {
    let mut e = engine();
    let s = server(&mut e, "\\two\\again", 0, None);
    let c = client(&mut e, "\\two\\again");
    let mut log = Log::new();
    assert_eq!(
        e.write_or_admit(&c, b"late", recorder(&mut log)),
        Ok(Written::NeedsMessage)
    );
    // Between the halves a read arrives: the message goes to it, and comes back to be freed.
    let id = pend(&mut e, &s, 8);
    let (r, back, log) = queue_message(&mut e, &c, b"late");
    assert_eq!(r, Ok(4));
    assert_eq!(back.map(|m| m.as_bytes().to_vec()), Some(b"late".to_vec()));
    assert_eq!(log, vec![(id, Done::Data(b"late".to_vec()))]);
    // Between the halves the server goes: refused, nothing changed, the message comes back.
    assert_eq!(
        e.write_or_admit(&c, b"gone", recorder(&mut Log::new())),
        Ok(Written::NeedsMessage)
    );
    assert!(cleanup(&mut e, &s).is_empty());
    let before = e.audit();
    let (r, back, log) = queue_message(&mut e, &c, b"gone");
    assert_eq!((r, log), (Err(NtStatus::FILE_FORCED_CLOSED), Log::new()));
    assert!(back.is_some());
    assert_eq!(e.audit(), before);
}

#[test]
fn the_budget_is_checked_again_with_the_message_in_hand() {
    // Room for one 8-byte message and its entry, not two.
    let mut e = engine_with_budget(8 + MESSAGE_OVERHEAD + 4);
    let s = server(&mut e, "\\two\\budget", 0, Some(0));
    let c = client(&mut e, "\\two\\budget");
    let mut log = Log::new();
    assert_eq!(
        e.write_or_admit(&c, b"12345678", recorder(&mut log)),
        Ok(Written::NeedsMessage)
    );
    assert_eq!(
        e.write_or_admit(&c, b"abcdefgh", recorder(&mut log)),
        Ok(Written::NeedsMessage)
    );
    assert_eq!(queue_message(&mut e, &c, b"12345678").0, Ok(8));
    let (r, back, _) = queue_message(&mut e, &c, b"abcdefgh");
    assert_eq!(r, Err(NtStatus::INSUFFICIENT_RESOURCES));
    assert!(back.is_some());
    assert_eq!(read(&mut e, &s, 8), Ok(b"12345678".to_vec()));
    assert_eq!(e.query_info(&s).unwrap().messages_available, 0);
}
