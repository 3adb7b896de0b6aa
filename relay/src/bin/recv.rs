//! rsmailslot-recv: receives the messages delivered to one local mailslot and prints each as
//! a JSON line, so that a script (or a test) can see what a relay delivered.
//!
//!   Windows: rsmailslot-recv [--namespace mailslot|RsMailslot] [--count N] [--timeout-ms MS] NAME
//!   Linux:   rsmailslot-recv --directory DIR [--count N] [--timeout-ms MS] NAME
//!
//! It creates the mailslot (or binds the socket the relay's Unix sink writes to), writes
//! `ready` to standard error, then prints messages until it has `--count` of them or none came
//! for `--timeout-ms` (default 5000). It exits 0 when it received `--count` messages (or, with no
//! count, any), 1 otherwise.

use std::process::ExitCode;
use std::time::Duration;

struct Args {
    name: String,
    count: Option<usize>,
    timeout: Duration,
    #[cfg_attr(not(unix), allow(dead_code))]
    directory: Option<String>,
    #[cfg_attr(not(windows), allow(dead_code))]
    namespace: String,
}

const USAGE: &str =
    "usage: rsmailslot-recv [--directory DIR | --namespace NS] [--count N] [--timeout-ms MS] NAME";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        name: String::new(),
        count: None,
        timeout: Duration::from_millis(5000),
        directory: None,
        namespace: "mailslot".into(),
    };
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{what} needs a value"));
        match arg.as_str() {
            "--directory" => a.directory = Some(value("--directory")?),
            "--namespace" => a.namespace = value("--namespace")?,
            "--count" => {
                a.count = Some(value("--count")?.parse().map_err(|_| "--count: a number")?)
            }
            "--timeout-ms" => {
                a.timeout = Duration::from_millis(
                    value("--timeout-ms")?
                        .parse()
                        .map_err(|_| "--timeout-ms: a number")?,
                )
            }
            "--help" | "-h" => return Err(USAGE.into()),
            n if !n.starts_with("--") && a.name.is_empty() => a.name = n.to_string(),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.name.is_empty() {
        return Err(USAGE.into());
    }
    Ok(a)
}

fn print(name: &str, data: &[u8]) {
    println!(
        "{}",
        serde_json::Value::Object(rsmailslot_relay::sink::message_json(name, data))
    );
}

#[cfg(unix)]
fn receive(a: &Args) -> Result<usize, String> {
    use std::os::unix::net::UnixDatagram;
    let dir = a
        .directory
        .as_deref()
        .ok_or(format!("--directory is needed here\n{USAGE}"))?;
    let path = std::path::Path::new(dir).join(rsmailslot_relay::sink::socket_file_name(&a.name));
    let _ = std::fs::remove_file(&path);
    let socket = UnixDatagram::bind(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    socket
        .set_read_timeout(Some(a.timeout))
        .map_err(|e| e.to_string())?;
    eprintln!("ready");
    let mut buf = vec![0u8; 65_536];
    let mut got = 0;
    while a.count.is_none_or(|n| got < n) {
        match socket.recv(&mut buf) {
            Ok(n) => {
                print(&a.name, buf.get(..n).unwrap_or(&[]));
                got += 1;
            }
            Err(_) => break,
        }
    }
    let _ = std::fs::remove_file(&path);
    Ok(got)
}

#[cfg(windows)]
fn receive(a: &Args) -> Result<usize, String> {
    use std::ptr::null_mut;
    use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::Storage::FileSystem::ReadFile;
    use windows_sys::Win32::System::Mailslots::CreateMailslotW;

    let path = format!(r"\\.\{}\{}", a.namespace, a.name);
    let wide: Vec<u16> = path.encode_utf16().chain(Some(0)).collect();
    let timeout = u32::try_from(a.timeout.as_millis()).unwrap_or(u32::MAX - 1);
    // SAFETY: a NUL-terminated name that outlives the call; no security attributes.
    let h = unsafe { CreateMailslotW(wide.as_ptr(), 0, timeout, null_mut()) };
    if h == INVALID_HANDLE_VALUE {
        // SAFETY: no preconditions.
        return Err(format!("CreateMailslotW({path}): error {}", unsafe {
            GetLastError()
        }));
    }
    eprintln!("ready");
    let mut buf = vec![0u8; 65_536];
    let mut got = 0;
    while a.count.is_none_or(|n| got < n) {
        let mut read = 0u32;
        // SAFETY: the server handle just created; the buffer and count outlive the call.
        let ok = unsafe { ReadFile(h, buf.as_mut_ptr(), buf.len() as u32, &mut read, null_mut()) };
        if ok == 0 {
            break;
        }
        print(&a.name, buf.get(..read as usize).unwrap_or(&[]));
        got += 1;
    }
    // SAFETY: closed once.
    unsafe { CloseHandle(h) };
    Ok(got)
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rsmailslot-recv: {e}");
            return ExitCode::from(2);
        }
    };
    match receive(&a) {
        Ok(got) if a.count.map_or(got > 0, |n| got >= n) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("rsmailslot-recv: {e}");
            ExitCode::from(2)
        }
    }
}
