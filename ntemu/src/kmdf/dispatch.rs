//! The framework's IRP dispatch and unload routines, which WdfDriverCreate puts in the
//! DRIVER_OBJECT (FxDevice::Dispatch, DispatchWorker and the default handlers of
//! `fxdevice.cpp` and `fxdefaultirphandler.cpp`):
//!
//! - a major function with a WDM preprocess callback whose minor-function list is empty or
//!   holds the IRP's minor function goes to that callback, which owns the IRP from then on and
//!   whose status is the dispatch routine's;
//! - otherwise the framework's own packages answer: create, cleanup and close of a control
//!   device without a file-object configuration succeed; everything else is
//!   STATUS_INVALID_DEVICE_REQUEST (a control device has no I/O queues here).

use crate::io::irp::complete_from_kernel;
use crate::layout::{driver, stack as st};
use crate::machine;
use crate::mem;

const STATUS_INVALID_DEVICE_REQUEST: i32 = 0xC000_0010u32 as i32;

type Preprocess = unsafe extern "win64" fn(usize, usize) -> i32;
type EvtDriverUnload = unsafe extern "win64" fn(usize);

/// FxDevice::Dispatch, the routine in every MajorFunction slot of the driver.
pub extern "win64" fn fx_dispatch(device_object: usize, irp: usize) -> i32 {
    let m = machine::current();
    let stack =
        mem::peek_u64(irp + crate::layout::irp::CURRENT_STACK_LOCATION).unwrap_or(0) as usize;
    let (major, minor) = (
        mem::peek_u8(stack + st::MAJOR).unwrap_or(0xFF),
        mem::peek_u8(stack + st::MINOR).unwrap_or(0),
    );
    let callback = {
        let fx = m.kmdf.lock();
        fx.by_object
            .get(&device_object)
            .and_then(|h| fx.devices.get(h))
            .and_then(|d| d.preprocess.get(usize::from(major)).cloned().flatten())
            .filter(|(_, minors)| minors.is_empty() || minors.contains(&minor))
            .map(|(cb, _)| (cb, fx.by_object[&device_object]))
    };
    if let Some((cb, handle)) = callback {
        // SAFETY: the EVT_WDFDEVICE_WDM_IRP_PREPROCESS routine the driver registered for this
        // major function, called with its WDFDEVICE and the IRP (which it now owns).
        return unsafe {
            let f: Preprocess = std::mem::transmute(cb);
            f(handle, irp)
        };
    }
    let status = match major {
        0x00 | 0x02 | 0x12 => 0,
        _ => STATUS_INVALID_DEVICE_REQUEST,
    };
    complete_from_kernel(irp, status, 0);
    status
}

/// The framework's DriverUnload: EvtDriverUnload, then the WDFDRIVER and what it still owns.
pub extern "win64" fn fx_driver_unload(driver_object: usize) {
    let m = machine::current();
    let fx_driver = m.kmdf.lock().driver.clone();
    let Some(d) = fx_driver else { return };
    if d.driver_object != driver_object {
        return;
    }
    if d.evt_unload != 0 {
        // SAFETY: the driver's EvtDriverUnload from its WDF_DRIVER_CONFIG, called with its
        // WDFDRIVER at PASSIVE_LEVEL.
        unsafe {
            let f: EvtDriverUnload = std::mem::transmute(d.evt_unload);
            f(d.handle);
        }
    }
    super::api::delete_driver(m);
    m.driver_object.w64(driver::DRIVER_UNLOAD, 0);
}
