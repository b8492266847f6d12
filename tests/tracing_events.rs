//! With the `tracing` feature, rejections and deployment problems become
//! events that carry classifications, never cookie values or key material.
#![cfg(feature = "tracing")]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use sealed_session::adapter::Connection;
use sealed_session::{
    CookieConfig, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager,
};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A subscriber that writes every event at `level` or above into a
/// capture the test reads back.
fn capturing(level: tracing::Level) -> (Capture, tracing::Dispatch) {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || writer.clone())
        .finish();
    (capture, tracing::Dispatch::new(subscriber))
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf8")
    }
}

/// A new session holding `data`, as the `name=value` pair a browser sends.
fn issue(manager: &SessionManager<String>, data: &str) -> String {
    let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    session.set(data.to_owned());
    let set = session.save().expect("finish").set_cookie;
    let text = set[0].to_str().expect("ascii");
    text.split(';').next().expect("pair").to_owned()
}

fn cookie_headers(pair: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_str(pair).expect("header"));
    headers
}

#[test]
fn events_name_the_reason_and_never_the_value_or_key() {
    let (capture, subscriber) = capturing(tracing::Level::DEBUG);
    let key_b64 = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    tracing::dispatcher::with_default(&subscriber, || {
        let keyring: Keyring = format!("1:{key_b64}").parse().expect("keyring");
        let keys = KeyringHandle::new(keyring);
        let manager = SessionManager::<String>::new(
            SessionConfig::new(CookieConfig::new("__Host-s")),
            keys.clone(),
        )
        .expect("config");
        // A valid cookie from another key id, then a plain-HTTP login.
        let other = KeyringHandle::new(Keyring::new(KeySpec::new(9, common::key(9))));
        let foreign =
            SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("__Host-s")), other)
                .expect("config");
        let pair = issue(&foreign, "secret-data");
        let mut session = manager.load(
            &cookie_headers(&pair),
            Connection::new(Some("127.0.0.1".parse().expect("ip")), false),
        );
        assert!(session.get().is_none());
        session.set("secret-data".into());
        session.save().expect("send");
        let logged = capture.text();
        assert!(logged.contains("session cookie rejected"), "{logged}");
        // The new session is logged with a short id prefix and its key id.
        let created = logged
            .lines()
            .rfind(|line| line.contains("session created"))
            .unwrap_or_else(|| panic!("a creation event: {logged}"));
        assert!(
            created.contains("SessionId(") && created.contains("key_id=1"),
            "{created}"
        );
        let mut reopened = manager.load(&cookie_headers(&pair), Connection::new(None, true));
        assert!(!logged.contains("session re-sealed"));
        let own_pair = issue(&manager, "mine");
        let mut changed = manager.load(&cookie_headers(&own_pair), Connection::new(None, true));
        changed.set("changed".into());
        changed.save().expect("re-seal");
        let logged = capture.text();
        let resealed = logged
            .lines()
            .find(|line| line.contains("session re-sealed"))
            .unwrap_or_else(|| panic!("a re-seal event: {logged}"));
        assert!(
            resealed.contains("changed=true") && resealed.contains("SessionId("),
            "{resealed}"
        );
        reopened.destroy();
        reopened.save().expect("destroy");
        let logged = capture.text();
        assert!(logged.contains("session destroyed"), "{logged}");
        assert!(
            logged.contains("reason=UnknownKey") && logged.contains("key_id=Some(9)"),
            "{logged}"
        );
        assert!(
            logged.contains("X-Forwarded-Proto"),
            "the insecure-context hint: {logged}"
        );
        let value = pair.split_once('=').expect("pair").1;
        assert!(!logged.contains(value), "no cookie value in logs");
        assert!(!logged.contains("secret-data"), "no session data in logs");
        assert!(!logged.contains(&key_b64[..16]), "no key material in logs");
    });
}

#[test]
fn dropping_secure_is_announced_at_startup() {
    let (capture, subscriber) = capturing(tracing::Level::WARN);
    tracing::dispatcher::with_default(&subscriber, || {
        let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, common::key(1))));
        SessionManager::<String>::new(
            SessionConfig::new(CookieConfig::new("__Host-s")),
            keys.clone(),
        )
        .expect("config");
        let quiet = capture.0.lock().expect("lock").is_empty();
        assert!(quiet, "a Secure cookie is not announced");
        SessionManager::<String>::new(
            SessionConfig::new(CookieConfig::new("dev").insecure_dev_only()),
            keys,
        )
        .expect("config");
    });
    let logged = capture.text();
    assert!(logged.contains("for development only"), "{logged}");
}

#[test]
fn aes_gcm_keys_warn_at_half_and_nine_tenths_of_their_seal_budget() {
    let (capture, subscriber) = capturing(tracing::Level::WARN);
    let spec = KeySpec::new(4, common::key(4))
        .suite(sealed_session::Suite::Aes256Gcm)
        .seal_budget(10);
    let keys = KeyringHandle::new(Keyring::new(spec));
    let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys)
        .expect("config");
    tracing::dispatcher::with_default(&subscriber, || {
        for seal in 1..=10 {
            issue(&manager, "x");
            let log = capture.text();
            let warnings = log.matches("of its seal budget").count();
            let expected = match seal {
                0..5 => 0,
                5..9 => 1,
                _ => 2,
            };
            assert_eq!(warnings, expected, "after {seal} seals:\n{log}");
        }
    });
    let log = capture.text();
    assert!(
        log.contains("50 % of its seal budget") && log.contains("key_id=4"),
        "{log}"
    );
    assert!(log.contains("90 % of its seal budget"), "{log}");
    let ring = manager.keys().current();
    assert_eq!(
        (ring.seal_count(4), ring.seal_budget(4)),
        (Some(10), Some(10))
    );
}

#[test]
fn a_skipped_refresh_is_logged_with_its_kind_and_key() {
    let (capture, subscriber) = capturing(tracing::Level::WARN);
    let spec = KeySpec::new(6, common::key(6))
        .suite(sealed_session::Suite::Aes256Gcm)
        .seal_budget(1);
    let keys = KeyringHandle::new(Keyring::new(spec));
    let manager =
        SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys.clone())
            .expect("config");
    let pair = issue(&manager, "alice");
    // Rotation makes the next read re-seal the cookie under key 7, whose
    // budget is spent as well.
    keys.update(|ring| {
        ring.add_accept_only(
            KeySpec::new(7, common::key(7))
                .suite(sealed_session::Suite::Aes256Gcm)
                .seal_budget(0),
        )?;
        ring.promote(7)
    })
    .expect("rotate");
    tracing::dispatcher::with_default(&subscriber, || {
        let mut session = manager.load(&cookie_headers(&pair), Connection::new(None, true));
        assert_eq!(session.get().map(String::as_str), Some("alice"));
        assert!(session.save().expect("no 500").set_cookie.is_empty());
    });
    let log = capture.text();
    assert_eq!(log.matches("session refresh skipped").count(), 1, "{log}");
    assert!(
        log.contains("KeyExhausted") && log.contains("key_id=7"),
        "{log}"
    );
    assert!(!log.contains(pair.split_once('=').expect("pair").1));
}

/// The migration's events: when the window ends, at startup; the source
/// and reason of each legacy cookie; never a value.
#[cfg(feature = "migrate")]
#[test]
fn legacy_migration_logs_its_window_and_kinds_never_values() {
    use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacyKey, LegacySource};
    const MASTER: [u8; 64] = [0x3c; 64];
    let legacy_value = |value: &str| {
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(&cookie::Key::from(&MASTER))
            .add(cookie::Cookie::new("user", value.to_owned()));
        jar.get("user").expect("added").value().to_owned()
    };
    let good = legacy_value("alice-secret-name");
    let mut forged = good.clone().into_bytes();
    forged[20] ^= 1;
    let forged = String::from_utf8(forged).expect("base64");
    let (capture, subscriber) = capturing(tracing::Level::DEBUG);
    tracing::dispatcher::with_default(&subscriber, || {
        let sunset = std::time::SystemTime::now() + std::time::Duration::from_secs(3 * 86_400 + 60);
        let legacy = LegacyConfig::new(sunset).cookie(
            LegacyCookie::new(LegacySource::CookiePrivate, "user")
                .key(LegacyKey::from_master(&MASTER).expect("64 bytes")),
        );
        let manager = SessionManager::<String>::new(
            SessionConfig::new(CookieConfig::new("__Host-s")),
            KeyringHandle::new(Keyring::new(KeySpec::new(1, common::key(1)))),
        )
        .expect("config")
        .with_legacy_cookies(legacy, |legacy| legacy.text().map(str::to_owned))
        .expect("legacy config");
        for value in [&good, &forged] {
            let mut session = manager.load(
                &cookie_headers(&format!("user={value}")),
                Connection::new(None, true),
            );
            session.get();
            session.save().expect("save");
        }
    });
    let text = capture.text();
    assert!(
        text.contains("until the sunset") && text.contains("days_left=3"),
        "{text}"
    );
    assert!(
        text.contains("session migrated from a legacy cookie"),
        "{text}"
    );
    assert!(text.contains("reason=\"unopened\""), "{text}");
    assert!(text.contains("source=\"cookie-private\""), "{text}");
    for secret in [good.as_str(), forged.as_str(), "alice-secret-name"] {
        assert!(!text.contains(secret), "a value in the log: {text}");
    }
}
