//! Opening arbitrary strings against a fixed keyring holding one key of
//! each suite (ids 1, 2, 3) at a fixed time: never panics, and whatever
//! opens is an authentic, canonical value.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sealed_session::codec::Codec;
use sealed_session::{Error, ErrorKind, Keyring};
use sealed_session_fuzz::{FIXED_KEYS, HEADER_LEN, MapData, NOW_SECS, decode_base64url};

static KEYRING: LazyLock<Keyring> = LazyLock::new(|| sealed_session_fuzz::keyring(1));
static CODEC: LazyLock<Codec> = LazyLock::new(sealed_session_fuzz::codec);

fn known(id: u32) -> bool {
    FIXED_KEYS.iter().any(|&(k, ..)| k == id)
}

fn check_error(err: &Error) {
    // Formatting never panics; the key id is reported once the header is read.
    let _ = format!("{err} {err:?}");
    match err.kind() {
        ErrorKind::UnknownKey => assert!(err.key_id().is_some_and(|id| !known(id))),
        ErrorKind::Malformed | ErrorKind::TooLarge | ErrorKind::UnsupportedVersion => {}
        _ => assert!(err.key_id().is_some_and(known), "{err:?}"),
    }
}

fuzz_target!(|bytes: &[u8]| {
    let value = String::from_utf8_lossy(bytes);
    let now = sealed_session_fuzz::now();

    let raw = CODEC.open_raw_at(&KEYRING, &value, now);
    let opened = CODEC.open_at::<MapData>(&KEYRING, &value, now);

    let raw = match raw {
        Err(err) => {
            check_error(&err);
            assert_eq!(opened.err(), Some(err), "open_at and open_raw_at disagree");
            return;
        }
        Ok(raw) => raw,
    };

    // Only a value this codec sealed opens, and it sealed canonical base64url.
    let decoded = decode_base64url(value.as_bytes()).expect("opened a non-canonical value");
    assert_eq!(decoded[0], 1, "version");
    let id = u32::from_be_bytes(decoded[1..HEADER_LEN].try_into().expect("four bytes"));
    assert_eq!(raw.key_id(), id);
    assert!(known(id));
    assert_eq!(raw.needs_reseal(), id != KEYRING.primary_id());

    // The sealed times were checked against `now` (60 s of clock skew).
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs()
    };
    let meta = raw.meta();
    assert!(secs(meta.issued_at()) <= NOW_SECS + 60);
    assert!(meta.expires_at().is_none_or(|t| secs(t) > NOW_SECS));
    let _ = format!("{raw:?}");

    // Decoding the data as other types fails cleanly or succeeds.
    let _ = raw.decode::<u8>();
    let _ = raw.decode::<String>();
    let _ = raw.decode::<Vec<u8>>();
    let _ = raw.decode::<(u32, Option<String>, bool)>();

    match (raw.decode::<MapData>(), opened) {
        (Ok(data), Ok(opened)) => {
            assert_eq!(data, opened.data);
            assert_eq!(&opened.meta, raw.meta());
            assert_eq!(opened.key_id, id);
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.kind(), ErrorKind::PayloadDecode);
            assert_eq!(a, b);
        }
        (a, b) => panic!("decode {:?} but open_at {:?}", a.err(), b.err()),
    }
});
