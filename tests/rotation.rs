//! Key rotation: add accept-only, promote, retire, without logging anyone
//! out, including a rolling deploy where instances disagree for a while.

mod common;

use common::{T0, at, key};
use sealed_session::KeyError;
use sealed_session::codec::Codec;
use sealed_session::{ErrorKind, KeySpec, Keyring, Lifetimes, SessionMeta};

fn meta() -> SessionMeta {
    SessionMeta::new_at(Lifetimes::default(), at(T0)).expect("meta")
}

#[test]
fn old_key_opens_and_asks_for_a_reseal_that_keeps_the_metadata() {
    let codec = Codec::new("s").expect("codec");
    let mut ring = Keyring::new(KeySpec::new(1, key(1)));
    let original = meta();
    let old_value = codec.seal(&ring, &original, &"alice").expect("seal");

    ring.add_accept_only(KeySpec::new(2, key(2))).expect("add");
    let opened = codec
        .open_at::<String>(&ring, &old_value, at(T0 + 5))
        .expect("open");
    assert!(!opened.needs_reseal, "key 1 is still primary");

    ring.promote(2).expect("promote");
    let opened = codec
        .open_at::<String>(&ring, &old_value, at(T0 + 10))
        .expect("open");
    assert_eq!((opened.key_id, opened.needs_reseal), (1, true));

    let resealed = codec
        .seal(&ring, &opened.meta, &opened.data)
        .expect("reseal");
    let reopened = codec
        .open_at::<String>(&ring, &resealed, at(T0 + 11))
        .expect("open");
    assert_eq!((reopened.key_id, reopened.needs_reseal), (2, false));
    assert_eq!(
        reopened.meta, original,
        "id, issue time and expiry survive the re-seal"
    );
    assert_eq!(common::decode(&resealed)[1..5], 2u32.to_be_bytes());

    ring.retire(1).expect("retire");
    let err = codec
        .open_at::<String>(&ring, &old_value, at(T0 + 12))
        .expect_err("retired");
    assert_eq!((err.kind(), err.key_id()), (ErrorKind::UnknownKey, Some(1)));
    assert!(
        codec
            .open_at::<String>(&ring, &resealed, at(T0 + 12))
            .is_ok()
    );
}

#[test]
fn rolling_deploy_two_phase_rotation() {
    let codec = Codec::new("s").expect("codec");
    // Phase 1 is rolling out: A already accepts key 2, B not yet.
    let mut a = Keyring::new(KeySpec::new(1, key(1)));
    a.add_accept_only(KeySpec::new(2, key(2))).expect("add");
    let b = Keyring::new(KeySpec::new(1, key(1)));
    let from_a = codec.seal(&a, &meta(), &1u8).expect("seal");
    let from_b = codec.seal(&b, &meta(), &1u8).expect("seal");
    for ring in [&a, &b] {
        for value in [&from_a, &from_b] {
            assert!(codec.open_at::<u8>(ring, value, at(T0)).is_ok());
        }
    }

    // Phase 2 is rolling out: A promoted key 2, B accepts it but still seals with 1.
    let mut b = b;
    b.add_accept_only(KeySpec::new(2, key(2))).expect("add");
    a.promote(2).expect("promote");
    let from_a = codec.seal(&a, &meta(), &1u8).expect("seal");
    let from_b = codec.seal(&b, &meta(), &1u8).expect("seal");
    for ring in [&a, &b] {
        for value in [&from_a, &from_b] {
            assert!(codec.open_at::<u8>(ring, value, at(T0)).is_ok());
        }
    }
}

#[test]
fn promoting_before_every_instance_accepts_the_key_logs_users_out() {
    // The failure the two phases prevent: A promotes a key B has never seen.
    let codec = Codec::new("s").expect("codec");
    let mut a = Keyring::new(KeySpec::new(1, key(1)));
    a.add_accept_only(KeySpec::new(2, key(2))).expect("add");
    a.promote(2).expect("promote");
    let b = Keyring::new(KeySpec::new(1, key(1)));
    let from_a = codec.seal(&a, &meta(), &1u8).expect("seal");
    let err = codec
        .open_at::<u8>(&b, &from_a, at(T0))
        .expect_err("B cannot open");
    assert_eq!(err.kind(), ErrorKind::UnknownKey);
}

#[test]
fn replacing_every_key_ends_every_session() {
    let codec = Codec::new("s").expect("codec");
    let ring: Keyring = Keyring::new(KeySpec::new(1, key(1)));
    let values: Vec<String> = (0..10)
        .map(|i| codec.seal(&ring, &meta(), &i).expect("seal"))
        .collect();
    let fresh = Keyring::new(KeySpec::new(2, key(9)));
    for value in &values {
        assert!(codec.open_at::<i32>(&fresh, value, at(T0)).is_err());
    }
}

#[test]
fn same_id_different_key_fails_authentication() {
    let codec = Codec::new("s").expect("codec");
    let value = codec
        .seal(&Keyring::new(KeySpec::new(1, key(1))), &meta(), &1u8)
        .expect("seal");
    let impostor = Keyring::new(KeySpec::new(1, key(2)));
    let err = codec
        .open_at::<u8>(&impostor, &value, at(T0))
        .expect_err("other key");
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
}

#[test]
fn keyring_from_file() {
    let dir = std::env::temp_dir().join(format!("sealed-session-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("keys");
    std::fs::write(&path, "2:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=,\n1:xchacha20-poly1305:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n").expect("write");
    let ring = Keyring::from_file(&path).expect("keyring");
    assert_eq!(ring.key_ids(), vec![2, 1]);
    std::fs::write(
        &path,
        "2:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=,1:tooshort",
    )
    .expect("write");
    let err = Keyring::from_file(&path).expect_err("bad entry");
    assert!(
        matches!(
            err,
            KeyError::Entry {
                entry: 2,
                id: 1,
                ..
            }
        ),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn counters_survive_rotation() {
    let codec = Codec::new("s").expect("codec");
    let mut ring = Keyring::new(KeySpec::new(1, key(1)));
    for _ in 0..3 {
        codec.seal(&ring, &meta(), &()).expect("seal");
    }
    ring.add_accept_only(KeySpec::new(2, key(2))).expect("add");
    ring.promote(2).expect("promote");
    codec.seal(&ring, &meta(), &()).expect("seal");
    assert_eq!(ring.seal_count(1), Some(3));
    assert_eq!(ring.seal_count(2), Some(1));
}

#[test]
fn failures_are_counted_per_key_exactly_once() {
    let codec = Codec::new("s").expect("codec");
    let mut ring = Keyring::new(KeySpec::new(1, key(1)));
    let old = codec.seal(&ring, &meta(), &()).expect("seal");
    ring.add_accept_only(KeySpec::new(2, key(2))).expect("add");
    ring.promote(2).expect("promote");
    let new = codec.seal(&ring, &meta(), &()).expect("seal");
    for _ in 0..3 {
        codec.open_at::<()>(&ring, &old, at(T0)).expect("old opens");
    }
    codec.open_at::<()>(&ring, &new, at(T0)).expect("new opens");
    let mut forged = common::decode(&old);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forged = common::encode(&forged);
    for _ in 0..2 {
        assert!(codec.open_at::<()>(&ring, &forged, at(T0)).is_err());
    }
    let keys = ring.metrics();
    assert_eq!(
        keys.iter()
            .map(|k| (k.key_id, k.primary, k.seals, k.auth_failures))
            .collect::<Vec<_>>(),
        vec![(2, true, 1, 0), (1, false, 1, 2)]
    );
    assert_eq!(
        (ring.auth_failure_count(1), ring.auth_failure_count(2)),
        (Some(2), Some(0))
    );
}
