//! Where admitted messages go: a local mailslot (Windows), a Unix datagram socket per mailslot
//! (Linux), or JSON lines on standard output. A sink delivers a message whole or reports why
//! it could not (`no-such-mailslot` when nothing listens under that name).

use std::io::Write;

use crate::decide::Admitted;

pub trait Sink {
    /// Delivers `a`; on failure the reason counted (`undeliverable:<reason>`).
    fn deliver(&mut self, a: &Admitted) -> Result<(), String>;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A message as a JSON object: its mailslot, its length, its data in hexadecimal, and as text
/// when it is UTF-8 (what `rsmailslot-recv` prints, and the core of [`json_line`]).
pub fn message_json(mailslot: &str, data: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    let mut obj = serde_json::Map::new();
    obj.insert("mailslot".into(), mailslot.into());
    obj.insert("length".into(), data.len().into());
    obj.insert("data_hex".into(), hex(data).into());
    if let Ok(text) = std::str::from_utf8(data) {
        obj.insert("text".into(), text.into());
    }
    obj
}

/// One JSON object per message: the UDP source, the datagram's names, and [`message_json`].
pub fn json_line(a: &Admitted) -> String {
    let mut obj = message_json(a.mailslot.as_str(), &a.data);
    obj.insert("from".into(), a.from.to_string().into());
    obj.insert("source".into(), a.source_name.to_string().into());
    obj.insert("destination".into(), a.destination_name.to_string().into());
    serde_json::Value::Object(obj).to_string()
}

/// JSON lines to a writer (standard output).
#[derive(Debug)]
pub struct JsonLines<W: Write>(pub W);

impl<W: Write> Sink for JsonLines<W> {
    fn deliver(&mut self, a: &Admitted) -> Result<(), String> {
        writeln!(self.0, "{}", json_line(a))
            .and_then(|()| self.0.flush())
            .map_err(|_| "output".to_string())
    }
}

/// The file name of a mailslot's socket: the relative name lower-cased (mailslot names are
/// case-insensitive), with every byte other than a letter, digit, `-`, `_` or `.` written as
/// `%XX` (so `net\netlogon` is `net%5cnetlogon`).
pub fn socket_file_name(relative: &str) -> String {
    let mut out = String::new();
    for b in relative.to_ascii_lowercase().bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && !out.is_empty()) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

#[cfg(unix)]
pub use unix::UnixDirectory;

#[cfg(unix)]
mod unix {
    use std::os::unix::net::UnixDatagram;
    use std::path::PathBuf;

    use super::{socket_file_name, Admitted, Sink};

    /// A datagram socket per mailslot, `<directory>/<socket_file_name>`, which a local program
    /// binds to receive that mailslot's messages (`rsmailslot-recv` does).
    #[derive(Debug)]
    pub struct UnixDirectory {
        directory: PathBuf,
        socket: UnixDatagram,
    }

    impl UnixDirectory {
        pub fn new(directory: PathBuf) -> std::io::Result<UnixDirectory> {
            Ok(UnixDirectory {
                directory,
                socket: UnixDatagram::unbound()?,
            })
        }
    }

    impl Sink for UnixDirectory {
        fn deliver(&mut self, a: &Admitted) -> Result<(), String> {
            let path = self.directory.join(socket_file_name(a.mailslot.relative()));
            match self.socket.send_to(&a.data, &path) {
                Ok(n) if n == a.data.len() => Ok(()),
                Ok(_) => Err("short-write".into()),
                Err(e) => Err(match e.kind() {
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                        "no-such-mailslot".into()
                    }
                    std::io::ErrorKind::WouldBlock => "receiver-full".into(),
                    _ => "io".into(),
                }),
            }
        }
    }
}

#[cfg(windows)]
pub use windows::Mailslots;

#[cfg(windows)]
mod windows {
    use std::ptr::null_mut;

    use windows_sys::Win32::Foundation::{
        CloseHandle, GetLastError, ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, GENERIC_WRITE,
        INVALID_HANDLE_VALUE,
    };
    use windows_sys::Win32::Storage::FileSystem::{
        CreateFileW, WriteFile, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_SHARE_WRITE,
        OPEN_EXISTING,
    };

    use super::{Admitted, Sink};

    /// Local mailslots: each message is written with CreateFileW and WriteFile to
    /// `\\.\<namespace>\<name>`, as a local client writes, so the mailslot's own rules (its
    /// maximum message size, its descriptor) apply to it.
    #[derive(Debug)]
    pub struct Mailslots {
        namespace: String,
    }

    impl Mailslots {
        pub fn new(namespace: &str) -> Mailslots {
            Mailslots {
                namespace: namespace.to_string(),
            }
        }
    }

    impl Sink for Mailslots {
        fn deliver(&mut self, a: &Admitted) -> Result<(), String> {
            let path = format!(r"\\.\{}\{}", self.namespace, a.mailslot.relative());
            let wide: Vec<u16> = path.encode_utf16().chain(Some(0)).collect();
            // SAFETY: a NUL-terminated path that outlives the call; no security attributes
            // or template.
            let h = unsafe {
                CreateFileW(
                    wide.as_ptr(),
                    GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE,
                    null_mut(),
                    OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL,
                    null_mut(),
                )
            };
            if h == INVALID_HANDLE_VALUE {
                // SAFETY: no preconditions.
                let e = unsafe { GetLastError() };
                return Err(if e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND {
                    "no-such-mailslot".into()
                } else {
                    format!("open-error-{e}")
                });
            }
            let len = u32::try_from(a.data.len()).map_err(|_| "too-large".to_string())?;
            let mut written = 0u32;
            // SAFETY: the handle just opened; the data and the count outlive the call; no
            // OVERLAPPED (the handle is synchronous).
            let (ok, e) = unsafe {
                let ok = WriteFile(h, a.data.as_ptr(), len, &mut written, null_mut());
                let e = GetLastError();
                CloseHandle(h);
                (ok, e)
            };
            if ok == 0 {
                return Err(format!("write-error-{e}"));
            }
            if written != len {
                return Err("short-write".into());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_names_are_folded_and_escaped() {
        assert_eq!(socket_file_name("BROWSE"), "browse");
        assert_eq!(socket_file_name(r"net\NETLOGON"), "net%5cnetlogon");
        assert_eq!(socket_file_name("../x"), "%2e.%2fx");
        assert_eq!(socket_file_name("a b"), "a%20b");
    }
}
