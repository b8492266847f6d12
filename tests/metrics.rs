//! The counters of `SessionManager::metrics` and `Keyring::metrics`: each
//! event counted once, in the right place, and nothing counted for a
//! request that only reads a valid session.

mod common;

use std::time::Duration;

use common::{TestClock, key};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use sealed_session::adapter::Connection;
use sealed_session::metrics::{RejectionKind, SessionMetrics};
use sealed_session::{
    CookieConfig, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, Suite,
};

const HTTPS: Connection = Connection::new(None, true);

fn manager() -> (SessionManager<u32>, TestClock) {
    let clock = TestClock::default();
    let keys = KeyringHandle::new(Keyring::new(
        KeySpec::new(1, key(1))
            .suite(Suite::Aes256Gcm)
            .seal_budget(1000),
    ));
    let manager = SessionManager::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)
        .expect("config")
        .with_clock(clock.clone());
    (manager, clock)
}

fn cookie(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        HeaderValue::from_str(&format!("__Host-s={value}")).expect("header"),
    );
    headers
}

/// The sealed value of a `Set-Cookie` header.
fn value_of(set_cookie: &HeaderValue) -> String {
    let text = set_cookie.to_str().expect("ascii");
    let pair = text.split(';').next().expect("pair");
    pair.split_once('=').expect("=").1.to_owned()
}

/// A new session's sealed value.
fn log_in(manager: &SessionManager<u32>) -> String {
    let mut session = manager.load(&HeaderMap::new(), HTTPS);
    session.set(1);
    value_of(&session.save().expect("save").set_cookie[0])
}

fn counts(m: &SessionMetrics) -> (u64, u64, u64, u64) {
    (m.created, m.resealed, m.destroyed, m.skipped_refreshes)
}

#[test]
fn lifecycle_events_are_counted_once() {
    let (manager, clock) = manager();
    let value = log_in(&manager);
    assert_eq!(counts(&manager.metrics()), (1, 0, 0, 0));

    // Reading a valid session: nothing counted, no key counter moves.
    let before = manager.metrics();
    for _ in 0..5 {
        let mut session = manager.load(&cookie(&value), HTTPS);
        assert_eq!(session.get(), Some(&1));
        assert!(session.save().expect("save").set_cookie.is_empty());
    }
    assert_eq!(manager.metrics(), before);

    // A change re-seals; a clone of the manager shares the counters.
    let clone = manager.clone();
    let mut session = clone.load(&cookie(&value), HTTPS);
    session.set(2);
    session.save().expect("save");
    assert_eq!(counts(&manager.metrics()), (1, 1, 0, 0));

    // The idle refresh re-seals too.
    clock.advance(Duration::from_secs(20 * 60));
    let mut session = manager.load(&cookie(&value), HTTPS);
    assert_eq!(session.get(), Some(&1));
    assert_eq!(session.save().expect("save").set_cookie.len(), 1);
    assert_eq!(counts(&manager.metrics()), (1, 2, 0, 0));

    let mut session = manager.load(&cookie(&value), HTTPS);
    session.destroy();
    session.save().expect("save");
    let metrics = manager.metrics();
    assert_eq!(counts(&metrics), (1, 2, 1, 0));
    assert_eq!(metrics.keys.len(), 1);
    let key = &metrics.keys[0];
    assert_eq!(
        (key.key_id, key.primary, key.suite),
        (1, true, Suite::Aes256Gcm)
    );
    assert_eq!(
        (key.seals, key.auth_failures, key.seal_budget),
        (3, 0, Some(1000))
    );
    assert_eq!(key.seal_budget_used(), Some(0.003));
    assert_eq!(
        Some(key.fingerprint),
        manager.keys().current().fingerprint(1)
    );
}

#[test]
fn rejections_are_counted_by_kind() {
    let (manager, clock) = manager();
    let value = log_in(&manager);
    let mut forged = common::decode(&value);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let foreign = {
        let other = Keyring::new(KeySpec::new(9, key(9)));
        let codec = sealed_session::codec::Codec::new("__Host-s").expect("codec");
        let meta = sealed_session::SessionMeta::new_at(
            sealed_session::Lifetimes::default(),
            common::at(common::T0),
        )
        .expect("meta");
        codec.seal(&other, &meta, &1u32).expect("seal")
    };
    for bad in ["junk".to_owned(), common::encode(&forged), foreign] {
        let mut session = manager.load(&cookie(&bad), HTTPS);
        assert!(session.get().is_none());
        // A cookie that is not looked at is not counted twice.
        let _ = session.get();
    }
    clock.advance(Duration::from_secs(13 * 3600));
    assert!(manager.load(&cookie(&value), HTTPS).get().is_none());

    let metrics = manager.metrics();
    for (kind, expected) in [
        (RejectionKind::Malformed, 1),
        (RejectionKind::AuthenticationFailed, 1),
        (RejectionKind::UnknownKey, 1),
        (RejectionKind::ExpiredAbsolute, 1),
        (RejectionKind::ExpiredIdle, 0),
    ] {
        assert_eq!(metrics.rejected(kind), expected, "{kind}");
    }
    let total: u64 = metrics.rejections.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 4);
    assert_eq!(metrics.keys[0].auth_failures, 1);
    assert_eq!(
        counts(&metrics),
        (1, 0, 0, 0),
        "rejections delete, they do not destroy"
    );
}

#[test]
fn skipped_refreshes_are_counted() {
    let clock = TestClock::default();
    let keys = KeyringHandle::new(Keyring::new(
        KeySpec::new(1, key(1))
            .suite(Suite::Aes256Gcm)
            .seal_budget(1),
    ));
    let manager =
        SessionManager::<u32>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)
            .expect("config")
            .with_clock(clock.clone());
    let value = log_in(&manager);
    clock.advance(Duration::from_secs(20 * 60));
    let mut session = manager.load(&cookie(&value), HTTPS);
    assert_eq!(session.get(), Some(&1));
    assert!(session.save().expect("skipped").set_cookie.is_empty());
    let metrics = manager.metrics();
    assert_eq!(counts(&metrics), (1, 0, 0, 1));
    assert_eq!(metrics.keys[0].seal_budget_used(), Some(2.0));
}

/// With the `metrics` feature the facade sees the same events, with the
/// documented names and labels.
#[cfg(feature = "metrics")]
#[test]
fn the_metrics_facade_gets_the_same_events() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let (manager, _clock) = manager();
    metrics::with_local_recorder(&recorder, || {
        let value = log_in(&manager);
        let mut forged = common::decode(&value);
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(
            manager
                .load(&cookie(&common::encode(&forged)), HTTPS)
                .get()
                .is_none()
        );
        assert!(manager.load(&cookie("junk"), HTTPS).get().is_none());
        let mut session = manager.load(&cookie(&value), HTTPS);
        session.set(2);
        session.save().expect("save");
        let mut session = manager.load(&cookie(&value), HTTPS);
        session.destroy();
        session.save().expect("save");
    });
    let page = handle.render();
    for line in [
        "sealed_session_sessions_created_total 1",
        "sealed_session_sessions_resealed_total 1",
        "sealed_session_sessions_destroyed_total 1",
        "sealed_session_cookies_rejected_total{kind=\"authentication_failed\"} 1",
        "sealed_session_cookies_rejected_total{kind=\"malformed\"} 1",
        "sealed_session_key_seals_total{key_id=\"1\"} 2",
        "sealed_session_key_auth_failures_total{key_id=\"1\"} 1",
        "sealed_session_key_seal_budget_used_ratio{key_id=\"1\"} 0.002",
    ] {
        assert!(page.contains(line), "{line:?} missing from:\n{page}");
    }
    let snapshot = manager.metrics();
    assert_eq!(counts(&snapshot), (1, 1, 1, 0), "the snapshot agrees");
}
