//! The Remote Mailslot Protocol codec on arbitrary bytes: parsing never panics; a datagram
//! that parses is exactly the bytes it emits (nothing skipped, nothing invented); a mailslot
//! write that parses emits bytes that parse to the same write.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msmail::{Datagram, MailslotWrite};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(d) = Datagram::parse(bytes) {
        let again = d.emit().expect("a parsed datagram fits its length field");
        assert_eq!(again, bytes);
        if let Datagram::Data { data, .. } = &d {
            check_write(data);
        }
    }
    check_write(bytes);
});

fn check_write(bytes: &[u8]) {
    if let Ok(w) = MailslotWrite::parse(bytes) {
        assert_eq!(MailslotWrite::parse(&w.emit()), Ok(w));
    }
}
