//! Driver entry and unload, and the control device `\Device\RsMailslot`.
//!
//! The image entry point does what the WDK's KMDF stub would: bind to the framework, run the
//! driver's initialisation, unbind on failure, and put its own unload routine in front of the
//! framework's so that unbinding is the last thing that happens.

use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

use msfs::NtStatus;

use crate::ffi::*;
use crate::io;
use crate::kernel::{trace, trace_status};
use crate::kmdf;
use crate::names::{self, unicode};
use crate::settings;

const STATUS_SUCCESS: NTSTATUS = NtStatus::SUCCESS.0;
const STATUS_INVALID_PARAMETER: NTSTATUS = NtStatus::INVALID_PARAMETER.0;

/// The control device, for deletion at unload.
static CONTROL_DEVICE: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(null_mut());
/// The framework's unload routine, which ours calls before unbinding.
static FRAMEWORK_UNLOAD: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(null_mut());

type DriverUnload = unsafe extern "system" fn(*const DRIVER_OBJECT);

/// The image entry point (`/ENTRY:DriverEntry`).
///
/// # Safety
/// Called by the I/O manager once, at PASSIVE_LEVEL, with its driver object and registry path.
#[no_mangle]
pub unsafe extern "system" fn DriverEntry(
    driver_object: *mut DRIVER_OBJECT,
    registry_path: *mut UNICODE_STRING,
) -> NTSTATUS {
    if driver_object.is_null() || registry_path.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    crate::kernel::init_tracing();
    // SAFETY: the I/O manager's pointers, checked non-null; this is the one call of bind.
    let status = unsafe { kmdf::bind(driver_object, registry_path) };
    if status < 0 {
        trace_status("WdfVersionBind", status);
        return status;
    }
    // SAFETY: bound; same pointers.
    if let Err(status) = unsafe { initialize(driver_object, registry_path) } {
        // SAFETY: the bind succeeded and no KMDF call can follow a failed DriverEntry.
        unsafe { kmdf::unbind() };
        return status;
    }
    if kmdf::displace_driver_unload() {
        // SAFETY: DriverEntry owns the driver object until it returns.
        unsafe {
            if let Some(framework) = (*driver_object).DriverUnload {
                FRAMEWORK_UNLOAD.store(framework as *mut core::ffi::c_void, Ordering::Release);
            }
            (*driver_object).DriverUnload = Some(unload);
        }
    }
    STATUS_SUCCESS
}

/// Runs the framework's unload (which calls [`evt_driver_unload`] and deletes the WDFDRIVER),
/// then unbinds.
unsafe extern "system" fn unload(driver_object: *const DRIVER_OBJECT) {
    let framework = FRAMEWORK_UNLOAD.swap(null_mut(), Ordering::AcqRel);
    if !framework.is_null() {
        // SAFETY: the pointer was the framework's DriverUnload, of this very type.
        unsafe {
            let framework: DriverUnload = core::mem::transmute(framework);
            framework(driver_object);
        }
    }
    // SAFETY: the framework is done with the driver; nothing calls KMDF after this.
    unsafe { kmdf::unbind() };
    trace(c"rsmailslot: unloaded\n");
}

/// `EvtDriverUnload`: deletes the control device (its link goes with it), then the engine.
/// The I/O manager calls unload only once no file object on the device is open, and every
/// slot and pending read belongs to an open file object, so nothing is left to wait for but
/// a DPC still returning ([`io::stop`] flushes those).
unsafe extern "system" fn evt_driver_unload(_driver: WDFDRIVER) {
    let device = CONTROL_DEVICE.swap(null_mut(), Ordering::AcqRel);
    if !device.is_null() {
        // SAFETY: the control device this driver created; unload runs at PASSIVE_LEVEL.
        unsafe { kmdf::object_delete(device) };
    }
    io::stop();
}

unsafe fn initialize(
    driver_object: *mut DRIVER_OBJECT,
    registry_path: *const UNICODE_STRING,
) -> Result<(), NTSTATUS> {
    let mut config = WDF_DRIVER_CONFIG {
        Size: core::mem::size_of::<WDF_DRIVER_CONFIG>() as u32,
        EvtDriverDeviceAdd: None,
        EvtDriverUnload: Some(evt_driver_unload),
        DriverInitFlags: WDF_DRIVER_INIT_NON_PNP_DRIVER,
        DriverPoolTag: POOL_TAG,
    };
    // SAFETY: bound, from DriverEntry, with the I/O manager's pointers.
    let driver = unsafe { kmdf::driver_create(driver_object, registry_path, &mut config) }
        .inspect_err(|&s| trace_status("WdfDriverCreate", s))?;
    // The engine exists before any request can arrive; if the device cannot be made, the
    // framework deletes the driver and evt_driver_unload never runs, so it goes here.
    // SAFETY: a live WDFDRIVER, from DriverEntry at PASSIVE_LEVEL.
    let limits = unsafe { settings::read(driver) };
    io::start(limits).inspect_err(|&s| trace_status("engine start", s))?;
    // SAFETY: a live WDFDRIVER, from DriverEntry at PASSIVE_LEVEL.
    let made = unsafe { create_device(driver) };
    if made.is_err() {
        io::stop();
    }
    made
}

unsafe fn create_device(driver: WDFDRIVER) -> Result<(), NTSTATUS> {
    let sddl = unicode(&names::SDDL_UTF16);
    // SAFETY: a live WDFDRIVER, PASSIVE_LEVEL.
    let mut init = unsafe { kmdf::control_device_init_allocate(driver, &sddl) }
        .inspect_err(|&s| trace_status("WdfControlDeviceInitAllocate", s))?;
    // SAFETY: `init` is live until device_create consumes it or we free it.
    let device = match unsafe { create_control_device(&mut init) } {
        Ok(device) => device,
        Err(status) => {
            if !init.is_null() {
                // SAFETY: not consumed by a successful WdfDeviceCreate.
                unsafe { kmdf::device_init_free(init) };
            }
            return Err(status);
        }
    };
    let link = unicode(&names::SYMBOLIC_LINK_UTF16);
    // SAFETY: a control device just created, PASSIVE_LEVEL.
    let linked = unsafe { kmdf::device_create_symbolic_link(device, &link) }
        .inspect_err(|&s| trace_status("WdfDeviceCreateSymbolicLink", s))
        .and_then(|()| unsafe { kmdf::control_finish_initializing(device) });
    if let Err(status) = linked {
        // SAFETY: our control device, PASSIVE_LEVEL.
        unsafe { kmdf::object_delete(device) };
        return Err(status);
    }
    CONTROL_DEVICE.store(device, Ordering::Release);
    trace(c"rsmailslot: loaded\n");
    Ok(())
}

unsafe fn create_control_device(init: &mut PWDFDEVICE_INIT) -> Result<WDFDEVICE, NTSTATUS> {
    let name = unicode(&names::DEVICE_NAME_UTF16);
    // SAFETY: `*init` is live (the caller frees it if we fail).
    unsafe {
        kmdf::device_init_set_device_type(*init, FILE_DEVICE_MAILSLOT)?;
        // Reads and writes arrive in system buffers (DO_BUFFERED_IO): the driver never maps
        // or locks a caller's read or write buffer.
        kmdf::device_init_set_io_type(*init, kmdf::WDF_DEVICE_IO_BUFFERED)?;
        kmdf::device_init_assign_name(*init, &name)
            .inspect_err(|&s| trace_status("WdfDeviceInitAssignName", s))?;
        for major in irp_mj::SERVED {
            kmdf::device_init_assign_preprocess(*init, io::preprocess, major)
                .inspect_err(|&s| trace_status("WdfDeviceInitAssignWdmIrpPreprocessCallback", s))?;
        }
        let device =
            kmdf::device_create(init).inspect_err(|&s| trace_status("WdfDeviceCreate", s))?;
        open_namespace(device);
        Ok(device)
    }
}

/// Clears FILE_DEVICE_SECURE_OPEN, which KMDF sets on every device it creates.
///
/// With it, the I/O manager checks the device's descriptor for every open below the device
/// too, so a create asking for what kernel32's CreateMailslotW asks (WRITE_DAC among it) would
/// need the device to grant WRITE_DAC to every user, and WRITE_DAC on the device object lets
/// its holder rewrite the device's own descriptor through a direct device open (locking every
/// other user out). A file system with a namespace of its own (as MSFS is) leaves the flag off:
/// the device's descriptor then governs opens of the device itself (`\.\RsMailslot`), and
/// opens of names below it are the driver's to check (the I/O manager checks only the right
/// to traverse, ReactOS IopParseDevice; learn.microsoft.com, "Controlling Device Namespace
/// Access").
///
/// # Safety
/// `device` is the control device just created, not yet finished initializing (no request
/// can reach it).
unsafe fn open_namespace(device: WDFDEVICE) {
    // SAFETY: per the contract; the WDM device object lives as long as the WDFDEVICE and
    // nothing else writes its characteristics while it is initializing.
    unsafe {
        if let Ok(object) = kmdf::device_wdm_get_device_object(device) {
            (*object).Characteristics &= !FILE_DEVICE_SECURE_OPEN;
        }
    }
}
