//! The mailslot write message [MS-MAIL] 2.2.1: an SMB_COM_TRANSACTION request [MS-CIFS]
//! 2.2.4.33 with a 32-byte SMB header (command 0x25, every other header field 0 in mailslot
//! datagrams [MS-BRWS] 4.1), 17 parameter words (no parameters; the data's total and
//! this-message counts equal; three setup words: the TRANS_MAILSLOT_WRITE opcode 0x0001
//! [MS-CIFS] 2.2.5.12, a priority and the class), the byte count, then the NUL-terminated
//! OEM name `\MAILSLOT\...`, optional padding, and the data at DataOffset (counted from the
//! SMB header's start).
//!
//! Parsing checks what the message's meaning rests on (the header's protocol, command and
//! status; the word count; no parameters; one whole transaction; three setup words with the
//! write opcode and a known class; the byte count covering exactly the rest; the name
//! terminated and prefixed; the data inside the bytes and running to their end) and keeps the
//! fields a receiver may want (name, priority, class, timeout, data). The header's other fields
//! (flags, process, tree, user and multiplex IDs) and the maximum counts are read past: they
//! mean nothing for a datagram, and peers differ in them.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Reader};

/// `\MAILSLOT\`, the prefix of every mailslot name in a message.
pub const PREFIX: &str = "\\MAILSLOT\\";
/// The longest mailslot name (prefix included) this crate builds or accepts: the path limit
/// of the Win32 names a mailslot is opened by (MAX_PATH, 260, less `\\host`'s room) [choice].
pub const MAX_NAME: usize = 255;
const SMB_COM_TRANSACTION: u8 = 0x25;
const SMB_MAGIC: [u8; 4] = [0xFF, b'S', b'M', b'B'];
const WORD_COUNT: u8 = 17;
const SETUP_COUNT: u8 = 3;
const MAILSLOT_WRITE: u16 = 0x0001;
/// The offset of the name: SMB header, WordCount, 17 words, ByteCount.
const BYTES_START: usize = 32 + 1 + 34 + 2;

/// The mailslot class ([MS-MAIL] 2.2.1 Class).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Class 1: reliable, over an SMB session, never in a datagram by Windows.
    First = 1,
    /// Class 2: unreliable and broadcast, the datagram class.
    Second = 2,
}

/// A mailslot name as a message carries it: `\MAILSLOT\` (any case) followed by the
/// mailslot's path, printable ASCII, at most [`MAX_NAME`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MailslotName(String);

impl MailslotName {
    /// The name `full` (`\MAILSLOT\BROWSE`).
    pub fn new(full: &str) -> Result<MailslotName, Error> {
        let bytes = full.as_bytes();
        let prefix = PREFIX.as_bytes();
        if bytes.len() <= prefix.len()
            || !bytes
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        {
            return Err(Error::MailslotName("it does not start with \\MAILSLOT\\"));
        }
        if bytes.len() > MAX_NAME {
            return Err(Error::MailslotName("longer than 255 bytes"));
        }
        if !bytes.iter().all(|&b| (0x20..=0x7E).contains(&b)) {
            return Err(Error::MailslotName("not printable ASCII"));
        }
        Ok(MailslotName(String::from(full)))
    }

    /// `\MAILSLOT\` followed by `relative` (`BROWSE`, `net\netlogon`).
    pub fn from_relative(relative: &str) -> Result<MailslotName, Error> {
        let mut full = String::from(PREFIX);
        full.push_str(relative);
        MailslotName::new(&full)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The mailslot's path after the prefix: what a local mailslot of the same name is called
    /// under `\\.\mailslot\`.
    pub fn relative(&self) -> &str {
        self.0.get(PREFIX.len()..).unwrap_or("")
    }
}

/// One mailslot write message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MailslotWrite {
    name: MailslotName,
    priority: u16,
    class: Class,
    timeout: u32,
    data: Vec<u8>,
}

impl MailslotWrite {
    /// A class 2 write of `data` to `name`, priority 0 and a timeout of 1000 ms, as Windows'
    /// browser sends them ([MS-BRWS] 4.1; Samba's sender uses the same timeout). Fails when the
    /// name and data are more than the byte count can describe.
    pub fn new(name: MailslotName, data: Vec<u8>) -> Result<MailslotWrite, Error> {
        let w = MailslotWrite {
            name,
            priority: 0,
            class: Class::Second,
            timeout: 1000,
            data,
        };
        w.counts()?;
        Ok(w)
    }

    pub fn with_priority(mut self, priority: u16) -> MailslotWrite {
        self.priority = priority;
        self
    }

    pub fn with_class(mut self, class: Class) -> MailslotWrite {
        self.class = class;
        self
    }

    pub fn with_timeout(mut self, timeout_ms: u32) -> MailslotWrite {
        self.timeout = timeout_ms;
        self
    }

    pub fn name(&self) -> &MailslotName {
        &self.name
    }

    pub fn priority(&self) -> u16 {
        self.priority
    }

    pub fn class(&self) -> Class {
        self.class
    }

    pub fn timeout(&self) -> u32 {
        self.timeout
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// The name and the data, moved out.
    pub fn into_parts(self) -> (MailslotName, Vec<u8>) {
        (self.name, self.data)
    }

    /// (ByteCount, DataOffset, DataCount), or why they do not fit their 16 bits.
    fn counts(&self) -> Result<(u16, u16, u16), Error> {
        let name = self.name.0.len().saturating_add(1);
        let too_long = Error::TooLong("a mailslot write's name and data");
        let byte_count =
            u16::try_from(name.saturating_add(self.data.len())).map_err(|_| too_long)?;
        let offset = u16::try_from(BYTES_START.saturating_add(name)).map_err(|_| too_long)?;
        let count = u16::try_from(self.data.len()).map_err(|_| too_long)?;
        Ok((byte_count, offset, count))
    }

    /// The message's bytes, the user data of a datagram: no padding between the name and the
    /// data, as Samba and Windows' browser send it.
    pub fn emit(&self) -> Vec<u8> {
        // A value is only ever built with counts that fit (MailslotWrite::new).
        let (byte_count, offset, count) = self.counts().unwrap_or((0, 0, 0));
        let mut out = Vec::with_capacity(usize::from(byte_count).saturating_add(BYTES_START));
        out.extend_from_slice(&SMB_MAGIC);
        out.push(SMB_COM_TRANSACTION);
        out.extend_from_slice(&[0u8; 27]);
        out.push(WORD_COUNT);
        let words: [u16; 4] = [0, count, 0, 0];
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&[0, 0]); // MaxSetupCount, Reserved1
        out.extend_from_slice(&0u16.to_le_bytes()); // Flags
        out.extend_from_slice(&self.timeout.to_le_bytes());
        let words: [u16; 5] = [0, 0, 0, count, offset]; // Reserved2, ParameterCount/Offset
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&[SETUP_COUNT, 0]);
        for w in [MAILSLOT_WRITE, self.priority, self.class as u16, byte_count] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(self.name.0.as_bytes());
        out.push(0);
        out.extend_from_slice(&self.data);
        out
    }

    /// The message `bytes` hold, all of them.
    pub fn parse(bytes: &[u8]) -> Result<MailslotWrite, Error> {
        let mut r = Reader::new(bytes);
        if r.array4("the SMB protocol")? != SMB_MAGIC {
            return Err(Error::Field("the SMB protocol identifier"));
        }
        if r.u8("the SMB command")? != SMB_COM_TRANSACTION {
            return Err(Error::Field("the SMB command (not a transaction)"));
        }
        if r.le32("the SMB status")? != 0 {
            return Err(Error::Field("the SMB status of a request"));
        }
        r.take(23, "the SMB header")?;
        if r.u8("the word count")? != WORD_COUNT {
            return Err(Error::Field("the word count"));
        }
        let total_parameters = r.le16("the total parameter count")?;
        let total_data = r.le16("the total data count")?;
        r.take(6, "the maximum counts and reserved byte")?;
        let _flags = r.le16("the transaction flags")?;
        let timeout = r.le32("the timeout")?;
        r.take(2, "the second reserved field")?;
        let parameters = r.le16("the parameter count")?;
        let _parameter_offset = r.le16("the parameter offset")?;
        let data_count = r.le16("the data count")?;
        let data_offset = usize::from(r.le16("the data offset")?);
        if total_parameters != 0 || parameters != 0 {
            return Err(Error::Field("the parameter counts of a mailslot write"));
        }
        if total_data != data_count {
            return Err(Error::Field(
                "the total data count (a secondary transaction)",
            ));
        }
        if r.u8("the setup count")? != SETUP_COUNT {
            return Err(Error::Field("the setup count"));
        }
        r.take(1, "the third reserved field")?;
        if r.le16("the mailslot opcode")? != MAILSLOT_WRITE {
            return Err(Error::Field("the mailslot opcode"));
        }
        let priority = r.le16("the priority")?;
        let class = match r.le16("the class")? {
            1 => Class::First,
            2 => Class::Second,
            _ => return Err(Error::Field("the mailslot class")),
        };
        let byte_count = usize::from(r.le16("the byte count")?);
        let rest = r.rest();
        if rest.len() != byte_count {
            return Err(if rest.len() < byte_count {
                Error::Length("the byte count (past the message's end)")
            } else {
                Error::Trailing
            });
        }
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(Error::MailslotName("not NUL-terminated"))?;
        let raw = rest
            .get(..nul)
            .ok_or(Error::Truncated("the mailslot name"))?;
        let name = core::str::from_utf8(raw)
            .map_err(|_| Error::MailslotName("not printable ASCII"))
            .and_then(MailslotName::new)?;
        let name_end = BYTES_START.saturating_add(nul).saturating_add(1);
        let data_end = data_offset.saturating_add(usize::from(data_count));
        if data_offset < name_end || data_end != bytes.len() {
            return Err(Error::Length("the data offset and count"));
        }
        let data = bytes
            .get(data_offset..)
            .ok_or(Error::Length("the data offset"))?;
        Ok(MailslotWrite {
            name,
            priority,
            class,
            timeout,
            data: data.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [MS-BRWS] 4.1's capture: a write to \MAILSLOT\BROWSE of 33 bytes, timeout 1000,
    /// priority 0, class 2: WordCount 17, TotalDataCount and DataCount 33, DataOffset 86,
    /// ByteCount 50.
    #[test]
    fn the_fields_of_ms_brws_example() {
        let w = MailslotWrite::new(
            MailslotName::new("\\MAILSLOT\\BROWSE").unwrap(),
            [0x0F; 33].to_vec(),
        )
        .unwrap();
        let b = w.emit();
        assert_eq!(&b[..5], &[0xFF, b'S', b'M', b'B', 0x25]);
        assert_eq!(b[32], 17);
        let le = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
        assert_eq!(le(35), 33, "TotalDataCount");
        assert_eq!(u32::from_le_bytes([b[45], b[46], b[47], b[48]]), 1000);
        assert_eq!(le(55), 33, "DataCount");
        assert_eq!(le(57), 86, "DataOffset");
        assert_eq!(b[59], 3, "SetupCount");
        assert_eq!(
            (le(61), le(63), le(65)),
            (1, 0, 2),
            "opcode, priority, class"
        );
        assert_eq!(le(67), 50, "ByteCount");
        assert_eq!(&b[69..86], b"\\MAILSLOT\\BROWSE\0");
        assert_eq!(b.len(), 86 + 33);
        assert_eq!(MailslotWrite::parse(&b), Ok(w));
    }

    #[test]
    fn padding_before_the_data_is_read_past() {
        let w =
            MailslotWrite::new(MailslotName::from_relative("x").unwrap(), b"hi".to_vec()).unwrap();
        let mut b = w.emit();
        // Two pad bytes after the name: DataOffset and ByteCount grow by two.
        b.splice(81..81, [0xAA, 0xBB]);
        b[57] += 2;
        b[67] += 2;
        assert_eq!(MailslotWrite::parse(&b), Ok(w));
    }

    #[test]
    fn what_is_not_a_mailslot_write_is_refused() {
        let good = MailslotWrite::new(
            MailslotName::from_relative("slot").unwrap(),
            b"data".to_vec(),
        )
        .unwrap()
        .emit();
        let mutate = |at: usize, v: u8| {
            let mut b = good.clone();
            b[at] = v;
            MailslotWrite::parse(&b)
        };
        assert!(matches!(mutate(0, 0xFE), Err(Error::Field(_))));
        assert!(matches!(mutate(4, 0x72), Err(Error::Field(_))));
        assert!(matches!(mutate(5, 1), Err(Error::Field(_))), "a status");
        assert!(matches!(mutate(32, 16), Err(Error::Field(_))), "word count");
        assert!(matches!(mutate(33, 1), Err(Error::Field(_))), "parameters");
        assert!(matches!(mutate(35, 9), Err(Error::Field(_))), "total data");
        assert!(matches!(mutate(59, 2), Err(Error::Field(_))), "setup count");
        assert!(matches!(mutate(61, 2), Err(Error::Field(_))), "opcode");
        assert!(matches!(mutate(65, 3), Err(Error::Field(_))), "class");
        assert!(
            matches!(mutate(67, 0), Err(Error::Trailing)),
            "byte count short"
        );
        assert!(
            matches!(mutate(67, 60), Err(Error::Length(_))),
            "byte count long"
        );
        assert!(
            matches!(mutate(57, 70), Err(Error::Length(_))),
            "data inside the name"
        );
        assert!(matches!(mutate(69, b'/'), Err(Error::MailslotName(_))));
        let mut unterminated = good.clone();
        unterminated.truncate(80);
        unterminated[67] = 11;
        unterminated[55] = 0;
        unterminated[35] = 0;
        assert!(MailslotWrite::parse(&unterminated).is_err());
        for n in 0..good.len() {
            assert!(MailslotWrite::parse(&good[..n]).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn names() {
        assert!(MailslotName::new("\\mailslot\\browse").is_ok(), "any case");
        assert!(MailslotName::new("\\MAILSLOT\\").is_err(), "no name");
        assert!(MailslotName::new("\\PIPE\\x").is_err());
        assert!(MailslotName::new("\\MAILSLOT\\\u{e9}").is_err());
        assert!(MailslotName::from_relative(&"n".repeat(245)).is_ok());
        assert!(MailslotName::from_relative(&"n".repeat(246)).is_err());
        assert_eq!(
            MailslotName::new("\\MailSlot\\net\\NETLOGON")
                .unwrap()
                .relative(),
            "net\\NETLOGON"
        );
    }
}
