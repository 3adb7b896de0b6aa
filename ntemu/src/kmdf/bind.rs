//! `WdfVersionBind` and `WdfVersionUnbind`, wdfldr.sys's exports, as the public framework
//! source performs them (`fxldr.h`, `version.cpp`; reference/kmdf-abi.md §3): the bind info is
//! checked (its size for a version 1 or 2 bind, the component name, major version 1, a minor
//! the framework has, a function count that is a released table size or the framework's own);
//! for more than 438 entries the framework stores the address of its own table through
//! `FuncTable`, otherwise it copies the entries into it; the client's driver globals are
//! written through `ComponentGlobals`. The bind info must stay valid and unchanged until
//! unbind, which must name the same bind info and globals.

use crate::bugcheck::{self, Stop};
use crate::machine;
use crate::mem;
use crate::ntos::read_unicode_string;
use crate::pool::Owner;

use super::{names, FRAMEWORK_MINOR};

const STATUS_INVALID_PARAMETER: i32 = 0xC000_000Du32 as i32;
const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;
const STATUS_OBJECT_NAME_NOT_FOUND: i32 = 0xC000_0034u32 as i32;
const STATUS_REVISION_MISMATCH: i32 = 0xC000_0059u32 as i32;

/// WDF_BIND_INFO (V1, 48 bytes) and WDF_BIND_INFO2 (88 bytes) [kmdf-abi.md §2].
const BIND_INFO_SIZE_V1: u32 = 48;
const BIND_INFO_SIZE_V2: u32 = 88;
/// Released function-table sizes a client may bind with (fxldr/version.cpp) [F].
const RELEASED_COUNTS: [u32; 13] = [
    383, 386, 387, 396, 432, 438, 444, 446, 448, 451, 453, 454, 458,
];
/// WDF_DRIVER_GLOBALS is 56 bytes; DriverName at 0x10, CHAR[32].
const GLOBALS_SIZE: usize = 56;
const GLOBALS_DRIVER_NAME: usize = 0x10;

fn wide_text(addr: usize, max: usize) -> Option<String> {
    let mut units = Vec::new();
    for i in 0..max {
        let u = mem::peek_u16(addr + i * 2)?;
        if u == 0 {
            return Some(String::from_utf16_lossy(&units));
        }
        units.push(u);
    }
    None
}

pub extern "win64" fn wdf_version_bind(
    driver_object: usize,
    registry_path: usize,
    bind_info: usize,
    globals_out: usize,
) -> i32 {
    let m = machine::current();
    if m.kmdf.fails_now() {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if driver_object != m.driver_object.addr || bind_info == 0 || globals_out == 0 {
        return STATUS_INVALID_PARAMETER;
    }
    let Some(path) = read_unicode_string(registry_path) else {
        return STATUS_INVALID_PARAMETER;
    };
    // The framework keeps the path as the driver's (WdfDriverGetRegistryPath) and the loader
    // finds the service's key with it: it must be the one DriverEntry was given, whole.
    if path != m.config.registry_path {
        bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [registry_path as u64, path.len() as u64, m.config.registry_path.len() as u64, 0],
            format!(
                "WdfVersionBind was given the registry path {path:?} ({} characters), not the {} characters DriverEntry received",
                path.encode_utf16().count(),
                m.config.registry_path.encode_utf16().count()
            ),
        ));
    }
    let size = mem::peek_u32(bind_info).unwrap_or(0);
    if size != BIND_INFO_SIZE_V1 && size != BIND_INFO_SIZE_V2 {
        return STATUS_INVALID_PARAMETER;
    }
    let component = mem::peek_u64(bind_info + 0x08).and_then(|p| wide_text(p as usize, 64));
    if component.as_deref() != Some("KmdfLibrary") {
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    let (major, minor) = (
        mem::peek_u32(bind_info + 0x10).unwrap_or(0),
        mem::peek_u32(bind_info + 0x14).unwrap_or(0),
    );
    if major != 1 || (size == BIND_INFO_SIZE_V1 && minor > FRAMEWORK_MINOR) {
        return STATUS_REVISION_MISMATCH;
    }
    let count = mem::peek_u32(bind_info + 0x1C).unwrap_or(0);
    let table_slot = mem::peek_u64(bind_info + 0x20).unwrap_or(0) as usize;
    if table_slot == 0 || (count as usize > names::COUNT_1_33) || !RELEASED_COUNTS.contains(&count)
    {
        return STATUS_INVALID_PARAMETER;
    }
    if m.kmdf.is_bound() {
        bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [bind_info as u64, 0, 0, 0],
            "WdfVersionBind called again while the driver is bound",
        ));
    }
    // More than 438 entries: FuncTable is a WDFFUNC** that receives the framework's table.
    let stored = if count > 438 {
        mem::poke_u64(table_slot, m.kmdf.table.as_ptr() as u64)
    } else {
        let bytes: Vec<u8> = m.kmdf.table[..count as usize]
            .iter()
            .flat_map(|e| e.to_le_bytes())
            .collect();
        mem::copy_out(table_slot, &bytes)
    };
    if !stored {
        return STATUS_INVALID_PARAMETER;
    }
    let Some(globals) = m.pool.allocate(
        GLOBALS_SIZE,
        u32::from_le_bytes(*b"FxDg"),
        Owner::System,
        false,
        0,
        true,
    ) else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    let name = b"RsMailslot";
    mem::copy_out(globals + GLOBALS_DRIVER_NAME, name);
    mem::poke_u64(globals_out, globals as u64);
    m.kmdf.lock().binding = Some((bind_info, registry_path, globals));
    0
}

pub extern "win64" fn wdf_version_unbind(
    registry_path: usize,
    bind_info: usize,
    globals: usize,
) -> i32 {
    let m = machine::current();
    let binding = m.kmdf.lock().binding;
    match binding {
        Some((info, _, g)) if info == bind_info && g == globals => {}
        _ => bugcheck::stop(Stop::new(
            bugcheck::NTEMU_CHECK,
            [bind_info as u64, globals as u64, 0, 0],
            "WdfVersionUnbind with a bind info or globals that are not the bound ones",
        )),
    }
    if read_unicode_string(registry_path).is_none() {
        return STATUS_INVALID_PARAMETER;
    }
    // Unbind deletes the WDFDRIVER (and so its devices) if the driver left it.
    super::api::delete_driver(m);
    m.pool.free(globals, None, 0, &|_, _| None);
    m.kmdf.lock().binding = None;
    0
}
