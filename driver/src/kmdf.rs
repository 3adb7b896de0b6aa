//! The KMDF binding, written from Microsoft's public KMDF 1.15 headers (facts only; tags as in
//! `reference/kmdf-abi.md`): the bind protocol that the WDK's static stub normally performs,
//! the function table it yields, and one typed wrapper per KMDF function the driver calls.
//!
//! A 1.15 client binds with a version-1 `WDF_BIND_INFO` (48 bytes) and 444 functions, which
//! every framework from 1.15 on accepts [F]; the indices below are the same in 1.15 and 1.33.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::ffi::*;

/// Function-table indices (`WDFFUNCENUM`, wdffuncenum.h) [H].
pub mod index {
    pub const WDF_CONTROL_DEVICE_INIT_ALLOCATE: usize = 25;
    pub const WDF_CONTROL_FINISH_INITIALIZING: usize = 27;
    pub const WDF_DEVICE_INIT_FREE: usize = 54;
    pub const WDF_DEVICE_INIT_SET_IO_TYPE: usize = 61;
    pub const WDF_DEVICE_INIT_SET_DEVICE_TYPE: usize = 66;
    pub const WDF_DEVICE_INIT_ASSIGN_NAME: usize = 67;
    pub const WDF_DEVICE_INIT_ASSIGN_WDM_IRP_PREPROCESS_CALLBACK: usize = 73;
    pub const WDF_DEVICE_CREATE: usize = 75;
    pub const WDF_DEVICE_CREATE_SYMBOLIC_LINK: usize = 80;
    pub const WDF_DEVICE_WDM_GET_DEVICE_OBJECT: usize = 31;
    pub const WDF_DRIVER_CREATE: usize = 116;
    pub const WDF_OBJECT_DELETE: usize = 208;
    pub const WDF_DRIVER_OPEN_PARAMETERS_REGISTRY_KEY: usize = 119;
    pub const WDF_REGISTRY_CLOSE: usize = 231;
    pub const WDF_REGISTRY_QUERY_ULONG: usize = 240;
}

/// `WdfFunctionTableNumEntries` of KMDF 1.15 [H].
pub const FUNCTION_COUNT_1_15: u32 = 444;
/// The KMDF version the driver is built against.
pub const KMDF_VERSION: WDF_VERSION = WDF_VERSION {
    Major: 1,
    Minor: 15,
    Build: 0,
};

/// `WDF_COMPONENT_NAME(KmdfLibrary)`, NUL-terminated UTF-16 [F, X].
static COMPONENT: [u16; 12] = crate::names::utf16_nul("KmdfLibrary");

/// Where the framework stores the address of its function table (`WdfFunctions_01015`).
static FUNCTIONS: AtomicPtr<usize> = AtomicPtr::new(null_mut());
/// `WdfDriverGlobals`: the first argument of every call, written by `WdfVersionBind`.
static GLOBALS: AtomicPtr<WDF_DRIVER_GLOBALS> = AtomicPtr::new(null_mut());

/// Storage the framework reads after bind returns, so it lives in a static.
struct Shared<T>(UnsafeCell<T>);
// SAFETY: the cells are written only in DriverEntry and read by the framework and the unload
// routine, which the I/O manager never runs concurrently with DriverEntry.
unsafe impl<T> Sync for Shared<T> {}

static BIND_INFO: Shared<WDF_BIND_INFO> = Shared(UnsafeCell::new(WDF_BIND_INFO {
    Size: core::mem::size_of::<WDF_BIND_INFO>() as u32,
    Component: COMPONENT.as_ptr(),
    Version: KMDF_VERSION,
    FuncCount: FUNCTION_COUNT_1_15,
    FuncTable: null_mut(),
    Module: null_mut(),
}));

/// The registry path saved at entry, whole, in non-paged pool (a service's path has no length
/// limit a fixed buffer could hold: a truncated copy would name another key); bind and unbind
/// both receive this copy, as the WDK stub gives them its own.
static REGISTRY_PATH: Shared<UNICODE_STRING> = Shared(UnsafeCell::new(UNICODE_STRING {
    Length: 0,
    MaximumLength: 0,
    Buffer: null_mut(),
}));

/// Binds to the framework: saves the registry path, calls `WdfVersionBind`.
///
/// # Safety
/// Only from DriverEntry, once, with the pointers the I/O manager passed it.
pub unsafe fn bind(
    driver_object: *mut DRIVER_OBJECT,
    registry_path: *const UNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: DriverEntry runs alone, so nothing else touches these statics; the I/O manager
    // passes a valid registry path whose Length bytes are readable.
    unsafe {
        let source = &*registry_path;
        let bytes = usize::from(source.Length & !1);
        let saved = &mut *REGISTRY_PATH.0.get();
        if bytes != 0 && !source.Buffer.is_null() {
            let copy = ExAllocatePool2(POOL_FLAG_NON_PAGED, bytes, POOL_TAG).cast::<u16>();
            if copy.is_null() {
                return STATUS_INSUFFICIENT_RESOURCES;
            }
            core::ptr::copy_nonoverlapping(source.Buffer, copy, bytes / 2);
            saved.Buffer = copy;
        }
        saved.Length = bytes as u16;
        saved.MaximumLength = bytes as u16;

        let info = &mut *BIND_INFO.0.get();
        info.FuncTable = FUNCTIONS.as_ptr().cast::<c_void>();
        let status = WdfVersionBind(
            driver_object,
            REGISTRY_PATH.0.get(),
            BIND_INFO.0.get(),
            GLOBALS.as_ptr(),
        );
        if status < 0 {
            free_registry_path();
        }
        status
    }
}

/// Frees the saved registry path.
///
/// # Safety
/// From DriverEntry or unload, when neither bind nor unbind can use it any more.
unsafe fn free_registry_path() {
    // SAFETY: per the contract; the buffer, if any, is the pool block `bind` allocated.
    unsafe {
        let saved = &mut *REGISTRY_PATH.0.get();
        if !saved.Buffer.is_null() {
            ExFreePoolWithTag(saved.Buffer.cast(), POOL_TAG);
        }
        *saved = UNICODE_STRING {
            Length: 0,
            MaximumLength: 0,
            Buffer: null_mut(),
        };
    }
}

/// Releases the framework: `WdfVersionUnbind`. The globals dangle afterwards.
///
/// # Safety
/// Once, after a successful [`bind`], when no KMDF call can run any more.
pub unsafe fn unbind() {
    let globals = GLOBALS.swap(null_mut(), Ordering::AcqRel);
    if globals.is_null() {
        return;
    }
    // SAFETY: the same path and bind info given to WdfVersionBind, and its globals; the path
    // is not used after the unbind.
    unsafe {
        WdfVersionUnbind(REGISTRY_PATH.0.get(), BIND_INFO.0.get(), globals);
        free_registry_path();
    }
    FUNCTIONS.store(null_mut(), Ordering::Release);
}

/// Whether WdfDriverCreate asked for the unload routine to be displaced (globals + 0x30).
pub fn displace_driver_unload() -> bool {
    let globals = GLOBALS.load(Ordering::Acquire);
    // SAFETY: non-null globals point at the framework's WDF_DRIVER_GLOBALS until unbind.
    !globals.is_null() && unsafe { (*globals).DisplaceDriverUnload != 0 }
}

/// Reads one table entry as the function type `F`.
///
/// # Safety
/// `F` must be the prototype of the function at `index` (with the globals first), per the
/// KMDF headers.
unsafe fn function<F: Copy>(index: usize) -> Result<F, NTSTATUS> {
    const _: () = assert!(core::mem::size_of::<usize>() == core::mem::size_of::<fn()>());
    let table = FUNCTIONS.load(Ordering::Acquire);
    if table.is_null() || index >= FUNCTION_COUNT_1_15 as usize {
        return Err(STATUS_NOT_SUPPORTED);
    }
    // SAFETY: after bind the table holds FUNCTION_COUNT_1_15 code pointers and index is below.
    let raw = unsafe { table.add(index).read() };
    if raw == 0 || core::mem::size_of::<F>() != core::mem::size_of::<usize>() {
        return Err(STATUS_NOT_SUPPORTED);
    }
    // SAFETY: a non-null code pointer of the caller-declared prototype, same size as usize.
    Ok(unsafe { core::mem::transmute_copy::<usize, F>(&raw) })
}

fn globals() -> *mut WDF_DRIVER_GLOBALS {
    GLOBALS.load(Ordering::Acquire)
}

const STATUS_NOT_SUPPORTED: NTSTATUS = msfs::NtStatus::NOT_SUPPORTED.0;
const STATUS_INSUFFICIENT_RESOURCES: NTSTATUS = msfs::NtStatus::INSUFFICIENT_RESOURCES.0;

fn check(status: NTSTATUS) -> Result<(), NTSTATUS> {
    if status >= 0 {
        Ok(())
    } else {
        Err(status)
    }
}

type G = *mut WDF_DRIVER_GLOBALS;

/// `WdfDriverCreate` (index 116).
///
/// # Safety
/// From DriverEntry after [`bind`], with the I/O manager's pointers.
pub unsafe fn driver_create(
    driver_object: *mut DRIVER_OBJECT,
    registry_path: *const UNICODE_STRING,
    config: &mut WDF_DRIVER_CONFIG,
) -> Result<WDFDRIVER, NTSTATUS> {
    type F = unsafe extern "system" fn(
        G,
        *mut DRIVER_OBJECT,
        *const UNICODE_STRING,
        *mut c_void,
        *mut WDF_DRIVER_CONFIG,
        *mut WDFDRIVER,
    ) -> NTSTATUS;
    let mut driver: WDFDRIVER = null_mut();
    // SAFETY: F is WdfDriverCreate's prototype [H]; no object attributes (NULL is allowed).
    unsafe {
        let f = function::<F>(index::WDF_DRIVER_CREATE)?;
        check(f(
            globals(),
            driver_object,
            registry_path,
            null_mut(),
            config,
            &mut driver,
        ))?;
    }
    Ok(driver)
}

/// `WdfControlDeviceInitAllocate` (index 25); `None` when the framework is out of memory.
///
/// # Safety
/// `driver` from [`driver_create`]; PASSIVE_LEVEL.
pub unsafe fn control_device_init_allocate(
    driver: WDFDRIVER,
    sddl: &UNICODE_STRING,
) -> Result<PWDFDEVICE_INIT, NTSTATUS> {
    type F = unsafe extern "system" fn(G, WDFDRIVER, *const UNICODE_STRING) -> PWDFDEVICE_INIT;
    // SAFETY: F is the prototype [H]; the SDDL string outlives the call.
    let init =
        unsafe { function::<F>(index::WDF_CONTROL_DEVICE_INIT_ALLOCATE)?(globals(), driver, sddl) };
    if init.is_null() {
        Err(STATUS_INSUFFICIENT_RESOURCES)
    } else {
        Ok(init)
    }
}

/// `WdfDeviceInitFree` (index 54).
///
/// # Safety
/// `init` from [`control_device_init_allocate`], not yet consumed by [`device_create`].
pub unsafe fn device_init_free(init: PWDFDEVICE_INIT) {
    type F = unsafe extern "system" fn(G, PWDFDEVICE_INIT);
    // SAFETY: F is WdfDeviceInitFree's prototype [H]; the caller guarantees `init` is live
    // and not consumed, so the framework frees it exactly once.
    unsafe {
        if let Ok(f) = function::<F>(index::WDF_DEVICE_INIT_FREE) {
            f(globals(), init);
        }
    }
}

/// `WdfDeviceInitSetDeviceType` (index 66).
///
/// # Safety
/// A live `init`.
pub unsafe fn device_init_set_device_type(
    init: PWDFDEVICE_INIT,
    device_type: u32,
) -> Result<(), NTSTATUS> {
    type F = unsafe extern "system" fn(G, PWDFDEVICE_INIT, u32);
    // SAFETY: F is the prototype [H]; DEVICE_TYPE is a ULONG.
    unsafe { function::<F>(index::WDF_DEVICE_INIT_SET_DEVICE_TYPE)?(globals(), init, device_type) };
    Ok(())
}

/// `WDF_DEVICE_IO_TYPE::WdfDeviceIoBuffered` [H].
pub const WDF_DEVICE_IO_BUFFERED: u32 = 2;

/// `WdfDeviceInitSetIoType` (index 61).
///
/// # Safety
/// A live `init`.
pub unsafe fn device_init_set_io_type(init: PWDFDEVICE_INIT, io_type: u32) -> Result<(), NTSTATUS> {
    type F = unsafe extern "system" fn(G, PWDFDEVICE_INIT, u32);
    // SAFETY: F is the prototype [H]; WDF_DEVICE_IO_TYPE is a 4-byte enum.
    unsafe { function::<F>(index::WDF_DEVICE_INIT_SET_IO_TYPE)?(globals(), init, io_type) };
    Ok(())
}

/// `WdfDeviceInitAssignName` (index 67).
///
/// # Safety
/// A live `init`.
pub unsafe fn device_init_assign_name(
    init: PWDFDEVICE_INIT,
    name: &UNICODE_STRING,
) -> Result<(), NTSTATUS> {
    type F = unsafe extern "system" fn(G, PWDFDEVICE_INIT, *const UNICODE_STRING) -> NTSTATUS;
    // SAFETY: F is the prototype [H]; the framework copies the name.
    unsafe {
        check(function::<F>(index::WDF_DEVICE_INIT_ASSIGN_NAME)?(
            globals(),
            init,
            name,
        ))
    }
}

/// `WdfDeviceInitAssignWdmIrpPreprocessCallback` (index 73), for every minor function.
///
/// # Safety
/// A live `init`; `callback` must follow EVT_WDFDEVICE_WDM_IRP_PREPROCESS's contract.
pub unsafe fn device_init_assign_preprocess(
    init: PWDFDEVICE_INIT,
    callback: EvtWdmIrpPreprocess,
    major_function: u8,
) -> Result<(), NTSTATUS> {
    type F = unsafe extern "system" fn(
        G,
        PWDFDEVICE_INIT,
        EvtWdmIrpPreprocess,
        u8,
        *mut u8,
        u32,
    ) -> NTSTATUS;
    // SAFETY: F is the prototype [H]; no minor-function list means all minors.
    unsafe {
        check(function::<F>(
            index::WDF_DEVICE_INIT_ASSIGN_WDM_IRP_PREPROCESS_CALLBACK,
        )?(
            globals(), init, callback, major_function, null_mut(), 0
        ))
    }
}

/// `WdfDeviceCreate` (index 75). On success the framework consumes `init` (sets it to NULL);
/// on failure the caller still owns it and must free it.
///
/// # Safety
/// A live `init`.
pub unsafe fn device_create(init: &mut PWDFDEVICE_INIT) -> Result<WDFDEVICE, NTSTATUS> {
    type F =
        unsafe extern "system" fn(G, *mut PWDFDEVICE_INIT, *mut c_void, *mut WDFDEVICE) -> NTSTATUS;
    let mut device: WDFDEVICE = null_mut();
    // SAFETY: F is the prototype [H]; no object attributes.
    unsafe {
        check(function::<F>(index::WDF_DEVICE_CREATE)?(
            globals(),
            init,
            null_mut(),
            &mut device,
        ))?
    };
    Ok(device)
}

/// `WdfDeviceCreateSymbolicLink` (index 80).
///
/// # Safety
/// A device from [`device_create`]; PASSIVE_LEVEL.
pub unsafe fn device_create_symbolic_link(
    device: WDFDEVICE,
    link: &UNICODE_STRING,
) -> Result<(), NTSTATUS> {
    type F = unsafe extern "system" fn(G, WDFDEVICE, *const UNICODE_STRING) -> NTSTATUS;
    // SAFETY: F is the prototype [H].
    unsafe {
        check(function::<F>(index::WDF_DEVICE_CREATE_SYMBOLIC_LINK)?(
            globals(),
            device,
            link,
        ))
    }
}

/// `WdfDeviceWdmGetDeviceObject` (index 31): the WDM device object of a WDFDEVICE.
///
/// # Safety
/// A device from [`device_create`].
pub unsafe fn device_wdm_get_device_object(
    device: WDFDEVICE,
) -> Result<*mut DEVICE_OBJECT, NTSTATUS> {
    type F = unsafe extern "system" fn(G, WDFDEVICE) -> *mut DEVICE_OBJECT;
    // SAFETY: F is the prototype [H].
    let object =
        unsafe { function::<F>(index::WDF_DEVICE_WDM_GET_DEVICE_OBJECT)?(globals(), device) };
    if object.is_null() {
        Err(STATUS_NOT_SUPPORTED)
    } else {
        Ok(object)
    }
}

/// `WdfControlFinishInitializing` (index 27).
///
/// # Safety
/// A control device from [`device_create`].
pub unsafe fn control_finish_initializing(device: WDFDEVICE) -> Result<(), NTSTATUS> {
    type F = unsafe extern "system" fn(G, WDFDEVICE);
    // SAFETY: F is the prototype [H].
    unsafe { function::<F>(index::WDF_CONTROL_FINISH_INITIALIZING)?(globals(), device) };
    Ok(())
}

/// `WdfObjectDelete` (index 208).
///
/// # Safety
/// An object this driver created and may delete; PASSIVE_LEVEL for a control device.
pub unsafe fn object_delete(object: WDFOBJECT) {
    type F = unsafe extern "system" fn(G, WDFOBJECT);
    // SAFETY: F is WdfObjectDelete's prototype [H]; the caller guarantees the object is ours
    // to delete and the IRQL the framework requires.
    unsafe {
        if let Ok(f) = function::<F>(index::WDF_OBJECT_DELETE) {
            f(globals(), object);
        }
    }
}

/// `KEY_READ`: what the driver asks of its Parameters key.
const KEY_READ: u32 = 0x2_0019;

/// `WdfDriverOpenParametersRegistryKey` (index 119), read only; the framework creates the key
/// when it does not exist.
///
/// # Safety
/// `driver` from [`driver_create`]; PASSIVE_LEVEL.
pub unsafe fn driver_open_parameters_key(driver: WDFDRIVER) -> Result<WDFKEY, NTSTATUS> {
    type F = unsafe extern "system" fn(G, WDFDRIVER, u32, *mut c_void, *mut WDFKEY) -> NTSTATUS;
    let mut key: WDFKEY = null_mut();
    // SAFETY: F is the prototype [H]; no object attributes.
    unsafe {
        let f = function::<F>(index::WDF_DRIVER_OPEN_PARAMETERS_REGISTRY_KEY)?;
        check(f(globals(), driver, KEY_READ, null_mut(), &mut key))?;
    }
    Ok(key)
}

/// `WdfRegistryQueryULong` (index 240): a REG_DWORD value of `key`.
///
/// # Safety
/// `key` open; `name` valid for the call; PASSIVE_LEVEL.
pub unsafe fn registry_query_ulong(key: WDFKEY, name: &UNICODE_STRING) -> Result<u32, NTSTATUS> {
    type F = unsafe extern "system" fn(G, WDFKEY, *const UNICODE_STRING, *mut u32) -> NTSTATUS;
    let mut value = 0u32;
    // SAFETY: F is the prototype [H].
    unsafe {
        let f = function::<F>(index::WDF_REGISTRY_QUERY_ULONG)?;
        check(f(globals(), key, name, &mut value))?;
    }
    Ok(value)
}

/// `WdfRegistryClose` (index 231).
///
/// # Safety
/// `key` open, not used again; PASSIVE_LEVEL.
pub unsafe fn registry_close(key: WDFKEY) {
    type F = unsafe extern "system" fn(G, WDFKEY);
    // SAFETY: F is the prototype [H].
    unsafe {
        if let Ok(f) = function::<F>(index::WDF_REGISTRY_CLOSE) {
            f(globals(), key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_fit_the_1_15_table() {
        let all = [
            index::WDF_CONTROL_DEVICE_INIT_ALLOCATE,
            index::WDF_CONTROL_FINISH_INITIALIZING,
            index::WDF_DEVICE_INIT_FREE,
            index::WDF_DEVICE_INIT_SET_IO_TYPE,
            index::WDF_DEVICE_INIT_SET_DEVICE_TYPE,
            index::WDF_DEVICE_INIT_ASSIGN_NAME,
            index::WDF_DEVICE_INIT_ASSIGN_WDM_IRP_PREPROCESS_CALLBACK,
            index::WDF_DEVICE_CREATE,
            index::WDF_DEVICE_CREATE_SYMBOLIC_LINK,
            index::WDF_DEVICE_WDM_GET_DEVICE_OBJECT,
            index::WDF_DRIVER_CREATE,
            index::WDF_OBJECT_DELETE,
        ];
        assert!(all.iter().all(|&i| i < FUNCTION_COUNT_1_15 as usize));
        // Values from wdffuncenum.h (KMDF 1.15 and 1.33 agree) via kmdf-abi.md.
        assert_eq!(all, [25, 27, 54, 61, 66, 67, 73, 75, 80, 31, 116, 208]);
        // WDF_DEVICE_IO_TYPE: Undefined 0, Neither 1, Buffered 2 [H].
        assert_eq!(WDF_DEVICE_IO_BUFFERED, 2);
    }

    #[test]
    fn bind_info_is_a_version_1_bind_for_1_15() {
        // SAFETY: reading a static no test writes.
        let info = unsafe { &*BIND_INFO.0.get() };
        assert_eq!(info.Size, 48);
        assert_eq!(info.FuncCount, 444);
        assert_eq!((info.Version.Major, info.Version.Minor), (1, 15));
        assert_eq!(String::from_utf16(&COMPONENT[..11]).unwrap(), "KmdfLibrary");
        assert_eq!(COMPONENT[11], 0);
    }

    #[test]
    fn calls_before_bind_fail_cleanly() {
        // SAFETY: with no table bound, `function` refuses before any call is made.
        let r = unsafe { function::<unsafe extern "system" fn()>(index::WDF_DRIVER_CREATE) };
        assert_eq!(r.err(), Some(STATUS_NOT_SUPPORTED));
    }
}
