//! Parsing arbitrary text as a `Keyring` and as a `Key`: never panics,
//! never echoes key-like input in an error or a `Debug`, and every keyring
//! that parses seals and opens.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sealed_session::codec::Codec;
use sealed_session::{Key, Keyring, Lifetimes, SessionMeta};
use sealed_session_fuzz::{assert_no_echo, now};

static CODEC: LazyLock<Codec> = LazyLock::new(|| Codec::new("s").expect("valid name"));

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);

    match text.parse::<Key>() {
        Ok(key) => assert_eq!(
            format!("{key:?} {key:#?}"),
            "Key(<redacted>) Key(<redacted>)"
        ),
        Err(err) => assert_no_echo(&text, &format!("{err} {err:?} {err:#?}")),
    }

    match text.parse::<Keyring>() {
        Err(err) => assert_no_echo(&text, &format!("{err} {err:?} {err:#?}")),
        Ok(ring) => {
            assert_no_echo(&text, &format!("{ring:?} {ring:#?}"));
            let ids = ring.key_ids();
            assert_eq!(ids.first(), Some(&ring.primary_id()));
            for (i, id) in ids.iter().enumerate() {
                assert!(!ids[..i].contains(id), "duplicate id {id}");
                assert!(ring.contains(*id) && ring.suite(*id).is_some());
            }
            let meta = SessionMeta::new_at(Lifetimes::default(), now()).expect("meta");
            let value = CODEC.seal(&ring, &meta, &1u8).expect("seal");
            let opened = CODEC.open_at::<u8>(&ring, &value, now()).expect("open");
            assert_eq!((opened.data, opened.key_id), (1, ring.primary_id()));
        }
    }
});
