//! kernel32 rows: read timeouts, overlapped and cancelled reads, and what a closed server
//! leaves behind; flush.

use super::helpers::*;

pub(super) fn read_timeout(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 1000)?;
    let t = Instant::now();
    let r = api.read(s.raw(), 16);
    let ms = elapsed_ms(t);
    c.eq("ReadFile", read_err(&r), codes::win32(ERROR_SEM_TIMEOUT));
    c.check("waited at least 900 ms", ms >= 900, format!("{ms} ms"));
    c.check("returned within 5 s", ms < 5000, format!("{ms} ms"));
    Ok(())
}

pub(super) fn set_timeout(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    c.need(
        "SetMailslotInfo(200)",
        api.set_timeout(s.raw(), 200).map_err(codes::win32),
    )?;
    let i = info(c, &s)?;
    c.eq("timeout read back", i.timeout, 200);
    let t = Instant::now();
    let r = api.read(s.raw(), 16);
    let ms = elapsed_ms(t);
    c.eq("ReadFile", read_err(&r), codes::win32(ERROR_SEM_TIMEOUT));
    c.check("waited at least 180 ms", ms >= 180, format!("{ms} ms"));
    c.check("returned within 5 s", ms < 5000, format!("{ms} ms"));
    c.need(
        "SetMailslotInfo(0)",
        api.set_timeout(s.raw(), 0).map_err(codes::win32),
    )?;
    let t = Instant::now();
    let r = api.read(s.raw(), 16);
    let ms = elapsed_ms(t);
    c.eq(
        "ReadFile after timeout 0",
        read_err(&r),
        codes::win32(ERROR_SEM_TIMEOUT),
    );
    c.check(
        "returned at once (under 500 ms)",
        ms < 500,
        format!("{ms} ms"),
    );
    Ok(())
}

pub(super) fn set_forever(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    c.need(
        "SetMailslotInfo(FOREVER)",
        api.set_timeout(s.raw(), MAILSLOT_WAIT_FOREVER)
            .map_err(codes::win32),
    )?;
    let i = info(c, &s)?;
    c.eq("timeout read back", i.timeout, MAILSLOT_WAIT_FOREVER);
    Ok(())
}

pub(super) fn read_overlapped_pending(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, MAILSLOT_WAIT_FOREVER)?;
    let cl = client(c, &rel)?;
    let mut rd = api.read_overlapped(s.raw(), 64);
    c.eq(
        "ReadFile(OVERLAPPED)",
        w32(&rd.started()),
        codes::win32(ERROR_IO_PENDING),
    );
    std::thread::sleep(Duration::from_millis(100));
    c.check("still pending after 100 ms", rd.is_pending(), "completed");
    put(c, &cl, b"data")?;
    match rd.wait(2000) {
        Some(Ok(d)) => c.eq("message", d.as_slice(), b"data".as_slice()),
        Some(Err(e)) => c.fail(format!("GetOverlappedResult: {}", codes::win32(e))),
        None => c.fail("the write did not complete the pending read within 2 s"),
    }
    Ok(())
}

pub(super) fn read_cancel(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, MAILSLOT_WAIT_FOREVER)?;
    let mut rd = api.read_overlapped(s.raw(), 64);
    c.eq(
        "ReadFile(OVERLAPPED)",
        w32(&rd.started()),
        codes::win32(ERROR_IO_PENDING),
    );
    let r = rd.cancel();
    c.check("CancelIoEx", r.is_ok(), w32(&r));
    match rd.wait(2000) {
        Some(r) => c.eq(
            "GetOverlappedResult",
            w32(&r),
            codes::win32(ERROR_OPERATION_ABORTED),
        ),
        None => c.fail("the cancelled read did not complete within 2 s"),
    }
    let cl = client(c, &rel)?;
    put(c, &cl, b"after")?;
    expect_queue(c, &s, "a write after the cancel", 5, 1)?;
    Ok(())
}

pub(super) fn read_pending_at_close(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, MAILSLOT_WAIT_FOREVER)?;
    let mut rd = api.read_overlapped(s.raw(), 64);
    c.eq(
        "ReadFile(OVERLAPPED)",
        w32(&rd.started()),
        codes::win32(ERROR_IO_PENDING),
    );
    drop(s);
    let got = match rd.wait(2000) {
        Some(r) => format!("completed: {}", w32(&r)),
        None => "still pending 2 s after CloseHandle".into(),
    };
    c.choice(
        "pending read when the server handle is closed",
        got,
        format!("completed: {}", w32_of(api, NtStatus::CANCELLED)),
    );
    Ok(())
}

pub(super) fn write_oversize(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 16, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, &[7; 16])?;
    let r = api.write(cl.raw(), &[8; 17]);
    c.choice(
        "17-byte write to a slot with MaximumMessageSize 16",
        w32(&r),
        w32_of(api, NtStatus::INVALID_PARAMETER),
    );
    let i = info(c, &s)?;
    c.choice(
        "messages queued afterwards",
        i.count.to_string(),
        "1".into(),
    );
    Ok(())
}

pub(super) fn write_orphaned_client(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    drop(s);
    let r = api.write(cl.raw(), b"late");
    c.choice(
        "client write after the server handle is closed",
        w32(&r),
        w32_of(api, NtStatus::FILE_FORCED_CLOSED),
    );
    Ok(())
}

/// FlushFileBuffers on a client and on the server. rsmailslot: a flush of a client succeeds
/// (a write is queued whole before it completes: nothing is buffered); the server's handle has
/// no write access, which the I/O manager requires of a flush.
pub(super) fn flush(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    c.choice(
        "FlushFileBuffers(client)",
        w32(&api.flush(cl.raw())),
        "ok".into(),
    );
    c.choice(
        "FlushFileBuffers(server)",
        w32(&api.flush(s.raw())),
        codes::win32(ERROR_ACCESS_DENIED),
    );
    Ok(())
}
