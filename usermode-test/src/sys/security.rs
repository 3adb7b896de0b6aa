//! A handle's security through advapi32, with descriptors written as SDDL strings: what a
//! mailslot's creator passes to CreateMailslotW, what SetKernelObjectSecurity changes and what
//! GetSecurityInfo returns.

use std::ptr::null_mut;

use windows_sys::core::PWSTR;
use windows_sys::Win32::Foundation::{LocalFree, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetSecurityInfo, SDDL_REVISION_1,
    SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    SetKernelObjectSecurity, OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
    SECURITY_ATTRIBUTES,
};
use windows_sys::Win32::System::Mailslots::CreateMailslotW;

use super::{last_error, wide};
use crate::system::RawHandle;

/// A NUL-terminated wide string an advapi32 routine allocated, read and freed.
///
/// # Safety
/// `text` is such a string, not used after.
unsafe fn take_string(text: PWSTR) -> String {
    let mut len = 0;
    // SAFETY: read up to its NUL, then freed once.
    unsafe {
        while *text.add(len) != 0 {
            len += 1;
        }
        let s = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text.cast());
        s
    }
}

/// The descriptor an SDDL string describes, in a block LocalFree frees.
fn descriptor(sddl: &str) -> Result<PSECURITY_DESCRIPTOR, u32> {
    let text = wide(sddl);
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: `text` is NUL-terminated and outlives the call; `sd` is a local.
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            text.as_ptr(),
            SDDL_REVISION_1,
            &mut sd,
            null_mut(),
        )
    };
    if ok == 0 {
        Err(last_error())
    } else {
        Ok(sd)
    }
}

/// CreateMailslotW(name, 0, 0) with the descriptor `sddl` describes.
pub(super) fn create_mailslot_sddl(name: &str, sddl: &str) -> Result<RawHandle, u32> {
    let sd = descriptor(sddl)?;
    let attributes = SECURITY_ATTRIBUTES {
        nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: sd,
        bInheritHandle: 0,
    };
    let name = wide(name);
    // SAFETY: the name and the attributes outlive the call; the descriptor is freed after.
    let (handle, error) = unsafe {
        let h = CreateMailslotW(name.as_ptr(), 0, 0, &attributes);
        let error = last_error();
        LocalFree(sd);
        (h, error)
    };
    if handle == INVALID_HANDLE_VALUE {
        Err(error)
    } else {
        Ok(handle as usize as RawHandle)
    }
}

/// SetKernelObjectSecurity(handle, information, the descriptor `sddl` describes).
pub(super) fn set_security_sddl(handle: HANDLE, information: u32, sddl: &str) -> Result<(), u32> {
    let sd = descriptor(sddl)?;
    // SAFETY: a handle value and a descriptor alive for the call, freed after.
    let (ok, error) = unsafe {
        let ok = SetKernelObjectSecurity(handle, information, sd);
        let error = last_error();
        LocalFree(sd);
        (ok, error)
    };
    if ok == 0 {
        Err(error)
    } else {
        Ok(())
    }
}

/// GetSecurityInfo(handle, SE_FILE_OBJECT, information) as an SDDL string.
pub(super) fn security_sddl(handle: HANDLE, information: u32) -> Result<String, u32> {
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: the out pointer is a local; the descriptor it allocates is freed below.
    let error = unsafe {
        GetSecurityInfo(
            handle,
            SE_FILE_OBJECT,
            information,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
            &mut sd,
        )
    };
    if error != 0 {
        return Err(error);
    }
    let mut text: PWSTR = null_mut();
    // SAFETY: `sd` is GetSecurityInfo's, freed once after the conversion; the string it
    // allocates is taken (and freed) by take_string.
    unsafe {
        let ok = ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd,
            SDDL_REVISION_1,
            information,
            &mut text,
            null_mut(),
        );
        let error = last_error();
        LocalFree(sd);
        if ok == 0 {
            Err(error)
        } else {
            Ok(take_string(text))
        }
    }
}

/// GetSecurityInfo(OWNER_SECURITY_INFORMATION) and the owner as a SID string.
pub(super) fn security_owner(handle: HANDLE) -> Result<String, u32> {
    let mut owner: PSID = null_mut();
    let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: the out pointers are locals; the descriptor it allocates is freed below.
    let error = unsafe {
        GetSecurityInfo(
            handle,
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION,
            &mut owner,
            null_mut(),
            null_mut(),
            null_mut(),
            &mut descriptor,
        )
    };
    if error != 0 {
        return Err(error);
    }
    let mut text: PWSTR = null_mut();
    // SAFETY: `owner` points into `descriptor`, alive until its LocalFree; the string it
    // allocates is taken by take_string.
    let result = unsafe {
        if owner.is_null() {
            Err(1338) // ERROR_INVALID_SECURITY_DESCR: a descriptor without an owner
        } else if ConvertSidToStringSidW(owner, &mut text) != 0 {
            Ok(take_string(text))
        } else {
            Err(last_error())
        }
    };
    // SAFETY: allocated by GetSecurityInfo for us.
    unsafe { LocalFree(descriptor) };
    result
}
