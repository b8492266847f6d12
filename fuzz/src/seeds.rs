//! Writes the seed corpus: every seed a real value or header the targets
//! are made to check.

use std::net::IpAddr;

use http::HeaderMap;

use sealed_session::adapter::SchemeSource;
use sealed_session::codec::Codec;
use sealed_session::{Key, KeyId, KeySpec, Keyring, Suite};

use std::fs;
use std::path::PathBuf;

use sealed_session::{ErrorKind, Lifetimes, SessionMeta};
use serde::Serialize;

use crate::*;

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("create corpus dir");
    fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
}

fn seal<T: Serialize + ?Sized>(ring: &Keyring, name: &str, issued: u64, data: &T) -> String {
    let meta = SessionMeta::new_at(Lifetimes::default(), at(issued)).expect("meta");
    Codec::new(name)
        .expect("name")
        .seal(ring, &meta, data)
        .expect("seal")
}

fn map(entries: &[(&str, &[u8])]) -> MapData {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
        .collect()
}

pub(super) fn write_all() {
    let issued = NOW_SECS - 60;
    let user = map(&[("user", b"alice"), ("csrf", &[7; 16])]);

    // `open` and `header`: valid values for every suite, then values
    // that fail at each later check.
    for (id, suite, _) in FIXED_KEYS {
        let value = seal(&keyring(id), COOKIE_NAME, issued, &user);
        let name = match suite {
            Suite::Xaes256Gcm => "xaes",
            Suite::XChaCha20Poly1305 => "xchacha",
            _ => "aes",
        };
        write("open", &format!("{name}-valid"), &value);
        write("header", &format!("{name}-valid"), &value);
    }
    let ring = keyring(1);
    write(
        "open",
        "empty-map",
        seal(&ring, COOKIE_NAME, issued, &MapData::new()),
    );
    write(
        "open",
        "not-a-map",
        seal(&ring, COOKIE_NAME, issued, &(7u8, "x")),
    );
    write(
        "open",
        "expired-idle",
        seal(&keyring(2), COOKIE_NAME, NOW_SECS - 3600, &user),
    );
    write(
        "open",
        "not-yet-valid",
        seal(&keyring(3), COOKIE_NAME, NOW_SECS + 3600, &user),
    );
    write("open", "other-name", seal(&ring, "other", issued, &user));
    let foreign = Keyring::new(KeySpec::new(9, Key::from_bytes(&[0x99; 32]).expect("key")));
    let unknown = seal(&foreign, COOKIE_NAME, issued, &user);
    write("open", "unknown-key", &unknown);
    write("header", "unknown-key", &unknown);
    write(
        "header",
        "short",
        "AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    write(
        "header",
        "version-2",
        "AgAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );

    // `envelope`: postcard of the metadata followed by the session
    // payload around a map.
    let envelope = |meta: MetaWire, payload: SessionPayload| {
        postcard::to_allocvec(&(meta, payload)).expect("postcard")
    };
    let plain = |data: &MapData| -> SessionPayload { (None, Vec::new(), Some(data.clone())) };
    let full: MetaWire = (
        [0xa5; 16],
        issued,
        issued,
        Some(issued + 43_200),
        Some(issued + 1800),
        0,
        0,
    );
    write("envelope", "full", envelope(full, plain(&user)));
    let bare: MetaWire = ([1; 16], 0, 0, None, None, 3, 1);
    write(
        "envelope",
        "no-expiry-empty-map",
        envelope(bare, plain(&MapData::new())),
    );
    let max: MetaWire = (
        [0; 16],
        MAX_UNIX_SECS,
        MAX_UNIX_SECS,
        Some(MAX_UNIX_SECS),
        None,
        u32::MAX,
        u8::MAX,
    );
    write(
        "envelope",
        "max-times",
        envelope(max, plain(&map(&[("", b"")]))),
    );
    write(
        "envelope",
        "anonymous-flash",
        envelope(
            full,
            (
                None,
                vec![(4, "Wrong user name or password.".to_owned())],
                None,
            ),
        ),
    );
    write(
        "envelope",
        "csrf-flash-map",
        envelope(
            full,
            (
                Some([0x3c; 32]),
                vec![(1, "Signed in.".to_owned()), (2, "Zoë".to_owned())],
                Some(user.clone()),
            ),
        ),
    );
    let mut trailing = envelope(full, plain(&user));
    trailing.push(0);
    write("envelope", "trailing-byte", trailing);

    // `keyring_parse`.
    const K1: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    const K2: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    const HEX: &str = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    write("keyring_parse", "single", format!("1:{K1}"));
    write(
        "keyring_parse",
        "suites",
        format!("2:xchacha20-poly1305:{K1}, 1:aes-256-gcm:{HEX},\n 3:XAES-256-GCM:{K2}"),
    );
    write(
        "keyring_parse",
        "url-safe-unpadded",
        "7:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",
    );
    write("keyring_parse", "hex-key", HEX);
    write("keyring_parse", "duplicate-id", format!("1:{K1},1:{K2}"));
    write("keyring_parse", "short-key", "5:AAAA");
    write(
        "keyring_parse",
        "all-zero",
        "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    );
    write("keyring_parse", "unknown-suite", format!("1:rot13:{K1}"));
    write("keyring_parse", "empty-entry", format!("1:{K1},"));
    write(
        "keyring_parse",
        "64-byte-key",
        format!("4:{}AQ==", "AQEB".repeat(21)),
    );

    // `roundtrip`: unstructured bytes for `arbitrary`, each longer than
    // the smallest `Case` (shorter inputs are rejected unread).
    let mut state: u32 = 0x2545_f491;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect()
    };
    write("roundtrip", "zeros", [0x00; 128]);
    write("roundtrip", "ones", [0xff; 128]);
    write("roundtrip", "random-128", bytes(128));
    write("roundtrip", "random-256", bytes(256));
    write("roundtrip", "random-512", bytes(512));

    cookie_header(&user);
    proxy_headers();
}

/// The `Set-Cookie` pairs (`name=value`) of a new session holding `user`
/// and `blob_len` more bytes, under `max_chunks` and key `primary`.
fn session_cookies(primary: KeyId, max_chunks: u8, user: &MapData, blob_len: usize) -> Vec<String> {
    let manager = session_manager_at(max_chunks, primary, NOW_SECS - 60);
    let mut session = manager.load(
        &HeaderMap::new(),
        sealed_session::adapter::Connection::new(None, true),
    );
    for (key, value) in user {
        session.insert(key, value).expect("insert");
    }
    session
        .insert("blob", &vec![0x5a_u8; blob_len])
        .expect("insert");
    let outcome = session.save().expect("finish");
    outcome
        .set_cookie
        .iter()
        .map(|header| {
            let text = header.to_str().expect("ASCII");
            text.split(';').next().expect("pair").to_owned()
        })
        .collect()
}

/// `cookie_header`: a chunk-limit byte, then `Cookie` fields separated
/// by `\n`.
fn cookie_header(user: &MapData) {
    let cookie = |max_chunks: u8, fields: &[&str]| {
        let mut bytes = vec![max_chunks];
        bytes.extend_from_slice(fields.join("\n").as_bytes());
        bytes
    };
    let write = |name: &str, bytes: Vec<u8>| write("cookie_header", name, bytes);
    let issued = NOW_SECS - 60;
    let n = COOKIE_NAME;
    // What the session manager seals: the session payload around the map.
    let payload: SessionPayload = (None, Vec::new(), Some(user.clone()));
    let [xaes, xchacha, aes] =
        FIXED_KEYS.map(|(id, ..)| format!("{n}={}", seal(&keyring(id), n, issued, &payload)));

    // Valid single cookies of each suite (key 1 is primary; 2 and 3
    // make the session re-seal), among other cookies and fields.
    write("single-xaes", cookie(0, &[&xaes]));
    write("single-xchacha", cookie(0, &[&xchacha]));
    write(
        "single-aes-among-others",
        cookie(0, &[&format!("theme=dark; {aes}; lang=en")]),
    );
    write(
        "fields",
        cookie(0, &["a=1", &format!("{n}=junk"), &format!("b=2; {xaes}")]),
    );
    write(
        "spaces",
        cookie(0, &[&format!("  {}= {} ;", n, &xaes[n.len() + 1..])]),
    );
    write(
        "duplicate-valid-second",
        cookie(0, &[&format!("{xchacha}; {xaes}")]),
    );
    write(
        "duplicates-past-cap",
        cookie(0, &[&format!("{n}=a; {n}=b; {n}=c; {n}=d; {xaes}")]),
    );

    // Refused: quoted, percent-encoded, expired, empty, not UTF-8.
    let value = &xaes[n.len() + 1..];
    write("quoted", cookie(0, &[&format!("{n}=\"{value}\"")]));
    write(
        "percent",
        cookie(
            0,
            &[&format!("{n}=%{:02X}{}", value.as_bytes()[0], &value[1..])],
        ),
    );
    let expired = seal(&keyring(2), n, NOW_SECS - 3600, &payload);
    write("expired", cookie(0, &[&format!("{n}={expired}")]));
    write("empty-value", cookie(0, &[&format!("{n}=; other=1")]));
    let mut bytes = vec![0];
    bytes.extend_from_slice(b"x=\xff\xfe; y=\x80\n");
    bytes.extend_from_slice(xaes.as_bytes());
    write("not-utf8", bytes);

    // Chunked sets: valid ones of each suite, in and out of order, and
    // sets that must not reassemble.
    let two = session_cookies(1, 4, user, 5000);
    assert_eq!(two.len(), 2, "{two:?}");
    write("chunked-xaes", cookie(4, &[&two.join("; ")]));
    write("chunks-off", cookie(0, &[&two.join("; ")]));
    let three = session_cookies(2, 16, user, 7000);
    assert_eq!(three.len(), 3, "{three:?}");
    write(
        "chunked-xchacha",
        cookie(16, &[&three[2], &format!("{}; {}", three[0], three[1])]),
    );
    let aes_two = session_cookies(3, 4, user, 5000);
    assert_eq!(aes_two.len(), 2, "{aes_two:?}");
    write(
        "chunked-aes-with-single",
        cookie(4, &[&format!("{n}=junk; {}", aes_two[1]), &aes_two[0]]),
    );
    let chunk_value = |pair: &str| pair.split_once('=').expect("pair").1.to_owned();
    let (c0, c1) = (chunk_value(&two[0]), chunk_value(&two[1]));
    write(
        "chunks-gap",
        cookie(4, &[&format!("{n}.0={c0}; {n}.2={c1}")]),
    );
    write(
        "chunks-duplicate",
        cookie(
            4,
            &[&format!("{n}.0={c0}; {n}.1={c1}"), &format!("{n}.1={c1}")],
        ),
    );
    write(
        "chunks-noncanonical",
        cookie(
            4,
            &[&format!(
                "{n}.00=a; {n}.+1=b; {n}.4=c; {n}.0={c0}; {n}.01={c1}"
            )],
        ),
    );
    write(
        "chunks-stale-with-single",
        cookie(4, &[&format!("{n}.0=x; {n}.1=y; {n}.3=z; {xchacha}")]),
    );
    write("chunk-alone", cookie(4, &[&format!("{n}.1=zz")]));

    // 64 KiB of `Cookie` fields are read, not more: a 64-byte field
    // repeated reaches the limit exactly, and the session cookie after
    // it is ignored; one byte less and it is read.
    let padding = |len: usize| format!("\u{7f}p={}; ", "x".repeat(len - 4));
    assert_eq!(padding(64).len() - 1, 64);
    write("scan-limit-reached", cookie(0, &[&padding(64), &xaes]));
    write("scan-limit-not-reached", cookie(0, &[&padding(63), &xaes]));
}

/// `proxy_headers`: a peer-kind byte, 16 address bytes, then lines.
pub(super) fn proxy_input(peer: &str, lines: &[&[u8]]) -> Vec<u8> {
    let mut bytes = vec![0u8; 17];
    match (!peer.is_empty()).then(|| peer.parse::<IpAddr>().expect("address")) {
        None => {}
        Some(IpAddr::V4(v4)) => {
            bytes[0] = 1;
            bytes[1..5].copy_from_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            bytes[0] = 2;
            bytes[1..].copy_from_slice(&v6.octets());
        }
    }
    bytes.extend_from_slice(&lines.join(&b'\n'));
    bytes
}

/// Name, peer (empty: none), lines, and the `(is_https, source)` the
/// `10.0.0.0/8, fd00::/8` configuration gives over plain HTTP.
pub(super) type ProxySeed = (
    &'static str,
    &'static str,
    &'static [&'static [u8]],
    (bool, SchemeSource),
);

/// The `proxy_headers` seeds.
pub(super) const PROXY_SEEDS: &[ProxySeed] = &[
    (
        "forwarded-last-element",
        "10.0.0.2",
        &[b"Ffor=1.2.3.4;proto=https, proto=http"],
        (false, SchemeSource::Forwarded),
    ),
    (
        "forwarded-https",
        "10.0.0.2",
        &[b"Ffor=192.0.2.7;proto=https"],
        (true, SchemeSource::Forwarded),
    ),
    (
        "xfp-https",
        "10.1.2.3",
        &[b"Xhttps"],
        (true, SchemeSource::XForwardedProto),
    ),
    (
        "untrusted-peer",
        "203.0.113.5",
        &[b"Xhttps", b"Fproto=https"],
        (false, SchemeSource::NoTrustedProxy),
    ),
    (
        "no-peer",
        "",
        &[b"Xhttps"],
        (false, SchemeSource::NoTrustedProxy),
    ),
    (
        "v6-quoted",
        "fd00::1",
        &[br#"Ffor="[2001:db8::1]:80";proto="https""#],
        (true, SchemeSource::Forwarded),
    ),
    (
        "v4-mapped-appended",
        "::ffff:10.0.0.2",
        &[b"Xhttps, http"],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "agreeing",
        "10.0.0.2",
        &[b"Xhttps", b"XHTTPS", b"Fproto=https"],
        (true, SchemeSource::Forwarded),
    ),
    (
        "disagreeing",
        "10.0.0.2",
        &[b"Xhttp", b"Fproto=https"],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "escaped",
        "10.0.0.2",
        &[br#"Fproto="h\ttps""#],
        (true, SchemeSource::Forwarded),
    ),
    (
        "quote-hides-separators",
        "10.0.0.2",
        &[br#"Ffor="a,b;proto=http";proto=https"#],
        (true, SchemeSource::Forwarded),
    ),
    (
        "open-quote",
        "10.0.0.2",
        &[br#"Fproto=https;for="a,proto=https"#],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "two-protos",
        "10.0.0.2",
        &[b"Fproto=https;proto=https"],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "bare-ipv6-for",
        "10.0.0.2",
        &[b"Ffor=2001:db8::1;proto=https"],
        (true, SchemeSource::Forwarded),
    ),
    (
        "mixed-case",
        "10.0.0.2",
        &[b"FFor=\"_hidden\";PROTO=HTTPS;by=unknown"],
        (true, SchemeSource::Forwarded),
    ),
    // 128 bytes repeated 64 times: exactly the 8 KiB limit.
    (
        "at-length-limit",
        "10.0.0.2",
        &[b"ffor=192.0.2.7;by=10.0.0.1;host=example.com;proto=https, \
            for=198.51.100.17;by=10.0.0.2;proto=https, for=203.0.113.9;proto=https, "],
        (true, SchemeSource::Forwarded),
    ),
    // One byte more per repetition.
    (
        "too-long",
        "10.0.0.2",
        &[b"ffor=192.0.2.7;by=10.0.0.1;host=example.com;proto=https, \
            for=198.51.100.17;by=10.0.0.2;proto=https, for=203.0.113.9;proto=https,  "],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "empty-last-line",
        "10.0.0.2",
        &[b"Fproto=https", b"F"],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "xfp-no-value",
        "10.0.0.2",
        &[b"X , "],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "not-utf8",
        "10.0.0.2",
        &[b"Fproto=\xffhttps", b"X\xfe"],
        (false, SchemeSource::Ambiguous),
    ),
    (
        "http-from-proxy",
        "fd12::7",
        &[b"Fproto=http", b"Xhttp"],
        (false, SchemeSource::Forwarded),
    ),
    (
        "outside-v6-range",
        "fe80::1",
        &[b"Fproto=https"],
        (false, SchemeSource::NoTrustedProxy),
    ),
    (
        "unrelated-headers",
        "10.0.0.2",
        &[b"Sproto=https", b"on"],
        (false, SchemeSource::NoHeader),
    ),
];

/// Name, whether the session opens, why it is refused, and how many
/// `Set-Cookie` values finishing it untouched gives.
pub(super) const COOKIE_SEEDS: &[(&str, bool, Option<ErrorKind>, usize)] = &[
    ("single-xaes", true, None, 0),
    ("single-xchacha", true, None, 1),
    ("single-aes-among-others", true, None, 1),
    ("fields", true, None, 0),
    ("spaces", true, None, 0),
    ("duplicate-valid-second", false, None, 1),
    ("duplicates-past-cap", false, Some(ErrorKind::Malformed), 1),
    ("quoted", false, Some(ErrorKind::Malformed), 1),
    ("percent", false, Some(ErrorKind::Malformed), 1),
    ("expired", false, Some(ErrorKind::ExpiredIdle), 1),
    ("empty-value", false, Some(ErrorKind::Malformed), 1),
    ("not-utf8", true, None, 0),
    ("chunked-xaes", true, None, 0),
    ("chunks-off", false, None, 0),
    ("chunked-xchacha", true, None, 3),
    ("chunked-aes-with-single", true, None, 3),
    ("chunks-gap", false, None, 2),
    ("chunks-duplicate", false, None, 2),
    ("chunks-noncanonical", false, None, 1),
    ("chunks-stale-with-single", true, None, 4),
    ("chunk-alone", false, None, 1),
    ("scan-limit-reached", false, None, 0),
    ("scan-limit-not-reached", true, None, 0),
];

fn proxy_headers() {
    for (name, peer, lines, _) in PROXY_SEEDS {
        write("proxy_headers", name, proxy_input(peer, lines));
    }
}
