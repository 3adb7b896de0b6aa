//! kernel32 rows: names (case, pseudo-directories, reuse), lifetimes and bulk data.

use super::helpers::*;

pub(super) fn name_released_with_client(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    drop(s);
    let again = api.create_mailslot(Some(&c.win32(&rel)), 0, 0);
    c.choice(
        "CreateMailslotW of the name while a client is open",
        w32(&again),
        "ok".into(),
    );
    if let Ok(new) = &again {
        let r = api.write(cl.raw(), b"old client");
        c.choice(
            "the old client's write",
            w32(&r),
            w32_of(api, NtStatus::FILE_FORCED_CLOSED),
        );
        let i = info(c, new)?;
        c.choice("messages in the new slot", i.count.to_string(), "0".into());
    }
    Ok(())
}

pub(super) fn name_recreate(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"lost")?;
    drop(cl);
    drop(s);
    let again = server_at(c, &rel, 0, 0)?;
    expect_queue(c, &again, "the new slot", NO_MESSAGE, 0)?;
    Ok(())
}

pub(super) fn name_case_insensitive(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let rel = format!("{}CaseName", c.fresh());
    let s = server_at(c, &rel, 0, 0)?;
    let upper = c.win32(&rel.to_uppercase());
    let cl = c.need(
        "CreateFileW with the name upper-cased",
        api.open(&upper, GENERIC_WRITE, SHARE_RW, false)
            .map_err(codes::win32),
    )?;
    put(c, &cl, b"case")?;
    expect_queue(c, &s, "server", 4, 1)?;
    let dup = api.create_mailslot(Some(&c.win32(&rel.to_lowercase())), 0, 0);
    c.eq(
        "CreateMailslotW with the name lower-cased",
        w32(&dup),
        codes::win32(ERROR_ALREADY_EXISTS),
    );
    Ok(())
}

pub(super) fn name_pseudo_directories(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let base = c.fresh();
    let rel = format!("{base}\\abc\\def\\ghi");
    let s = server_at(c, &rel, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"deep")?;
    expect_queue(c, &s, "server", 4, 1)?;
    let other = api.open(
        &c.win32(&format!("{base}\\abc\\def\\gh")),
        GENERIC_WRITE,
        SHARE_RW,
        false,
    );
    c.eq(
        "CreateFileW of a sibling name",
        w32(&other),
        codes::win32(ERROR_FILE_NOT_FOUND),
    );
    Ok(())
}

pub(super) fn lifetime_duplicate_server(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let dup = c.need("DuplicateHandle", s.duplicate().map_err(codes::win32))?;
    drop(s);
    let cl = client(c, &rel)?;
    put(c, &cl, b"still")?;
    drop(cl);
    let got = take(c, "ReadFile on the duplicate", &dup, 16)?;
    c.eq("message", got.as_slice(), b"still".as_slice());
    drop(dup);
    let r = api.open(&c.win32(&rel), GENERIC_WRITE, SHARE_RW, false);
    c.eq(
        "CreateFileW after the last server handle closed",
        w32(&r),
        codes::win32(ERROR_FILE_NOT_FOUND),
    );
    Ok(())
}

/// A deterministic message of `len` bytes for message `i`.
pub(super) fn pattern(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (i * 31 + k * 7) as u8).collect()
}

pub(super) fn data_many(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let a = client(c, &rel)?;
    let b = client(c, &rel)?;
    // Batches of 50 (about 15 KB queued at most): what happens beyond a slot's default quota is
    // not this row's question (see nt.quota).
    const N: usize = 1000;
    const BATCH: usize = 50;
    // 1 to 600 bytes: zero-length messages have a row of their own.
    let len = |i: usize| 1 + i * 7 % 600;
    for first in (0..N).step_by(BATCH) {
        for i in first..first + BATCH {
            put(c, if i % 2 == 0 { &a } else { &b }, &pattern(i, len(i)))?;
        }
        for i in first..first + BATCH {
            let got = take(c, "ReadFile", &s, 601)?;
            if got != pattern(i, len(i)) {
                c.fail(format!(
                    "message {i}: {} bytes that differ from the {} written",
                    got.len(),
                    len(i)
                ));
                return Ok(());
            }
        }
    }
    let r = api.read(s.raw(), 601);
    c.eq(
        "ReadFile after the last message",
        read_err(&r),
        codes::win32(ERROR_SEM_TIMEOUT),
    );
    Ok(())
}

pub(super) fn data_64k(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    let msg = pattern(5, 65536);
    put(c, &cl, &msg)?;
    expect_queue(c, &s, "after the write", 65536, 1)?;
    let got = take(c, "ReadFile", &s, 65536)?;
    c.check(
        "64 KiB message intact",
        got == msg,
        format!("{} bytes, different", got.len()),
    );
    Ok(())
}

pub(super) fn info_client(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"xyz")?;
    let want = info(c, &s)?;
    let r = api.info(cl.raw());
    c.eq("GetMailslotInfo(client)", r.map_err(codes::win32), Ok(want));
    Ok(())
}
