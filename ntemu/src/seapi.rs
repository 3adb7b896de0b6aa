//! The security routines a file system calls on a create: `SeAccessCheck` against a
//! descriptor it keeps, with the file object type's `GENERIC_MAPPING`
//! (`IoGetFileObjectGenericMapping`). As Microsoft documents it, SeAccessCheck at IRQL <= APC_LEVEL grants every desired right to a KernelMode access
//! check, and otherwise checks the subject's token against the descriptor's DACL (a NULL DACL
//! grants all; the owner has READ_CONTROL and WRITE_DAC unless an OWNER RIGHTS entry says
//! otherwise; MAXIMUM_ALLOWED asks for every right the DACL grants); it returns the granted
//! rights together with those granted before, and STATUS_ACCESS_DENIED when a desired right is
//! refused. The check itself is [`crate::se::access_check`].

use crate::bugcheck::{self, Stop};
use crate::cpu::{APC_LEVEL, PASSIVE_LEVEL};
use crate::exports::Export;
use crate::layout::subject_context as sc;
use crate::machine;
use crate::mem;
use crate::ntos::NT;
use crate::se::{self, SecurityDescriptor};

const STATUS_ACCESS_DENIED: u32 = 0xC000_0022;
const STATUS_NOT_IMPLEMENTED: i32 = 0xC000_0002u32 as i32;
const STATUS_INVALID_OWNER: i32 = 0xC000_005Au32 as i32;
const STATUS_NO_SECURITY_ON_OBJECT: i32 = 0xC000_00D7u32 as i32;
const STATUS_BAD_DESCRIPTOR_FORMAT: i32 = 0xC000_00E7u32 as i32;
const OWNER_SECURITY_INFORMATION: u32 = 0x1;
const GROUP_SECURITY_INFORMATION: u32 = 0x2;
const DACL_SECURITY_INFORMATION: u32 = 0x4;
const SACL_SECURITY_INFORMATION: u32 = 0x8;
const KERNEL_MODE: u8 = 0;

/// `GENERIC_MAPPING` of file objects: read, write, execute, all.
static FILE_GENERIC_MAPPING: [u32; 4] = [
    se::FILE_GENERIC_READ,
    se::FILE_GENERIC_WRITE,
    se::FILE_GENERIC_EXECUTE,
    se::FILE_ALL_ACCESS,
];

pub fn exports() -> Vec<Export> {
    let f = Export::function;
    vec![
        f(
            NT,
            "SeAccessCheck",
            se_access_check as *const () as usize,
            APC_LEVEL,
        ),
        f(
            NT,
            "SeSetSecurityDescriptorInfo",
            se_set_security_descriptor_info as *const () as usize,
            PASSIVE_LEVEL,
        ),
        f(
            NT,
            "IoGetFileObjectGenericMapping",
            io_get_file_object_generic_mapping as *const () as usize,
            PASSIVE_LEVEL,
        ),
    ]
}

fn misuse(what: String) -> ! {
    bugcheck::stop(Stop::new(
        bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
        [0x1005, 0, 0, 0],
        what,
    ))
}

/// The GENERIC_MAPPING (read, write, execute, all) a routine was given at `at`.
fn generic_mapping(routine: &str, at: usize) -> Vec<u32> {
    let mut given = [0u8; 16];
    if !mem::copy_in(at, &mut given) {
        misuse(format!("{routine}'s GenericMapping is not readable"));
    }
    given
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The self-relative descriptor at `at`, read whole.
pub(crate) fn read_descriptor(at: usize) -> Option<Vec<u8>> {
    let read = |off: usize, len: usize| {
        let mut b = vec![0u8; len];
        mem::copy_in(at + off, &mut b).then_some(b)
    };
    let len = SecurityDescriptor::self_relative_length(&read)?;
    read(0, len)
}

extern "win64" fn io_get_file_object_generic_mapping() -> usize {
    FILE_GENERIC_MAPPING.as_ptr() as usize
}

/// `SeAccessCheck(SecurityDescriptor, SubjectSecurityContext, SubjectContextLocked,
/// DesiredAccess, PreviouslyGrantedAccess, Privileges, GenericMapping, AccessMode,
/// GrantedAccess, AccessStatus)`.
#[allow(clippy::too_many_arguments)]
extern "win64" fn se_access_check(
    sd: usize,
    subject: usize,
    _locked: u8,
    desired: u32,
    previously: u32,
    privileges: usize,
    mapping: usize,
    mode: u8,
    granted_out: usize,
    status_out: usize,
) -> u8 {
    let m = machine::current();
    let Some(bytes) = read_descriptor(sd) else {
        misuse(format!(
            "SeAccessCheck of {sd:#x}: no self-relative descriptor"
        ));
    };
    let Some(descriptor) = SecurityDescriptor::from_self_relative(&bytes) else {
        misuse(format!(
            "SeAccessCheck of {sd:#x}: a descriptor this emulator cannot read"
        ));
    };
    let given = generic_mapping("SeAccessCheck", mapping);
    if given != FILE_GENERIC_MAPPING {
        misuse(format!(
            "SeAccessCheck with the mapping {given:x?}, not the file objects'"
        ));
    }
    if privileges != 0 && !mem::poke_u64(privileges, 0) {
        misuse("SeAccessCheck's Privileges pointer is not writable".into());
    }
    let (granted, status) = if mode == KERNEL_MODE {
        let all = se::map_generic(desired & !se::MAXIMUM_ALLOWED)
            | if desired & se::MAXIMUM_ALLOWED != 0 {
                se::FILE_ALL_ACCESS
            } else {
                0
            };
        (all | previously, 0)
    } else {
        let client = mem::peek_u64(subject + sc::CLIENT_TOKEN).unwrap_or(0) as usize;
        let primary = mem::peek_u64(subject + sc::PRIMARY_TOKEN).unwrap_or(0) as usize;
        let token_object = if client != 0 { client } else { primary };
        let Some(token) = m.tokens.get(token_object) else {
            misuse(format!(
                "SeAccessCheck of a subject context whose token {token_object:#x} is no token"
            ));
        };
        match se::access_check(&descriptor, &token, desired) {
            Ok(g) => (g | previously, 0),
            Err(_) => (0, STATUS_ACCESS_DENIED),
        }
    };
    if !mem::poke_u32(granted_out, granted) || !mem::poke_u32(status_out, status) {
        misuse("SeAccessCheck's output pointers are not writable".into());
    }
    u8::from(status == 0)
}

/// `SeSetSecurityDescriptorInfo(Object, SecurityInformation, ModificationDescriptor,
/// ObjectsSecurityDescriptor, PoolType, GenericMapping)`, as Microsoft documents it: a new
/// self-relative descriptor, allocated from pool for the caller (who frees it, and the old
/// one), made of `*ObjectsSecurityDescriptor` with the parts `*SecurityInformation` names taken
/// from the modification: the owner only one the current thread's token may assign
/// (STATUS_INVALID_OWNER otherwise, [`crate::se::Token::may_own`]), the DACL's generic rights
/// mapped through `GenericMapping`. STATUS_NO_SECURITY_ON_OBJECT when the object has no
/// descriptor, STATUS_BAD_DESCRIPTOR_FORMAT when it is not self-relative. A SACL is not
/// emulated (no token here may set one): STATUS_NOT_IMPLEMENTED rather than pretend.
extern "win64" fn se_set_security_descriptor_info(
    _object: usize,
    information: usize,
    modification: usize,
    objects: usize,
    _pool_type: u32,
    mapping: usize,
) -> i32 {
    let m = machine::current();
    let Some(information) = mem::peek_u32(information) else {
        misuse("SeSetSecurityDescriptorInfo's SecurityInformation is not readable".into());
    };
    let Some(current_at) = mem::peek_u64(objects) else {
        misuse("SeSetSecurityDescriptorInfo's ObjectsSecurityDescriptor is not readable".into());
    };
    if current_at == 0 {
        return STATUS_NO_SECURITY_ON_OBJECT;
    }
    if information & SACL_SECURITY_INFORMATION != 0 {
        return STATUS_NOT_IMPLEMENTED;
    }
    let Some(current) = read_descriptor(current_at as usize)
        .and_then(|b| SecurityDescriptor::from_self_relative(&b))
    else {
        return STATUS_BAD_DESCRIPTOR_FORMAT;
    };
    let Some(wanted) =
        read_descriptor(modification).and_then(|b| SecurityDescriptor::from_self_relative(&b))
    else {
        misuse(format!(
            "SeSetSecurityDescriptorInfo of {modification:#x}: no captured descriptor"
        ));
    };
    let map = generic_mapping("SeSetSecurityDescriptorInfo", mapping);
    let mut merged = current;
    if information & OWNER_SECURITY_INFORMATION != 0 {
        match wanted.owner {
            Some(o) if crate::token::current_subject().may_own(&o) => merged.owner = Some(o),
            _ => return STATUS_INVALID_OWNER,
        }
    }
    if information & GROUP_SECURITY_INFORMATION != 0 {
        merged.group = wanted.group;
    }
    if information & DACL_SECURITY_INFORMATION != 0 {
        merged.dacl = wanted.dacl.map(|aces| {
            aces.into_iter()
                .map(|mut a| {
                    a.mask = map_through(a.mask, &map);
                    a
                })
                .collect()
        });
        merged.protected = wanted.protected;
    }
    let bytes = merged.to_self_relative();
    if m.pool.driver_allocation_fails() {
        return crate::ntos::STATUS_INSUFFICIENT_RESOURCES;
    }
    let Some(block) = m.pool.allocate(
        bytes.len(),
        u32::from_le_bytes(*b"SeSd"),
        crate::pool::Owner::Driver,
        true,
        crate::ntos::caller(),
        true,
    ) else {
        return crate::ntos::STATUS_INSUFFICIENT_RESOURCES;
    };
    if !mem::copy_out(block, &bytes) || !mem::poke_u64(objects, block as u64) {
        misuse("SeSetSecurityDescriptorInfo's ObjectsSecurityDescriptor is not writable".into());
    }
    0
}

/// `mask` with its generic rights replaced by what `map` (read, write, execute, all) says.
fn map_through(mask: u32, map: &[u32]) -> u32 {
    let generic = [
        se::GENERIC_READ,
        se::GENERIC_WRITE,
        se::GENERIC_EXECUTE,
        se::GENERIC_ALL,
    ];
    generic.iter().zip(map).fold(mask, |acc, (&g, &specific)| {
        if mask & g != 0 {
            (acc & !g) | specific
        } else {
            acc
        }
    })
}
