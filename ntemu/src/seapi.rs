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

/// The self-relative descriptor at `at`, read whole.
fn read_descriptor(at: usize) -> Option<Vec<u8>> {
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
    let mut given = [0u8; 16];
    if !mem::copy_in(mapping, &mut given) {
        misuse("SeAccessCheck's GenericMapping is not readable".into());
    }
    let given: Vec<u32> = given
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
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
