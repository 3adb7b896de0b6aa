//! `IRP_MJ_CREATE` and `IRP_MJ_CREATE_MAILSLOT`: opens of the root, a client's open of a
//! mailslot, and a server's creation of one.

use super::*;

/// `IRP_MJ_CREATE` (`parameters` None) and `IRP_MJ_CREATE_MAILSLOT`.
///
/// # Safety
/// PASSIVE_LEVEL; `irp` is the create's IRP and `stack_flags` its stack location's flags;
/// `file` is its file object; the pointers come from the stack location the I/O manager
/// built (kernel memory it captured).
pub(super) unsafe fn create(
    engine: &Engine,
    irp: *mut IRP,
    stack_flags: u8,
    file: *mut FILE_OBJECT,
    security_context: u64,
    parameters: Option<u64>,
) -> Reply {
    if file.is_null() {
        return Reply::error(NtStatus::INVALID_PARAMETER);
    }
    // SAFETY: the I/O manager's file object and its captured name.
    let (name, related) = unsafe {
        let f = &*file;
        let buffer = f.FileName.Buffer.cast::<u8>();
        let name: &[u8] = match msfs_io::region(
            buffer as u64,
            usize::from(f.FileName.Length),
            msfs_io::REGION_FILE_NAME,
        ) {
            Ok(Region::Empty) => &[],
            Ok(Region::Bytes(len)) => core::slice::from_raw_parts(buffer, len),
            Err(s) => return Reply::error(s),
        };
        (name, f.RelatedFileObject)
    };
    // SAFETY: the create's security context, when present, and its access state.
    let mask = unsafe {
        let sc = security_context as *const IO_SECURITY_CONTEXT;
        if sc.is_null() {
            0
        } else {
            let state = (*sc).AccessState;
            let granted = if state.is_null() {
                0
            } else {
                (*state).OriginalDesiredAccess | (*state).PreviouslyGrantedAccess
            };
            (*sc).DesiredAccess | granted
        }
    };
    let access = access::from_mask(mask);
    let params = match parameters {
        None => None,
        Some(address) => {
            let len = CreateParameters::WIRE_SIZE;
            if let Err(s) = msfs_io::region(address, len, msfs_io::REGION_CREATE_PARAMETERS) {
                return Reply::error(s);
            }
            // SAFETY: NtCreateMailslotFile's MAILSLOT_CREATE_PARAMETERS, 24 bytes the I/O
            // manager built in kernel memory, at a non-null address (checked above).
            let bytes = unsafe { core::slice::from_raw_parts(address as *const u8, len) };
            match CreateParameters::decode(bytes) {
                Ok(p) => Some(p),
                Err(s) => return Reply::error(s),
            }
        }
    };
    let mut now = 0i64;
    // SAFETY: writes one i64.
    unsafe { KeQuerySystemTimePrecise(&mut now) };
    // The name is paged pool (the I/O manager allocates it from PagedPool): it is copied into
    // non-paged memory here, before the lock, and never touched under it. A name relative to
    // another file object needs that object's role, which is read under the lock first.
    let related_role = if related.is_null() {
        None
    } else {
        // SAFETY: a file object on our device (the I/O manager sends relative opens to the
        // related object's device).
        let handle = match unsafe { handle_of(related) } {
            Ok(h) => h,
            Err(s) => return Reply::error(s),
        };
        // SAFETY: the handle is read under the lock.
        Some(engine.with(|_| unsafe { (*handle).role() }))
    };
    // Decoded, validated, copied and hashed here: under the lock a name costs one lookup.
    let name = match info::create_name(related_role, name).and_then(|n| engine.prepare_name(&n)) {
        Ok(n) => n,
        Err(s) => return Reply::error(s),
    };
    let Some(slot) = pool_new_charged(MaybeUninit::<Handle>::uninit(), requestor_is_user(irp))
    else {
        return Reply::error(NtStatus::INSUFFICIENT_RESOURCES);
    };
    let result = match &params {
        // SAFETY: PASSIVE_LEVEL, this create's security context.
        Some(p) => unsafe { create_server(engine, name, p, access, now, security_context) },
        // SAFETY: as above, with this create's IRP and flags.
        None => unsafe { open(engine, &name, access, security_context, irp, stack_flags) },
    };
    match result {
        Ok(handle) => {
            // Every file object of a mailslot file system carries FO_MAILSLOT: without it the
            // I/O manager refuses a read or write without a byte offset on an asynchronous
            // handle (NtReadFile/NtWriteFile), as CreateMailslotW's handle is.
            // SAFETY: `slot` is ours; the file object is the create's and not yet visible to
            // any other request.
            unsafe {
                (*slot.as_ptr()).write(handle);
                (*file).FsContext = slot.as_ptr().cast();
                (*file).Flags |= FO_MAILSLOT;
            }
            Reply::success(if params.is_some() {
                FILE_CREATED
            } else {
                FILE_OPENED
            })
        }
        Err(status) => {
            // SAFETY: never handed out; MaybeUninit drops nothing.
            unsafe { pool_free(slot) };
            Reply::error(status)
        }
    }
}

/// A server create: charged to its creator (the user its token names), keeping the
/// descriptor the creator passed.
///
/// # Safety
/// PASSIVE_LEVEL; `security_context` is the create's.
unsafe fn create_server(
    engine: &Engine,
    name: PreparedName,
    params: &CreateParameters,
    access: msfs::Access,
    now: i64,
    security_context: u64,
) -> Result<Handle, NtStatus> {
    // SAFETY: per the contract.
    let owner = unsafe { requester::owner_of(engine, security_context) }?;
    // SAFETY: per the contract.
    let security = unsafe { security::creator_descriptor(security_context) }?;
    engine.with(|m| m.create_server_prepared(name, params, access, now, owner, security))
}

/// A client open (or an open of the root): a slot its creator gave a descriptor admits only
/// whom the descriptor grants, with the access it grants, checked outside the lock; the slot
/// must still be the same one after it.
///
/// # Safety
/// PASSIVE_LEVEL; `security_context`, `irp` and `stack_flags` are the create's.
unsafe fn open(
    engine: &Engine,
    name: &PreparedName,
    access: msfs::Access,
    security_context: u64,
    irp: *mut IRP,
    stack_flags: u8,
) -> Result<Handle, NtStatus> {
    let found = engine.with(|m| m.lookup(name))?;
    let access = match found {
        // A slot with a descriptor: copied into a buffer of its length, made outside the lock.
        msfs::Found::Slot {
            slot,
            security: Some(len),
        } => {
            let mut descriptor = security::descriptor_buffer(len)?;
            let copied = engine
                .with(|m| m.copy_security(slot, &mut descriptor))?
                .and_then(|n| descriptor.get(..n))
                .ok_or(NtStatus::INVALID_SECURITY_DESCR)?;
            // SAFETY: per the contract; `copied` is the slot's descriptor, ours for the call.
            let granted =
                unsafe { security::check_access(copied, security_context, irp, stack_flags) }?;
            access::from_mask(granted)
        }
        _ => access,
    };
    engine.with(|m| m.open_found(&found, access))
}
