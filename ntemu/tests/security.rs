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
