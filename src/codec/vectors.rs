//! Generates `tests/vectors/v1.json`, the frozen test vectors of wire
//! format v1, and fails when the committed file differs from what the code
//! produces. Regenerate deliberately with
//! `REGENERATE_VECTORS=1 cargo test --lib vectors`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::codec::{Codec, MAX_AAD_LEN, seal_plaintext};
use crate::envelope::{self, Lifetimes, SessionMeta};
use crate::error::ErrorKind;
use crate::flash::{FlashMessage, Level};
use crate::keyring::Keyring;
use crate::limits::BROWSER_COOKIE_LIMIT;
use crate::rng::testing::FixedRng;
use crate::session::SessionMap;
use crate::suite::Suite;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v1.json");
const NAME: &str = "__Host-s";
/// 2026-01-01T00:00:00Z.
const T0: u64 = 1_767_225_600;
/// The chunk limit of the manager the chunked vector is written for.
const MAX_CHUNKS: u8 = 4;

#[derive(Serialize)]
struct File {
    description: &'static str,
    format_version: u8,
    configuration: Configuration,
    keys: Vec<KeyVector>,
    valid: Vec<Valid>,
    invalid: Vec<Invalid>,
}

/// What every value was sealed with, and what opens it.
#[derive(Serialize)]
struct Configuration {
    note: &'static str,
    /// A keyring string (`Keyring::from_str`) holding every vector key.
    keyring: String,
    primary_key_id: u32,
    cookie_name: &'static str,
    context_hex: &'static str,
    data_version: u32,
    clock_skew_seconds: u64,
    max_chunks: u8,
}

#[derive(Serialize)]
struct KeyVector {
    id: u32,
    suite: &'static str,
    key_hex: String,
}

#[derive(Serialize)]
struct Valid {
    description: &'static str,
    suite: &'static str,
    key_id: u32,
    cookie_name: &'static str,
    context: &'static str,
    /// 0 for a single cookie, else the number of chunk cookies.
    parts: u8,
    nonce_hex: String,
    session_id_hex: String,
    issued_at: u64,
    sealed_at: u64,
    absolute_expiry: Option<u64>,
    idle_expiry: Option<u64>,
    data_version: u32,
    /// The lifetime profile sealed in the envelope.
    profile: u8,
    /// The session's CSRF secret, when it has one.
    csrf_secret_hex: Option<String>,
    /// Flash messages: level name, level index as sealed, text.
    flash: Vec<serde_json::Value>,
    /// `string`, `session_map` (values as hex), or `none` (an anonymous
    /// session: no application data).
    data_type: &'static str,
    data: serde_json::Value,
    /// The data's encoding (after the payload's `Some` tag), if any.
    data_hex: Option<String>,
    /// The session layer's payload: the plaintext after the metadata.
    payload_hex: String,
    plaintext_hex: String,
    aad_hex: String,
    now: u64,
    value: String,
    /// The chunk cookies' values, `name.0` first, when `parts` > 0.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    chunks: Vec<String>,
}

#[derive(Serialize)]
struct Invalid {
    description: &'static str,
    cookie_name: &'static str,
    data_type: &'static str,
    now: u64,
    value: String,
    expected: String,
}

fn key_bytes(id: u32) -> [u8; 32] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(id as u8 * 31 + 1))
}

const KEYS: [(u32, Suite); 3] = [
    (1, Suite::Xaes256Gcm),
    (2, Suite::XChaCha20Poly1305),
    (3, Suite::Aes256Gcm),
];

fn keyring_string() -> String {
    KEYS.iter()
        .map(|(id, suite)| format!("{id}:{suite}:{}", hex(&key_bytes(*id))))
        .collect::<Vec<_>>()
        .join("\n")
}

fn keyring() -> Keyring {
    keyring_string().parse().unwrap()
}

fn keyring_with_primary(id: u32) -> Keyring {
    let mut ring = keyring();
    ring.promote(id).unwrap();
    ring
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn meta(seed: u8, lifetimes: Lifetimes) -> SessionMeta {
    SessionMeta::generate(&mut FixedRng(&[seed; 16]), lifetimes, at(T0)).unwrap()
}

fn nonce(seed: u8, len: usize) -> Vec<u8> {
    (0..len as u8).map(|i| i.wrapping_mul(13) ^ seed).collect()
}

/// Re-encodes a value after changing its decoded bytes.
fn edit(value: &str, f: impl FnOnce(&mut Vec<u8>)) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = engine.decode(value).unwrap();
    f(&mut bytes);
    engine.encode(bytes)
}

/// The same varint one byte longer: its last byte gains a continuation
/// bit and a zero byte follows.
fn overlong(bytes: &[u8], varint_end: usize) -> Vec<u8> {
    let mut out = bytes[..varint_end].to_vec();
    *out.last_mut().unwrap() |= 0x80;
    out.push(0x00);
    out.extend_from_slice(&bytes[varint_end..]);
    out
}

enum Data {
    Text(String),
    Map(SessionMap),
    Anonymous,
}

impl Data {
    fn session_map() -> Self {
        let mut map = SessionMap::default();
        map.insert("user", "alice").unwrap();
        map.insert("visits", &3u32).unwrap();
        Self::Map(map)
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Text(_) => "string",
            Self::Map(_) => "session_map",
            Self::Anonymous => "none",
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Self::Text(text) => serde_json::Value::from(text.as_str()),
            Self::Map(map) => {
                let bytes = postcard::to_allocvec(map).unwrap();
                let entries: std::collections::BTreeMap<String, Vec<u8>> =
                    postcard::from_bytes(&bytes).unwrap();
                entries
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::from(hex(&v))))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            }
            Self::Anonymous => serde_json::Value::Null,
        }
    }

    /// The data's own encoding, if there is data.
    fn data_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Self::Text(text) => Some(postcard::to_allocvec(text).unwrap()),
            Self::Map(map) => Some(postcard::to_allocvec(map).unwrap()),
            Self::Anonymous => None,
        }
    }

    /// The session layer's payload around the data.
    fn payload(&self, csrf: Option<&[u8; 32]>, flash: &[FlashMessage]) -> Vec<u8> {
        let mut out = postcard::to_allocvec(&(csrf, flash)).unwrap();
        match self.data_bytes() {
            Some(data) => {
                out.push(1);
                out.extend(data);
            }
            None => out.push(0),
        }
        out
    }
}

/// The envelope: metadata, then the payload's bytes.
fn plaintext(meta: &SessionMeta, payload: &[u8]) -> Vec<u8> {
    let mut out = envelope::encode_into(Vec::new(), meta, &())
        .unwrap()
        .to_vec();
    out.extend_from_slice(payload);
    out
}

/// The payload of a plain session holding `text`.
fn text_payload(text: &str) -> Vec<u8> {
    Data::Text(text.to_owned()).payload(None, &[])
}

fn flash_json(message: &FlashMessage) -> serde_json::Value {
    serde_json::json!({
        "level": message.level.as_str(),
        "level_index": message.level as u8,
        "text": message.text,
    })
}

struct Case {
    description: &'static str,
    key_id: u32,
    seed: u8,
    lifetimes: Lifetimes,
    data_version: u32,
    data: Data,
    parts: u8,
    profile: u8,
    csrf: Option<[u8; 32]>,
    flash: Vec<FlashMessage>,
}

fn valid(codec: &Codec, case: Case) -> Valid {
    let (_, suite) = KEYS[case.key_id as usize - 1];
    let ring = keyring_with_primary(case.key_id);
    let meta = meta(case.seed, case.lifetimes)
        .with_data_version(case.data_version)
        .with_profile(crate::ProfileId::new(case.profile));
    let nonce = nonce(case.seed, suite.nonce_len());
    let payload = case.data.payload(case.csrf.as_ref(), &case.flash);
    let plaintext = plaintext(&meta, &payload);
    let data_hex = case.data.data_bytes().map(|d| hex(&d));
    let value = seal_plaintext(codec, &ring, &nonce, &plaintext, case.parts);
    let mut header = vec![1u8];
    header.extend_from_slice(&case.key_id.to_be_bytes());
    let mut aad = [0u8; MAX_AAD_LEN];
    let aad = hex(codec.aad(&mut aad, &header, case.parts));
    let chunks = match case.parts {
        0 => Vec::new(),
        n => {
            let size = BROWSER_COOKIE_LIMIT - (NAME.len() + 2);
            let chunks: Vec<String> = value
                .as_bytes()
                .chunks(size)
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect();
            assert_eq!(chunks.len(), usize::from(n));
            chunks
        }
    };
    Valid {
        description: case.description,
        suite: suite.name(),
        key_id: case.key_id,
        cookie_name: NAME,
        context: "",
        parts: case.parts,
        nonce_hex: hex(&nonce),
        session_id_hex: hex(meta.session_id().as_bytes()),
        issued_at: meta.issued_at,
        sealed_at: meta.sealed_at,
        absolute_expiry: meta.absolute_expiry,
        idle_expiry: meta.idle_expiry,
        data_version: meta.data_version,
        profile: case.profile,
        csrf_secret_hex: case.csrf.map(|s| hex(&s)),
        flash: case.flash.iter().map(flash_json).collect(),
        data_type: case.data.kind(),
        data: case.data.json(),
        data_hex,
        payload_hex: hex(&payload),
        plaintext_hex: hex(&plaintext),
        aad_hex: aad,
        now: T0 + 60,
        value,
        chunks,
    }
}

fn generate() -> String {
    let codec = Codec::new(NAME).unwrap();
    let mut valid_cases = Vec::new();
    let texts = [
        ("empty string", String::new()),
        ("one-character string", "a".to_owned()),
        ("256-character string", "x".repeat(256)),
        (
            "string close to one cookie's limit",
            "session data ".repeat(220),
        ),
    ];
    for (index, (key_id, _)) in KEYS.into_iter().enumerate() {
        for (i, (description, text)) in texts.iter().enumerate() {
            valid_cases.push(Case {
                description,
                key_id,
                seed: (index * 16 + i) as u8,
                lifetimes: Lifetimes::default(),
                data_version: 0,
                data: Data::Text(text.clone()),
                parts: 0,
                profile: 0,
                csrf: None,
                flash: Vec::new(),
            });
        }
        valid_cases.push(Case {
            description: "session map {user: \"alice\", visits: 3u32}",
            key_id,
            seed: (index * 16 + 8) as u8,
            lifetimes: Lifetimes::default(),
            data_version: 0,
            data: Data::session_map(),
            parts: 0,
            profile: 0,
            csrf: None,
            flash: Vec::new(),
        });
    }
    valid_cases.push(Case {
        description: "profile 1 (\"remember me\"), absolute lifetime only (no idle timeout)",
        key_id: 1,
        seed: 0x40,
        lifetimes: Lifetimes::new(Some(Duration::from_secs(30 * 86_400)), None),
        data_version: 0,
        data: Data::Text("remember me".to_owned()),
        parts: 0,
        profile: 1,
        csrf: None,
        flash: Vec::new(),
    });
    valid_cases.push(Case {
        description: "data version 7: a manager at another data version needs a migration",
        key_id: 1,
        seed: 0x41,
        lifetimes: Lifetimes::default(),
        data_version: 7,
        data: Data::Text("old data".to_owned()),
        parts: 0,
        profile: 0,
        csrf: None,
        flash: Vec::new(),
    });
    valid_cases.push(Case {
        description: "split over 2 chunk cookies (parts = 2 in the AAD)",
        key_id: 1,
        seed: 0x42,
        lifetimes: Lifetimes::default(),
        data_version: 0,
        data: Data::Text("session data ".repeat(400)),
        parts: 2,
        profile: 0,
        csrf: None,
        flash: Vec::new(),
    });
    valid_cases.push(Case {
        description: "anonymous session holding one flash message (no data)",
        key_id: 1,
        seed: 0x43,
        lifetimes: Lifetimes::default(),
        data_version: 0,
        data: Data::Anonymous,
        parts: 0,
        profile: 0,
        csrf: None,
        flash: vec![FlashMessage::new(
            Level::Error,
            "Wrong user name or password.",
        )],
    });
    valid_cases.push(Case {
        description: "CSRF secret, two flash messages and a session map",
        key_id: 1,
        seed: 0x44,
        lifetimes: Lifetimes::default(),
        data_version: 0,
        data: Data::session_map(),
        parts: 0,
        profile: 0,
        csrf: Some(core::array::from_fn(|i| 0x3c ^ i as u8)),
        flash: vec![
            FlashMessage::new(Level::Info, "Signed in."),
            FlashMessage::new(Level::Success, "Welcome back, Zoë."),
        ],
    });
    let valid: Vec<Valid> = valid_cases.into_iter().map(|c| valid(&codec, c)).collect();

    let ring = keyring();
    let base_meta = meta(0xee, Lifetimes::default());
    let base_nonce = nonce(0xee, 24);
    let base_plain = plaintext(&base_meta, &text_payload("alice"));
    let seal = |plaintext: &[u8]| seal_plaintext(&codec, &ring, &base_nonce, plaintext, 0);
    let base = seal(&base_plain);
    let kind = |k: ErrorKind| format!("{k:?}");
    let mut invalid = Vec::new();
    let mut push = |description, cookie_name, now, value: String, expected: ErrorKind| {
        invalid.push(Invalid {
            description,
            cookie_name,
            data_type: "string",
            now,
            value,
            expected: kind(expected),
        });
    };
    let now = T0 + 60;
    push("empty", NAME, now, String::new(), ErrorKind::Malformed);
    push(
        "too short",
        NAME,
        now,
        base[..40].to_owned(),
        ErrorKind::Malformed,
    );
    push(
        "character outside base64url",
        NAME,
        now,
        format!("{}!", &base[..base.len() - 1]),
        ErrorKind::Malformed,
    );
    push(
        "standard alphabet instead of URL-safe",
        NAME,
        now,
        format!("{}+{}", &base[..20], &base[21..]),
        ErrorKind::Malformed,
    );
    push(
        "padding",
        NAME,
        now,
        format!("{base}=="),
        ErrorKind::Malformed,
    );
    let extra = (4 + 1 - base.len() % 4) % 4;
    let extra = if extra == 0 { 4 } else { extra };
    push(
        "impossible length",
        NAME,
        now,
        format!("{base}{}", "A".repeat(extra)),
        ErrorKind::Malformed,
    );
    push(
        "truncated tag",
        NAME,
        now,
        edit(&base, |b| {
            b.pop();
        }),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "flipped bit in ciphertext",
        NAME,
        now,
        edit(&base, |b| b[40] ^= 0x01),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "flipped bit in tag",
        NAME,
        now,
        edit(&base, |b| {
            let last = b.len() - 1;
            b[last] ^= 0x80
        }),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "flipped bit in nonce",
        NAME,
        now,
        edit(&base, |b| b[5] ^= 0x10),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "sealed for another cookie name",
        "__Host-t",
        now,
        base.clone(),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "unknown version",
        NAME,
        now,
        edit(&base, |b| b[0] = 2),
        ErrorKind::UnsupportedVersion,
    );
    push(
        "version zero",
        NAME,
        now,
        edit(&base, |b| b[0] = 0),
        ErrorKind::UnsupportedVersion,
    );
    push(
        "unknown key id",
        NAME,
        now,
        edit(&base, |b| b[1..5].copy_from_slice(&99u32.to_be_bytes())),
        ErrorKind::UnknownKey,
    );
    push(
        "key id rewritten to another configured key",
        NAME,
        now,
        edit(&base, |b| b[1..5].copy_from_slice(&2u32.to_be_bytes())),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "idle timeout passed",
        NAME,
        T0 + 30 * 60,
        base.clone(),
        ErrorKind::ExpiredIdle,
    );
    push(
        "issued in the future beyond the skew",
        NAME,
        T0 - 61,
        base.clone(),
        ErrorKind::NotYetValid,
    );
    push(
        "longer than a cookie can be",
        NAME,
        now,
        "A".repeat(4096),
        ErrorKind::TooLarge,
    );
    let absolute_only = meta(0xdd, Lifetimes::new(Some(Duration::from_secs(100)), None));
    let short = seal_plaintext(
        &codec,
        &ring,
        &nonce(0xdd, 24),
        &plaintext(&absolute_only, &text_payload("alice")),
        0,
    );
    push(
        "absolute lifetime passed",
        NAME,
        T0 + 100,
        short,
        ErrorKind::ExpiredAbsolute,
    );
    let mut trailing = base_plain.clone();
    trailing.push(0);
    push(
        "authentic payload with a trailing byte",
        NAME,
        now,
        seal(&trailing),
        ErrorKind::PayloadDecode,
    );

    // Authentic plaintexts that are not the canonical encoding. Offsets
    // in `base_plain`: session id 0..16, issued_at 16..21, sealed_at
    // 21..26, tag 26, absolute_expiry 27..32, tag 32, idle_expiry 33..38,
    // data_version 38, profile 39; the payload: CSRF tag 40, flash count
    // 41, data tag 42, then the string: length 43, bytes 44..49.
    assert_eq!(base_plain.len(), 49);
    assert_eq!(&base_plain[38..], b"\x00\x00\x00\x00\x01\x05alice");
    for (description, end) in [
        ("overlong varint in issued_at", 21),
        ("overlong varint in sealed_at", 26),
        ("overlong varint in absolute_expiry", 32),
        ("overlong varint in idle_expiry", 38),
        ("overlong varint in data_version (0 as 0x80 0x00)", 39),
        ("overlong varint in the flash count (0 as 0x80 0x00)", 42),
        (
            "overlong varint in the data (string length 5 as 0x85 0x00)",
            44,
        ),
    ] {
        push(
            description,
            NAME,
            now,
            seal(&overlong(&base_plain, end)),
            ErrorKind::PayloadDecode,
        );
    }
    let mut bad_tag = base_plain.clone();
    bad_tag[26] = 2;
    push(
        "Option tag 2 in absolute_expiry",
        NAME,
        now,
        seal(&bad_tag),
        ErrorKind::PayloadDecode,
    );
    for (description, at) in [
        ("Option tag 2 for the CSRF secret", 40),
        ("Option tag 2 for the data", 42),
    ] {
        let mut bad = base_plain.clone();
        bad[at] = 2;
        push(description, NAME, now, seal(&bad), ErrorKind::PayloadDecode);
    }
    let mut no_data_then_bytes = base_plain.clone();
    no_data_then_bytes[42] = 0;
    push(
        "data tag None followed by bytes",
        NAME,
        now,
        seal(&no_data_then_bytes),
        ErrorKind::PayloadDecode,
    );
    let mut bad_level = base_plain.clone();
    bad_level.splice(41..42, [1, 5, 1, b'x']);
    push(
        "flash message with level 5 (none such)",
        NAME,
        now,
        seal(&bad_level),
        ErrorKind::PayloadDecode,
    );
    let mut past_u32 = base_plain.clone();
    past_u32.splice(38..39, [0x80, 0x80, 0x80, 0x80, 0x10]);
    push(
        "data_version past u32 (2^32 in five bytes)",
        NAME,
        now,
        seal(&past_u32),
        ErrorKind::PayloadDecode,
    );
    type Plain = (
        [u8; 16],
        u64,
        u64,
        Option<u64>,
        Option<u64>,
        u32,
        u8,
        Option<[u8; 32]>,
        Vec<u8>,
        Option<String>,
    );
    let mut plain: Plain = postcard::from_bytes(&base_plain).expect("the base envelope");
    plain.2 = plain.1 - 1;
    push(
        "sealed_at one second before issued_at",
        NAME,
        now,
        seal(&postcard::to_allocvec(&plain).expect("encodes")),
        ErrorKind::PayloadDecode,
    );
    let mut far = base_plain.clone();
    // 253402300800 = 9999-12-31T23:59:59Z + 1 s, in the 6 bytes of a varint.
    far.splice(16..21, [0x80, 0xb7, 0xe0, 0xc9, 0xb0, 0x07]);
    push(
        "issued_at after 9999-12-31T23:59:59Z",
        NAME,
        now,
        seal(&far),
        ErrorKind::PayloadDecode,
    );
    push(
        "empty plaintext",
        NAME,
        now,
        seal(&[]),
        ErrorKind::PayloadDecode,
    );
    let map_prefix = &base_plain[..43];
    for (description, entries) in [
        ("session map with a duplicate key", [("a", 1u8), ("a", 2)]),
        ("session map with keys out of order", [("b", 2), ("a", 1)]),
    ] {
        let mut plaintext = map_prefix.to_vec();
        plaintext.push(2);
        for (key, value) in entries {
            plaintext.extend_from_slice(&[1, key.as_bytes()[0], 1, value]);
        }
        invalid.push(Invalid {
            description,
            cookie_name: NAME,
            data_type: "session_map",
            now,
            value: seal(&plaintext),
            expected: kind(ErrorKind::PayloadDecode),
        });
    }

    let file = File {
        description: "sealed-session wire format v1 test vectors (FORMAT.md). Every value opens, or \
                      fails with `expected`, under `configuration`; the plaintext is the \
                      metadata then the session layer's payload (CSRF secret, flash messages, \
                      data), and the data is a string, a SessionMap or absent as `data_type` says",
        format_version: crate::codec::FORMAT_V1,
        configuration: Configuration {
            note: "Parse `keyring` with Keyring::from_str (key 1 is the primary; `valid` values \
                   under keys 2 and 3 open and ask for a re-seal). A SessionManager<String> (or \
                   <SessionMap>, per `data_type`) with SessionConfig::new(CookieConfig::new(\
                   cookie_name)) and no other setting opens every valid value of data version \
                   0 as a single cookie, with its clock at the vector's `now`; the chunked \
                   value needs .chunking(max_chunks) and its `chunks` as cookies name.0, \
                   name.1; the data version 7 value needs .data_version(7) or a migration hook. \
                   Profile 1 is not declared by that configuration, so its value lives by the \
                   default profile's limits.",
            keyring: keyring_string(),
            primary_key_id: 1,
            cookie_name: NAME,
            context_hex: "",
            data_version: 0,
            clock_skew_seconds: 60,
            max_chunks: MAX_CHUNKS,
        },
        keys: KEYS
            .into_iter()
            .map(|(id, suite)| KeyVector {
                id,
                suite: suite.name(),
                key_hex: hex(&key_bytes(id)),
            })
            .collect(),
        valid,
        invalid,
    };
    let mut json = serde_json::to_string_pretty(&file).unwrap();
    json.push('\n');
    json
}

#[test]
fn vectors_are_current() {
    let generated = generate();
    if std::env::var_os("REGENERATE_VECTORS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "tests/vectors/v1.json differs from what the code produces: the wire format changed. \
         If that is intended (it logs every user out), regenerate with \
         `REGENERATE_VECTORS=1 cargo test --lib vectors`"
    );
}

/// The session layer's payload as a tuple (FORMAT.md §6.3).
type Payload<T> = (Option<[u8; 32]>, Vec<FlashMessage>, Option<T>);

#[test]
fn every_invalid_vector_fails_as_recorded() {
    // The file's own check lives in tests/vectors.rs; this guards the
    // generator against recording an outcome the codec does not produce.
    let file: serde_json::Value = serde_json::from_str(&generate()).unwrap();
    let ring = keyring();
    for case in file["invalid"].as_array().unwrap() {
        let codec = Codec::new(case["cookie_name"].as_str().unwrap()).unwrap();
        let (value, now) = (
            case["value"].as_str().unwrap(),
            at(case["now"].as_u64().unwrap()),
        );
        let err = match case["data_type"].as_str().unwrap() {
            "string" => codec
                .open_at::<Payload<String>>(&ring, value, now)
                .map(drop),
            _ => codec
                .open_at::<Payload<SessionMap>>(&ring, value, now)
                .map(drop),
        }
        .unwrap_err();
        assert_eq!(
            format!("{:?}", err.kind()),
            case["expected"],
            "{}",
            case["description"]
        );
    }
}
