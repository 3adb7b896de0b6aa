//! ntdll rows: the native read, write, query and set calls.

use super::helpers::*;
use super::nt_namespace::plain_create;

pub(super) fn nt_read_empty(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let io = api.nt_read(s.raw(), 16, true);
    c.eq("NtReadFile", st(io.status()), st_of(NtStatus::IO_TIMEOUT));
    expect_untouched(c, &*io);
    Ok(())
}

pub(super) fn nt_write_server_no_access(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let io = api.nt_write(s.raw(), b"data");
    c.eq(
        "NtWriteFile",
        st(io.status()),
        st_of(NtStatus::ACCESS_DENIED),
    );
    expect_untouched(c, &*io);
    Ok(())
}

pub(super) fn nt_read_client(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, _s) = server(c, 0, 0)?;
    let rw = rw_client(c, &rel)?;
    let io = api.nt_read(rw.raw(), 16, true);
    c.eq(
        "NtReadFile(client)",
        st(io.status()),
        st_of(NtStatus::INVALID_PARAMETER),
    );
    expect_untouched(c, &*io);
    Ok(())
}

pub(super) fn nt_read_too_small(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"bc")?;
    let io = api.nt_read(s.raw(), 1, true);
    c.eq(
        "NtReadFile(1 byte)",
        st(io.status()),
        st_of(NtStatus::BUFFER_TOO_SMALL),
    );
    expect_untouched(c, &*io);
    drop(io);
    expect_queue(c, &s, "after the short read", 2, 1)?;
    Ok(())
}

pub(super) fn nt_query_server(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"bc")?;
    let q = query(c, &s)?;
    c.eq("(max, quota, next, count, timeout)", q, (0, 0, 2, 1, 0));
    Ok(())
}

pub(super) fn nt_query_client(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"bc")?;
    let want = query(c, &s)?;
    let got = query(c, &cl)?;
    c.eq("client's query", got, want);
    Ok(())
}

pub(super) fn nt_query_short(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let (status, _, _) = api.nt_query_information(s.raw(), FILE_MAILSLOT_QUERY_INFORMATION, 23);
    c.eq(
        "NtQueryInformationFile(26, 23 bytes)",
        st(status),
        st_of(NtStatus::INFO_LENGTH_MISMATCH),
    );
    Ok(())
}

pub(super) fn nt_create_null_timeout(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let rel = c.fresh();
    let path = c.nt(&rel);
    let r = api.nt_create_mailslot(
        &NtName::path(&path),
        GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE,
        0,
        0,
        0,
        None,
    );
    c.eq(
        "NtCreateMailslotFile",
        st(r.status),
        st_of(NtStatus::SUCCESS),
    );
    if r.handle.is_some() {
        c.eq(
            "IOSB",
            r.iosb.describe(),
            format!("{{{}, {FILE_CREATED}}}", st(0)),
        );
    }
    Ok(())
}

pub(super) fn nt_write_server_with_access(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = nt_server(c, GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE, 0, 0, None)?;
    let io = api.nt_write(s.raw(), b"data");
    c.eq(
        "NtWriteFile(server with write access)",
        st(io.status()),
        st_of(NtStatus::INVALID_PARAMETER),
    );
    expect_untouched(c, &*io);
    Ok(())
}

pub(super) fn nt_read_pending(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = nt_server(c, GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE, 0, 0, None)?;
    let mut io = api.nt_read(s.raw(), 16, false);
    c.eq("NtReadFile", st(io.status()), st(STATUS_PENDING));
    if io.status() != STATUS_PENDING {
        return Ok(());
    }
    c.check(
        "IOSB untouched while pending",
        io.iosb().untouched(),
        io.iosb().describe(),
    );
    c.eq(
        "WaitForSingleObject(server, 0)",
        api.wait_result(s.raw(), 0),
        WAIT_TIMEOUT,
    );
    let cl = client(c, &rel)?;
    put(c, &cl, b"data")?;
    c.eq(
        "WaitForSingleObject(server, 1000)",
        api.wait_result(s.raw(), 1000),
        0,
    );
    io.wait(0);
    c.eq("IOSB", io.iosb().describe(), format!("{{{}, 4}}", st(0)));
    c.eq("data", io.data().as_slice(), b"data".as_slice());
    Ok(())
}

pub(super) fn nt_query_timeout_raw(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (_, s) = server(c, 0, 1000)?;
    let q = query(c, &s)?;
    c.eq("ReadTimeout for 1000 ms", q.4, -10_000_000);
    let (_, f) = server(c, 0, MAILSLOT_WAIT_FOREVER)?;
    let q = query(c, &f)?;
    c.eq("ReadTimeout for MAILSLOT_WAIT_FOREVER", q.4, -1);
    Ok(())
}

pub(super) fn nt_set_pointer(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let (status, iosb) = api.nt_set_mailslot_timeout(s.raw(), -5_000_000);
    c.eq("NtSetInformationFile(27, &-5000000)", st(status), st(0));
    c.eq("IOSB", iosb.describe(), format!("{{{}, 0}}", st(0)));
    let q = query(c, &s)?;
    c.eq("ReadTimeout read back", q.4, -5_000_000);
    let i = info(c, &s)?;
    c.eq("GetMailslotInfo timeout", i.timeout, 500);
    Ok(())
}

pub(super) fn nt_set_short(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    // One byte short of the caller's FILE_MAILSLOT_SET_INFORMATION (a pointer).
    let short = api.host().pointer_bytes - 1;
    let (status, _) =
        api.nt_set_information(s.raw(), FILE_MAILSLOT_SET_INFORMATION, &vec![0; short]);
    c.eq(
        &format!("NtSetInformationFile(27, {short} bytes)"),
        st(status),
        st_of(NtStatus::INFO_LENGTH_MISMATCH),
    );
    Ok(())
}

pub(super) fn nt_create_duplicate(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, _s) = server(c, 0, 0)?;
    let path = c.nt(&rel);
    let r = plain_create(c, &NtName::path(&path));
    c.eq(
        "NtCreateMailslotFile of an existing name",
        st(r.status),
        st_of(NtStatus::OBJECT_NAME_COLLISION),
    );
    Ok(())
}

pub(super) fn nt_open_missing(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let rel = c.fresh();
    let path = c.nt(&rel);
    let r = api.nt_open(
        &NtName::path(&path),
        GENERIC_WRITE | SYNCHRONIZE,
        SHARE_RW,
        system::FILE_OPEN,
        0,
    );
    c.eq(
        "NtCreateFile(FILE_OPEN) of a missing name",
        st(r.status),
        st_of(NtStatus::OBJECT_NAME_NOT_FOUND),
    );
    Ok(())
}
