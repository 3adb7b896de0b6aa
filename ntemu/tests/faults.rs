//! Fault injection against the real rsmailslot.sys:
//! - every `ExAllocatePool2` the driver makes during a workload that reaches every major
//!   function fails in turn: the request that needed it fails with a resource status, the state
//!   it would have changed is as before (the same request then succeeds), and once everything
//!   is closed the driver holds exactly what it held after a clean run;
//! - `DriverEntry` with each framework call failing in turn, then with each of its own
//!   allocations failing: it returns the failure and leaves nothing behind (the machine checks
//!   pool, devices, links and the KMDF binding, and stops with a report otherwise);
//! - unload after everything is closed: no allocation, timer or DPC left (`Machine::unload`).

use std::sync::atomic::Ordering;

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::{Api, NtName, FILE_OPEN};

mod common;

const ERROR_FILE_NOT_FOUND: u32 = 2;
const ERROR_SEM_TIMEOUT: u32 = 121;
const ERROR_OPERATION_ABORTED: u32 = 995;
const ERROR_NO_SYSTEM_RESOURCES: u32 = 1450;
const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009A_u32 as i32;
const GENERIC_WRITE: u32 = 0x4000_0000;
const SHARE_ALL: u32 = 7;
const FILE_LIST_DIRECTORY: u32 = 1;
const SYNCHRONIZE: u32 = 0x0010_0000;
const FILE_SYNCHRONOUS_IO_NONALERT: u32 = 0x20;
const FILE_DIRECTORY_INFORMATION: i32 = 1;
const FILE_STANDARD_INFORMATION: i32 = 5;
const FILE_FS_ATTRIBUTE_INFORMATION: i32 = 5;
const FSCTL_MAILSLOT_PEEK: u32 = 0x000C_4003;

/// How a step failed: a Win32 error or an NTSTATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failed {
    Win32(u32),
    Nt(i32),
}

impl Failed {
    fn is_resources(self) -> bool {
        matches!(
            self,
            Failed::Win32(ERROR_NO_SYSTEM_RESOURCES) | Failed::Nt(STATUS_INSUFFICIENT_RESOURCES)
        )
    }
}

fn nt(status: i32) -> Result<(), Failed> {
    if status < 0 {
        Err(Failed::Nt(status))
    } else {
        Ok(())
    }
}

/// One pass of the workload, noting which steps failed for want of memory.
struct Pass {
    failed: Vec<&'static str>,
}

impl Pass {
    /// Runs `step`; a failure must be a resource failure that changed nothing (`unchanged`),
    /// after which the same step must succeed.
    fn step<T>(
        &mut self,
        name: &'static str,
        mut step: impl FnMut() -> Result<T, Failed>,
        unchanged: impl Fn() -> bool,
    ) -> T {
        match step() {
            Ok(v) => v,
            Err(e) => {
                assert!(
                    e.is_resources(),
                    "{name} failed with {e:x?}, not for want of memory"
                );
                assert!(unchanged(), "{name} failed but left its mark");
                self.failed.push(name);
                step().unwrap_or_else(|e| panic!("{name} failed again, with {e:x?}"))
            }
        }
    }
}

/// Every major function the driver serves: CREATE_MAILSLOT, CREATE, WRITE, READ (at once,
/// pended then completed by a write, timed out, cancelled), QUERY_INFORMATION,
/// SET_INFORMATION, QUERY_VOLUME_INFORMATION, DIRECTORY_CONTROL, FILE_SYSTEM_CONTROL, CLEANUP
/// and CLOSE. Returns the steps that failed for want of memory.
fn workload(api: Api<'_>) -> Vec<&'static str> {
    let mut p = Pass { failed: Vec::new() };
    let name = r"\\.\RsMailslot\faults\slot";
    let missing =
        || api.open(name, GENERIC_WRITE, SHARE_ALL, false).err() == Some(ERROR_FILE_NOT_FOUND);
    let server = p.step(
        "CreateMailslotW",
        || api.create_mailslot(Some(name), 0, 0).map_err(Failed::Win32),
        missing,
    );
    let s = server.raw();
    let count = || api.info(s).map(|i| i.count).unwrap_or(u32::MAX);
    let client = p.step(
        "CreateFileW",
        || {
            api.open(name, GENERIC_WRITE, SHARE_ALL, false)
                .map_err(Failed::Win32)
        },
        || count() == 0,
    );
    let c = client.raw();
    p.step(
        "WriteFile",
        || api.write(c, b"hello").map_err(Failed::Win32),
        || count() == 0,
    );
    let info = p.step(
        "GetMailslotInfo",
        || api.info(s).map_err(Failed::Win32),
        || true,
    );
    assert_eq!((info.count, info.next), (1, 5));
    p.step(
        "SetMailslotInfo",
        || api.set_timeout(s, 40).map_err(Failed::Win32),
        || api.info(s).map(|i| i.timeout) == Ok(0),
    );
    p.step(
        "NtQueryInformationFile",
        || {
            let (status, _, _) = api.nt_query_information(s, FILE_STANDARD_INFORMATION, 24);
            nt(status)
        },
        || true,
    );
    p.step(
        "NtQueryVolumeInformationFile",
        || {
            let (status, _, _) = api.nt_query_volume(s, FILE_FS_ATTRIBUTE_INFORMATION, 64);
            nt(status)
        },
        || true,
    );
    p.step(
        "FSCTL_MAILSLOT_PEEK",
        || {
            let mut io = api.nt_fsctl(s, FSCTL_MAILSLOT_PEEK, &[0; 12], 64);
            io.wait(5000);
            nt(io.final_status())
        },
        || count() == 1,
    );
    let read = p.step(
        "ReadFile",
        || api.read(s, 64).map_err(|e| Failed::Win32(e.0)),
        || count() == 1,
    );
    assert_eq!(read, b"hello");
    // A read that pends, completed by a write.
    let mut pending = p.step(
        "ReadFile (pends)",
        || {
            let r = api.read_overlapped(s, 64);
            match r.started() {
                Err(997) => Ok(r),
                Err(e) => Err(Failed::Win32(e)),
                Ok(n) => panic!("a read of an empty slot completed with {n} bytes"),
            }
        },
        || count() == 0,
    );
    p.step(
        "WriteFile (to a pending read)",
        || api.write(c, b"late").map_err(Failed::Win32),
        || pending.is_pending() && count() == 0,
    );
    assert_eq!(pending.wait(5000), Some(Ok(b"late".to_vec())));
    // A read that times out (40 ms), and one that is cancelled.
    p.step(
        "ReadFile (times out)",
        || match api.read(s, 64) {
            Err((ERROR_SEM_TIMEOUT, _)) => Ok(()),
            Err((e, _)) => Err(Failed::Win32(e)),
            Ok(m) => panic!("read {m:?} from an empty slot"),
        },
        || true,
    );
    p.step(
        "ReadFile (cancelled)",
        || {
            let mut r = api.read_overlapped(s, 64);
            match r.started() {
                Err(997) => {}
                Err(e) => return Err(Failed::Win32(e)),
                Ok(n) => panic!("a read of an empty slot completed with {n} bytes"),
            }
            let _ = r.cancel();
            match r.wait(5000) {
                Some(Err(ERROR_OPERATION_ABORTED)) | Some(Err(ERROR_SEM_TIMEOUT)) => Ok(()),
                other => panic!("a cancelled read ended with {other:?}"),
            }
        },
        || true,
    );
    // The namespace's root: open it and list it.
    let root = p.step(
        "NtCreateFile (root)",
        || {
            let r = api.nt_open(
                &NtName::path(r"\Device\RsMailslot\"),
                FILE_LIST_DIRECTORY | SYNCHRONIZE,
                SHARE_ALL,
                FILE_OPEN,
                FILE_SYNCHRONOUS_IO_NONALERT,
            );
            r.handle.ok_or(Failed::Nt(r.status))
        },
        || true,
    );
    p.step(
        "NtQueryDirectoryFile",
        || {
            let mut io = api.nt_query_directory(
                root.raw(),
                FILE_DIRECTORY_INFORMATION,
                4096,
                false,
                Some("*"),
                true,
            );
            io.wait(5000);
            nt(io.final_status())
        },
        || true,
    );
    drop(root);
    drop(client);
    drop(server);
    p.failed
}

/// A started machine with one clean pass of the workload behind it (so the engine's tables
/// have their capacity): the machine, its process, and the allocations a pass makes.
fn warmed_up() -> (&'static Machine, Emulated, u64) {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let sys = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    assert!(workload(Api(&sys)).is_empty());
    let before = m.pool.driver_allocations.load(Ordering::SeqCst);
    assert!(workload(Api(&sys)).is_empty());
    let allocations = m.pool.driver_allocations.load(Ordering::SeqCst) - before;
    m.quiesce();
    (m, sys, allocations)
}

#[test]
fn every_allocation_of_every_major_function_fails_cleanly() {
    let (m, sys, allocations) = warmed_up();
    assert!(
        allocations > 5,
        "the workload made only {allocations} allocations"
    );
    drop(sys);
    m.unload();
    m.shutdown();
    let mut failed_steps = Vec::new();
    for k in 1..=allocations {
        let (m, sys, _) = warmed_up();
        let settled = m.pool.usage().driver_blocks;
        let start = m.pool.driver_allocations.load(Ordering::SeqCst);
        m.pool.fail_at.store(start + k, Ordering::SeqCst);
        let failed = workload(Api(&sys));
        m.pool.fail_at.store(0, Ordering::SeqCst);
        m.quiesce();
        // A failed allocation the driver cannot report (a timer, cancel or cleanup path) would
        // show as no failed step: there must be exactly one.
        assert_eq!(
            failed.len(),
            1,
            "allocation {k} of {allocations}: failed steps {failed:?}"
        );
        assert_eq!(
            m.pool.usage().driver_blocks,
            settled,
            "allocation {k} of {allocations} failed ({failed:?}): the driver kept a block"
        );
        failed_steps.push(failed[0]);
        // Unload stops with a report if any allocation, timer or DPC is left.
        drop(sys);
        m.unload();
        m.shutdown();
    }
    failed_steps.dedup();
    println!("faults: {allocations} allocations failed in turn, in the steps {failed_steps:?}");
}

#[test]
fn driver_entry_fails_cleanly_at_every_framework_call_and_allocation() {
    // How many fallible framework calls and allocations a successful DriverEntry makes.
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let calls = m.kmdf.fallible_calls();
    let allocations = m.pool.driver_allocations.load(Ordering::SeqCst);
    m.unload();
    m.shutdown();
    assert!(
        calls >= 5,
        "DriverEntry made only {calls} fallible framework calls"
    );
    for k in 1..=calls {
        let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
        m.kmdf.fail_call.store(k, Ordering::SeqCst);
        let status = m.start();
        // Machine::start stops with a report if a failed DriverEntry leaves anything behind.
        assert!(
            status < 0,
            "framework call {k} of {calls} failed, yet DriverEntry returned {status:#x}"
        );
        m.shutdown();
    }
    for k in 1..=allocations {
        let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
        m.pool.fail_at.store(k, Ordering::SeqCst);
        let status = m.start();
        assert!(
            status < 0,
            "allocation {k} of {allocations} failed, yet DriverEntry returned {status:#x}"
        );
        m.shutdown();
    }
    println!("faults: DriverEntry failed cleanly at each of {calls} framework calls and {allocations} allocations");
}
