//! A mailslot server and client in one program, in Rust with windows-sys, through rsmailslot's
//! namespace `\\.\RsMailslot\` (or the Win32 prefix given as the first argument). The same
//! steps as examples/mailslot-demo.c.
//!
//!     cargo run --example mailslot_demo -p usermode-test            # on Windows
//!     cargo run --example mailslot_demo -p usermode-test -- '\\.\mailslot\'

#[cfg(windows)]
fn last_error() -> u32 {
    // SAFETY: reads the calling thread's last-error value; no preconditions.
    unsafe { windows_sys::Win32::Foundation::GetLastError() }
}

#[cfg(windows)]
fn main() -> Result<(), String> {
    use std::ptr::{null, null_mut};
    use windows_sys::Win32::Foundation::{CloseHandle, ERROR_SEM_TIMEOUT, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::Storage::FileSystem::{
        CreateFileW, ReadFile, WriteFile, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_SHARE_WRITE,
        OPEN_EXISTING,
    };
    use windows_sys::Win32::System::Mailslots::{CreateMailslotW, SetMailslotInfo};

    const GENERIC_WRITE: u32 = 0x4000_0000;
    let prefix = std::env::args()
        .nth(1)
        .unwrap_or_else(|| r"\\.\RsMailslot\".to_string());
    let name = format!(r"{prefix}demo\events-{}", std::process::id());
    let wide: Vec<u16> = name.encode_utf16().chain(Some(0)).collect();

    // SAFETY: `wide` is NUL-terminated and outlives the call; no security attributes.
    let server = unsafe { CreateMailslotW(wide.as_ptr(), 0, 1000, null()) };
    if server == INVALID_HANDLE_VALUE {
        return Err(format!("CreateMailslotW failed: {}", last_error()));
    }
    // SAFETY: as above; no security attributes and no template handle.
    let client = unsafe {
        CreateFileW(
            wide.as_ptr(),
            GENERIC_WRITE,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            null(),
            OPEN_EXISTING,
            FILE_ATTRIBUTE_NORMAL,
            null_mut(),
        )
    };
    if client == INVALID_HANDLE_VALUE {
        return Err(format!("CreateFileW failed: {}", last_error()));
    }
    for message in ["hello", "from", "a mailslot"] {
        let mut written = 0;
        // SAFETY: `message` is readable for its length; `written` is a valid u32; no OVERLAPPED.
        let ok = unsafe {
            WriteFile(
                client,
                message.as_ptr(),
                message.len() as u32,
                &mut written,
                null_mut(),
            )
        };
        if ok == 0 {
            return Err(format!("WriteFile failed: {}", last_error()));
        }
    }
    // SAFETY: `client` is our handle, closed once.
    unsafe { CloseHandle(client) };

    // Drain without waiting: timeout 0 makes an empty slot answer at once.
    // SAFETY: `server` is our mailslot handle.
    unsafe { SetMailslotInfo(server, 0) };
    loop {
        let mut buffer = [0u8; 512];
        let mut read = 0;
        // SAFETY: `buffer` is writable for its length; `read` is a valid u32; no OVERLAPPED.
        let ok = unsafe {
            ReadFile(
                server,
                buffer.as_mut_ptr(),
                buffer.len() as u32,
                &mut read,
                null_mut(),
            )
        };
        if ok == 0 {
            let error = last_error();
            if error == ERROR_SEM_TIMEOUT {
                println!("empty");
                break;
            }
            return Err(format!("ReadFile failed: {error}"));
        }
        println!(
            "read {read} bytes: {}",
            String::from_utf8_lossy(&buffer[..read as usize])
        );
    }
    // Closing the last server handle deletes the mailslot.
    // SAFETY: `server` is our handle, closed once.
    unsafe { CloseHandle(server) };
    Ok(())
}

#[cfg(not(windows))]
fn main() {
    eprintln!("mailslot_demo uses Windows' mailslot API: build it for Windows");
    std::process::exit(2);
}
