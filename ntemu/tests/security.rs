//! A mailslot's own security descriptor against the real rsmailslot.sys: the one its creator
//! passes to CreateMailslotW is kept and checked on every client open, with the requester's
//! token, so a slot created with an explicit DACL admits whom it grants (with what it grants)
//! and refuses everyone else with ERROR_ACCESS_DENIED; a slot created without one keeps
//! today's default (any user may open it).

use ntemu::cpu::Role;
use ntemu::kernel32::Variant;
use ntemu::se::{Ace, AceKind, SecurityDescriptor, Sid, Token, FILE_GENERIC_WRITE, GENERIC_ALL};
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::Api;

mod common;

const GENERIC_READ: u32 = 0x8000_0000;
const GENERIC_WRITE: u32 = 0x4000_0000;
const FILE_READ_ATTRIBUTES: u32 = 0x80;
const ERROR_ACCESS_DENIED: u32 = 5;
const ERROR_INVALID_SECURITY_DESCR: u32 = 1338;

fn allow(mask: u32, sid: &Sid) -> Ace {
    Ace {
        kind: AceKind::Allow,
        flags: 0,
        mask,
        sid: sid.clone(),
    }
}

/// A protected DACL of `aces`, owned by `owner`, in self-relative form.
fn descriptor(owner: &Sid, aces: Vec<Ace>) -> Vec<u8> {
    SecurityDescriptor {
        owner: Some(owner.clone()),
        group: None,
        dacl: Some(aces),
        protected: true,
    }
    .to_self_relative()
}

#[test]
fn a_creators_dacl_decides_who_opens_its_mailslot() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let (alice, bob) = (Token::standard_user(1001), Token::standard_user(1002));
    let a = Emulated::new(m, alice.clone(), Variant::ReactOs);
    let b = Emulated::new(m, bob.clone(), Variant::Wine);
    let admin = Emulated::new(m, Token::elevated_administrator(), Variant::ReactOs);
    let (api_a, api_b, api_admin) = (Api(&a), Api(&b), Api(&admin));
    let create = |name: &str, sd: Option<&[u8]>| {
        m.attach(Role::User);
        a.k32.create_mailslot_secured(Some(name), 0, 0, sd)
    };

    // Alice only (and SYSTEM).
    let private = r"\\.\RsMailslot\sec\private";
    let sd = descriptor(
        &alice.user,
        vec![
            allow(GENERIC_ALL, &alice.user),
            allow(GENERIC_ALL, &Sid::local_system()),
        ],
    );
    let server = create(private, Some(&sd)).expect("CreateMailslotW with Alice's DACL");
    assert_eq!(
        api_b.open(private, GENERIC_WRITE, 3, false).map(|_| ()),
        Err(ERROR_ACCESS_DENIED),
        "Bob is not in the DACL"
    );
    assert_eq!(
        api_admin.open(private, GENERIC_WRITE, 3, false).map(|_| ()),
        Err(ERROR_ACCESS_DENIED),
        "an administrator not in the DACL is refused too"
    );
    let mine = api_a
        .open(private, GENERIC_WRITE, 3, false)
        .expect("Alice opens her own mailslot");
    assert_eq!(api_a.write(mine.raw(), b"to myself"), Ok(9));
    assert_eq!(
        api_a.read(server, 64).map_err(|e| e.0),
        Ok(b"to myself".to_vec())
    );

    // Bob may write, and only write (CreateFileW also asks for FILE_READ_ATTRIBUTES and
    // SYNCHRONIZE, which a write-only grant must include): the access granted is what the
    // engine's handle gets.
    let drop_box = r"\\.\RsMailslot\sec\drop-box";
    let sd = descriptor(
        &alice.user,
        vec![
            allow(GENERIC_ALL, &alice.user),
            allow(FILE_GENERIC_WRITE | FILE_READ_ATTRIBUTES, &bob.user),
        ],
    );
    let box_server = create(drop_box, Some(&sd)).expect("CreateMailslotW");
    let bobs = api_b
        .open(drop_box, GENERIC_WRITE, 3, false)
        .expect("Bob may open it for writing");
    assert_eq!(api_b.write(bobs.raw(), b"from bob"), Ok(8));
    assert_eq!(
        api_a.read(box_server, 64).map_err(|e| e.0),
        Ok(b"from bob".to_vec())
    );
    assert_eq!(
        api_b
            .open(drop_box, GENERIC_READ | GENERIC_WRITE, 3, false)
            .map(|_| ()),
        Err(ERROR_ACCESS_DENIED),
        "read is not granted to Bob"
    );

    // No descriptor: today's default, any user opens it.
    let open_slot = r"\\.\RsMailslot\sec\open";
    let open_server = create(open_slot, None).expect("CreateMailslotW");
    let anyone = api_b
        .open(open_slot, GENERIC_WRITE, 3, false)
        .expect("a slot without a descriptor admits any user");
    assert_eq!(api_b.write(anyone.raw(), b"hi"), Ok(2));

    // A descriptor longer than a slot keeps (msfs::MAX_SECURITY_BYTES) is refused.
    let many: Vec<Ace> = (0..300)
        .map(|i| allow(GENERIC_ALL, &Sid::new(5, &[21, 1, 2, 3, 2000 + i])))
        .collect();
    let big = descriptor(&alice.user, many);
    assert!(big.len() > 4096);
    assert_eq!(
        create(r"\\.\RsMailslot\sec\big", Some(&big)).map(|_| ()),
        Err(ERROR_INVALID_SECURITY_DESCR)
    );

    // GetSecurityInfo of a handle to a slot with a descriptor returns what its creator set;
    // of one without, the I/O manager's world descriptor (owner Everyone), as before.
    assert_eq!(
        api_a.security_owner(mine.raw()),
        Ok(format!("{:?}", alice.user)),
        "the owner Alice set"
    );
    assert_eq!(
        api_b.security_owner(anyone.raw()),
        Ok(format!("{:?}", Sid::everyone()))
    );
    {
        use ntemu::io::security::nt_query_security_object;
        use ntemu::process::UserMem;
        const DACL_SECURITY_INFORMATION: u32 = 4;
        const STATUS_BUFFER_TOO_SMALL: i32 = 0xC000_0023u32 as i32;
        m.attach(Role::User);
        let needed = UserMem::new(4);
        let small = UserMem::new(8);
        let status = nt_query_security_object(
            b.k32.caller(),
            bobs.raw(),
            DACL_SECURITY_INFORMATION,
            small.addr,
            8,
            needed.addr,
        );
        assert_eq!(status, STATUS_BUFFER_TOO_SMALL);
        let len = needed.u32_at(0) as usize;
        let buf = UserMem::new(len);
        let status = nt_query_security_object(
            b.k32.caller(),
            bobs.raw(),
            DACL_SECURITY_INFORMATION,
            buf.addr,
            len as u32,
            needed.addr,
        );
        assert_eq!(status, 0, "NtQuerySecurityObject(DACL)");
        let got = SecurityDescriptor::from_self_relative(&buf.read(0, len)).expect("a descriptor");
        let set = SecurityDescriptor::from_self_relative(&sd).expect("the one set");
        assert_eq!(got.dacl, set.dacl, "the DACL the creator set");
        assert_eq!(got.owner, None, "only the DACL was asked for");
    }
    drop((mine, bobs, anyone));
    m.attach(Role::User);
    for h in [server, box_server, open_server] {
        a.k32.close_handle(h).expect("CloseHandle");
    }
    drop((a, b, admin));
    m.unload();
    m.shutdown();
}

/// SetSecurityInfo on a mailslot handle: the server of a slot without a descriptor gives it
/// one, which decides every later open (handles already open keep their access); a client of
/// such a slot cannot; the owner can only be one the caller's token may assign; generic rights
/// are mapped as the kernel maps them; a MAXIMUM_ALLOWED open gets WRITE_DAC only where the
/// descriptor grants it; a descriptor past 4 KiB is refused.
#[test]
fn set_security_info_changes_who_opens_a_mailslot() {
    const OWNER: u32 = 1;
    const DACL: u32 = 4;
    const WRITE_DAC: u32 = 0x0004_0000;
    const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
    const ERROR_INVALID_OWNER: u32 = 1307;
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let (alice, bob) = (Token::standard_user(1001), Token::standard_user(1002));
    let a = Emulated::new(m, alice.clone(), Variant::ReactOs);
    let b = Emulated::new(m, bob.clone(), Variant::Wine);
    let admin_token = Token::elevated_administrator();
    let admin = Emulated::new(m, admin_token.clone(), Variant::ReactOs);
    let (api_a, api_b) = (Api(&a), Api(&b));
    let dacl_of = |aces: Vec<Ace>| descriptor(&alice.user, aces);
    let name = r"\\.\RsMailslot\sec\later";
    m.attach(Role::User);
    let server = a
        .k32
        .create_mailslot_secured(Some(name), 0, 0, None)
        .expect("CreateMailslotW without a descriptor");

    // Before: anyone opens, even asking for WRITE_DAC, but a client's handle to a slot
    // without a descriptor cannot give it one.
    let early = api_b
        .open(name, GENERIC_WRITE | WRITE_DAC, 3, false)
        .expect("the default admits Bob");
    let only_alice = dacl_of(vec![allow(GENERIC_ALL, &alice.user)]);
    m.attach(Role::User);
    assert_eq!(
        b.k32.set_security_info(early.raw(), DACL, &only_alice),
        Err(ERROR_ACCESS_DENIED)
    );

    // The server gives it Alice's DACL: Bob's next open is refused, his open handle still
    // writes, Alice opens.
    m.attach(Role::User);
    a.k32
        .set_security_info(server, DACL, &only_alice)
        .expect("SetSecurityInfo(DACL) through the server");
    assert_eq!(
        api_b.open(name, GENERIC_WRITE, 3, false).map(|_| ()),
        Err(ERROR_ACCESS_DENIED)
    );
    assert_eq!(api_b.write(early.raw(), b"still"), Ok(5));
    let mine = api_a
        .open(name, MAXIMUM_ALLOWED, 3, false)
        .expect("Alice's MAXIMUM_ALLOWED open");
    // What GetSecurityInfo returns: the DACL as the kernel merged it, GENERIC_ALL mapped to
    // FILE_ALL_ACCESS; no owner, since the slot had none and none was set.
    m.attach(Role::User);
    let got = a
        .k32
        .security_info(mine.raw(), DACL | OWNER)
        .expect("query");
    let got = SecurityDescriptor::from_self_relative(&got).expect("a descriptor");
    assert_eq!(
        got.dacl,
        Some(vec![allow(ntemu::se::FILE_ALL_ACCESS, &alice.user)])
    );
    assert!(got.protected);
    assert_eq!(got.owner, None);

    // MAXIMUM_ALLOWED was resolved to what the DACL grants, WRITE_DAC included: Alice changes
    // it again through her client, adding Bob.
    let with_bob = dacl_of(vec![
        allow(GENERIC_ALL, &alice.user),
        allow(FILE_GENERIC_WRITE | FILE_READ_ATTRIBUTES, &bob.user),
    ]);
    m.attach(Role::User);
    a.k32
        .set_security_info(mine.raw(), DACL, &with_bob)
        .expect("through a MAXIMUM_ALLOWED client");
    let bobs = api_b
        .open(name, MAXIMUM_ALLOWED, 3, false)
        .expect("Bob is in the DACL now");
    assert_eq!(api_b.write(bobs.raw(), b"hi"), Ok(2));
    // Bob's MAXIMUM_ALLOWED handle holds no WRITE_DAC: the I/O manager refuses his change.
    m.attach(Role::User);
    assert_eq!(
        b.k32.set_security_info(bobs.raw(), DACL, &only_alice),
        Err(ERROR_ACCESS_DENIED)
    );

    // The owner: Bob's SID is not Alice's to assign; her own is. The server handle holds
    // WRITE_DAC but not WRITE_OWNER (CreateMailslotW does not ask for it).
    let owned_by = |sid: &Sid| {
        SecurityDescriptor {
            owner: Some(sid.clone()),
            group: None,
            dacl: None,
            protected: false,
        }
        .to_self_relative()
    };
    m.attach(Role::User);
    assert_eq!(
        a.k32
            .set_security_info(server, OWNER, &owned_by(&alice.user)),
        Err(ERROR_ACCESS_DENIED),
        "no WRITE_OWNER on the server handle"
    );
    let full = api_a
        .open(name, GENERIC_ALL, 3, false)
        .expect("Alice's GENERIC_ALL open");
    m.attach(Role::User);
    assert_eq!(
        a.k32
            .set_security_info(full.raw(), OWNER, &owned_by(&bob.user)),
        Err(ERROR_INVALID_OWNER)
    );
    a.k32
        .set_security_info(full.raw(), OWNER, &owned_by(&alice.user))
        .expect("Alice makes herself the owner");
    assert_eq!(
        api_a.security_owner(full.raw()),
        Ok(format!("{:?}", alice.user))
    );

    // An elevated administrator may make Administrators the owner of what it may change.
    m.attach(Role::User);
    let admins = admin
        .k32
        .create_mailslot_secured(
            Some(r"\\.\RsMailslot\sec\admins"),
            0,
            0,
            Some(&descriptor(
                &admin_token.user,
                vec![allow(GENERIC_ALL, &admin_token.user)],
            )),
        )
        .expect("the administrator's mailslot");
    let admin_full = Api(&admin)
        .open(r"\\.\RsMailslot\sec\admins", GENERIC_ALL, 3, false)
        .expect("GENERIC_ALL");
    m.attach(Role::User);
    admin
        .k32
        .set_security_info(admin_full.raw(), OWNER, &owned_by(&Sid::administrators()))
        .expect("Administrators as owner");
    assert_eq!(
        Api(&admin).security_owner(admin_full.raw()),
        Ok(format!("{:?}", Sid::administrators()))
    );

    // Past what a slot keeps: refused, the descriptor unchanged.
    let many: Vec<Ace> = (0..300)
        .map(|i| allow(GENERIC_ALL, &Sid::new(5, &[21, 1, 2, 3, 2000 + i])))
        .collect();
    m.attach(Role::User);
    assert_eq!(
        a.k32.set_security_info(full.raw(), DACL, &dacl_of(many)),
        Err(ERROR_INVALID_SECURITY_DESCR)
    );
    assert!(
        api_b.open(name, GENERIC_WRITE, 3, false).is_ok(),
        "Bob still in"
    );

    drop((early, mine, bobs, full, admin_full));
    m.attach(Role::User);
    a.k32.close_handle(server).expect("CloseHandle");
    admin.k32.close_handle(admins).expect("CloseHandle");
    drop((a, b, admin));
    m.unload();
    m.shutdown();
}
