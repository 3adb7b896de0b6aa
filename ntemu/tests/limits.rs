//! Bounded resources against the real rsmailslot.sys: a slot holds at most
//! `msfs::MAX_PENDING_READS` waiting reads; the next ReadFile fails at once with
//! ERROR_NO_SYSTEM_RESOURCES and pins nothing, while other slots and users go on, and closing
//! the server gives every byte back; each user's share and the Parameters key's limits; each
//! process's pool quota.

use ntemu::kernel32::Variant;
use ntemu::se::Token;
use ntemu::system::Emulated;
use ntemu::{Config, Machine};
use usermode_test::system::{Api, Handle};

mod common;

const ERROR_IO_PENDING: u32 = 997;
const ERROR_NO_SYSTEM_RESOURCES: u32 = 1450;
const ERROR_OPERATION_ABORTED: u32 = 995;
const MAILSLOT_WAIT_FOREVER: u32 = u32::MAX;

#[test]
fn waiting_reads_per_slot_are_bounded() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let reader = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let other = Emulated::new(m, Token::standard_user(1002), Variant::ReactOs);
    let (api, other_api) = (Api(&reader), Api(&other));
    // The engine keeps its tables' room once grown: two slots made and closed first, so the
    // baseline holds that room and the end can be compared with it.
    for warm in ["a", "b"].map(|n| format!(r"\\.\RsMailslot\limits\warm-{n}")) {
        let s = api
            .create_mailslot(Some(&warm), 0, 0)
            .expect("CreateMailslotW");
        drop(s);
    }
    m.quiesce();
    let baseline = m.pool.usage();
    let name = r"\\.\RsMailslot\limits\busy";
    let server = api
        .create_mailslot(Some(name), 0, MAILSLOT_WAIT_FOREVER)
        .expect("CreateMailslotW");
    let mut waiting = Vec::new();
    for i in 0..msfs::MAX_PENDING_READS {
        let r = api.read_overlapped(server.raw(), 64);
        assert_eq!(r.started(), Err(ERROR_IO_PENDING), "read {i}");
        waiting.push(r);
    }
    let held = m.pool.usage();
    // The one past the bound fails at once and holds nothing.
    let refused = api.read_overlapped(server.raw(), 64);
    assert_eq!(refused.started(), Err(ERROR_NO_SYSTEM_RESOURCES));
    assert!(!refused.is_pending());
    drop(refused);
    assert_eq!(m.pool.usage().driver_bytes, held.driver_bytes);

    // Another user's slot is untouched by it.
    let mine = r"\\.\RsMailslot\limits\other";
    let other_server = other_api
        .create_mailslot(Some(mine), 0, 0)
        .expect("the other user's CreateMailslotW");
    let other_client = other_api
        .open(mine, 0x4000_0000, 3, false)
        .expect("the other user's CreateFileW");
    assert_eq!(other_api.write(other_client.raw(), b"still here"), Ok(10));
    assert_eq!(
        other_api.read(other_server.raw(), 64).map_err(|e| e.0),
        Ok(b"still here".to_vec())
    );

    // A write still reaches the oldest waiting read; then there is room for one more.
    let client = api.open(name, 0x4000_0000, 3, false).expect("CreateFileW");
    assert_eq!(api.write(client.raw(), b"first"), Ok(5));
    assert_eq!(waiting[0].wait(5000), Some(Ok(b"first".to_vec())));
    let again = api.read_overlapped(server.raw(), 64);
    assert_eq!(again.started(), Err(ERROR_IO_PENDING));
    waiting.push(again);

    // Closing the server ends every waiting read and returns the driver's pool.
    drop(client);
    drop(server);
    for (i, r) in waiting.iter_mut().enumerate().skip(1) {
        assert_eq!(r.wait(5000), Some(Err(ERROR_OPERATION_ABORTED)), "read {i}");
    }
    drop(waiting);
    drop((other_client, other_server));
    m.quiesce();
    assert_eq!(m.pool.usage().driver_bytes, baseline.driver_bytes);
    drop((reader, other));
    m.unload();
    m.shutdown();
}

const ERROR_NOT_ENOUGH_QUOTA: u32 = 1816;
const GENERIC_WRITE: u32 = 0x4000_0000;
/// The driver's default share per user (`msfs_io::settings::DEFAULT_PER_USER_MIB`).
const OWNER_LIMIT: usize = 16 << 20;

/// Mailslots named `\\.\RsMailslot\share\<n>-<long>` for n = 0, 1, ... until a create is
/// refused: the handles and the refusal.
fn fill<'a>(api: Api<'a>, long: &str) -> (Vec<Handle<'a>>, u32) {
    let mut slots = Vec::new();
    let refused = loop {
        let name = format!(r"\\.\RsMailslot\share\{}-{long}", slots.len());
        match api.create_mailslot(Some(&name), 0, 0) {
            Ok(h) => slots.push(h),
            Err(e) => break e,
        }
        assert!(slots.len() < 10_000, "the share never ran out");
    };
    (slots, refused)
}

/// One standard user takes all it can: mailslots with long names until its share is gone,
/// then a mailslot filled until its share refuses more. Its own requests fail with
/// ERROR_NOT_ENOUGH_QUOTA; another standard user and an administrator create, write and read
/// as before; the driver's pool grows by no more than the one user's share; and everything
/// comes back when that user closes its handles.
#[test]
fn one_user_exhausting_its_share_leaves_every_other_user_working() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let greedy = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let other = Emulated::new(m, Token::standard_user(1002), Variant::Wine);
    let admin = Emulated::new(m, Token::elevated_administrator(), Variant::ReactOs);
    let api = Api(&greedy);
    // The tables' room first (see waiting_reads_per_slot_are_bounded).
    for warm in ["a", "b"].map(|n| format!(r"\\.\RsMailslot\share\warm-{n}")) {
        drop(
            api.create_mailslot(Some(&warm), 0, 0)
                .expect("CreateMailslotW"),
        );
    }
    m.quiesce();
    let baseline = m.pool.usage().driver_bytes;

    // Mailslots with 8,000-character names (about 32 KB of the share each) until refused.
    let long = "n".repeat(8000);
    let (slots, refused) = fill(api, &long);
    assert_eq!(refused, ERROR_NOT_ENOUGH_QUOTA);
    assert!(
        slots.len() > 100,
        "only {} slots before the share ran out",
        slots.len()
    );
    let names_held = m.pool.usage().driver_bytes - baseline;
    assert!(
        names_held <= OWNER_LIMIT + OWNER_LIMIT / 2,
        "{names_held} bytes for the names"
    );

    // Another user, and an administrator, create, write and read as if nothing happened.
    for (who, sys) in [("the other user", &other), ("the administrator", &admin)] {
        let a = Api(sys);
        let name = format!(r"\\.\RsMailslot\share\{}", who.replace(' ', "-"));
        let server = a
            .create_mailslot(Some(&name), 0, 0)
            .unwrap_or_else(|e| panic!("{who}'s CreateMailslotW: {e}"));
        let client = a.open(&name, GENERIC_WRITE, 3, false).expect("CreateFileW");
        assert_eq!(
            a.write(client.raw(), b"unaffected"),
            Ok(10),
            "{who}'s write"
        );
        assert_eq!(
            a.read(server.raw(), 64).map_err(|e| e.0),
            Ok(b"unaffected".to_vec()),
            "{who}'s read"
        );
    }

    // Writes into the greedy user's slots are the greedy user's: refused once its share is
    // spent, whoever writes them, and nothing is half queued.
    let last = r"\\.\RsMailslot\share\0-".to_string() + &long;
    let other_api = Api(&other);
    let writer = other_api
        .open(&last, GENERIC_WRITE, 3, false)
        .expect("a client of the greedy user's slot");
    assert_eq!(
        other_api.write(writer.raw(), &[7u8; 64 << 10]),
        Err(ERROR_NOT_ENOUGH_QUOTA)
    );
    assert_eq!(api.info(slots[0].raw()).expect("GetMailslotInfo").count, 0);
    drop(writer);

    // Closing gives the share back: the same user fills it again to the same count, and
    // what the driver still holds after each round is the same (its tables' room, no leak).
    let count = slots.len();
    drop(slots);
    m.quiesce();
    let settled = m.pool.usage().driver_bytes;
    let (slots, refused) = fill(api, &long);
    assert_eq!((slots.len(), refused), (count, ERROR_NOT_ENOUGH_QUOTA));
    drop(slots);
    m.quiesce();
    assert_eq!(m.pool.usage().driver_bytes, settled);
    drop((greedy, other, admin));
    m.unload();
    m.shutdown();
}

/// How many 8,000-character mailslots one standard user gets on a machine whose service
/// `Parameters` key holds `parameters`; and the driver's debug output.
fn share_in_slots(parameters: &[(&str, u32)]) -> (usize, Vec<String>) {
    let mut config = Config::new(common::image());
    config.parameters = parameters
        .iter()
        .map(|&(n, v)| (n.to_string(), v))
        .collect();
    let m = Machine::new(config).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let user = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let (slots, refused) = fill(Api(&user), &"n".repeat(8000));
    assert_eq!(refused, ERROR_NOT_ENOUGH_QUOTA);
    let count = slots.len();
    drop(slots);
    drop(user);
    let log = m.debug_log.lock().unwrap().clone();
    m.unload();
    m.shutdown();
    (count, log)
}

/// The share per user comes from the service's Parameters key when a value there is in range,
/// and is the default otherwise (with a line in the debug output saying a value was ignored).
#[test]
fn the_share_is_read_from_the_parameters_key_at_load() {
    let (default, log) = share_in_slots(&[]);
    assert!(!log.iter().any(|l| l.contains("ignored")), "{log:?}");
    let (one_mib, _) = share_in_slots(&[("perusermib", 1)]);
    // 16 MiB by default, 1 MiB here: a sixteenth, give or take the last slot.
    assert!(
        one_mib * 16 <= default + 16 && default <= one_mib * 16 + 16,
        "{one_mib} slots with 1 MiB, {default} with the default"
    );
    for bad in [0, 65, u32::MAX] {
        let (count, log) = share_in_slots(&[("PerUserMiB", bad)]);
        assert_eq!(count, default, "PerUserMiB {bad} was not ignored");
        assert!(log.iter().any(|l| l.contains("ignored")), "{bad}: {log:?}");
    }
    // A larger budget lets a larger share through.
    let (bigger, _) = share_in_slots(&[("QueuedMessagesMiB", 256), ("PerUserMiB", 32)]);
    assert!(bigger > default + default / 2, "{bigger} vs {default}");
}

/// Waiting reads pin their buffers: a user's reads waiting with 64 KiB buffers run into its
/// share (ERROR_NOT_ENOUGH_QUOTA, at once, nothing pinned), while another user's wait as usual;
/// closing the server ends them all and returns the pool.
#[test]
fn waiting_reads_count_against_their_owners_share() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let greedy = Emulated::new(m, Token::standard_user(1001), Variant::ReactOs);
    let other = Emulated::new(m, Token::standard_user(1002), Variant::ReactOs);
    let (api, other_api) = (Api(&greedy), Api(&other));
    let mut servers = Vec::new();
    let mut waiting = Vec::new();
    let refused = 'outer: loop {
        let name = format!(r"\\.\RsMailslot\pins\{}", servers.len());
        let server = api
            .create_mailslot(Some(&name), 0, MAILSLOT_WAIT_FOREVER)
            .expect("CreateMailslotW");
        for _ in 0..64 {
            let r = api.read_overlapped(server.raw(), 64 << 10);
            match r.started() {
                Err(ERROR_IO_PENDING) => waiting.push(r),
                Err(e) => break 'outer e,
                Ok(n) => panic!("a read of an empty slot returned {n} bytes"),
            }
        }
        servers.push(server);
        assert!(servers.len() < 100, "the share never ran out");
    };
    assert_eq!(refused, ERROR_NOT_ENOUGH_QUOTA);
    // 16 MiB of 64 KiB buffers (and their contexts): a little under 256 reads.
    assert!(
        (200..256).contains(&waiting.len()),
        "{} reads waited",
        waiting.len()
    );
    let other_server = other_api
        .create_mailslot(Some(r"\\.\RsMailslot\pins\other"), 0, MAILSLOT_WAIT_FOREVER)
        .expect("the other user's CreateMailslotW");
    let mut theirs = other_api.read_overlapped(other_server.raw(), 64 << 10);
    assert_eq!(theirs.started(), Err(ERROR_IO_PENDING));
    let client = other_api
        .open(r"\\.\RsMailslot\pins\other", GENERIC_WRITE, 3, false)
        .expect("CreateFileW");
    assert_eq!(other_api.write(client.raw(), b"ok"), Ok(2));
    assert_eq!(theirs.wait(5000), Some(Ok(b"ok".to_vec())));
    drop((theirs, client, other_server));
    drop(servers);
    for r in waiting.iter_mut() {
        assert_eq!(r.wait(5000), Some(Err(ERROR_OPERATION_ABORTED)));
    }
    drop(waiting);
    drop((greedy, other));
    m.unload();
    m.shutdown();
}

/// Each process's pool quota: a user-mode request's handle block and its waiting read are
/// charged to the requesting process (POOL_FLAG_USE_QUOTA) for as long as they live. A process
/// whose quota is spent gets ERROR_NO_SYSTEM_RESOURCES for its next read or open, another
/// process of the same user goes on, and every byte returns when the reads end and the handles
/// close.
#[test]
fn handles_and_waiting_reads_are_charged_to_the_requesting_process() {
    let m = Machine::new(Config::new(common::image())).expect("loading rsmailslot.sys");
    assert_eq!(m.start(), 0, "DriverEntry");
    let user = Token::standard_user(1001);
    let capped = Emulated::new(m, user.clone(), Variant::ReactOs);
    let free = Emulated::new(m, user, Variant::Wine);
    let (api, free_api) = (Api(&capped), Api(&free));
    let pid = capped.process().id;
    let name = r"\\.\RsMailslot\limits\quota";
    let server = api
        .create_mailslot(Some(name), 0, MAILSLOT_WAIT_FOREVER)
        .expect("CreateMailslotW");
    let for_handle = m.quotas.used(pid);
    assert!(for_handle > 0, "the server's handle block is charged");
    let first = api.read_overlapped(server.raw(), 64);
    assert_eq!(first.started(), Err(ERROR_IO_PENDING));
    let per_read = m.quotas.used(pid) - for_handle;
    assert!(per_read > 0, "a waiting read is charged");

    // Room for three more waiting reads and nothing else.
    m.quotas.set_limit(pid, for_handle + 4 * per_read);
    let mut waiting = vec![first];
    for i in 1..4 {
        let r = api.read_overlapped(server.raw(), 64);
        assert_eq!(r.started(), Err(ERROR_IO_PENDING), "read {i}");
        waiting.push(r);
    }
    let refused = api.read_overlapped(server.raw(), 64);
    assert_eq!(refused.started(), Err(ERROR_NO_SYSTEM_RESOURCES));
    drop(refused);
    assert_eq!(
        api.open(name, 0x4000_0000, 3, false).map(|_| ()),
        Err(ERROR_NO_SYSTEM_RESOURCES),
        "no quota left for a handle"
    );
    assert_eq!(m.quotas.used(pid), for_handle + 4 * per_read);

    // The same user's other process is not limited by it: its client's write completes the
    // oldest waiting read, which gives its charge back.
    let client = free_api
        .open(name, 0x4000_0000, 3, false)
        .expect("another process opens");
    assert_eq!(free_api.write(client.raw(), b"one"), Ok(3));
    let mut oldest = waiting.remove(0);
    assert_eq!(oldest.wait(5000), Some(Ok(b"one".to_vec())));
    drop(oldest);
    assert_eq!(m.quotas.used(pid), for_handle + 3 * per_read);
    let mine = api
        .open(name, 0x4000_0000, 3, false)
        .expect("the freed quota holds a handle now");

    // Cancelled reads and closed handles give back the rest.
    for r in waiting.iter_mut() {
        assert_eq!(r.cancel(), Ok(()));
        assert_eq!(r.wait(5000), Some(Err(ERROR_OPERATION_ABORTED)));
    }
    drop(waiting);
    drop((mine, client, server));
    m.quiesce();
    assert_eq!(m.quotas.used(pid), 0);
    drop((capped, free));
    m.unload();
    m.shutdown();
}
