//! The driver's whole foreign surface, declared once: kernel imports (through `raw-dylib`, so no
//! import library is needed), the structures windows-sys lacks or gets wrong on x64, and the
//! constants the driver uses. Every hand-declared structure has a size and offset test below,
//! against the Windows x64 values of `reference/kmdf-abi.md` (its source tag in brackets).
#![allow(non_snake_case, non_camel_case_types, clippy::upper_case_acronyms)]

use core::ffi::c_void;

pub use windows_sys::Wdk::Foundation::{DEVICE_OBJECT, DRIVER_OBJECT, IRP};
pub use windows_sys::Win32::Foundation::{NTSTATUS, UNICODE_STRING};

/// `POOL_FLAGS` for `ExAllocatePool2`: non-paged pool. Absent from windows-sys [X: WDK text].
pub const POOL_FLAG_NON_PAGED: u64 = 0x40;
/// The driver's pool tag, `RsMs` as it reads in a pool dump (little-endian 'sMsR').
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"RsMs");
/// `FILE_DEVICE_MAILSLOT` [M, R].
pub const FILE_DEVICE_MAILSLOT: u32 = 0x0000_000C;
/// `FILE_DEVICE_SECURE_OPEN` [M, R].
pub const FILE_DEVICE_SECURE_OPEN: u32 = 0x0000_0100;
/// `IO_NO_INCREMENT` [M].
pub const IO_NO_INCREMENT: i8 = 0;
/// `DPFLTR_IHVDRIVER_ID` and `DPFLTR_ERROR_LEVEL`: the debug-print filter of third-party drivers.
pub const DPFLTR_IHVDRIVER_ID: u32 = 77;
pub const DPFLTR_ERROR_LEVEL: u32 = 0;

/// The mailslot major functions the driver serves through KMDF's WDM preprocess callbacks
/// [M, R: wdm.h IRP_MJ_*].
pub mod irp_mj {
    pub const CREATE: u8 = 0x00;
    pub const CLOSE: u8 = 0x02;
    pub const READ: u8 = 0x03;
    pub const WRITE: u8 = 0x04;
    pub const QUERY_INFORMATION: u8 = 0x05;
    pub const SET_INFORMATION: u8 = 0x06;
    pub const QUERY_VOLUME_INFORMATION: u8 = 0x0A;
    pub const DIRECTORY_CONTROL: u8 = 0x0C;
    pub const FILE_SYSTEM_CONTROL: u8 = 0x0D;
    pub const CLEANUP: u8 = 0x12;
    pub const CREATE_MAILSLOT: u8 = 0x13;

    /// Every major function above, in the order they are registered.
    pub const SERVED: [u8; 11] = [
        CREATE,
        CREATE_MAILSLOT,
        READ,
        WRITE,
        CLEANUP,
        CLOSE,
        QUERY_INFORMATION,
        SET_INFORMATION,
        FILE_SYSTEM_CONTROL,
        DIRECTORY_CONTROL,
        QUERY_VOLUME_INFORMATION,
    ];
}

// ---------------------------------------------------------------- KMDF structures [H, L]

/// `WDF_VERSION`: 12 bytes, alignment 4.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WDF_VERSION {
    pub Major: u32,
    pub Minor: u32,
    pub Build: u32,
}

/// `WDF_BIND_INFO` (version 1): 48 bytes. The framework keeps a pointer to it until unbind.
#[repr(C)]
#[derive(Debug)]
pub struct WDF_BIND_INFO {
    pub Size: u32,
    pub Component: *const u16,
    pub Version: WDF_VERSION,
    pub FuncCount: u32,
    /// For FuncCount > 438 the framework treats this as `WDFFUNC**` and stores the address
    /// of its shared function table there [F].
    pub FuncTable: *mut c_void,
    pub Module: *mut c_void,
}

/// `WDF_DRIVER_GLOBALS`: 56 bytes; the first argument of every KMDF call.
#[repr(C)]
#[derive(Debug)]
pub struct WDF_DRIVER_GLOBALS {
    pub Driver: WDFDRIVER,
    pub DriverFlags: u32,
    pub DriverTag: u32,
    pub DriverName: [u8; 32],
    pub DisplaceDriverUnload: u8,
}

/// `PFN_WDF_DRIVER_UNLOAD`.
pub type EvtDriverUnload = unsafe extern "system" fn(driver: WDFDRIVER);
/// `PFN_WDFDEVICE_WDM_IRP_PREPROCESS`.
pub type EvtWdmIrpPreprocess =
    unsafe extern "system" fn(device: WDFDEVICE, irp: *mut IRP) -> NTSTATUS;

/// `WDF_DRIVER_CONFIG`: 32 bytes; the framework insists on this exact size [F].
#[repr(C)]
#[derive(Debug)]
pub struct WDF_DRIVER_CONFIG {
    pub Size: u32,
    pub EvtDriverDeviceAdd:
        Option<unsafe extern "system" fn(WDFDRIVER, PWDFDEVICE_INIT) -> NTSTATUS>,
    pub EvtDriverUnload: Option<EvtDriverUnload>,
    pub DriverInitFlags: u32,
    pub DriverPoolTag: u32,
}

/// `WdfDriverInitNonPnpDriver` [H].
pub const WDF_DRIVER_INIT_NON_PNP_DRIVER: u32 = 0x1;

pub type WDFDRIVER = *mut c_void;
pub type WDFDEVICE = *mut c_void;
pub type WDFOBJECT = *mut c_void;
pub type PWDFDEVICE_INIT = *mut c_void;

// ---------------------------------------------------------------- imports

#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
extern "system" {
    pub fn ExAllocatePool2(Flags: u64, NumberOfBytes: usize, Tag: u32) -> *mut c_void;
    pub fn ExFreePoolWithTag(P: *mut c_void, Tag: u32);
    pub fn IofCompleteRequest(Irp: *mut IRP, PriorityBoost: i8);
    pub fn KeBugCheckEx(
        BugCheckCode: u32,
        BugCheckParameter1: usize,
        BugCheckParameter2: usize,
        BugCheckParameter3: usize,
        BugCheckParameter4: usize,
    ) -> !;
    /// Resolves an ntoskrnl export at run time (PASSIVE_LEVEL). The debug-print routines are
    /// reached this way because windows-sys declares the `Dbg*`, `Rtl*` and `Zw*` families as
    /// ntdll.dll imports, and its import objects would bind a same-named declaration here to
    /// ntdll.dll, which a driver cannot import (the PE check fails on any such import).
    pub fn MmGetSystemRoutineAddress(SystemRoutineName: *const UNICODE_STRING) -> *mut c_void;
}

/// `DbgPrintEx`'s prototype, for the address resolved at entry.
pub type DbgPrintExFn =
    unsafe extern "C" fn(ComponentId: u32, Level: u32, Format: *const u8, ...) -> u32;

// The compiler lowers copies and fills to these, and `alloc` refers to strlen; in a driver
// ntoskrnl.exe provides them.
#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
extern "C" {
    pub fn memcpy(dest: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
    pub fn memmove(dest: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
    pub fn memset(dest: *mut c_void, c: i32, n: usize) -> *mut c_void;
    pub fn memcmp(a: *const c_void, b: *const c_void, n: usize) -> i32;
    pub fn strlen(s: *const core::ffi::c_char) -> usize;
}

#[cfg_attr(
    target_os = "windows",
    link(name = "wdfldr.sys", kind = "raw-dylib", modifiers = "+verbatim")
)]
extern "system" {
    pub fn WdfVersionBind(
        DriverObject: *mut DRIVER_OBJECT,
        RegistryPath: *mut UNICODE_STRING,
        BindInfo: *mut WDF_BIND_INFO,
        ComponentGlobals: *mut *mut WDF_DRIVER_GLOBALS,
    ) -> NTSTATUS;
    pub fn WdfVersionUnbind(
        RegistryPath: *mut UNICODE_STRING,
        BindInfo: *mut WDF_BIND_INFO,
        ComponentGlobals: *mut WDF_DRIVER_GLOBALS,
    ) -> NTSTATUS;
}

#[cfg(test)]
mod layout {
    //! Sizes and offsets against the Windows x64 ABI (kmdf-abi.md). `repr(C)` types with
    //! fixed-width fields lay out the same on x86_64 Linux, where these tests run.
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn kmdf_structures() {
        // WDF_VERSION 12/4 [L]
        assert_eq!(
            (size_of::<WDF_VERSION>(), align_of::<WDF_VERSION>()),
            (12, 4)
        );
        assert_eq!(offset_of!(WDF_VERSION, Build), 0x8);
        // WDF_BIND_INFO 48/8 [L]
        assert_eq!(
            (size_of::<WDF_BIND_INFO>(), align_of::<WDF_BIND_INFO>()),
            (48, 8)
        );
        assert_eq!(offset_of!(WDF_BIND_INFO, Component), 0x08);
        assert_eq!(offset_of!(WDF_BIND_INFO, Version), 0x10);
        assert_eq!(offset_of!(WDF_BIND_INFO, FuncCount), 0x1C);
        assert_eq!(offset_of!(WDF_BIND_INFO, FuncTable), 0x20);
        assert_eq!(offset_of!(WDF_BIND_INFO, Module), 0x28);
        // WDF_DRIVER_GLOBALS 56/8 [L]
        assert_eq!(size_of::<WDF_DRIVER_GLOBALS>(), 56);
        assert_eq!(offset_of!(WDF_DRIVER_GLOBALS, DriverFlags), 0x08);
        assert_eq!(offset_of!(WDF_DRIVER_GLOBALS, DriverTag), 0x0C);
        assert_eq!(offset_of!(WDF_DRIVER_GLOBALS, DriverName), 0x10);
        assert_eq!(offset_of!(WDF_DRIVER_GLOBALS, DisplaceDriverUnload), 0x30);
        // WDF_DRIVER_CONFIG 32/8 [L]
        assert_eq!(size_of::<WDF_DRIVER_CONFIG>(), 32);
        assert_eq!(offset_of!(WDF_DRIVER_CONFIG, EvtDriverDeviceAdd), 0x08);
        assert_eq!(offset_of!(WDF_DRIVER_CONFIG, EvtDriverUnload), 0x10);
        assert_eq!(offset_of!(WDF_DRIVER_CONFIG, DriverInitFlags), 0x18);
        assert_eq!(offset_of!(WDF_DRIVER_CONFIG, DriverPoolTag), 0x1C);
    }

    #[test]
    fn windows_sys_structures_the_driver_touches() {
        // IRP 208 [L = R]: IoStatus at 0x30 (Status 0x30, Information 0x38).
        assert_eq!(size_of::<IRP>(), 208);
        assert_eq!(offset_of!(IRP, IoStatus), 0x30);
        assert_eq!(offset_of!(IRP, RequestorMode), 0x40);
        // DRIVER_OBJECT 336 [L = R]: DriverUnload 0x68, MajorFunction 0x70.
        assert_eq!(size_of::<DRIVER_OBJECT>(), 336);
        assert_eq!(offset_of!(DRIVER_OBJECT, DriverUnload), 0x68);
        assert_eq!(offset_of!(DRIVER_OBJECT, MajorFunction), 0x70);
        // UNICODE_STRING 16 [L = R].
        assert_eq!(size_of::<UNICODE_STRING>(), 16);
        assert_eq!(offset_of!(UNICODE_STRING, Buffer), 8);
    }

    #[test]
    fn constants() {
        assert_eq!(POOL_TAG.to_le_bytes(), *b"RsMs");
        assert_eq!(
            windows_sys::Win32::System::Ioctl::FILE_DEVICE_MAILSLOT,
            FILE_DEVICE_MAILSLOT
        );
        assert_eq!(
            windows_sys::Wdk::System::SystemServices::FILE_DEVICE_SECURE_OPEN,
            FILE_DEVICE_SECURE_OPEN
        );
        use windows_sys::Wdk::System::SystemServices as s;
        let from_sys = [
            s::IRP_MJ_CREATE,
            s::IRP_MJ_CREATE_MAILSLOT,
            s::IRP_MJ_READ,
            s::IRP_MJ_WRITE,
            s::IRP_MJ_CLEANUP,
            s::IRP_MJ_CLOSE,
            s::IRP_MJ_QUERY_INFORMATION,
            s::IRP_MJ_SET_INFORMATION,
            s::IRP_MJ_FILE_SYSTEM_CONTROL,
            s::IRP_MJ_DIRECTORY_CONTROL,
            s::IRP_MJ_QUERY_VOLUME_INFORMATION,
        ];
        assert_eq!(irp_mj::SERVED.map(u32::from), from_sys);
    }
}
