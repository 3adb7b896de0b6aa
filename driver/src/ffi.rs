//! The driver's whole foreign surface, declared once: kernel imports (through `raw-dylib`, so no
//! import library is needed), the structures windows-sys lacks or gets wrong on x64, and the
//! constants the driver uses. Every hand-declared structure has a size and offset test below,
//! against the Windows x64 values of `reference/kmdf-abi.md` (its source tag in brackets).
#![allow(non_snake_case, non_camel_case_types, clippy::upper_case_acronyms)]

use core::ffi::c_void;

pub use windows_sys::Wdk::Foundation::{DEVICE_OBJECT, DRIVER_OBJECT, FILE_OBJECT, IRP};
pub use windows_sys::Win32::Foundation::{NTSTATUS, UNICODE_STRING};

/// `POOL_FLAGS` for `ExAllocatePool2`: non-paged pool. Absent from windows-sys [X: WDK text].
pub const POOL_FLAG_NON_PAGED: u64 = 0x40;
/// `POOL_FLAGS` POOL_FLAG_USE_QUOTA: charged against the current process's pool quota.
pub const POOL_FLAG_USE_QUOTA: u64 = 0x1;
/// The driver's pool tag, `RsMs` as it reads in a pool dump (little-endian 'sMsR').
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"RsMs");
/// `FILE_DEVICE_MAILSLOT` [M, R]; the value volume information reports.
pub const FILE_DEVICE_MAILSLOT: u32 = msfs_io::info::FILE_DEVICE_MAILSLOT;
/// `FILE_DEVICE_SECURE_OPEN` [M, R].
pub const FILE_DEVICE_SECURE_OPEN: u32 = 0x0000_0100;
/// `IO_NO_INCREMENT` [M].
pub const IO_NO_INCREMENT: i8 = 0;
/// `IO_MAILSLOT_INCREMENT` (wdm.h): the priority boost for a thread whose mailslot read waited.
pub const IO_MAILSLOT_INCREMENT: i8 = 2;
/// `DPFLTR_IHVDRIVER_ID` and `DPFLTR_ERROR_LEVEL`: the debug-print filter of third-party drivers.
pub const DPFLTR_IHVDRIVER_ID: u32 = 77;
pub const DPFLTR_ERROR_LEVEL: u32 = 0;

/// The mailslot major functions the driver serves through KMDF's WDM preprocess callbacks
/// [M, R: wdm.h IRP_MJ_*]; the values are `msfs_io::stack::major`'s, which decodes them.
pub mod irp_mj {
    pub use msfs_io::stack::major::*;

    /// Every major function above, in the order they are registered.
    pub const SERVED: [u8; 14] = [
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
        FLUSH_BUFFERS,
        QUERY_SECURITY,
        SET_SECURITY,
    ];
}

// ---------------------------------------------------------------- WDM structures [L]

/// `IO_STACK_LOCATION` (72 bytes). windows-sys's `Parameters` members sit at the wrong
/// offsets on x64 (kmdf-abi.md §4), so the union is kept as its four 8-byte words and
/// `msfs_io::stack::decode` reads each major function's members at their real offsets.
#[repr(C)]
#[derive(Debug)]
pub struct IO_STACK_LOCATION {
    pub MajorFunction: u8,
    pub MinorFunction: u8,
    pub Flags: u8,
    pub Control: u8,
    pub Parameters: [u64; 4],
    pub DeviceObject: *mut DEVICE_OBJECT,
    pub FileObject: *mut FILE_OBJECT,
    pub CompletionRoutine: *mut c_void,
    pub Context: *mut c_void,
}

/// `FILE_OBJECT.Flags` bit of a mailslot file object [M: wdm.h FO_MAILSLOT]; MSFS sets it on
/// every file object it opens, and the I/O manager lets a read or write without a byte offset
/// through on an asynchronous file object only with it (or FO_NAMED_PIPE).
pub const FO_MAILSLOT: u32 = 0x0000_0200;

/// `IO_STACK_LOCATION.Control` bit set by `IoMarkIrpPending` [M].
pub const SL_PENDING_RETURNED: u8 = 0x01;
/// `IO_STACK_LOCATION.Flags` of a create: check access as for a user-mode caller even when the
/// requestor is kernel mode.
pub const SL_FORCE_ACCESS_CHECK: u8 = 0x01;

/// `IO_SECURITY_CONTEXT` (24 bytes) [L].
#[repr(C)]
#[derive(Debug)]
pub struct IO_SECURITY_CONTEXT {
    pub SecurityQos: *mut c_void,
    pub AccessState: *mut ACCESS_STATE_HEAD,
    pub DesiredAccess: u32,
    pub FullCreateOptions: u32,
}

/// The first 64 bytes of `ACCESS_STATE`: the access masks the create carries and the
/// requester's subject context [L].
#[repr(C)]
#[derive(Debug)]
pub struct ACCESS_STATE_HEAD {
    pub OperationID: u64,
    pub SecurityEvaluated: u8,
    pub GenerateAudit: u8,
    pub GenerateOnClose: u8,
    pub PrivilegesAllocated: u8,
    pub Flags: u32,
    pub RemainingDesiredAccess: u32,
    pub PreviouslyGrantedAccess: u32,
    pub OriginalDesiredAccess: u32,
    pub SubjectSecurityContext: SECURITY_SUBJECT_CONTEXT,
    /// The descriptor the creator passed (captured by the I/O manager), or null.
    pub SecurityDescriptor: *mut c_void,
}

/// `SECURITY_SUBJECT_CONTEXT` (32 bytes) [L]: the tokens a request runs under.
#[repr(C)]
#[derive(Debug)]
pub struct SECURITY_SUBJECT_CONTEXT {
    pub ClientToken: *mut c_void,
    pub ImpersonationLevel: u32,
    pub PrimaryToken: *mut c_void,
    pub ProcessAuditId: *mut c_void,
}

/// `TOKEN_USER` (16 bytes) [L]: `SID_AND_ATTRIBUTES { Sid, Attributes }`.
#[repr(C)]
#[derive(Debug)]
pub struct TOKEN_USER {
    pub Sid: *mut u8,
    pub Attributes: u32,
}

/// `TOKEN_INFORMATION_CLASS` TokenUser [L].
pub const TOKEN_USER_CLASS: u32 = 1;

/// `KTIMER` (64 bytes, alignment 8), opaque: only the kernel touches its fields [L].
#[repr(C, align(8))]
pub struct KTIMER(pub [u8; 64]);
/// `KDPC` (64 bytes, alignment 8), opaque [L].
#[repr(C, align(8))]
pub struct KDPC(pub [u8; 64]);

/// `PKDEFERRED_ROUTINE`.
pub type KDEFERRED_ROUTINE = unsafe extern "system" fn(
    Dpc: *mut KDPC,
    DeferredContext: *mut c_void,
    SystemArgument1: *mut c_void,
    SystemArgument2: *mut c_void,
);
/// `PDRIVER_CANCEL`.
pub type DRIVER_CANCEL = unsafe extern "system" fn(DeviceObject: *mut DEVICE_OBJECT, Irp: *mut IRP);

/// `KPROCESSOR_MODE` values of `Irp->RequestorMode`.
pub const KERNEL_MODE: i8 = 0;
pub const USER_MODE: i8 = 1;

/// `MmCopyMemory` flag: the source is a virtual address.
pub const MM_COPY_MEMORY_VIRTUAL: u32 = 0x2;

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
pub type WDFKEY = *mut c_void;
pub type PWDFDEVICE_INIT = *mut c_void;

// ---------------------------------------------------------------- imports

#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
extern "system" {
    pub fn ExAllocatePool2(Flags: u64, NumberOfBytes: usize, Tag: u32) -> *mut c_void;
    pub fn ExFreePoolWithTag(P: *mut c_void, Tag: u32);
    /// Frees a block a kernel routine allocated for the caller (SeQueryInformationToken's).
    pub fn ExFreePool(P: *mut c_void);
    /// Whether the subject may have `DesiredAccess` to an object `SecurityDescriptor` protects;
    /// IRQL <= APC_LEVEL.
    pub fn SeAccessCheck(
        SecurityDescriptor: *mut c_void,
        SubjectSecurityContext: *mut SECURITY_SUBJECT_CONTEXT,
        SubjectContextLocked: u8,
        DesiredAccess: u32,
        PreviouslyGrantedAccess: u32,
        Privileges: *mut *mut c_void,
        GenericMapping: *mut c_void,
        AccessMode: i8,
        GrantedAccess: *mut u32,
        AccessStatus: *mut NTSTATUS,
    ) -> u8;
    /// The file object type's GENERIC_MAPPING.
    pub fn IoGetFileObjectGenericMapping() -> *mut c_void;
    /// A new self-relative descriptor (from `PoolType`, freed with ExFreePool) made of
    /// `*ObjectsSecurityDescriptor` with the parts `SecurityInformation` names taken from
    /// `ModificationDescriptor`, written to `*ObjectsSecurityDescriptor`; the old one stays the
    /// caller's. PASSIVE_LEVEL.
    pub fn SeSetSecurityDescriptorInfo(
        Object: *mut c_void,
        SecurityInformation: *mut u32,
        ModificationDescriptor: *mut c_void,
        ObjectsSecurityDescriptor: *mut *mut c_void,
        PoolType: u32,
        GenericMapping: *mut c_void,
    ) -> NTSTATUS;
    /// The requested information about a token, in a buffer the routine allocates (freed with
    /// ExFreePool); PASSIVE_LEVEL.
    pub fn SeQueryInformationToken(
        Token: *mut c_void,
        TokenInformationClass: u32,
        TokenInformation: *mut *mut c_void,
    ) -> NTSTATUS;
    pub fn IofCompleteRequest(Irp: *mut IRP, PriorityBoost: i8);
    pub fn KeBugCheckEx(
        BugCheckCode: u32,
        BugCheckParameter1: usize,
        BugCheckParameter2: usize,
        BugCheckParameter3: usize,
        BugCheckParameter4: usize,
    ) -> !;
    pub fn IoReleaseCancelSpinLock(Irql: u8);
    /// TRUE when the IRP was issued for a 32-bit user-mode process (WoW64), whose structures
    /// hold 4-byte pointers. Only for IRPs the I/O manager built for a user-mode requestor.
    pub fn IoIs32bitProcess(Irp: *mut IRP) -> u8;
    pub fn KeAcquireSpinLockRaiseToDpc(SpinLock: *mut usize) -> u8;
    pub fn KeReleaseSpinLock(SpinLock: *mut usize, NewIrql: u8);
    pub fn KeInitializeDpc(
        Dpc: *mut KDPC,
        DeferredRoutine: KDEFERRED_ROUTINE,
        DeferredContext: *mut c_void,
    );
    pub fn KeInitializeTimer(Timer: *mut KTIMER);
    /// `DueTime` is a LARGE_INTEGER passed by value: negative relative, positive absolute.
    pub fn KeSetTimer(Timer: *mut KTIMER, DueTime: i64, Dpc: *mut KDPC) -> u8;
    pub fn KeCancelTimer(Timer: *mut KTIMER) -> u8;
    pub fn KeFlushQueuedDpcs();
    pub fn KeQuerySystemTimePrecise(CurrentTime: *mut i64);
    /// Copies from a virtual address that may be invalid (a user pointer) without faulting:
    /// returns an error status instead (IRQL <= APC_LEVEL; the target must be non-paged).
    pub fn MmCopyMemory(
        TargetAddress: *mut c_void,
        SourceAddress: u64,
        NumberOfBytes: usize,
        Flags: u32,
        NumberOfBytesTransferred: *mut usize,
    ) -> NTSTATUS;
    /// Resolves an ntoskrnl export at run time (PASSIVE_LEVEL). The debug-print routines are
    /// reached this way because windows-sys declares the `Dbg*`, `Rtl*` and `Zw*` families as
    /// ntdll.dll imports, and its import objects would bind a same-named declaration here to
    /// ntdll.dll, which a driver cannot import (the PE check fails on any such import).
    pub fn MmGetSystemRoutineAddress(SystemRoutineName: *const UNICODE_STRING) -> *mut c_void;
}

#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
extern "C" {
    /// `MmUserProbeAddress`, the data export behind `MM_USER_PROBE_ADDRESS` [H]: the first
    /// address a user-mode caller's buffer may not reach.
    pub static MmUserProbeAddress: usize;
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
    /// The C structured-exception handler; `asm/guarded_copy.s` names it in its unwind data.
    pub fn __C_specific_handler(
        ExceptionRecord: *mut c_void,
        EstablisherFrame: *mut c_void,
        ContextRecord: *mut c_void,
        DispatcherContext: *mut c_void,
    ) -> i32;
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
    fn wdm_structures() {
        // IO_STACK_LOCATION 72 [L]: Control 0x03, Parameters 0x08..0x28, DeviceObject 0x28,
        // FileObject 0x30.
        assert_eq!(size_of::<IO_STACK_LOCATION>(), 72);
        assert_eq!(offset_of!(IO_STACK_LOCATION, Control), 0x03);
        assert_eq!(offset_of!(IO_STACK_LOCATION, Parameters), 0x08);
        assert_eq!(offset_of!(IO_STACK_LOCATION, DeviceObject), 0x28);
        assert_eq!(offset_of!(IO_STACK_LOCATION, FileObject), 0x30);
        assert_eq!(
            size_of::<IO_STACK_LOCATION>(),
            size_of::<windows_sys::Wdk::Foundation::IO_STACK_LOCATION>()
        );
        // IO_SECURITY_CONTEXT 24 [L]: AccessState 0x08, DesiredAccess 0x10.
        assert_eq!(size_of::<IO_SECURITY_CONTEXT>(), 24);
        assert_eq!(offset_of!(IO_SECURITY_CONTEXT, AccessState), 0x08);
        assert_eq!(offset_of!(IO_SECURITY_CONTEXT, DesiredAccess), 0x10);
        // ACCESS_STATE [L]: RemainingDesiredAccess 0x10, PreviouslyGrantedAccess 0x14,
        // OriginalDesiredAccess 0x18.
        assert_eq!(offset_of!(ACCESS_STATE_HEAD, RemainingDesiredAccess), 0x10);
        assert_eq!(offset_of!(ACCESS_STATE_HEAD, PreviouslyGrantedAccess), 0x14);
        assert_eq!(offset_of!(ACCESS_STATE_HEAD, OriginalDesiredAccess), 0x18);
        // ... SubjectSecurityContext 0x20 (32 bytes: ClientToken, ImpersonationLevel,
        // PrimaryToken 0x10, ProcessAuditId 0x18); TOKEN_USER 16 (Sid, Attributes 0x08).
        assert_eq!(offset_of!(ACCESS_STATE_HEAD, SubjectSecurityContext), 0x20);
        assert_eq!(offset_of!(ACCESS_STATE_HEAD, SecurityDescriptor), 0x40);
        assert_eq!(size_of::<SECURITY_SUBJECT_CONTEXT>(), 32);
        assert_eq!(
            offset_of!(SECURITY_SUBJECT_CONTEXT, ImpersonationLevel),
            0x08
        );
        assert_eq!(offset_of!(SECURITY_SUBJECT_CONTEXT, PrimaryToken), 0x10);
        assert_eq!(offset_of!(SECURITY_SUBJECT_CONTEXT, ProcessAuditId), 0x18);
        assert_eq!(size_of::<TOKEN_USER>(), 16);
        assert_eq!(offset_of!(TOKEN_USER, Attributes), 0x08);
        // KTIMER, KDPC 64/8 [L, R].
        assert_eq!((size_of::<KTIMER>(), align_of::<KTIMER>()), (64, 8));
        assert_eq!((size_of::<KDPC>(), align_of::<KDPC>()), (64, 8));
        assert_eq!(
            size_of::<KTIMER>(),
            size_of::<windows_sys::Wdk::System::SystemServices::KTIMER>()
        );
        assert_eq!(
            size_of::<KDPC>(),
            size_of::<windows_sys::Wdk::Foundation::KDPC>()
        );
        // IRP members the I/O path touches [L = R].
        assert_eq!(offset_of!(IRP, AssociatedIrp), 0x18);
        assert_eq!(offset_of!(IRP, Cancel), 0x44);
        assert_eq!(offset_of!(IRP, CancelIrql), 0x45);
        assert_eq!(offset_of!(IRP, CancelRoutine), 0x68);
        assert_eq!(offset_of!(IRP, UserBuffer), 0x70);
        assert_eq!(offset_of!(IRP, Tail), 0x78);
        // FILE_OBJECT [L = R]: FsContext 0x18, RelatedFileObject 0x40, Flags 0x50, FileName 0x58.
        assert_eq!(offset_of!(FILE_OBJECT, FsContext), 0x18);
        assert_eq!(offset_of!(FILE_OBJECT, Flags), 0x50);
        assert_eq!(offset_of!(FILE_OBJECT, RelatedFileObject), 0x40);
        assert_eq!(offset_of!(FILE_OBJECT, FileName), 0x58);
    }

    #[test]
    fn constants() {
        assert_eq!(POOL_TAG.to_le_bytes(), *b"RsMs");
        assert_eq!(
            windows_sys::Wdk::Storage::FileSystem::IO_MAILSLOT_INCREMENT,
            IO_MAILSLOT_INCREMENT as u32
        );
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
            s::IRP_MJ_FLUSH_BUFFERS,
            s::IRP_MJ_QUERY_SECURITY,
            s::IRP_MJ_SET_SECURITY,
        ];
        assert_eq!(irp_mj::SERVED.map(u32::from), from_sys);
    }
}
