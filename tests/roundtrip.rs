//! Seal then open gives back the data and metadata, for every suite and
//! size; values are valid cookie octets; nonces never repeat.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{T0, at, decode, three_suites};
use proptest::prelude::*;
use sealed_session::codec::Codec;
use sealed_session::{ErrorKind, Lifetimes, SessionMeta, Suite};

fn meta() -> SessionMeta {
    SessionMeta::new_at(Lifetimes::default(), at(T0)).expect("meta")
}

#[test]
fn every_suite_and_size_round_trips() {
    let codec = Codec::new("__Host-s").expect("codec");
    for (primary, suite) in [
        (1, Suite::Xaes256Gcm),
        (2, Suite::XChaCha20Poly1305),
        (3, Suite::Aes256Gcm),
    ] {
        let ring = three_suites(primary);
        assert_eq!(ring.suite(primary), Some(suite));
        for size in [0usize, 1, 256, 2900] {
            let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
            let meta = meta().with_data_version(7);
            let value = codec.seal(&ring, &meta, &data).expect("seal");
            let opened = codec
                .open_at::<Vec<u8>>(&ring, &value, at(T0 + 1))
                .expect("open");
            assert_eq!(opened.data, data, "{suite} {size}");
            assert_eq!(opened.meta, meta);
            assert_eq!(opened.key_id, primary);
            assert!(!opened.needs_reseal);
            // Other keyrings with the same keys but another primary still open it.
            let other = three_suites(if primary == 1 { 2 } else { 1 });
            assert!(
                codec
                    .open_at::<Vec<u8>>(&other, &value, at(T0 + 1))
                    .expect("open")
                    .needs_reseal
            );
        }
    }
}

#[test]
fn name_plus_value_limit_is_exact() {
    let name = "__Host-s";
    let codec = Codec::new(name).expect("codec");
    let ring = three_suites(1);
    let limit = 4096 - name.len();
    let mut hit_exact = false;
    for len in 2800..3100 {
        let data = "x".repeat(len);
        match codec.seal(&ring, &meta(), &data) {
            Ok(value) => {
                assert!(value.len() <= limit);
                hit_exact |= value.len() == limit;
            }
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::TooLarge);
                assert!(
                    hit_exact,
                    "a value of exactly {limit} characters must be accepted"
                );
                return;
            }
        }
    }
    panic!("no size was rejected");
}

#[test]
fn nonces_never_repeat() {
    let codec = Codec::new("s").expect("codec");
    for primary in [1, 3] {
        let ring = three_suites(primary);
        let nonce_len = ring.suite(primary).expect("suite").nonce_len();
        let meta = meta();
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let value = codec.seal(&ring, &meta, &0u8).expect("seal");
            assert!(seen.insert(decode(&value)[5..5 + nonce_len].to_vec()));
        }
    }
}

#[test]
fn values_and_header_have_the_documented_layout() {
    let codec = Codec::new("s").expect("codec");
    let ring = three_suites(2);
    let bytes = decode(&codec.seal(&ring, &meta(), &()).expect("seal"));
    assert_eq!(bytes[0], sealed_session::codec::FORMAT_V1);
    assert_eq!(
        u32::from_be_bytes(bytes[1..5].try_into().expect("4 bytes")),
        2
    );
    assert_eq!(sealed_session::codec::SUPPORTED_FORMAT_VERSIONS, &[1]);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Data {
    user: String,
    roles: Vec<String>,
    counter: u64,
    flag: Option<bool>,
    blob: Vec<u8>,
}

fn data() -> impl Strategy<Value = Data> {
    (
        ".{0,40}",
        proptest::collection::vec("[a-z]{0,10}", 0..5),
        any::<u64>(),
        any::<Option<bool>>(),
        proptest::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(user, roles, counter, flag, blob)| Data {
            user,
            roles,
            counter,
            flag,
            blob,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_data_round_trips(data in data(), primary in 1u32..=3, idle in 1u64..100_000, elapsed in 0u64..100_000) {
        let codec = Codec::new("s").expect("codec");
        let ring = three_suites(primary);
        let lifetimes = Lifetimes::new(None, Some(Duration::from_secs(idle)));
        let meta = SessionMeta::new_at(lifetimes, at(T0)).expect("meta");
        let value = codec.seal(&ring, &meta, &data).expect("seal");
        prop_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let opened = codec.open_at::<Data>(&ring, &value, at(T0 + elapsed));
        if elapsed < idle {
            let opened = opened.expect("open within the idle window");
            prop_assert_eq!(opened.data, data);
            prop_assert_eq!(opened.meta, meta);
        } else {
            prop_assert_eq!(opened.expect_err("expired").kind(), ErrorKind::ExpiredIdle);
        }
    }

    #[test]
    fn arbitrary_strings_never_open_and_never_panic(value in ".{0,200}", raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let codec = Codec::new("s").expect("codec");
        let ring = three_suites(1);
        prop_assert!(codec.open_at::<String>(&ring, &value, at(T0)).is_err());
        prop_assert!(codec.open_at::<String>(&ring, &common::encode(&raw), at(T0)).is_err());
    }
}
