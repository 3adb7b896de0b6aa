//! kernel32 and advapi32 rows on a mailslot's security: what GetSecurityInfo returns, what a
//! creator's descriptor does to opens, and what SetKernelObjectSecurity changes. Windows'
//! behaviour is unknown for all three (native MSFS's security calls are not in any clean
//! source), so they are observe rows: they record what native MSFS does and hold rsmailslot to
//! its documented choices (README, "Security model").

use super::helpers::*;

const OWNER_SECURITY_INFORMATION: u32 = 1;
const DACL_SECURITY_INFORMATION: u32 = 4;
const READ_CONTROL: u32 = 0x0002_0000;
const WRITE_DAC: u32 = 0x0004_0000;

/// GetSecurityInfo(OWNER) of a server and a client handle of a mailslot created without a
/// descriptor: rsmailslot declines the query and the I/O manager answers with its world
/// descriptor, Everyone (S-1-1-0) as the owner.
pub(super) fn security_owner(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    let show = |r: Result<String, u32>| r.unwrap_or_else(codes::win32);
    c.choice(
        "owner of the server",
        show(api.security_owner(s.raw())),
        "S-1-1-0".into(),
    );
    c.choice(
        "owner of a client",
        show(api.security_owner(cl.raw())),
        "S-1-1-0".into(),
    );
    Ok(())
}

/// A mailslot created with a DACL that admits only SYSTEM: its creator (never SYSTEM here)
/// cannot open it as a client, and its server reads the DACL back as it was passed.
pub(super) fn security_creator_dacl(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let rel = c.fresh();
    let path = c.win32(&rel);
    let s = c.need(
        "CreateMailslotW(D:P(A;;GA;;;SY))",
        api.create_mailslot_sddl(&path, "D:P(A;;GA;;;SY)")
            .map_err(codes::win32),
    )?;
    c.choice(
        "the creator's client open",
        w32(&api.open(&path, GENERIC_WRITE, SHARE_RW, false)),
        codes::win32(ERROR_ACCESS_DENIED),
    );
    c.choice(
        "GetSecurityInfo(DACL) of the server",
        api.security_sddl(s.raw(), DACL_SECURITY_INFORMATION)
            .unwrap_or_else(codes::win32),
        "D:P(A;;GA;;;SY)".into(),
    );
    Ok(())
}

/// A mailslot created with a DACL that grants everyone everything; a client that opened it
/// with WRITE_DAC replaces the DACL with one that admits only SYSTEM: the next open is
/// refused, and the DACL reads back with its generic rights mapped.
pub(super) fn security_set_dacl(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let rel = c.fresh();
    let path = c.win32(&rel);
    let _s = c.need(
        "CreateMailslotW(D:(A;;GA;;;WD))",
        api.create_mailslot_sddl(&path, "D:(A;;GA;;;WD)")
            .map_err(codes::win32),
    )?;
    let cl = c.need(
        "CreateFileW(GENERIC_WRITE | READ_CONTROL | WRITE_DAC)",
        api.open(
            &path,
            GENERIC_WRITE | READ_CONTROL | WRITE_DAC,
            SHARE_RW,
            false,
        )
        .map_err(codes::win32),
    )?;
    c.choice(
        "SetKernelObjectSecurity(DACL D:P(A;;GA;;;SY)) through the client",
        w32(&api.set_security_sddl(cl.raw(), DACL_SECURITY_INFORMATION, "D:P(A;;GA;;;SY)")),
        "ok".into(),
    );
    c.choice(
        "a client open after it",
        w32(&api.open(&path, GENERIC_WRITE, SHARE_RW, false)),
        codes::win32(ERROR_ACCESS_DENIED),
    );
    c.choice(
        "GetSecurityInfo(DACL) of the client",
        api.security_sddl(cl.raw(), DACL_SECURITY_INFORMATION)
            .unwrap_or_else(codes::win32),
        "D:P(A;;FA;;;SY)".into(),
    );
    c.choice(
        "GetSecurityInfo(OWNER) of the client",
        api.security_sddl(cl.raw(), OWNER_SECURITY_INFORMATION)
            .unwrap_or_else(codes::win32),
        String::new(),
    );
    Ok(())
}
