//! The object namespace the I/O manager parses names in: the directories `\Device` and `\??`
//! (with `\DosDevices` and `\GLOBAL??` as links to it), device objects, and symbolic links.
//!
//! Lookups are case-insensitive (Windows' object manager defaults to it). A name resolves to a
//! device and the rest of the path, which the device's driver parses; a missing last component
//! is STATUS_OBJECT_NAME_NOT_FOUND, a missing directory on the way STATUS_OBJECT_PATH_NOT_FOUND
//! (ObpLookupObjectName's statuses).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::layout::{self, device};
use crate::mem::Raw;
use crate::se::SecurityDescriptor;

use super::{
    STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND, STATUS_OBJECT_PATH_SYNTAX_BAD,
};

pub const STATUS_OBJECT_NAME_COLLISION: i32 = 0xC000_0035u32 as i32;

/// A device object.
#[derive(Debug)]
pub struct Device {
    pub raw: Raw,
    pub name: Option<String>,
    pub sd: SecurityDescriptor,
    pub binary_sd: Raw,
    /// Its driver's DRIVER_OBJECT.
    pub driver: usize,
    pub deleted: AtomicBool,
    /// File objects on this device (the device object's memory stays while any remains).
    pub open_files: AtomicUsize,
}

impl Device {
    pub fn addr(&self) -> usize {
        self.raw.addr
    }

    pub fn flags(&self) -> u32 {
        self.raw.r32(device::FLAGS)
    }

    pub fn characteristics(&self) -> u32 {
        self.raw.r32(device::CHARACTERISTICS)
    }

    pub fn device_type(&self) -> u32 {
        self.raw.r32(device::DEVICE_TYPE)
    }

    pub fn stack_size(&self) -> u8 {
        self.raw.r8(device::STACK_SIZE)
    }
}

#[derive(Debug, Default)]
struct Names {
    devices: HashMap<String, Arc<Device>>,
    by_addr: HashMap<usize, Arc<Device>>,
    links: HashMap<String, String>,
}

#[derive(Debug, Default)]
pub struct Namespace {
    names: Mutex<Names>,
}

const DIRECTORIES: [&str; 3] = [r"\DEVICE", r"\??", r"\DRIVER"];

fn key(name: &str) -> String {
    name.to_ascii_uppercase()
}

impl Namespace {
    fn lock(&self) -> MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a device (named or not); STATUS_OBJECT_NAME_COLLISION when the name is taken.
    pub fn insert_device(&self, dev: Arc<Device>) -> Result<(), i32> {
        let mut n = self.lock();
        if let Some(name) = &dev.name {
            let k = key(name);
            if n.devices.contains_key(&k) || n.links.contains_key(&k) {
                return Err(STATUS_OBJECT_NAME_COLLISION);
            }
            n.devices.insert(k, dev.clone());
        }
        n.by_addr.insert(dev.addr(), dev);
        Ok(())
    }

    /// Removes a device from the namespace (IoDeleteDevice); the object itself lives on while
    /// file objects use it.
    pub fn remove_device(&self, addr: usize) -> Option<Arc<Device>> {
        let mut n = self.lock();
        let dev = n.by_addr.remove(&addr)?;
        if let Some(name) = &dev.name {
            n.devices.remove(&key(name));
        }
        dev.deleted.store(true, Ordering::SeqCst);
        Some(dev)
    }

    pub fn device_at(&self, addr: usize) -> Option<Arc<Device>> {
        self.lock().by_addr.get(&addr).cloned()
    }

    /// Devices of one driver (DRIVER_OBJECT address).
    pub fn devices_of(&self, driver: usize) -> Vec<Arc<Device>> {
        self.lock()
            .by_addr
            .values()
            .filter(|d| d.driver == driver)
            .cloned()
            .collect()
    }

    /// Devices of drivers other than the emulator's own (the disk).
    pub fn device_count(&self) -> usize {
        self.lock()
            .by_addr
            .values()
            .filter(|d| d.driver != 0 && !is_system_driver(d.driver))
            .count()
    }

    pub fn insert_link(&self, name: &str, target: &str) -> Result<(), i32> {
        let mut n = self.lock();
        let k = key(&canonical(name));
        if n.links.contains_key(&k) || n.devices.contains_key(&k) {
            return Err(STATUS_OBJECT_NAME_COLLISION);
        }
        n.links.insert(k, target.to_string());
        Ok(())
    }

    pub fn remove_link(&self, name: &str) -> bool {
        self.lock().links.remove(&key(&canonical(name))).is_some()
    }

    /// Resolves an absolute name to a device and the rest of the path (empty, or starting with
    /// a backslash).
    pub fn lookup(&self, path: &str) -> Result<(Arc<Device>, String), i32> {
        let mut path = canonical(path);
        for _ in 0..32 {
            if !path.starts_with('\\') {
                return Err(STATUS_OBJECT_PATH_SYNTAX_BAD);
            }
            let n = self.lock();
            let mut end = 0;
            let reparsed;
            loop {
                let next = path[end + 1..]
                    .find('\\')
                    .map_or(path.len(), |i| end + 1 + i);
                let prefix = &path[..next];
                let k = key(prefix);
                let last = next == path.len();
                if let Some(dev) = n.devices.get(&k) {
                    return Ok((dev.clone(), path[next..].to_string()));
                }
                if let Some(target) = n.links.get(&k) {
                    reparsed = format!("{target}{}", &path[next..]);
                    break;
                }
                if !DIRECTORIES.contains(&k.as_str()) {
                    return Err(if last {
                        STATUS_OBJECT_NAME_NOT_FOUND
                    } else {
                        STATUS_OBJECT_PATH_NOT_FOUND
                    });
                }
                if last {
                    // A directory object, not something a file can be opened on.
                    return Err(super::STATUS_OBJECT_TYPE_MISMATCH);
                }
                end = next;
            }
            drop(n);
            path = canonical(&reparsed);
        }
        Err(STATUS_OBJECT_NAME_NOT_FOUND)
    }
}

/// `\DosDevices` and `\GLOBAL??` are links to `\??`.
fn canonical(path: &str) -> String {
    for alias in [r"\DosDevices", r"\GLOBAL??"] {
        if path.len() >= alias.len()
            && path[..alias.len()].eq_ignore_ascii_case(alias)
            && (path.len() == alias.len() || path.as_bytes()[alias.len()] == b'\\')
        {
            return format!(r"\??{}", &path[alias.len()..]);
        }
    }
    path.to_string()
}

/// The DRIVER_OBJECT addresses of the emulator's own drivers (the disk), which reports about
/// the tested driver leave out.
static SYSTEM_DRIVERS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

pub fn register_system_driver(addr: usize) {
    SYSTEM_DRIVERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(addr);
}

fn is_system_driver(addr: usize) -> bool {
    SYSTEM_DRIVERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&addr)
}

/// Builds a DEVICE_OBJECT in `raw` as IoCreateDevice fills it.
pub fn fill_device_object(
    raw: &Raw,
    driver: usize,
    device_type: u32,
    characteristics: u32,
    flags: u32,
    stack_size: u8,
    sd: usize,
) {
    raw.w16(device::TYPE, layout::IO_TYPE_DEVICE);
    raw.w16(device::SIZE_FIELD, layout::DEVICE_OBJECT_ALLOCATION as u16);
    raw.w64(device::DRIVER_OBJECT, driver as u64);
    raw.w32(device::FLAGS, flags);
    raw.w32(device::CHARACTERISTICS, characteristics);
    raw.w32(device::DEVICE_TYPE, device_type);
    raw.w8(device::STACK_SIZE, stack_size);
    raw.w64(device::SECURITY_DESCRIPTOR, sd as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_the_dos_devices_directory() {
        assert_eq!(canonical(r"\DosDevices\RsMailslot"), r"\??\RsMailslot");
        assert_eq!(canonical(r"\GLOBAL??\X"), r"\??\X");
        assert_eq!(canonical(r"\DosDevicesX"), r"\DosDevicesX");
    }
}
