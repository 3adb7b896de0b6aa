//! kernel32 rows: reads and writes, their errors and message boundaries.

use super::helpers::*;

pub(super) fn read_invalid_handle(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let r = api.read(system::INVALID_HANDLE_VALUE, 0);
    c.eq("ReadFile", read_err(&r), codes::win32(ERROR_INVALID_HANDLE));
    if let Err((_, n)) = r {
        c.eq("bytes read", n, 0);
    }
    Ok(())
}

pub(super) fn read_empty_zero_length(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let r = api.read(s.raw(), 0);
    c.eq(
        "ReadFile(0 bytes)",
        read_err(&r),
        codes::win32(ERROR_SEM_TIMEOUT),
    );
    if let Err((_, n)) = r {
        c.eq("bytes read", n, 0);
    }
    Ok(())
}

pub(super) fn read_empty(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let r = api.read(s.raw(), 16);
    c.eq(
        "ReadFile(16 bytes)",
        read_err(&r),
        codes::win32(ERROR_SEM_TIMEOUT),
    );
    Ok(())
}

pub(super) fn write_server(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let r = api.write(s.raw(), b"data");
    c.eq(
        "WriteFile(server)",
        w32(&r),
        codes::win32(ERROR_ACCESS_DENIED),
    );
    Ok(())
}

pub(super) fn open_share_none(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, _s) = server(c, 0, 0)?;
    let r = api.open(&c.win32(&rel), GENERIC_WRITE, 0, false);
    c.check(
        "client with share 0",
        matches!(r, Ok(_) | Err(ERROR_SHARING_VIOLATION)),
        w32(&r),
    );
    Ok(())
}

pub(super) fn open_read_write(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, _s) = server(c, 0, 0)?;
    let r = api.open(
        &c.win32(&rel),
        GENERIC_READ | GENERIC_WRITE,
        FILE_SHARE_READ,
        false,
    );
    c.eq(
        "client GENERIC_READ|GENERIC_WRITE, FILE_SHARE_READ",
        w32(&r),
        "ok".into(),
    );
    Ok(())
}

pub(super) fn server_unchanged_by_client(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let _cl = client(c, &rel)?;
    let r = api.read(s.raw(), 16);
    c.eq(
        "server ReadFile",
        read_err(&r),
        codes::win32(ERROR_SEM_TIMEOUT),
    );
    let w = api.write(s.raw(), b"x");
    c.eq(
        "server WriteFile",
        w32(&w),
        codes::win32(ERROR_ACCESS_DENIED),
    );
    Ok(())
}

pub(super) fn read_client(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, _s) = server(c, 0, 0)?;
    let rw = rw_client(c, &rel)?;
    let r = api.read(rw.raw(), 16);
    c.check(
        "ReadFile(read/write client)",
        matches!(r, Err((ERROR_INVALID_PARAMETER | ERROR_ACCESS_DENIED, _))),
        read_err(&r),
    );
    let wo = client(c, &rel)?;
    let r = api.read(wo.raw(), 16);
    c.eq(
        "ReadFile(write-only client)",
        read_err(&r),
        codes::win32(ERROR_ACCESS_DENIED),
    );
    Ok(())
}

pub(super) fn write_round_trip(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"Hi there")?;
    let got = take(c, "server ReadFile", &s, 16)?;
    c.eq("message", got.as_slice(), b"Hi there".as_slice());
    let r = api.read(s.raw(), 16);
    c.eq(
        "next ReadFile",
        read_err(&r),
        codes::win32(ERROR_SEM_TIMEOUT),
    );
    Ok(())
}

/// CreateMailslotW's handle is asynchronous, and ReadFile without an OVERLAPPED passes no byte
/// offset: the I/O manager lets that through only for a file object flagged FO_MAILSLOT (or a
/// pipe's, or a synchronous one).
pub(super) fn read_without_overlapped(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"plain")?;
    let got = take(c, "ReadFile(server, NULL OVERLAPPED)", &s, 16)?;
    c.eq("message", got.as_slice(), b"plain".as_slice());
    Ok(())
}

/// WriteFile without an OVERLAPPED on a client opened with FILE_FLAG_OVERLAPPED: no byte
/// offset on an asynchronous file object again.
pub(super) fn write_without_overlapped(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let path = c.win32(&rel);
    let cl = c.need(
        "CreateFileW(FILE_FLAG_OVERLAPPED)",
        api.open(&path, GENERIC_WRITE, SHARE_RW, true)
            .map_err(codes::win32),
    )?;
    put(c, &cl, b"async")?;
    let got = take(c, "server ReadFile", &s, 16)?;
    c.eq("message", got.as_slice(), b"async".as_slice());
    Ok(())
}

/// NtReadFile with a NULL ByteOffset on an asynchronous server handle (NtCreateMailslotFile
/// without FILE_SYNCHRONOUS_IO_*): the message, at once.
pub(super) fn nt_read_null_offset(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = nt_server(c, GENERIC_READ | SYNCHRONIZE, 0, 0, Some(0))?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"offset")?;
    let mut io = api.nt_read(s.raw(), 16, true);
    io.wait(2000);
    c.eq("NtReadFile(NULL ByteOffset)", st(io.final_status()), st(0));
    c.eq("data", io.data().as_slice(), b"offset".as_slice());
    Ok(())
}

pub(super) fn open_two_writers(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let a = client(c, &rel)?;
    let b = client(c, &rel)?;
    put(c, &a, b"1")?;
    put(c, &b, b"2")?;
    let i = info(c, &s)?;
    c.check("server saw both writers", i.next == 1, format!("{i:?}"));
    Ok(())
}

pub(super) fn order_fifo_boundaries(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let a = client(c, &rel)?;
    let b = client(c, &rel)?;
    put(c, &a, b"a")?;
    put(c, &b, b"bc")?;
    put(c, &a, b"def")?;
    for want in [&b"a"[..], b"bc", b"def"] {
        let got = take(c, "ReadFile", &s, 64)?;
        c.eq("message", got.as_slice(), want);
    }
    Ok(())
}

pub(super) fn info_count(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"a")?;
    put(c, &cl, b"bc")?;
    expect_queue(c, &s, "after writes of 1 and 2 bytes", 1, 2)?;
    take(c, "ReadFile", &s, 16)?;
    expect_queue(c, &s, "after one read", 2, 1)?;
    take(c, "ReadFile", &s, 16)?;
    expect_queue(c, &s, "after two reads", NO_MESSAGE, 0)?;
    Ok(())
}

pub(super) fn message_zero_length(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"")?;
    expect_queue(c, &s, "after a 0-byte write", 0, 1)?;
    let r = api.read(s.raw(), 16);
    c.eq(
        "ReadFile of the 0-byte message",
        read_err(&r),
        "ok, 0 bytes".into(),
    );
    expect_queue(c, &s, "after reading it", NO_MESSAGE, 0)?;
    Ok(())
}

pub(super) fn read_too_small(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"bc")?;
    let r = api.read(s.raw(), 1);
    c.eq(
        "ReadFile(1 byte)",
        read_err(&r),
        codes::win32(ERROR_INSUFFICIENT_BUFFER),
    );
    expect_queue(c, &s, "after the short read", 2, 1)?;
    let got = take(c, "ReadFile(16)", &s, 16)?;
    c.eq("message", got.as_slice(), b"bc".as_slice());
    Ok(())
}
