//! The framework's registry-key objects, for the one key a driver of this kind reads: the
//! service's `Parameters` key (`WdfDriverOpenParametersRegistryKey`, which Microsoft documents
//! as creating the key when it does not exist), its REG_DWORD values
//! (`WdfRegistryQueryULong`: STATUS_OBJECT_NAME_NOT_FOUND for a value that is not there) and
//! `WdfRegistryClose`. The values are the machine's [`crate::Config::parameters`]. All three
//! run at PASSIVE_LEVEL.

use crate::cpu::PASSIVE_LEVEL;
use crate::machine::Machine;
use crate::mem;
use crate::ntos::read_unicode_string;

use super::api::{machine_checked, misuse, our_driver};
use super::new_handle;

const STATUS_OBJECT_NAME_NOT_FOUND: i32 = 0xC000_0034u32 as i32;
const STATUS_INVALID_PARAMETER: i32 = 0xC000_000Du32 as i32;
const KEY_QUERY_VALUE: u32 = 0x0001;
const KEY_READ: u32 = 0x2_0019;

pub fn implemented() -> Vec<(&'static str, (usize, u8))> {
    vec![
        (
            "WdfDriverOpenParametersRegistryKey",
            (
                wdf_driver_open_parameters_registry_key as *const () as usize,
                PASSIVE_LEVEL,
            ),
        ),
        (
            "WdfRegistryQueryULong",
            (
                wdf_registry_query_ulong as *const () as usize,
                PASSIVE_LEVEL,
            ),
        ),
        (
            "WdfRegistryClose",
            (wdf_registry_close as *const () as usize, PASSIVE_LEVEL),
        ),
    ]
}

fn our_key(m: &Machine, key: usize) {
    if !m.kmdf.lock().keys.contains(&key) {
        misuse(format!(
            "a WDFKEY {key:#x} that WdfDriverOpenParametersRegistryKey did not return, or closed"
        ));
    }
}

extern "win64" fn wdf_driver_open_parameters_registry_key(
    globals: usize,
    driver: usize,
    access: u32,
    attributes: usize,
    key_out: usize,
) -> i32 {
    let m = machine_checked(globals);
    our_driver(m, driver);
    if attributes != 0 {
        misuse("WdfDriverOpenParametersRegistryKey with key attributes (not emulated)".into());
    }
    // The key is read only; a driver asking for more would need what this emulation lacks.
    if access & !KEY_READ != 0 || access & KEY_QUERY_VALUE == 0 {
        return STATUS_INVALID_PARAMETER;
    }
    let key = new_handle();
    m.kmdf.lock().keys.insert(key);
    if !mem::poke_u64(key_out, key as u64) {
        misuse("WdfDriverOpenParametersRegistryKey's Key pointer is not writable".into());
    }
    0
}

extern "win64" fn wdf_registry_query_ulong(
    globals: usize,
    key: usize,
    value_name: usize,
    value_out: usize,
) -> i32 {
    let m = machine_checked(globals);
    our_key(m, key);
    let Some(name) = read_unicode_string(value_name) else {
        misuse("WdfRegistryQueryULong's ValueName is not a readable UNICODE_STRING".into());
    };
    // Value names are case-insensitive, as the registry's are.
    let Some(&(_, value)) = m
        .config
        .parameters
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&name))
    else {
        return STATUS_OBJECT_NAME_NOT_FOUND;
    };
    if !mem::poke_u32(value_out, value) {
        misuse("WdfRegistryQueryULong's Value pointer is not writable".into());
    }
    0
}

extern "win64" fn wdf_registry_close(globals: usize, key: usize) {
    let m = machine_checked(globals);
    our_key(m, key);
    m.kmdf.lock().keys.remove(&key);
}
