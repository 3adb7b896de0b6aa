//! Changing a mailslot's descriptor (SetSecurityInfo): who may, what a race does, and what the
//! owner is charged.

mod common;

use common::*;
use msfs::{Access, Config, Msfs, NtStatus, Owner, PreparedName, MAX_SECURITY_BYTES};

fn secured(e: &mut Msfs, name: &str, owner: Owner, sd: Option<Vec<u8>>) -> msfs::Handle {
    let p = PreparedName::prepare(&utf16(name), engine_keys()).unwrap();
    e.create_server_prepared(
        p,
        &params(0, 0, None),
        Access::READ,
        0,
        owner,
        sd.map(Vec::into_boxed_slice),
    )
    .unwrap()
}

#[test]
fn a_change_replaces_the_descriptor_it_started_from_and_recharges_the_owner() {
    let mut e = engine();
    let owner = Owner(7);
    let s = secured(&mut e, "\\a", owner, Some(vec![1; 40]));
    let c = client(&mut e, "\\a");
    let before = e.owner_used(owner);
    let mut buf = [0u8; MAX_SECURITY_BYTES];

    // Through the server or a client (whose open the descriptor admitted).
    let base = e.security_for_update(&c, &mut buf).unwrap();
    assert_eq!(base.len, Some(40));
    assert_eq!(&buf[..40], &[1; 40]);
    let old = e
        .replace_security(&c, base.generation, vec![2; 100].into_boxed_slice())
        .unwrap();
    assert_eq!(old.as_deref(), Some(&[1u8; 40][..]));
    assert_eq!(e.owner_used(owner), before + 60);
    assert_eq!(e.security_of(&s, &mut buf), Ok(Some(100)));
    assert_eq!(&buf[..100], &[2; 100]);

    // A change prepared from the old version loses to the one that came first.
    assert_eq!(
        e.replace_security(&s, base.generation, vec![3; 10].into_boxed_slice()),
        Err(NtStatus::RETRY)
    );
    assert_eq!(e.security_of(&s, &mut buf), Ok(Some(100)));
    let base = e.security_for_update(&s, &mut buf).unwrap();
    assert_eq!(base.len, Some(100));
    e.replace_security(&s, base.generation, vec![3; 10].into_boxed_slice())
        .unwrap();
    assert_eq!(e.owner_used(owner), before - 30, "a smaller one gives back");

    // Longer than a slot keeps: refused, nothing changed.
    let base = e.security_for_update(&s, &mut buf).unwrap();
    assert_eq!(
        e.replace_security(
            &s,
            base.generation,
            vec![4; MAX_SECURITY_BYTES + 1].into_boxed_slice()
        ),
        Err(NtStatus::INVALID_SECURITY_DESCR)
    );
    assert_eq!(e.security_of(&s, &mut buf), Ok(Some(10)));
    e.check_invariants().unwrap();
    close(&mut e, c);
    close(&mut e, s);
    assert_eq!(e.owner_used(owner), 0);
}

#[test]
fn only_the_server_gives_a_slot_without_a_descriptor_one() {
    let mut e = engine();
    let owner = Owner(9);
    let s = secured(&mut e, "\\open", owner, None);
    let c = client(&mut e, "\\open");
    let mut buf = [0u8; MAX_SECURITY_BYTES];
    assert_eq!(
        e.security_for_update(&c, &mut buf),
        Err(NtStatus::ACCESS_DENIED)
    );
    let base = e.security_for_update(&s, &mut buf).unwrap();
    assert_eq!(base.len, None);
    assert_eq!(
        e.replace_security(&c, base.generation, vec![5; 8].into_boxed_slice()),
        Err(NtStatus::ACCESS_DENIED)
    );
    let before = e.owner_used(owner);
    assert_eq!(
        e.replace_security(&s, base.generation, vec![5; 8].into_boxed_slice()),
        Ok(None)
    );
    assert_eq!(e.owner_used(owner), before + 8);
    // Now it has one, a client that holds a handle may go through it.
    assert!(e.security_for_update(&c, &mut buf).is_ok());
    // The root's descriptor is the device's.
    let root = client(&mut e, "\\");
    assert_eq!(
        e.security_for_update(&root, &mut buf),
        Err(NtStatus::INVALID_DEVICE_REQUEST)
    );
    // Gone: the status of any request on a handle whose slot is gone.
    close(&mut e, s);
    assert_eq!(
        e.security_for_update(&c, &mut buf),
        Err(NtStatus::FILE_FORCED_CLOSED)
    );
    e.check_invariants().unwrap();
}

#[test]
fn a_larger_descriptor_past_the_owners_share_is_refused() {
    let mut e = Msfs::new(Config {
        budget_bytes: 1 << 20,
        hash_keys: engine_keys(),
        owner_limit_bytes: 2048,
    });
    let owner = Owner(3);
    let s = secured(&mut e, "\\q", owner, Some(vec![1; 20]));
    let room = 2048 - e.owner_used(owner);
    let mut buf = [0u8; MAX_SECURITY_BYTES];
    let base = e.security_for_update(&s, &mut buf).unwrap();
    let too_big = usize::try_from(room).unwrap() + 21;
    assert_eq!(
        e.replace_security(&s, base.generation, vec![2; too_big].into_boxed_slice()),
        Err(NtStatus::QUOTA_EXCEEDED)
    );
    assert_eq!(e.owner_used(owner), 2048 - room);
    let fits = usize::try_from(room).unwrap() + 20;
    e.replace_security(&s, base.generation, vec![2; fits].into_boxed_slice())
        .unwrap();
    assert_eq!(e.owner_used(owner), 2048);
    e.check_invariants().unwrap();
}
