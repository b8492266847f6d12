//! Cost of a request that migrates a legacy cookie (one legacy open, the
//! mapping, one seal, the legacy cookie's removal) against a normal
//! request on a sealed cookie (one open, nothing to write) and a login
//! (one seal), through the session layer.
//!
//! Run with `cargo bench --bench migrate --features migrate`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark code: failing loudly is the right behaviour"
)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::adapter::Connection;
use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacyKey, LegacySession, LegacySource};
use sealed_session::{
    CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap,
};

const MASTER: [u8; 64] = [0x2a; 64];
const HTTPS: Connection = Connection::new(None, true);

/// What actix-session's cookie store writes for a logged-in user: its
/// JSON map of JSON texts in a `PrivateJar` value named `id`.
fn legacy_cookie() -> String {
    let state = serde_json::json!({
        "user_id": "42",
        "roles": "[\"admin\",\"ops\"]",
        "name": "\"Zoë Ångström\"",
    });
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(&cookie::Key::from(&MASTER))
        .add(cookie::Cookie::new("id", state.to_string()));
    format!("id={}", jar.get("id").unwrap().value())
}

fn manager() -> SessionManager<SessionMap> {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    let legacy = LegacyConfig::new(SystemTime::now() + Duration::from_secs(86_400)).cookie(
        LegacyCookie::new(LegacySource::ActixSessionPrivate, "id")
            .key(LegacyKey::from_master(&MASTER).unwrap()),
    );
    SessionManager::new(SessionConfig::new(CookieConfig::default()), keys)
        .unwrap()
        .with_legacy_cookies(legacy, LegacySession::to_session_map)
        .unwrap()
}

fn headers(cookie: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
    map
}

fn request(manager: &SessionManager<SessionMap>, headers: &HeaderMap) -> usize {
    let mut session = manager.load(headers, HTTPS);
    assert!(session.get().is_some());
    session.save().unwrap().set_cookie.len()
}

fn bench(c: &mut Criterion) {
    let manager = manager();
    let legacy = headers(&legacy_cookie());

    // The sealed cookie the migration writes, for the normal request.
    let mut session = manager.load(&legacy, HTTPS);
    let data = session.get().expect("migrated").clone();
    let saved = session.save().unwrap().set_cookie;
    assert_eq!(saved.len(), 2, "sealed cookie and legacy removal");
    let sealed = headers(saved[0].to_str().unwrap().split(';').next().unwrap());
    assert_eq!(request(&manager, &sealed), 0);
    assert_eq!(request(&manager, &legacy), 2);

    let mut group = c.benchmark_group("request");
    group.bench_function("normal (open sealed)", |b| {
        b.iter(|| request(&manager, black_box(&sealed)))
    });
    group.bench_function("login (seal)", |b| {
        b.iter(|| {
            let mut session = manager.load(black_box(&HeaderMap::new()), HTTPS);
            session.set(data.clone());
            session.save().unwrap().set_cookie.len()
        })
    });
    group.bench_function("migrating (legacy open + seal)", |b| {
        b.iter(|| request(&manager, black_box(&legacy)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
