//! ntdll rows: NtCreateMailslotFile's arguments and limits, peek, directory and volume.

use super::helpers::*;

/// NtCreateMailslotFile with read access, options 0, no quota or size limit, timeout 0: the
/// create the name rows vary only the name of.
pub(super) fn plain_create<'a>(c: &Ctx<'a>, n: &NtName<'_>) -> NtCreated<'a> {
    let api = c.api;
    api.nt_create_mailslot(n, GENERIC_READ | SYNCHRONIZE, 0, 0, 0, Some(0))
}

pub(super) fn create_with(c: &mut Ctx<'_>, what: &str, n: NtName<'_>, want: i32) {
    let r = plain_create(c, &n);
    c.eq(what, st(r.status), st(want));
}

pub(super) const STATUS_INVALID_HANDLE: i32 = 0xC000_0008u32 as i32;

pub(super) fn nt_create_bad_attributes(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let rel = c.fresh();
    let path = c.nt(&rel);
    let bad_root = system::BAD_HANDLE;
    create_with(
        c,
        "empty name, no root",
        NtName::path(""),
        NtStatus::OBJECT_PATH_SYNTAX_BAD.0,
    );
    create_with(
        c,
        "bad root handle",
        NtName {
            root: bad_root,
            ..NtName::path(&rel)
        },
        STATUS_INVALID_HANDLE,
    );
    create_with(
        c,
        "OBJECT_ATTRIBUTES.Length one short",
        NtName {
            attributes_length: Some(47),
            ..NtName::path(&path)
        },
        NtStatus::INVALID_PARAMETER.0,
    );
    create_with(
        c,
        "NULL OBJECT_ATTRIBUTES",
        NtName {
            null_attributes: true,
            ..NtName::path(&path)
        },
        NtStatus::INVALID_PARAMETER.0,
    );
    create_with(
        c,
        "odd name length",
        NtName {
            length: Some(path.len() as u16 * 2 - 1),
            ..NtName::path(&path)
        },
        NtStatus::OBJECT_NAME_INVALID.0,
    );
    create_with(
        c,
        "NULL ObjectName, no root",
        NtName {
            name: None,
            ..NtName::path("")
        },
        NtStatus::OBJECT_PATH_SYNTAX_BAD.0,
    );
    create_with(
        c,
        "NULL ObjectName, bad root",
        NtName {
            name: None,
            root: bad_root,
            ..NtName::path("")
        },
        NtStatus::OBJECT_NAME_INVALID.0,
    );
    Ok(())
}

pub(super) fn nt_create_name_limits(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let Some(device) = c.ns.device.clone() else {
        return Err(c.skip("needs the device's NT name (native or rsmailslot namespace)"));
    };
    let base = c.fresh();
    let fill = |total_bytes: usize| {
        let units = total_bytes / 2 - device.len() - base.len();
        format!("{device}{base}{}", "a".repeat(units))
    };
    let ok = fill(65_532);
    let r = plain_create(c, &NtName::path(&ok));
    c.eq("65,532-byte name", st(r.status), st(0));
    drop(r);
    let long = fill(65_534);
    let r = plain_create(c, &NtName::path(&long));
    c.eq(
        "65,534-byte name",
        st(r.status),
        st_of(NtStatus::OBJECT_NAME_INVALID),
    );
    Ok(())
}

pub(super) fn nt_peek(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"hello")?;
    put(c, &cl, b"xy")?;
    let mut io = api.nt_fsctl(s.raw(), FSCTL_MAILSLOT_PEEK, &[0; 12], 64);
    if !io.wait(2000) {
        c.fail("FSCTL_MAILSLOT_PEEK did not complete within 2 s");
        return Ok(());
    }
    let status = io.final_status();
    c.choice("status", st(status), st_of(NtStatus::SUCCESS));
    c.choice(
        "IOSB.Information",
        io.iosb().information.to_string(),
        "17".into(),
    );
    let header = |b: &[u8]| {
        format!(
            "{{{}, {}, {}}}",
            bytes::u32_at(b, 0).unwrap_or(0),
            bytes::u32_at(b, 4).unwrap_or(0),
            bytes::u32_at(b, 8).unwrap_or(0)
        )
    };
    c.choice(
        "input buffer afterwards",
        header(&io.aux()),
        "{0, 0, 0}".into(),
    );
    c.choice("output header", header(&io.buf()), "{7, 2, 5}".into());
    c.choice(
        "output bytes 12..17",
        format!("{:?}", String::from_utf8_lossy(&io.buf()[12..17])),
        "\"hello\"".into(),
    );
    drop(io);
    let i = info(c, &s)?;
    c.choice(
        "messages queued after the peek",
        i.count.to_string(),
        "2".into(),
    );
    Ok(())
}

pub(super) fn nt_directory_list(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, _s) = server(c, 0, 0)?;
    let root_path = c.ns.nt.clone();
    let r = api.nt_open(
        &NtName::path(&root_path),
        FILE_LIST_DIRECTORY | SYNCHRONIZE,
        SHARE_RW | FILE_SHARE_DELETE,
        system::FILE_OPEN,
        FILE_SYNCHRONOUS_IO_NONALERT,
    );
    let Some(root) = r.handle else {
        c.fail(format!("opening the root {root_path}: {}", st(r.status)));
        return Ok(());
    };
    // One entry at a time, as WinObjEx64 lists mailslots, until the scan ends.
    let mut seen = Vec::new();
    for i in 0..100_000 {
        let mut io = api.nt_query_directory(
            root.raw(),
            FILE_DIRECTORY_INFORMATION,
            4096,
            true,
            None,
            i == 0,
        );
        io.wait(2000);
        let status = io.final_status();
        if status < 0 || io.iosb().information == 0 {
            if seen.is_empty() {
                c.fail(format!("first NtQueryDirectoryFile: {}", st(status)));
            }
            break;
        }
        seen.extend(bytes::directory_names(&io.buf(), io.iosb().information));
    }
    c.check(
        "the new mailslot is listed",
        seen.iter().any(|n| n.eq_ignore_ascii_case(&rel)),
        format!("{} entries without {rel}", seen.len()),
    );
    Ok(())
}

pub(super) fn nt_volume_device(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (_, s) = server(c, 0, 0)?;
    let (status, _, b) = api.nt_query_volume(s.raw(), FILE_FS_DEVICE_INFORMATION, 8);
    c.eq(
        "NtQueryVolumeInformationFile(FileFsDeviceInformation)",
        st(status),
        st(0),
    );
    c.eq(
        "DeviceType",
        bytes::u32_at(&b, 0),
        Some(FILE_DEVICE_MAILSLOT),
    );
    Ok(())
}

pub(super) fn nt_standard_information(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    put(c, &cl, b"abc")?;
    put(c, &cl, b"defg")?;
    let (status, iosb, b) = api.nt_query_information(s.raw(), FILE_STANDARD_INFORMATION, 24);
    c.choice(
        "NtQueryInformationFile(FileStandardInformation)",
        st(status),
        st(0),
    );
    if status >= 0 {
        let got = format!(
            "allocation {}, end of file {}, links {}, delete pending {}, directory {}, information {}",
            bytes::i64_at(&b, 0).unwrap_or(0),
            bytes::i64_at(&b, 8).unwrap_or(0),
            bytes::u32_at(&b, 16).unwrap_or(0),
            b[20],
            b[21],
            iosb.information
        );
        c.choice(
            "record",
            got,
            "allocation 7, end of file 7, links 1, delete pending 0, directory 0, information 24"
                .into(),
        );
    }
    Ok(())
}

pub(super) fn nt_write_iosb(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = server(c, 0, 0)?;
    let cl = client(c, &rel)?;
    let mut io = api.nt_write(cl.raw(), b"bc");
    io.wait(2000);
    c.eq("NtWriteFile(2 bytes)", st(io.final_status()), st(0));
    c.eq("IOSB", io.iosb().describe(), format!("{{{}, 2}}", st(0)));
    let mut io = api.nt_write(cl.raw(), b"");
    io.wait(2000);
    c.eq("NtWriteFile(0 bytes)", st(io.final_status()), st(0));
    c.eq("IOSB", io.iosb().describe(), format!("{{{}, 0}}", st(0)));
    let q = query(c, &s)?;
    c.eq("NextMessageSize", q.2, 2);
    Ok(())
}

pub(super) fn nt_quota(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let api = c.api;
    let (rel, s) = nt_server(c, GENERIC_READ | SYNCHRONIZE, 64, 0, Some(0))?;
    let q = query(c, &s)?;
    c.choice("quota read back", q.1.to_string(), "64".into());
    let cl = client(c, &rel)?;
    let mut results = Vec::new();
    for _ in 0..3 {
        let mut io = api.nt_write(cl.raw(), &[1; 40]);
        io.wait(2000);
        results.push(st(io.final_status()));
    }
    c.choice(
        "three 40-byte writes to a slot with quota 64",
        results.join(", "),
        format!(
            "{}, {}, {}",
            st(0),
            st_of(NtStatus::QUOTA_EXCEEDED),
            st_of(NtStatus::QUOTA_EXCEEDED)
        ),
    );
    Ok(())
}

pub(super) fn nt_create_values(c: &mut Ctx<'_>) -> Result<(), Stop> {
    let (_, s) = nt_server(c, GENERIC_READ | SYNCHRONIZE, 4096, 100, Some(-10_000_000))?;
    let q = query(c, &s)?;
    c.eq("ReadTimeout read back", q.4, -10_000_000);
    c.choice(
        "(MaximumMessageSize, MailslotQuota) read back",
        format!("({}, {})", q.0, q.1),
        "(100, 4096)".into(),
    );
    Ok(())
}
