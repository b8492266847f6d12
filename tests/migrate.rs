//! The session layer's legacy migration (feature `migrate`), with legacy
//! values written by `cookie`'s own `PrivateJar`. The peer crates mint
//! their cookies in the interop package's tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::adapter::{Clock, Connection};
use sealed_session::migrate::{
    LegacyConfig, LegacyConfigError, LegacyCookie, LegacyKey, LegacyRejection, LegacySource,
};
use sealed_session::{
    CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager,
};

const MASTER: [u8; 64] = [0x3c; 64];

fn legacy_value(name: &str, value: &str) -> String {
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(&cookie::Key::from(&MASTER))
        .add(cookie::Cookie::new(name.to_owned(), value.to_owned()));
    jar.get(name).unwrap().value().to_owned()
}

/// The `name=value` pair of a `Set-Cookie`.
fn pair(set_cookie: &HeaderValue) -> String {
    let text = set_cookie.to_str().unwrap();
    text.split(';').next().unwrap().to_owned()
}

fn config(sunset: SystemTime) -> LegacyConfig {
    LegacyConfig::new(sunset).cookie(
        LegacyCookie::new(LegacySource::CookiePrivate, "user")
            .key(LegacyKey::from_master(&MASTER).unwrap()),
    )
}

fn later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(86_400)
}

/// A manager whose mapping counts its calls.
fn manager(sunset: SystemTime, calls: &Arc<AtomicUsize>) -> SessionManager<String> {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    let calls = Arc::clone(calls);
    SessionManager::new(SessionConfig::new(CookieConfig::default()), keys)
        .unwrap()
        .with_legacy_cookies(config(sunset), move |legacy| {
            calls.fetch_add(1, Ordering::Relaxed);
            legacy.text().map(str::to_owned)
        })
        .unwrap()
}

fn headers(cookies: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(COOKIE, HeaderValue::from_str(cookies).unwrap());
    map
}

const HTTPS: Connection = Connection::new(None, true);

fn names(set_cookie: &[HeaderValue]) -> Vec<String> {
    set_cookie
        .iter()
        .map(|v| v.to_str().unwrap().split('=').next().unwrap().to_owned())
        .collect()
}

#[test]
fn a_legacy_cookie_becomes_a_fresh_sealed_session() {
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(later(), &calls);
    let mut session = manager.load(
        &headers(&format!("user={}", legacy_value("user", "alice"))),
        HTTPS,
    );
    assert_eq!(session.get().map(String::as_str), Some("alice"));
    let meta = session.meta().unwrap().clone();
    let saved = session.save().unwrap().set_cookie;
    assert_eq!(names(&saved), ["__Host-session", "user"]);
    assert!(saved[1].to_str().unwrap().contains("Max-Age=0"));
    assert!(
        session.save().unwrap().set_cookie.is_empty(),
        "removed once"
    );

    let pair = pair(&saved[0]);
    let mut next = manager.load(&headers(&pair), HTTPS);
    assert_eq!(next.get().map(String::as_str), Some("alice"));
    assert_eq!(
        next.meta().unwrap().session_id(),
        meta.session_id(),
        "the id the migration drew"
    );
    assert_eq!(
        manager
            .legacy_stats()
            .migrated_from(LegacySource::CookiePrivate),
        1
    );
}

#[test]
fn at_most_one_legacy_decryption_per_request() {
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(later(), &calls);
    let good = legacy_value("user", "alice");
    let mut bad = good.clone().into_bytes();
    bad[20] ^= 1;
    let bad = String::from_utf8(bad).unwrap();
    // Four values: the first does not open, the others would.
    let cookies = format!("user={bad}; user={good}; user={good}; user={good}");
    let mut session = manager.load(&headers(&cookies), HTTPS);
    for _ in 0..3 {
        assert_eq!(session.get(), None);
    }
    session.touch();
    assert_eq!(names(&session.save().unwrap().set_cookie), ["user"]);
    let stats = manager.legacy_stats();
    assert_eq!(
        (
            stats.migrated(),
            stats.rejected_for(LegacyRejection::Unopened)
        ),
        (0, 1)
    );
    assert_eq!(
        calls.load(Ordering::Relaxed),
        0,
        "nothing opened, nothing mapped"
    );

    // The good value first: opened and mapped once, however often the
    // handler reads.
    let mut session = manager.load(&headers(&format!("user={good}; user={good}")), HTTPS);
    for _ in 0..3 {
        assert_eq!(session.get().map(String::as_str), Some("alice"));
    }
    session.save().unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[test]
fn legacy_never_wins_over_a_valid_sealed_cookie() {
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(later(), &calls);
    let mut session = manager.load(&HeaderMap::new(), HTTPS);
    session.set("alice".to_owned());
    let saved = session.save().unwrap().set_cookie;
    let sealed = pair(&saved[0]);

    let mallory = format!("user={}", legacy_value("user", "mallory"));
    for cookies in [
        format!("{mallory}; {sealed}"),
        format!("{sealed}; {mallory}"),
    ] {
        let mut session = manager.load(&headers(&cookies), HTTPS);
        assert_eq!(session.get().map(String::as_str), Some("alice"));
        assert_eq!(
            names(&session.save().unwrap().set_cookie),
            ["user"],
            "legacy removed, sealed kept"
        );
    }
    assert_eq!(
        calls.load(Ordering::Relaxed),
        0,
        "the legacy value was never opened"
    );
    assert_eq!(
        manager
            .legacy_stats()
            .rejected_for(LegacyRejection::Superseded),
        2
    );

    // An invalid sealed cookie does not block the migration.
    let cookies = format!("__Host-session=AAAA; {mallory}");
    let mut session = manager.load(&headers(&cookies), HTTPS);
    assert_eq!(session.get().map(String::as_str), Some("mallory"));
}

struct At(SystemTime);

impl Clock for At {
    fn now(&self) -> SystemTime {
        self.0
    }
}

#[test]
fn after_the_sunset_legacy_cookies_are_only_removed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let sunset = later();
    let cookies = format!("user={}", legacy_value("user", "alice"));
    let before = manager(sunset, &calls).with_clock(At(sunset - Duration::from_secs(1)));
    assert_eq!(
        before
            .load(&headers(&cookies), HTTPS)
            .get()
            .map(String::as_str),
        Some("alice")
    );

    let after = manager(sunset, &calls).with_clock(At(sunset));
    let mut session = after.load(&headers(&cookies), HTTPS);
    assert_eq!(session.get(), None);
    assert_eq!(names(&session.save().unwrap().set_cookie), ["user"]);
    assert_eq!(
        after.legacy_stats().rejected_for(LegacyRejection::Sunset),
        1
    );
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "only the request before the sunset mapped"
    );
}

#[test]
fn an_untouched_session_reads_no_legacy_cookie() {
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(later(), &calls);
    let cookies = format!("user={}", legacy_value("user", "alice"));
    let mut session = manager.load(&headers(&cookies), HTTPS);
    assert!(session.save().unwrap().set_cookie.is_empty());
    let stats = manager.legacy_stats();
    assert_eq!((stats.migrated(), stats.rejected()), (0, 0));
}

#[test]
fn logout_removes_the_legacy_cookie_too() {
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(later(), &calls);
    let cookies = format!("user={}", legacy_value("user", "alice"));
    let mut session = manager.load(&headers(&cookies), HTTPS);
    session.destroy();
    assert_eq!(
        names(&session.save().unwrap().set_cookie),
        ["__Host-session", "user"]
    );
}

#[test]
fn legacy_names_cannot_clash_with_the_sealed_cookie() {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    let sealed = SessionConfig::new(CookieConfig::new("s").insecure_dev_only()).chunking(4);
    let manager = SessionManager::<String>::new(sealed, keys).unwrap();
    let key = || LegacyKey::from_master(&MASTER).unwrap();
    for name in ["s", "s.0"] {
        let config = LegacyConfig::new(later())
            .cookie(LegacyCookie::new(LegacySource::CookiePrivate, name).key(key()));
        let err = manager
            .clone()
            .with_legacy_cookies(config, |_| None)
            .unwrap_err();
        assert_eq!(err, LegacyConfigError::NameClash(name.to_owned()));
    }
    let keyless =
        LegacyConfig::new(later()).cookie(LegacyCookie::new(LegacySource::CookiePrivate, "user"));
    assert!(matches!(
        manager.clone().with_legacy_cookies(keyless, |_| None),
        Err(LegacyConfigError::NoKey(_))
    ));
    let bad_path = LegacyConfig::new(later()).cookie(
        LegacyCookie::new(LegacySource::CookiePrivate, "user")
            .path("x")
            .key(key()),
    );
    assert!(matches!(
        manager.with_legacy_cookies(bad_path, |_| None),
        Err(LegacyConfigError::Cookie(_))
    ));
}

#[test]
fn a_migration_that_cannot_be_sealed_keeps_the_legacy_cookie() {
    // An AES-256-GCM key whose seal budget is spent: the sealed cookie
    // cannot be written, so removing the legacy one would log the user out.
    let spent = KeySpec::new(1, Key::generate())
        .suite(sealed_session::Suite::Aes256Gcm)
        .seal_budget(0);
    let manager = SessionManager::<String>::new(
        SessionConfig::new(CookieConfig::default()),
        KeyringHandle::new(Keyring::new(spent)),
    )
    .unwrap()
    .with_legacy_cookies(config(later()), |legacy| legacy.text().map(str::to_owned))
    .unwrap();
    let cookies = format!("user={}", legacy_value("user", "alice"));
    let mut session = manager.load(&headers(&cookies), HTTPS);
    assert_eq!(session.get().map(String::as_str), Some("alice"));
    assert!(
        session.save().unwrap().set_cookie.is_empty(),
        "neither sealed nor removed"
    );
    assert_eq!(manager.skipped_refreshes(), 1);
}
