//! The relay as a Windows service (`RsMailslotRelay`): installed to start automatically as
//! LocalService (it needs no more: UDP 138 is not privileged on Windows, and a local mailslot
//! admits any user's client open unless its creator said otherwise), run by the service control
//! manager, stopped by it. `install` and `uninstall` are `rsmailslot-relay`'s subcommands.

use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

use windows_sys::core::PWSTR;

use crate::cmdline::command_line;
use windows_sys::Win32::Foundation::{GetLastError, ERROR_SERVICE_DOES_NOT_EXIST, NO_ERROR};
use windows_sys::Win32::System::Services::{
    CloseServiceHandle, ControlService, CreateServiceW, DeleteService, OpenSCManagerW,
    OpenServiceW, RegisterServiceCtrlHandlerExW, SetServiceStatus, StartServiceCtrlDispatcherW,
    SC_MANAGER_ALL_ACCESS, SERVICE_ACCEPT_SHUTDOWN, SERVICE_ACCEPT_STOP, SERVICE_ALL_ACCESS,
    SERVICE_AUTO_START, SERVICE_CONTROL_INTERROGATE, SERVICE_CONTROL_SHUTDOWN,
    SERVICE_CONTROL_STOP, SERVICE_ERROR_NORMAL, SERVICE_RUNNING, SERVICE_STATUS,
    SERVICE_STATUS_HANDLE, SERVICE_STOPPED, SERVICE_STOP_PENDING, SERVICE_TABLE_ENTRYW,
    SERVICE_WIN32_OWN_PROCESS,
};

/// The service's name.
pub const NAME: &str = "RsMailslotRelay";
const DISPLAY_NAME: &str = "rsmailslot remote mailslot relay";
const ACCOUNT: &str = "NT AUTHORITY\\LocalService";

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

fn last_error() -> u32 {
    // SAFETY: no preconditions.
    unsafe { GetLastError() }
}

/// A service control manager or service handle, closed when dropped.
struct Handle(*mut c_void);

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: a handle OpenSCManagerW/OpenServiceW/CreateServiceW gave, closed once.
            unsafe { CloseServiceHandle(self.0) };
        }
    }
}

fn manager() -> Result<Handle, String> {
    // SAFETY: the local machine's active database.
    let h = unsafe { OpenSCManagerW(null(), null(), SC_MANAGER_ALL_ACCESS) };
    if h.is_null() {
        return Err(format!(
            "OpenSCManagerW: error {} (run elevated)",
            last_error()
        ));
    }
    Ok(Handle(h))
}

/// Creates the service to run `exe` with `args` (`--service` is added).
pub fn install(exe: &str, args: &[String]) -> Result<(), String> {
    let m = manager()?;
    let mut all = vec!["--service".to_string()];
    all.extend_from_slice(args);
    let (name, display, path, account) = (
        wide(NAME),
        wide(DISPLAY_NAME),
        wide(&command_line(exe, &all)),
        wide(ACCOUNT),
    );
    // SAFETY: every string is NUL-terminated and outlives the call; no group, tag,
    // dependencies or password (LocalService has none).
    let h = unsafe {
        CreateServiceW(
            m.0,
            name.as_ptr(),
            display.as_ptr(),
            SERVICE_ALL_ACCESS,
            SERVICE_WIN32_OWN_PROCESS,
            SERVICE_AUTO_START,
            SERVICE_ERROR_NORMAL,
            path.as_ptr(),
            null(),
            null_mut(),
            null(),
            account.as_ptr(),
            null(),
        )
    };
    if h.is_null() {
        return Err(format!("CreateServiceW({NAME}): error {}", last_error()));
    }
    drop(Handle(h));
    Ok(())
}

/// Stops the service if it runs and deletes it.
pub fn uninstall() -> Result<(), String> {
    let m = manager()?;
    let name = wide(NAME);
    // SAFETY: the manager handle and a NUL-terminated name.
    let h = unsafe { OpenServiceW(m.0, name.as_ptr(), SERVICE_ALL_ACCESS) };
    if h.is_null() {
        let e = last_error();
        return Err(if e == ERROR_SERVICE_DOES_NOT_EXIST {
            format!("{NAME} is not installed")
        } else {
            format!("OpenServiceW({NAME}): error {e}")
        });
    }
    let h = Handle(h);
    let mut status = empty_status(0);
    // SAFETY: the service handle; `status` receives its state. A service already stopped
    // refuses the stop, which is fine.
    unsafe { ControlService(h.0, SERVICE_CONTROL_STOP, &mut status) };
    // SAFETY: the service handle, deleted once (the manager removes it when every handle
    // is closed).
    if unsafe { DeleteService(h.0) } == 0 {
        return Err(format!("DeleteService({NAME}): error {}", last_error()));
    }
    Ok(())
}

fn empty_status(state: u32) -> SERVICE_STATUS {
    SERVICE_STATUS {
        dwServiceType: SERVICE_WIN32_OWN_PROCESS,
        dwCurrentState: state,
        dwControlsAccepted: 0,
        dwWin32ExitCode: NO_ERROR,
        dwServiceSpecificExitCode: 0,
        dwCheckPoint: 0,
        dwWaitHint: 0,
    }
}

/// What the service runs, given the stop flag; returns its exit code (0: fine).
type Body = Box<dyn FnOnce(&AtomicBool) -> u32 + Send>;

static BODY: Mutex<Option<Body>> = Mutex::new(None);
static STOP: AtomicBool = AtomicBool::new(false);
static STATUS_HANDLE: AtomicPtr<c_void> = AtomicPtr::new(null_mut());

fn report(state: u32, exit_code: u32) {
    let mut s = empty_status(state);
    s.dwControlsAccepted = if state == SERVICE_RUNNING {
        SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN
    } else {
        0
    };
    if exit_code != 0 {
        // ERROR_SERVICE_SPECIFIC_ERROR, with ours beside it.
        s.dwWin32ExitCode = 1066;
        s.dwServiceSpecificExitCode = exit_code;
    }
    if state == SERVICE_STOP_PENDING {
        s.dwWaitHint = 2000;
    }
    let h: SERVICE_STATUS_HANDLE = STATUS_HANDLE.load(Ordering::Acquire);
    if !h.is_null() {
        // SAFETY: the handle RegisterServiceCtrlHandlerExW gave this service; `s` is read
        // during the call.
        unsafe { SetServiceStatus(h, &s) };
    }
}

unsafe extern "system" fn control(
    code: u32,
    _event: u32,
    _data: *mut c_void,
    _context: *mut c_void,
) -> u32 {
    match code {
        SERVICE_CONTROL_STOP | SERVICE_CONTROL_SHUTDOWN => {
            STOP.store(true, Ordering::Release);
            report(SERVICE_STOP_PENDING, 0);
            NO_ERROR
        }
        SERVICE_CONTROL_INTERROGATE => NO_ERROR,
        // ERROR_CALL_NOT_IMPLEMENTED
        _ => 120,
    }
}

unsafe extern "system" fn service_main(_argc: u32, _argv: *mut PWSTR) {
    let name = wide(NAME);
    // SAFETY: a NUL-terminated name; `control` lives for the process.
    let h = unsafe { RegisterServiceCtrlHandlerExW(name.as_ptr(), Some(control), null()) };
    if h.is_null() {
        return;
    }
    STATUS_HANDLE.store(h, Ordering::Release);
    report(SERVICE_RUNNING, 0);
    let body = BODY.lock().ok().and_then(|mut b| b.take());
    let code = body.map_or(1, |b| b(&STOP));
    report(SERVICE_STOPPED, code);
}

/// Hands the process to the service control manager, which calls `body` in the service's
/// thread and returns when the service has stopped. Fails when the process was not started by
/// the manager.
pub fn run(body: Body) -> Result<(), String> {
    if let Ok(mut b) = BODY.lock() {
        *b = Some(body);
    }
    let name = wide(NAME);
    let table = [
        SERVICE_TABLE_ENTRYW {
            lpServiceName: name.as_ptr().cast_mut(),
            lpServiceProc: Some(service_main),
        },
        SERVICE_TABLE_ENTRYW {
            lpServiceName: null_mut(),
            lpServiceProc: None,
        },
    ];
    // SAFETY: a table ending with an empty entry, alive until the call returns (when the
    // service has stopped).
    if unsafe { StartServiceCtrlDispatcherW(table.as_ptr()) } == 0 {
        return Err(format!(
            "StartServiceCtrlDispatcherW: error {} (--service is for the service control manager; use install)",
            last_error()
        ));
    }
    Ok(())
}
