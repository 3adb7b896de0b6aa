//! kernel32 rows: creating mailslots and opening them as a client.

use super::helpers::*;

pub(super) fn info_invalid_handle(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let r = api.info(system::INVALID_HANDLE_VALUE);
    c.check("GetMailslotInfo(INVALID_HANDLE_VALUE)", r.is_err(), w32(&r));
    Ok(())
}

pub(super) fn open_missing(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let rel = c.fresh();
    let r = api.open(&c.win32(&rel), GENERIC_WRITE, SHARE_RW, false);
    c.eq("CreateFileW", w32(&r), codes::win32(ERROR_FILE_NOT_FOUND));
    Ok(())
}

pub(super) fn create_not_mailslot(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let r = api.create_mailslot(Some("blah"), 0, 0);
    c.eq(
        "CreateMailslotW(\"blah\")",
        w32(&r),
        codes::win32(ERROR_INVALID_NAME),
    );
    Ok(())
}

pub(super) fn create_null_name(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let r = api.create_mailslot(None, 0, 0);
    c.eq(
        "CreateMailslotW(NULL)",
        w32(&r),
        codes::win32(ERROR_PATH_NOT_FOUND),
    );
    Ok(())
}

pub(super) fn create_values_verbatim(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0xFFFF_FFFF, MAILSLOT_WAIT_FOREVER)?;
    let i = info(c, &s)?;
    c.eq(
        "info",
        i,
        system::Info {
            max: 0xFFFF_FFFF,
            next: NO_MESSAGE,
            count: 0,
            timeout: MAILSLOT_WAIT_FOREVER,
        },
    );
    let r = api.info_null_outputs(s.raw());
    c.check("GetMailslotInfo with NULL outputs", r.is_ok(), w32(&r));
    Ok(())
}

pub(super) fn create_zero_values(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (_, s) = server(c, 0, 0)?;
    let i = info(c, &s)?;
    c.eq(
        "info",
        i,
        system::Info {
            max: 0,
            next: NO_MESSAGE,
            count: 0,
            timeout: 0,
        },
    );
    Ok(())
}

pub(super) fn create_duplicate(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, _s) = server(c, 0, 0)?;
    let r = api.create_mailslot(Some(&c.win32(&rel)), 0, 0);
    c.eq(
        "second CreateMailslotW",
        w32(&r),
        codes::win32(ERROR_ALREADY_EXISTS),
    );
    Ok(())
}
