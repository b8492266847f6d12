//! Structure-aware seal/open round trips: arbitrary data, suite, cookie
//! name, context, lifetimes and times. What is sealed opens to equal data
//! and metadata inside its lifetime, and fails with the right kind before
//! and after it and under another name or context; two seals of the same
//! session differ; a value's length is exactly what the format predicts.

#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sealed_session::ConfigError;
use sealed_session::codec::Codec;
use sealed_session::limits::{MAX_CONTEXT_LEN, MAX_VALUE_LIMIT};
use sealed_session::{ErrorKind, Keyring, Lifetimes, SessionMeta};
use sealed_session_fuzz::{FIXED_KEYS, HEADER_LEN, MapData, MetaWire, at, base64url_value};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize, Serializer};

/// Valid cookie names (HTTP tokens), short to long.
const NAMES: [&str; 5] = [
    "s",
    "session",
    "__Host-session",
    "__Secure-sid",
    "a!#$%&'*+-.^_`|~Z9",
];

const TAG_LEN: usize = 16;
const BASE_SECS: u64 = 1_600_000_000;
const CLOCK_SKEW: u64 = 60;

static KEYRINGS: LazyLock<[Keyring; 3]> =
    LazyLock::new(|| FIXED_KEYS.map(|(id, ..)| sealed_session_fuzz::keyring(id)));

#[derive(Arbitrary, Debug)]
struct Case {
    key: u8,
    name: u8,
    context: Option<Vec<u8>>,
    large: bool,
    absolute: Option<u32>,
    idle: Option<u32>,
    issued: u32,
    elapsed: u32,
    data_version: u32,
    data: Data,
    raw_tail: Vec<u8>,
}

#[derive(Arbitrary, Serialize, Deserialize, Debug, PartialEq)]
struct Data {
    entries: Vec<(String, Vec<u8>)>,
    user_id: u64,
    score: i32,
    admin: bool,
    nick: Option<String>,
    roles: Vec<Role>,
    initial: char,
    pair: (u8, i64),
    flags: Option<u16>,
    big: u128,
    tag: [u8; 4],
}

#[derive(Arbitrary, Serialize, Deserialize, Debug, PartialEq)]
enum Role {
    Guest,
    User(u32),
    Admin { level: u8, note: String },
}

/// Serializes as its bytes with no length prefix, so the sealed data is
/// exactly these bytes.
struct RawTail<'a>(&'a [u8]);

impl Serialize for RawTail<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for byte in self.0 {
            tuple.serialize_element(byte)?;
        }
        tuple.end()
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
}

fn wire(meta: &SessionMeta) -> MetaWire {
    (
        *meta.session_id().as_bytes(),
        secs(meta.issued_at()),
        secs(meta.sealed_at()),
        meta.absolute_expiry().map(secs),
        meta.idle_expiry().map(secs),
        meta.data_version(),
        meta.profile().get(),
    )
}

/// Unpadded base64 length of `n` bytes.
fn encoded_len(n: usize) -> usize {
    n / 3 * 4 + (n % 3 * 4).div_ceil(3)
}

fn make_codec(name: &str, context: Option<&[u8]>, large: bool) -> Codec {
    let mut codec = Codec::new(name).expect("valid name");
    if large {
        codec = codec
            .with_max_value_len(MAX_VALUE_LIMIT)
            .expect("valid limit");
    }
    match context {
        Some(context) => codec.with_context(context).expect("short context"),
        None => codec,
    }
}

fuzz_target!(|case: Case| {
    let index = usize::from(case.key) % FIXED_KEYS.len();
    let (id, suite, _) = FIXED_KEYS[index];
    let ring = &KEYRINGS[index];
    let name_index = usize::from(case.name) % NAMES.len();
    let name = NAMES[name_index];

    let mut context = case.context;
    if let Some(long) = context.as_mut().filter(|c| c.len() > MAX_CONTEXT_LEN) {
        let err = Codec::new(name).expect("valid name").with_context(long);
        assert_eq!(err.unwrap_err(), ConfigError::ContextTooLong);
        long.truncate(MAX_CONTEXT_LEN);
    }
    let codec = make_codec(name, context.as_deref(), case.large);

    let issued = BASE_SECS + u64::from(case.issued);
    let lifetimes = Lifetimes::new(
        case.absolute.map(|s| Duration::from_secs(s.into())),
        case.idle.map(|s| Duration::from_secs(s.into())),
    );
    let meta = SessionMeta::new_at(lifetimes, at(issued))
        .expect("times within the representable range")
        .with_data_version(case.data_version);
    // The shorter of the two lifetimes ends the session; absolute wins a tie.
    let limit = match (case.absolute, case.idle) {
        (Some(a), Some(i)) => Some(a.min(i)),
        (a, i) => a.or(i),
    }
    .map(u64::from);
    let expiry_kind = if case.absolute.is_some() && case.absolute.map(u64::from) == limit {
        ErrorKind::ExpiredAbsolute
    } else {
        ErrorKind::ExpiredIdle
    };
    let inside = match limit {
        Some(0) => None,
        Some(limit) => Some(at(issued + u64::from(case.elapsed) % limit)),
        None => Some(at(issued + u64::from(case.elapsed))),
    };

    // Arbitrary data bytes after authentic metadata: the post-decryption
    // decoders see them unchanged, and fail cleanly.
    if let (Some(now), Ok(value)) = (inside, codec.seal(ring, &meta, &RawTail(&case.raw_tail))) {
        let raw = codec
            .open_raw_at(ring, &value, now)
            .expect("raw tail opens");
        assert_eq!(raw.data_bytes(), &case.raw_tail[..]);
        assert_eq!(raw.meta(), &meta);
        let _ = raw.decode::<Data>();
        let _ = raw.decode::<MapData>();
        let _ = raw.decode::<(u8, String)>();
        let _ = raw.decode::<Option<Vec<u64>>>();
    }

    let plaintext = postcard::to_allocvec(&(wire(&meta), &case.data)).expect("postcard");
    let predicted = encoded_len(HEADER_LEN + suite.nonce_len() + plaintext.len() + TAG_LEN);
    let value = match codec.seal(ring, &meta, &case.data) {
        Ok(value) => value,
        Err(err) if err.kind() == ErrorKind::TooLarge => {
            assert!(
                predicted > codec.max_value_len(),
                "{predicted} fits but {err}"
            );
            return;
        }
        Err(err) => panic!("seal failed: {err:?}"),
    };
    assert_eq!(value.len(), predicted);
    assert!(predicted <= codec.max_value_len());
    assert!(
        value.bytes().all(|b| base64url_value(b).is_some()),
        "{value}"
    );

    let open =
        |codec: &Codec, ring: &Keyring, now: SystemTime| codec.open_at::<Data>(ring, &value, now);
    let kind = |result: Result<_, sealed_session::Error>| result.map(|_| ()).unwrap_err().kind();

    // Inside the lifetime: the same data, metadata and key.
    if let Some(now) = inside {
        let opened = open(&codec, ring, now).expect("opens inside its lifetime");
        assert_eq!(opened.data, case.data);
        assert_eq!(opened.meta, meta);
        assert_eq!(opened.key_id, id);
        assert!(!opened.needs_reseal);

        let raw = codec.open_raw_at(ring, &value, now).expect("opens raw");
        let meta_len = postcard::to_allocvec(&wire(&meta)).expect("postcard").len();
        assert_eq!(raw.data_bytes(), &plaintext[meta_len..]);

        // After a rotation the old key still opens, and asks for a re-seal.
        let rotated = &KEYRINGS[(index + 1) % KEYRINGS.len()];
        let opened = open(&codec, rotated, now).expect("accept-only key opens");
        assert_eq!((opened.key_id, opened.needs_reseal), (id, true));

        // Bound to the cookie name and the context.
        let other_name = NAMES[(name_index + 1) % NAMES.len()];
        let other = make_codec(other_name, context.as_deref(), case.large);
        assert_eq!(kind(open(&other, ring, now)), refused_by(&other, &value));
        let other_context: Option<&[u8]> = match context.as_deref() {
            None | Some([]) => Some(b"x"),
            Some(_) => None,
        };
        let other = make_codec(name, other_context, case.large);
        assert_eq!(kind(open(&other, ring, now)), refused_by(&other, &value));

        // A second seal of the same session is a different value that
        // opens to the same thing.
        let again = codec.seal(ring, &meta, &case.data).expect("seals again");
        assert_ne!(again, value);
        let opened = codec
            .open_at::<Data>(ring, &again, now)
            .expect("opens again");
        assert_eq!((opened.data, opened.meta), (case.data, meta));
    }

    // At the deadline it is expired, with the kind of the earlier limit.
    if let Some(limit) = limit {
        assert_eq!(kind(open(&codec, ring, at(issued + limit))), expiry_kind);
    }

    // Issue times up to the clock skew ahead are accepted, not beyond.
    assert_eq!(
        kind(open(&codec, ring, at(issued - CLOCK_SKEW - 1))),
        ErrorKind::NotYetValid
    );
    assert!(open(&codec, ring, at(issued - CLOCK_SKEW)).is_ok());
});

/// How a codec bound to another name or context refuses a value: by its
/// length cap (which counts the name) when the value is longer than any it
/// would seal, else by authentication.
fn refused_by(codec: &Codec, value: &str) -> ErrorKind {
    if value.len() > codec.max_value_len() {
        ErrorKind::TooLarge
    } else {
        ErrorKind::AuthenticationFailed
    }
}
