//! Cost of sealing and opening cookie values, against the `cookie` crate's
//! `PrivateJar` and against a bare AES-256-GCM + base64 floor, and how that
//! cost grows with the size of the session, up to values split over
//! several cookies.
//!
//! Run with `cargo bench --bench codec`; `cargo bench --bench codec --
//! scaling` runs the size sweep alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    unreachable_pub,
    reason = "benchmark code: failing loudly is the right behaviour"
)]

use std::hint::black_box;
use std::sync::LazyLock;

use aes_gcm::aead::{AeadInOut, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::{NO_PAD, URL_SAFE_NO_PAD};
use base64::engine::simd::Simd;
use cookie::{Cookie, CookieJar};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use rand::{Rng as _, SeedableRng as _};
use sealed_session::adapter::Connection;
use sealed_session::codec::Codec;
use sealed_session::limits::{DEFAULT_COOKIE_NAME, MAX_CHUNKS, MAX_VALUE_LIMIT};
use sealed_session::{
    CookieConfig, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, SessionConfig, SessionManager,
    SessionMeta, Suite,
};
use serde::{Deserialize, Serialize};

const SIZES: [usize; 4] = [64, 256, 1024, 3000];
const COOKIE_NAME: &str = "s";

/// base64's SIMD engine, which the crate does not use (no `unsafe` on
/// attacker bytes): compared in `base64_engines`.
static SIMD: LazyLock<Simd> = LazyLock::new(|| Simd::url_safe(NO_PAD));

/// The engine the crate uses: base64's general-purpose engine.
const ENGINE: base64::engine::GeneralPurpose = URL_SAFE_NO_PAD;

/// A typical session: a few strings plus text (say, preferences as JSON)
/// that sets the size.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Payload {
    user: String,
    roles: Vec<String>,
    tenant: u32,
    csrf: [u8; 16],
    prefs: String,
}

/// The same session with the variable part as `Vec<u8>`, which serde
/// encodes byte by byte unless the field uses `serde_bytes`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
struct BytesPayload {
    user: String,
    roles: Vec<String>,
    tenant: u32,
    csrf: [u8; 16],
    blob: Vec<u8>,
}

/// A payload whose postcard encoding is exactly `target` bytes.
fn payload(target: usize) -> Payload {
    let mut p = Payload {
        user: "alice@example.com".to_owned(),
        roles: vec!["admin".to_owned(), "editor".to_owned()],
        tenant: 4242,
        csrf: [0x5a; 16],
        prefs: String::new(),
    };
    let mut n = target;
    loop {
        p.prefs = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let len = postcard::to_allocvec(&p).unwrap().len();
        if len == target {
            return p;
        }
        assert!(len > target, "cannot reach {target} bytes");
        n -= (len - target).min(n);
    }
}

fn keyring(suite: Suite) -> Keyring {
    let spec = KeySpec::new(1, Key::generate()).suite(suite);
    // AES-256-GCM keys carry a seal budget; the bench must never exhaust it.
    let spec = match suite {
        Suite::Aes256Gcm => spec.seal_budget(u64::MAX),
        _ => spec,
    };
    Keyring::new(spec)
}

/// A codec whose value limit admits the largest payload: 3000 B of data
/// seals to just over one browser cookie.
fn codec() -> Codec {
    Codec::new(COOKIE_NAME)
        .unwrap()
        .with_max_value_len(2 * 4096)
        .unwrap()
}

fn report_sizes() {
    let keyring = keyring(Suite::default());
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    let default_limit = Codec::new(COOKIE_NAME).unwrap().max_value_len();
    for size in SIZES {
        let value = codec().seal(&keyring, &meta, &payload(size)).unwrap();
        eprintln!(
            "payload {size} B -> sealed value {} chars (default limit {default_limit}: {})",
            value.len(),
            if value.len() <= default_limit {
                "fits"
            } else {
                "too large"
            }
        );
    }
}

fn suites(c: &mut Criterion) {
    report_sizes();
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    for suite in Suite::ALL {
        let keyring = keyring(suite);
        let codec = codec();
        for size in SIZES {
            let data = payload(size);
            let value = codec.seal(&keyring, &meta, &data).unwrap();
            assert_eq!(codec.open::<Payload>(&keyring, &value).unwrap().data, data);

            c.bench_with_input(
                BenchmarkId::new(format!("seal/{suite}"), size),
                &data,
                |b, data| b.iter(|| codec.seal(&keyring, &meta, black_box(data)).unwrap()),
            );
            c.bench_with_input(
                BenchmarkId::new(format!("open/{suite}"), size),
                &value,
                |b, value| b.iter(|| codec.open::<Payload>(&keyring, black_box(value)).unwrap()),
            );
            c.bench_with_input(
                BenchmarkId::new(format!("roundtrip/{suite}"), size),
                &data,
                |b, data| {
                    b.iter(|| {
                        let value = codec.seal(&keyring, &meta, black_box(data)).unwrap();
                        codec.open::<Payload>(&keyring, &value).unwrap()
                    })
                },
            );
        }
    }
}

/// Postcard sizes of the scaling sweep: from a bare id to values that
/// need several cookies.
const SCALING_SIZES: [usize; 7] = [16, 64, 256, 1024, 4096, 8192, 16384];

/// The suites of the scaling sweep: the default, XAES-256-GCM, and
/// AES-256-GCM.
const SCALING_SUITES: [Suite; 2] = [Suite::Xaes256Gcm, Suite::Aes256Gcm];

const HTTPS: Connection = Connection::new(None, true);

/// Text whose postcard encoding (a length prefix, then the bytes) is
/// exactly `target` bytes. One shape for every size, so that the sweep
/// shows the cost per byte, not the fixed fields of a struct.
fn text_payload(target: usize) -> String {
    (1..=3)
        .map(|prefix| "x".repeat(target - prefix))
        .find(|text| postcard::to_allocvec(text).unwrap().len() == target)
        .unwrap_or_else(|| panic!("no text encodes to {target} bytes"))
}

/// A session manager on the default cookie that splits a value too large
/// for one cookie over up to [`MAX_CHUNKS`] cookies `name.0`, `name.1`, …
fn chunking_manager(suite: Suite) -> SessionManager<String> {
    let config = SessionConfig::new(CookieConfig::default()).chunking(MAX_CHUNKS);
    SessionManager::new(config, KeyringHandle::new(keyring(suite))).unwrap()
}

/// A login: a new session holding `data`, saved. Returns its `Set-Cookie`
/// values, one per cookie.
fn login(manager: &SessionManager<String>, data: String) -> Vec<HeaderValue> {
    let mut session = manager.load(&HeaderMap::new(), HTTPS);
    session.set(data);
    session.save().unwrap().set_cookie
}

/// The `name=value` pairs of `Set-Cookie` values.
fn cookie_pairs(set_cookie: &[HeaderValue]) -> impl Iterator<Item = &str> {
    set_cookie
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap())
}

/// The next request's headers, carrying the cookies as a browser sends
/// them back: one `Cookie` header, pairs separated by `; `.
fn cookie_request(set_cookie: &[HeaderValue]) -> HeaderMap {
    let pairs: Vec<&str> = cookie_pairs(set_cookie).collect();
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_str(&pairs.join("; ")).unwrap());
    headers
}

/// What a request that reads the session does: load, open and decode on
/// `get`, then `save`, which writes nothing for an unchanged session.
fn read_session(manager: &SessionManager<String>, request: &HeaderMap) -> usize {
    let mut session = manager.load(request, HTTPS);
    let len = session.get().map(String::len).unwrap();
    assert!(session.save().unwrap().set_cookie.is_empty());
    len
}

/// For each size and suite, what a login writes: the sealed value's
/// length, the cookies it is split over, and the characters of their
/// `Set-Cookie` values (names and attributes included).
fn report_scaling() {
    eprintln!("| suite | payload B | sealed value chars | cookies | Set-Cookie chars |");
    eprintln!("|---|--:|--:|--:|--:|");
    for suite in SCALING_SUITES {
        let manager = chunking_manager(suite);
        for size in SCALING_SIZES {
            let set_cookie = login(&manager, text_payload(size));
            let sealed: usize = cookie_pairs(&set_cookie)
                .map(|pair| pair.split_once('=').unwrap().1.len())
                .sum();
            let header: usize = set_cookie.iter().map(HeaderValue::len).sum();
            eprintln!(
                "| {suite} | {size} | {sealed} | {} | {header} |",
                set_cookie.len()
            );
        }
    }
}

/// How the cost grows with the size of the data, with throughput in
/// payload bytes. Two layers, every size through both:
///
/// - `codec/*`: [`Codec::seal`] and [`Codec::open`] of one value, under a
///   limit raised to [`MAX_VALUE_LIMIT`] so that every size is one value:
///   serialization, the AEAD and base64, without cookies. Past one cookie
///   this is the value the session layer splits, sealed unsplit.
/// - `session/*`: the public session API on a manager with chunking on,
///   as a server runs it. `seal` is a login (load, `set`, `save`, which
///   renders the `Set-Cookie` values, one per chunk; a new session's
///   first seal also decodes its data once to check it round-trips).
///   `open` is a request that reads the session ([`read_session`]),
///   reassembling the chunks from its `Cookie` header. `roundtrip` is
///   both, with the browser's step between them: the `Set-Cookie` values
///   turned into the next request's `Cookie` header. The session layer
///   seals three bytes of its own state (CSRF secret, flash messages)
///   with the data.
///
/// `report_scaling` prints how many cookies each size takes.
fn scaling(c: &mut Criterion) {
    report_scaling();
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    let mut group = c.benchmark_group("scaling");
    for suite in SCALING_SUITES {
        let keyring = keyring(suite);
        let codec = Codec::new(DEFAULT_COOKIE_NAME)
            .unwrap()
            .with_max_value_len(MAX_VALUE_LIMIT)
            .unwrap();
        let manager = chunking_manager(suite);
        for size in SCALING_SIZES {
            let data = text_payload(size);
            group.throughput(Throughput::Bytes(size as u64));

            let value = codec.seal(&keyring, &meta, &data).unwrap();
            assert_eq!(codec.open::<String>(&keyring, &value).unwrap().data, data);
            group.bench_with_input(
                BenchmarkId::new(format!("codec/seal/{suite}"), size),
                &data,
                |b, data| b.iter(|| codec.seal(&keyring, &meta, black_box(data)).unwrap()),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("codec/open/{suite}"), size),
                &value,
                |b, value| b.iter(|| codec.open::<String>(&keyring, black_box(value)).unwrap()),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("codec/roundtrip/{suite}"), size),
                &data,
                |b, data| {
                    b.iter(|| {
                        let value = codec.seal(&keyring, &meta, black_box(data)).unwrap();
                        codec.open::<String>(&keyring, &value).unwrap()
                    })
                },
            );

            let request = cookie_request(&login(&manager, data.clone()));
            assert_eq!(read_session(&manager, &request), data.len());
            group.bench_with_input(
                BenchmarkId::new(format!("session/seal/{suite}"), size),
                &data,
                |b, data| {
                    b.iter_batched(
                        || data.clone(),
                        |data| login(&manager, data),
                        BatchSize::SmallInput,
                    )
                },
            );
            group.bench_with_input(
                BenchmarkId::new(format!("session/open/{suite}"), size),
                &request,
                |b, request| b.iter(|| read_session(&manager, black_box(request))),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("session/roundtrip/{suite}"), size),
                &data,
                |b, data| {
                    b.iter_batched(
                        || data.clone(),
                        |data| read_session(&manager, &cookie_request(&login(&manager, data))),
                        BatchSize::SmallInput,
                    )
                },
            );
        }
    }
    group.finish();
}

/// What `axum-extra`'s and `actix-web`'s private cookies pay. The typed
/// variant serializes with postcard and base64 (the same engine as the
/// crate) to get a cookie-safe string, so both sides move the same data;
/// the JSON variant carries the same data as JSON text, as the cookie
/// stores of actix-session and tower-sessions encode it. Both typed
/// variants serialize, add, get and deserialize.
fn private_jar(c: &mut Criterion) {
    let key = cookie::Key::generate();
    report_cookie_lengths(&key);
    for size in SIZES {
        let data = payload(size);
        let text = ENGINE.encode(postcard::to_allocvec(&data).unwrap());
        c.bench_with_input(
            BenchmarkId::new("private_jar/add_get/typed", size),
            &data,
            |b, data| {
                b.iter(|| {
                    let text = ENGINE.encode(postcard::to_allocvec(black_box(data)).unwrap());
                    let mut jar = CookieJar::new();
                    jar.private_mut(&key).add(Cookie::new(COOKIE_NAME, text));
                    let cookie = jar.private(&key).get(COOKIE_NAME).unwrap();
                    let bytes = ENGINE.decode(cookie.value()).unwrap();
                    postcard::from_bytes::<Payload>(&bytes).unwrap()
                })
            },
        );
        c.bench_with_input(
            BenchmarkId::new("private_jar/add_get/json", size),
            &data,
            |b, data| {
                b.iter(|| {
                    let text = serde_json::to_string(black_box(data)).unwrap();
                    let mut jar = CookieJar::new();
                    jar.private_mut(&key).add(Cookie::new(COOKIE_NAME, text));
                    let cookie = jar.private(&key).get(COOKIE_NAME).unwrap();
                    serde_json::from_str::<Payload>(cookie.value()).unwrap()
                })
            },
        );
        c.bench_with_input(
            BenchmarkId::new("private_jar/add_get/string", size),
            &text,
            |b, text| {
                b.iter(|| {
                    let mut jar = CookieJar::new();
                    jar.private_mut(&key)
                        .add(Cookie::new(COOKIE_NAME, black_box(text).clone()));
                    jar.private(&key).get(COOKIE_NAME).unwrap()
                })
            },
        );
    }
}

/// The cookie value each contender sends for the same 256-B data: ours
/// under each suite, and `PrivateJar` carrying base64 of the postcard
/// bytes or JSON.
fn report_cookie_lengths(key: &cookie::Key) {
    let data = payload(256);
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    for suite in [Suite::Xaes256Gcm, Suite::Aes256Gcm] {
        let value = codec().seal(&keyring(suite), &meta, &data).unwrap();
        eprintln!(
            "256 B as a cookie value: sealed ({suite}) {} chars",
            value.len()
        );
    }
    let jar_value = |text: String| {
        let mut jar = CookieJar::new();
        jar.private_mut(key).add(Cookie::new(COOKIE_NAME, text));
        jar.get(COOKIE_NAME).unwrap().value().len()
    };
    let postcard = ENGINE.encode(postcard::to_allocvec(&data).unwrap());
    let json = serde_json::to_string(&data).unwrap();
    eprintln!(
        "256 B as a cookie value: PrivateJar + base64(postcard) {} chars (text {} chars)",
        jar_value(postcard.clone()),
        postcard.len()
    );
    eprintln!(
        "256 B as a cookie value: PrivateJar + JSON {} chars (text {} chars)",
        jar_value(json.clone()),
        json.len()
    );
}

/// The least any AES-GCM cookie can cost: cipher built once, fixed nonce,
/// seal + base64 encode + base64 decode + open. `typed` adds postcard.
fn raw_floor(c: &mut Criterion) {
    let cipher = aes_gcm::Aes256Gcm::new(&[7u8; 32].into());
    let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::from([9u8; 12]);
    let aad = COOKIE_NAME.as_bytes();
    let floor = |plain: &[u8]| {
        let mut buf = Vec::with_capacity(plain.len() + 16);
        buf.extend_from_slice(plain);
        let tag = cipher
            .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into())
            .unwrap();
        buf.extend_from_slice(&tag);
        let encoded = ENGINE.encode(&buf);
        let mut decoded = ENGINE.decode(&encoded).unwrap();
        let (body, tag) = decoded.split_at_mut(plain.len());
        let tag: [u8; 16] = (&*tag).try_into().unwrap();
        cipher
            .decrypt_inout_detached(&nonce, aad, body.into(), &tag.into())
            .unwrap();
        decoded.truncate(plain.len());
        decoded
    };
    for size in SIZES {
        let data = payload(size);
        let plain = postcard::to_allocvec(&data).unwrap();
        assert_eq!(floor(&plain), plain);
        c.bench_with_input(
            BenchmarkId::new("raw_floor/aes-256-gcm+base64", size),
            &plain,
            |b, plain| b.iter(|| floor(black_box(plain))),
        );
        c.bench_with_input(
            BenchmarkId::new("raw_floor/typed", size),
            &data,
            |b, data| {
                b.iter(|| {
                    let plain = postcard::to_allocvec(black_box(data)).unwrap();
                    postcard::from_bytes::<Payload>(&floor(&plain)).unwrap()
                })
            },
        );
    }
}

fn rejection(c: &mut Criterion) {
    let keyring = keyring(Suite::default());
    let codec = Codec::new(COOKIE_NAME).unwrap();
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    let sealed = codec.seal(&keyring, &meta, &payload(256)).unwrap();
    let other = keyring_with_id(2);

    let malformed = "!".repeat(60);
    let long_5k = "A".repeat(5 * 1024);
    let long_1m = "A".repeat(1024 * 1024);
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    let mut group = c.benchmark_group("reject");
    let cases: [(&str, &Keyring, &str); 5] = [
        ("malformed_60", &keyring, &malformed),
        ("unknown_key_256", &other, &sealed),
        ("too_long_5k", &keyring, &long_5k),
        ("too_long_1m", &keyring, &long_1m),
        ("bad_tag_256", &keyring, &tampered),
    ];
    for (name, keyring, value) in cases {
        assert!(codec.open::<Payload>(keyring, value).is_err());
        group.bench_function(name, |b| {
            b.iter(|| codec.open::<Payload>(keyring, black_box(value)).is_err())
        });
    }
    group.finish();
}

fn keyring_with_id(id: u32) -> Keyring {
    Keyring::new(KeySpec::new(id, Key::generate()))
}

/// The crate's choice of base64 engine, on the engines alone (no
/// allocation: each writes into a reused buffer): base64's SIMD and
/// general-purpose engines, and base64ct.
fn base64_engines(c: &mut Criterion) {
    use base64ct::Encoding as _;
    for size in [256usize, 3000] {
        let bytes: Vec<u8> = (0..size).map(|i| (i as u8).wrapping_mul(151)).collect();
        let text = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(SIMD.encode(&bytes), text);
        assert_eq!(base64ct::Base64UrlUnpadded::encode_string(&bytes), text);
        bench_engine(c, "general_purpose", &URL_SAFE_NO_PAD, &bytes, &text);
        bench_engine(c, "simd", &*SIMD, &bytes, &text);
        let mut out = vec![0u8; text.len() + 4];
        c.bench_function(&format!("base64/encode/base64ct/{size}"), |b| {
            b.iter(|| {
                base64ct::Base64UrlUnpadded::encode(black_box(&bytes), &mut out)
                    .unwrap()
                    .len()
            })
        });
        c.bench_function(&format!("base64/decode/base64ct/{size}"), |b| {
            b.iter(|| {
                base64ct::Base64UrlUnpadded::decode(black_box(&text), &mut out)
                    .unwrap()
                    .len()
            })
        });
    }
}

fn bench_engine(c: &mut Criterion, name: &str, engine: &impl Engine, bytes: &[u8], text: &str) {
    let size = bytes.len();
    let mut out = vec![0u8; text.len() + 4];
    c.bench_function(&format!("base64/encode/{name}/{size}"), |b| {
        b.iter(|| engine.encode_slice(black_box(bytes), &mut out).unwrap())
    });
    c.bench_function(&format!("base64/decode/{name}/{size}"), |b| {
        b.iter(|| engine.decode_slice(black_box(text), &mut out).unwrap())
    });
}

/// Pieces of a seal at 256 B, to tell where the time goes.
fn parts(c: &mut Criterion) {
    use aes_gcm::aead::consts::{U12, U24};
    let key = [7u8; 32];
    let data = payload(256);
    let plain = postcard::to_allocvec(&data).unwrap();
    let aad = [1u8, 0, 0, 0, 1, 0, 1, b's', 0, 0, 0];
    let mut buf = plain.clone();

    let aes = aes_gcm::Aes256Gcm::new(&key.into());
    let xaes = xaes_256_gcm::Xaes256Gcm::new(&key.into());
    let xchacha = chacha20poly1305::XChaCha20Poly1305::new(&key.into());
    let n12 = aes_gcm::Nonce::<U12>::from([3u8; 12]);
    let n24 = aes_gcm::Nonce::<U24>::from([3u8; 24]);

    c.bench_function("parts/aes-256-gcm/new", |b| {
        b.iter(|| aes_gcm::Aes256Gcm::new(black_box(&key.into())))
    });
    c.bench_function("parts/aes-256-gcm/encrypt/256", |b| {
        b.iter(|| {
            aes.encrypt_inout_detached(&n12, &aad, buf.as_mut_slice().into())
                .unwrap()
        })
    });
    c.bench_function("parts/xaes-256-gcm/encrypt/256", |b| {
        b.iter(|| {
            xaes.encrypt_inout_detached(&n24, &aad, buf.as_mut_slice().into())
                .unwrap()
        })
    });
    c.bench_function("parts/xaes-256-gcm/encrypt/0", |b| {
        b.iter(|| {
            xaes.encrypt_inout_detached(&n24, &aad, (&mut [][..]).into())
                .unwrap()
        })
    });
    c.bench_function("parts/aes-256-gcm/encrypt/0", |b| {
        b.iter(|| {
            aes.encrypt_inout_detached(&n12, &aad, (&mut [][..]).into())
                .unwrap()
        })
    });
    let tag = aes
        .encrypt_inout_detached(&n12, &aad, buf.as_mut_slice().into())
        .unwrap();
    let sealed = buf.clone();
    c.bench_function("parts/aes-256-gcm/decrypt/256", |b| {
        b.iter(|| {
            buf.copy_from_slice(&sealed);
            aes.decrypt_inout_detached(&n12, &aad, buf.as_mut_slice().into(), &tag)
                .unwrap()
        })
    });
    let tag = xaes
        .encrypt_inout_detached(&n24, &aad, buf.as_mut_slice().into())
        .unwrap();
    let sealed = buf.clone();
    c.bench_function("parts/xaes-256-gcm/decrypt/256", |b| {
        b.iter(|| {
            buf.copy_from_slice(&sealed);
            xaes.decrypt_inout_detached(&n24, &aad, buf.as_mut_slice().into(), &tag)
                .unwrap()
        })
    });
    c.bench_function("parts/xchacha20-poly1305/encrypt/256", |b| {
        b.iter(|| {
            xchacha
                .encrypt_inout_detached(&n24, &aad, buf.as_mut_slice().into())
                .unwrap()
        })
    });
    c.bench_function("parts/postcard/serialize_vec/256", |b| {
        b.iter(|| postcard::to_allocvec(black_box(&data)).unwrap())
    });
    c.bench_function("parts/postcard/deserialize/256", |b| {
        b.iter(|| postcard::from_bytes::<Payload>(black_box(&plain)).unwrap())
    });
    let bytes = BytesPayload {
        user: data.user.clone(),
        roles: data.roles.clone(),
        tenant: data.tenant,
        csrf: data.csrf,
        blob: data.prefs.clone().into_bytes(),
    };
    let bytes_plain = postcard::to_allocvec(&bytes).unwrap();
    assert_eq!(bytes_plain, plain);
    c.bench_function("parts/postcard/serialize_vec/256/vec_u8", |b| {
        b.iter(|| postcard::to_allocvec(black_box(&bytes)).unwrap())
    });
    c.bench_function("parts/postcard/deserialize/256/vec_u8", |b| {
        b.iter(|| postcard::from_bytes::<BytesPayload>(black_box(&bytes_plain)).unwrap())
    });
    let mut nonce = [0u8; 24];
    c.bench_function("parts/sys_rng/fill_24", |b| {
        b.iter(|| rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, black_box(&mut nonce)))
    });
    c.bench_function("parts/session_meta/new", |b| {
        b.iter(|| SessionMeta::new(Lifetimes::default()).unwrap())
    });
    c.bench_function("parts/system_time/now", |b| {
        b.iter(std::time::SystemTime::now)
    });
    for n in [384usize, 3136] {
        let mut buf = vec![1u8; n];
        c.bench_function(&format!("parts/zeroize/{n}"), |b| {
            b.iter(|| zeroize::Zeroize::zeroize(black_box(buf.as_mut_slice())))
        });
    }
    // Fixed cost per value: envelope, nonce, AEAD setup, base64, buffers.
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    for suite in Suite::ALL {
        let keyring = keyring(suite);
        let codec = codec();
        c.bench_function(&format!("parts/roundtrip_unit/{suite}"), |b| {
            b.iter(|| {
                let value = codec.seal(&keyring, &meta, black_box(&())).unwrap();
                codec.open::<()>(&keyring, &value).unwrap()
            })
        });
    }
}

/// What one draw of nonce or session-id randomness costs: from the
/// operating system (what the crate does, once per seal and once per new
/// session id), against a user-space ChaCha12 (rand's `StdRng`, which
/// `fork()` and process or VM snapshots copy), with and without a
/// process-id check before every draw. `seal/*` shows the whole seal.
fn nonce_source(c: &mut Criterion) {
    use std::cell::RefCell;

    use rand::TryRng as _;
    use rand::rngs::{StdRng, SysRng};

    let std_rng = RefCell::new(StdRng::try_from_rng(&mut SysRng).unwrap());
    let pid = std::cell::Cell::new(std::process::id());
    let thread = |dest: &mut [u8]| std_rng.borrow_mut().fill_bytes(dest);
    let fork_checked = |dest: &mut [u8]| {
        let now = std::process::id();
        if now != pid.get() {
            *std_rng.borrow_mut() = StdRng::try_from_rng(&mut SysRng).unwrap();
            pid.set(now);
        }
        std_rng.borrow_mut().fill_bytes(dest);
    };
    let os = |dest: &mut [u8]| SysRng.try_fill_bytes(dest).unwrap();
    let sources: [(&str, Fill<'_>); 3] = [
        ("std_rng", &thread),
        ("std_rng_pid_check", &fork_checked),
        ("os", &os),
    ];

    interleaved_fills(24, &sources);

    let mut group = c.benchmark_group("nonce_source");
    for len in [16usize, 24, 40] {
        let mut buf = vec![0u8; len];
        for (name, fill) in sources {
            group.bench_function(format!("fill_{len}/{name}"), |b| {
                b.iter(|| fill(black_box(&mut buf)))
            });
        }
    }
    group.bench_function("process_id", |b| b.iter(std::process::id));
    group.finish();
}

/// A source of random bytes.
type Fill<'a> = &'a dyn Fn(&mut [u8]);

/// Criterion runs one benchmark after another, so load that comes and goes
/// on the machine lands on some sources and not others. This takes turns
/// instead: blocks of `len`-byte draws from each source in rotating order,
/// then prints each source's median per draw and its ratio to the first.
fn interleaved_fills(len: usize, sources: &[(&str, Fill<'_>)]) {
    const ROUNDS: usize = 301;
    const BLOCK: u32 = 200;
    let n = sources.len();
    let mut buf = vec![0u8; len];
    let mut times = vec![Vec::with_capacity(ROUNDS); n];
    for round in 0..ROUNDS {
        for k in 0..n {
            let i = (round + k) % n;
            let fill = sources[i].1;
            let start = std::time::Instant::now();
            for _ in 0..BLOCK {
                fill(black_box(&mut buf));
            }
            times[i].push(start.elapsed().as_secs_f64() * 1e9 / f64::from(BLOCK));
        }
    }
    let medians: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    for ((name, _), median) in sources.iter().zip(&medians) {
        eprintln!(
            "interleaved fill_{len} {name}: {median:.0} ns ({:.2}x {})",
            median / medians[0],
            sources[0].0
        );
    }
}

criterion_group!(
    benches,
    suites,
    scaling,
    private_jar,
    raw_floor,
    rejection,
    base64_engines,
    parts,
    nonce_source
);
criterion_main!(benches);
