//! The session layer at the `http` level: headers in, `Set-Cookie` out,
//! one test per lifecycle rule, with a controlled clock.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{T0, key};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use sealed_session::adapter::{Clock, Connection};
use sealed_session::flash::{FlashMessage, Level};
use sealed_session::{
    ConfigError, CookieConfig, ErrorKind, InsecurePolicy, InvalidCookie, KeySpec, Keyring,
    KeyringHandle, Lifetimes, Profile, ProfileId, ProxyTrust, SessionConfig, SessionError,
    SessionManager, SessionMap,
};
use serde::{Deserialize, Serialize};

#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(AtomicU64::new(T0)))
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
    visits: u32,
}

fn user(name: &str) -> User {
    User {
        name: name.into(),
        visits: 0,
    }
}

const HTTPS: Connection = Connection::new(None, true);

struct App {
    manager: SessionManager<User>,
    clock: TestClock,
}

fn app_with(config: SessionConfig) -> App {
    let clock = TestClock::new();
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let manager = SessionManager::new(config, keys)
        .expect("config")
        .with_clock(clock.clone());
    App { manager, clock }
}

fn app() -> App {
    app_with(SessionConfig::new(CookieConfig::new("__Host-s")))
}

/// A browser's cookie store for one site, enough for these tests.
#[derive(Default, Debug, Clone)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn apply(&mut self, set_cookies: &[HeaderValue]) {
        for header in set_cookies {
            let text = header.to_str().expect("ascii");
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("pair");
            if attrs.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if !self.0.is_empty() {
            let line = self
                .0
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.insert(COOKIE, HeaderValue::from_str(&line).expect("header"));
        }
        headers
    }
}

fn names(set_cookies: &[HeaderValue]) -> Vec<String> {
    set_cookies
        .iter()
        .map(|h| {
            h.to_str()
                .expect("ascii")
                .split('=')
                .next()
                .expect("name")
                .to_owned()
        })
        .collect()
}

impl App {
    /// One request: the handler runs on the session; the jar takes the
    /// response's cookies.
    fn request<R>(
        &self,
        jar: &mut Jar,
        handler: impl FnOnce(&mut sealed_session::adapter::Session<User>) -> R,
    ) -> (R, Vec<HeaderValue>) {
        let mut session = self.manager.load(&jar.headers(), HTTPS);
        let result = handler(&mut session);
        let outcome = session.save().expect("finish");
        jar.apply(&outcome.set_cookie);
        (result, outcome.set_cookie)
    }

    fn login(&self, jar: &mut Jar, name: &str) -> Vec<HeaderValue> {
        self.request(jar, |s| {
            s.regenerate();
            s.set(user(name));
        })
        .1
    }
}

#[test]
fn no_cookie_until_something_is_stored() {
    let app = app();
    let mut jar = Jar::default();
    let (seen, set) = app.request(&mut jar, |s| s.get().cloned());
    assert_eq!(seen, None);
    assert!(set.is_empty());
    let set = app.login(&mut jar, "alice");
    assert_eq!(names(&set), vec!["__Host-s"]);
    let text = set[0].to_str().expect("ascii");
    assert!(
        text.contains("; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=1800; Expires="),
        "{text}"
    );
}

#[test]
fn untouched_sessions_cost_no_decryption_and_send_nothing() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    // A forged cookie: any decryption attempt would count a failure.
    let value = jar.0["__Host-s"].clone();
    let mut forged = common::decode(&value);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    jar.0.insert("__Host-s".to_owned(), common::encode(&forged));
    let ring = app.manager.keys().current();
    let before = ring.auth_failure_count(1);
    let ((), set) = app.request(&mut jar, |_| ());
    assert!(set.is_empty());
    assert_eq!(
        ring.auth_failure_count(1),
        before,
        "no decryption for an untouched session"
    );
    let rejected: u64 = app
        .manager
        .metrics()
        .rejections
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        rejected, 0,
        "a cookie never looked at is not refused either"
    );
}

#[test]
fn unchanged_sessions_send_no_set_cookie() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    app.clock.advance(60);
    let (seen, set) = app.request(&mut jar, |s| s.get().cloned());
    assert_eq!(seen, Some(user("alice")));
    assert!(set.is_empty(), "read-only within the refresh threshold");
}

#[test]
fn changes_are_sealed_and_kept() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    for expected in 1..=3 {
        let (_, set) = app.request(&mut jar, |s| s.get_mut().expect("session").visits += 1);
        assert_eq!(set.len(), 1);
        let (seen, _) = app.request(&mut jar, |s| s.get().map(|u| u.visits));
        assert_eq!(seen, Some(expected));
    }
}

#[test]
fn regenerate_gives_a_new_id_and_issue_time_and_the_old_cookie_stays_anonymous() {
    let app = app();
    let mut jar = Jar::default();
    app.request(&mut jar, |s| s.set(user("anonymous")));
    let (before, _) = app.request(&mut jar, |s| s.meta().cloned());
    let before = before.expect("meta");
    let pre_login = jar.clone();
    app.clock.advance(100);
    app.login(&mut jar, "alice");
    let (after, _) = app.request(&mut jar, |s| s.meta().cloned());
    let after = after.expect("meta");
    assert_ne!(before.session_id(), after.session_id());
    assert_eq!(
        after.issued_at(),
        UNIX_EPOCH + Duration::from_secs(T0 + 100)
    );
    let mut replay = pre_login;
    let (seen, _) = app.request(&mut replay, |s| s.get().cloned());
    assert_eq!(
        seen,
        Some(user("anonymous")),
        "the pre-login cookie never gains the login"
    );
}

#[test]
fn destroy_removes_the_cookie_with_matching_attributes() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let (_, set) = app.request(&mut jar, |s| s.destroy());
    assert_eq!(
        set,
        vec![HeaderValue::from_static(
            "__Host-s=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        )]
    );
    assert!(jar.0.is_empty());
    let (seen, _) = app.request(&mut jar, |s| s.get().cloned());
    assert_eq!(seen, None);
}

#[test]
fn old_key_cookies_are_resealed_with_the_primary_keeping_id_issue_time_and_expiry() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let (original, _) = app.request(&mut jar, |s| s.meta().cloned());
    let original = original.expect("meta");
    app.manager
        .keys()
        .update(|ring| {
            ring.add_accept_only(KeySpec::new(2, key(2)))?;
            ring.promote(2)
        })
        .expect("rotate");
    app.clock.advance(10);
    let resealed_before = app.manager.metrics().resealed;
    let (meta, set) = app.request(&mut jar, |s| s.meta().cloned());
    assert_eq!(set.len(), 1, "re-sealed under the new primary");
    assert!(
        set[0]
            .to_str()
            .expect("ascii")
            .contains("; Secure; HttpOnly; SameSite=Lax; Max-Age=")
    );
    let value = jar.0["__Host-s"].clone();
    assert_eq!(common::decode(&value)[1..5], 2u32.to_be_bytes());
    let meta = meta.expect("meta");
    assert_eq!(meta.session_id(), original.session_id());
    assert_eq!(meta.issued_at(), original.issued_at());
    assert_eq!(meta.absolute_expiry(), original.absolute_expiry());
    assert_eq!(
        app.manager.metrics().resealed,
        resealed_before + 1,
        "operators see the re-seal"
    );
    let (_, set) = app.request(&mut jar, |s| s.get().cloned());
    assert!(set.is_empty(), "already under the primary");
}

#[test]
fn idle_refresh_only_after_the_threshold_and_never_past_the_absolute_lifetime() {
    let lifetimes = Lifetimes::new(
        Some(Duration::from_secs(3600)),
        Some(Duration::from_secs(600)),
    );
    let app = app_with(SessionConfig::new(CookieConfig::new("__Host-s")).lifetimes(lifetimes));
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    app.clock.advance(299);
    assert!(
        app.request(&mut jar, |s| s.get().cloned()).1.is_empty(),
        "under half the idle window"
    );
    app.clock.advance(1);
    let (_, set) = app.request(&mut jar, |s| s.get().cloned());
    assert_eq!(set.len(), 1, "half the idle window passed");
    assert!(set[0].to_str().expect("ascii").contains("Max-Age=600;"));
    // Keep refreshing: the absolute lifetime still ends the session.
    let mut alive = true;
    for _ in 0..20 {
        app.clock.advance(300);
        let (seen, _) = app.request(&mut jar, |s| s.get().cloned());
        alive = seen.is_some();
        if !alive {
            break;
        }
    }
    assert!(!alive);
    assert!(app.clock.now() >= UNIX_EPOCH + Duration::from_secs(T0 + 3600));
}

#[test]
fn max_age_is_the_smaller_remaining_lifetime() {
    let lifetimes = Lifetimes::new(
        Some(Duration::from_secs(1000)),
        Some(Duration::from_secs(600)),
    );
    let app = app_with(SessionConfig::new(CookieConfig::new("__Host-s")).lifetimes(lifetimes));
    let mut jar = Jar::default();
    let set = app.login(&mut jar, "alice");
    assert!(set[0].to_str().expect("ascii").contains("Max-Age=600;"));
    // Renewed at 500 s, the idle deadline moves to 1100 s; at 600 s the
    // absolute lifetime (1000 s) is the nearer end.
    app.clock.advance(500);
    let (_, set) = app.request(&mut jar, |s| s.touch());
    assert!(
        set[0].to_str().expect("ascii").contains("Max-Age=500;"),
        "{:?}",
        set[0]
    );
    app.clock.advance(100);
    let (_, set) = app.request(&mut jar, |s| s.get_mut().expect("alive").visits += 1);
    assert!(
        set[0].to_str().expect("ascii").contains("Max-Age=400;"),
        "{:?}",
        set[0]
    );
}

#[test]
fn expired_sessions_are_empty_and_their_cookie_is_removed() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    app.clock.advance(1800);
    let ((seen, kind), set) = app.request(&mut jar, |s| {
        (
            s.get().cloned(),
            s.invalid_cookie().and_then(InvalidCookie::kind),
        )
    });
    assert_eq!((seen, kind), (None, Some(ErrorKind::ExpiredIdle)));
    assert_eq!(names(&set), vec!["__Host-s"]);
    assert!(set[0].to_str().expect("ascii").contains("Max-Age=0"));
}

#[test]
fn tampered_or_foreign_cookies_give_an_empty_session_and_are_removed() {
    let app = app();
    for value in ["garbage", "", "\"quoted\"", "%41%42%43"] {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("__Host-s={value}")).expect("header"),
        );
        let mut session = app.manager.load(&headers, HTTPS);
        assert!(session.get().is_none());
        assert!(session.invalid_cookie().is_some());
        let outcome = session.save().expect("finish");
        assert_eq!(names(&outcome.set_cookie), vec!["__Host-s"]);
    }
}

#[test]
fn the_first_same_named_cookie_that_opens_wins() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let valid = jar.0["__Host-s"].clone();
    for line in [
        format!("__Host-s=junk; __Host-s={valid}"),
        format!("__Host-s={valid}; __Host-s=junk"),
    ] {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&line).expect("header"));
        headers.append(COOKIE, HeaderValue::from_static("other=1"));
        let mut session = app.manager.load(&headers, HTTPS);
        assert_eq!(
            session.get().map(|u| u.name.clone()),
            Some("alice".into()),
            "{line}"
        );
        assert!(session.save().expect("finish").set_cookie.is_empty());
    }
}

#[test]
fn other_cookies_are_never_decrypted() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let valid = jar.0["__Host-s"].clone();
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        HeaderValue::from_str(&format!("a={valid}; b={valid}; __Host-t={valid}")).expect("header"),
    );
    let ring = app.manager.keys().current();
    let failures = ring.auth_failure_count(1);
    let mut session = app.manager.load(&headers, HTTPS);
    assert!(session.get().is_none());
    assert_eq!(ring.auth_failure_count(1), failures);
}

#[test]
fn insecure_context_policies_are_never_silent() {
    let plain = Connection::new(Some("127.0.0.1".parse().expect("ip")), false);
    // Refuse: a typed error that names the fix.
    let refuse = app_with(
        SessionConfig::new(CookieConfig::new("__Host-s")).insecure_policy(InsecurePolicy::Refuse),
    );
    let mut session = refuse.manager.load(&HeaderMap::new(), plain);
    session.set(user("alice"));
    match session.save() {
        Err(SessionError::InsecureContext(diag)) => {
            assert!(diag.hint.contains("trust"), "{}", diag.hint);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Send: the cookie goes out, with the diagnostic.
    let send = app();
    let mut session = send.manager.load(&HeaderMap::new(), plain);
    session.set(user("alice"));
    let outcome = session.save().expect("send");
    assert_eq!(outcome.set_cookie.len(), 1);
    assert!(outcome.insecure_context.is_some());
    // FollowScheme (development): no Secure on plain HTTP, Secure on HTTPS.
    let follow = app_with(
        SessionConfig::new(CookieConfig::new("dev")).insecure_policy(InsecurePolicy::FollowScheme),
    );
    let mut session = follow.manager.load(&HeaderMap::new(), plain);
    session.set(user("alice"));
    let outcome = session.save().expect("follow");
    assert!(
        outcome.insecure_context.is_some(),
        "dropping Secure is reported too"
    );
    assert!(
        !outcome.set_cookie[0]
            .to_str()
            .expect("ascii")
            .contains("Secure")
    );
    let mut session = follow.manager.load(&HeaderMap::new(), HTTPS);
    session.set(user("alice"));
    assert!(
        session.save().expect("https").set_cookie[0]
            .to_str()
            .expect("ascii")
            .contains("; Secure")
    );
}

#[test]
fn a_trusted_proxy_saying_https_makes_the_context_secure() {
    let trust = ProxyTrust::cidrs(["10.0.0.0/8"]).expect("cidr");
    let app = app_with(
        SessionConfig::new(CookieConfig::new("__Host-s"))
            .trust_proxies(trust)
            .insecure_policy(InsecurePolicy::Refuse),
    );
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
    let proxy = Connection::new(Some("10.0.0.2".parse().expect("ip")), false);
    let mut session = app.manager.load(&headers, proxy);
    session.set(user("alice"));
    let outcome = session.save().expect("secure through the proxy");
    assert!(outcome.insecure_context.is_none());
    // The same header straight from a client is not believed.
    let client = Connection::new(Some("203.0.113.5".parse().expect("ip")), false);
    let mut session = app.manager.load(&headers, client);
    session.set(user("alice"));
    assert!(matches!(
        session.save(),
        Err(SessionError::InsecureContext(_))
    ));
}

#[test]
fn too_large_sessions_are_a_typed_error_with_the_breakdown() {
    let app = app();
    let mut session = app.manager.load(&HeaderMap::new(), HTTPS);
    session.set(User {
        name: "x".repeat(5000),
        visits: 0,
    });
    match session.save() {
        Err(SessionError::TooLarge(size)) => {
            assert_eq!(size.name, "__Host-s".len());
            assert!(size.value > 4096 - size.name);
            assert!(size.attributes > 0);
            assert_eq!(size.limit, 4096);
            assert!(size.to_string().contains("browser limit"));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

/// Chunking raises the limit for a reassembled chunk set only: a single
/// cookie stays capped at one browser cookie (4096 minus the name), even
/// when it is authentic.
#[test]
fn chunking_does_not_raise_the_cap_of_a_single_cookie() {
    use sealed_session::SessionMeta;
    use sealed_session::codec::Codec;
    let name = "__Host-s";
    let app = app_with(SessionConfig::new(CookieConfig::new(name)).chunking(4));
    let ring = Keyring::new(KeySpec::new(1, key(1)));
    let meta = SessionMeta::new_at(Lifetimes::default(), common::at(T0)).expect("meta");
    // An authentic value too long for one cookie, sealed for the name with
    // no chunk count: what a single cookie would carry.
    let codec = Codec::new(name)
        .expect("codec")
        .with_max_value_len(16 * 1024)
        .expect("limit");
    for len in [4096 - name.len() - 300, 9000, 12_000] {
        let data = user(&"z".repeat(len * 3 / 4 - 60));
        // The session layer's payload (FORMAT.md): no CSRF secret, no
        // flash messages, the data.
        let payload = (None::<[u8; 32]>, Vec::<u8>::new(), Some(&data));
        let value = codec.seal(&ring, &meta, &payload).expect("seal");
        let fits = value.len() + name.len() <= 4096;
        assert_eq!(fits, len < 4096, "{}", value.len());
        let mut jar = Jar::default();
        jar.0.insert(name.to_owned(), value);
        let (seen, set) = app.request(&mut jar, |s| {
            (
                s.get().cloned(),
                s.invalid_cookie().and_then(InvalidCookie::kind),
            )
        });
        if fits {
            assert_eq!(seen, (Some(data), None));
        } else {
            assert_eq!(seen, (None, Some(ErrorKind::TooLarge)), "{len}");
            assert_eq!(names(&set), vec![name], "the cookie is removed");
        }
    }
}

#[test]
fn chunked_sessions_split_reassemble_shrink_and_destroy() {
    let app = app_with(SessionConfig::new(CookieConfig::new("__Host-s")).chunking(4));
    let mut jar = Jar::default();
    let big = User {
        name: "y".repeat(7000),
        visits: 1,
    };
    let (_, set) = app.request(&mut jar, |s| s.set(big.clone()));
    assert_eq!(names(&set), vec!["__Host-s.0", "__Host-s.1", "__Host-s.2"]);
    for header in &set {
        let text = header.to_str().expect("ascii");
        let (name, value) = text
            .split(';')
            .next()
            .expect("pair")
            .split_once('=')
            .expect("pair");
        assert!(name.len() + value.len() <= 4096, "{name}");
    }
    let (seen, _) = app.request(&mut jar, |s| s.get().cloned());
    assert_eq!(seen, Some(big));

    // Chunks in another order or with one missing fail closed.
    let mut swapped = jar.clone();
    let (a, b) = (
        swapped.0["__Host-s.0"].clone(),
        swapped.0["__Host-s.1"].clone(),
    );
    swapped.0.insert("__Host-s.0".into(), b);
    swapped.0.insert("__Host-s.1".into(), a);
    assert_eq!(app.request(&mut swapped, |s| s.get().cloned()).0, None);
    let mut missing = jar.clone();
    missing.0.remove("__Host-s.2");
    assert_eq!(app.request(&mut missing, |s| s.get().cloned()).0, None);
    assert!(
        missing.0.is_empty(),
        "a short chunk set is deleted: {missing:?}"
    );
    let mut orphans = jar.clone();
    orphans.0.remove("__Host-s.0");
    assert_eq!(app.request(&mut orphans, |s| s.get().cloned()).0, None);
    assert!(
        orphans.0.is_empty(),
        "chunks that form no set are deleted, not left to linger: {orphans:?}"
    );

    // Shrinking back to one cookie removes every chunk in the same response.
    let (_, set) = app.request(&mut jar, |s| s.set(user("small")));
    let mut sent = names(&set);
    sent.sort();
    assert_eq!(
        sent,
        vec!["__Host-s", "__Host-s.0", "__Host-s.1", "__Host-s.2"]
    );
    assert_eq!(
        jar.0.keys().cloned().collect::<Vec<_>>(),
        vec!["__Host-s".to_owned()]
    );
    assert_eq!(
        app.request(&mut jar, |s| s.get().cloned()).0,
        Some(user("small"))
    );

    // Growing again, then destroying, removes everything.
    app.request(&mut jar, |s| {
        s.set(User {
            name: "z".repeat(5000),
            visits: 0,
        })
    });
    assert_eq!(jar.0.len(), 2, "{:?}", jar.0.keys());
    let (_, set) = app.request(&mut jar, |s| s.destroy());
    assert!(
        set.iter()
            .all(|h| h.to_str().expect("ascii").contains("Max-Age=0"))
    );
    assert!(jar.0.is_empty(), "{:?}", jar.0.keys());
}

#[test]
fn data_versions_migrate_or_drop() {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let v1 = SessionManager::<u32>::new(
        SessionConfig::new(CookieConfig::new("__Host-s")).data_version(1),
        keys.clone(),
    )
    .expect("config");
    let mut jar = Jar::default();
    let mut session = v1.load(&jar.headers(), HTTPS);
    session.set(42);
    jar.apply(&session.save().expect("finish").set_cookie);

    let v2 = SessionManager::<User>::new(
        SessionConfig::new(CookieConfig::new("__Host-s")).data_version(2),
        keys.clone(),
    )
    .expect("config")
    .with_migration(|version, bytes| {
        (version == 1)
            .then(|| postcard::from_bytes::<u32>(bytes).ok())
            .flatten()
            .map(|id| User {
                name: format!("user-{id}"),
                visits: 0,
            })
    });
    let mut session = v2.load(&jar.headers(), HTTPS);
    assert_eq!(
        session.get().map(|u| u.name.clone()),
        Some("user-42".into())
    );
    let outcome = session.save().expect("finish");
    assert_eq!(
        outcome.set_cookie.len(),
        1,
        "migrated sessions are re-sealed"
    );
    let mut migrated = jar.clone();
    migrated.apply(&outcome.set_cookie);
    let mut session = v2.load(&migrated.headers(), HTTPS);
    assert_eq!(session.meta().map(|m| m.data_version()), Some(2));

    // Without a migration the old session becomes empty, with a reason.
    let strict = SessionManager::<User>::new(
        SessionConfig::new(CookieConfig::new("__Host-s")).data_version(2),
        keys,
    )
    .expect("config");
    let mut session = strict.load(&jar.headers(), HTTPS);
    assert!(session.get().is_none());
    assert_eq!(
        session.invalid_cookie(),
        Some(&InvalidCookie::DataVersion(1))
    );
}

#[test]
fn payloads_that_no_longer_decode_become_empty_sessions() {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let old = SessionManager::<String>::new(
        SessionConfig::new(CookieConfig::new("__Host-s")),
        keys.clone(),
    )
    .expect("config");
    let mut jar = Jar::default();
    let mut session = old.load(&jar.headers(), HTTPS);
    session.set("not a user".into());
    jar.apply(&session.save().expect("finish").set_cookie);
    let new = SessionManager::<User>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)
        .expect("config");
    let mut session = new.load(&jar.headers(), HTTPS);
    assert!(session.get().is_none());
    assert_eq!(
        session.invalid_cookie().and_then(InvalidCookie::kind),
        Some(ErrorKind::PayloadDecode)
    );
    assert_eq!(
        session.save().expect("finish").set_cookie.len(),
        1,
        "the stale cookie is removed"
    );
}

#[test]
fn revocation_by_validator_and_by_time() {
    let generation = Arc::new(AtomicU64::new(1));
    let current = Arc::clone(&generation);
    let app = app();
    let manager = app
        .manager
        .clone()
        .with_validator(move |_meta, user: &User| {
            u64::from(user.visits) == current.load(Ordering::SeqCst)
        });
    let mut jar = Jar::default();
    let mut session = manager.load(&jar.headers(), HTTPS);
    session.set(User {
        name: "alice".into(),
        visits: 1,
    });
    jar.apply(&session.save().expect("finish").set_cookie);
    let copied = jar.clone();

    let mut session = manager.load(&copied.headers(), HTTPS);
    assert!(
        session.get().is_some(),
        "valid while the generation matches"
    );
    generation.store(2, Ordering::SeqCst);
    let mut session2 = manager.load(&copied.headers(), HTTPS);
    assert!(session2.get().is_none());
    assert_eq!(
        session2.invalid_cookie(),
        Some(&InvalidCookie::RevokedByValidator)
    );
    assert_eq!(
        names(&session2.save().expect("finish").set_cookie),
        vec!["__Host-s"]
    );
    drop(session);

    // Without a validator a copied cookie replays until it expires: the
    // documented limit of stateless sessions.
    let mut replay = copied.clone();
    assert!(app.request(&mut replay, |s| s.get().cloned()).0.is_some());

    // Not-before: everything issued earlier is out, on every clone.
    app.clock.advance(5);
    app.manager.clone().revoke_issued_before(app.clock.now());
    let mut replay = copied;
    let ((seen, why), _) = app.request(&mut replay, |s| {
        (s.get().cloned(), s.invalid_cookie().cloned())
    });
    assert_eq!((seen, why), (None, Some(InvalidCookie::RevokedByTime)));
    let mut fresh = Jar::default();
    app.login(&mut fresh, "alice");
    assert!(app.request(&mut fresh, |s| s.get().cloned()).0.is_some());
}

#[test]
fn the_map_flavour_works_like_express() {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let manager =
        SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)
            .expect("config");
    let mut jar = Jar::default();
    let mut session = manager.load(&jar.headers(), HTTPS);
    session.insert("user", "alice").expect("insert");
    session.insert("visits", &1u32).expect("insert");
    jar.apply(&session.save().expect("finish").set_cookie);
    let mut session = manager.load(&jar.headers(), HTTPS);
    assert_eq!(
        session.value::<String>("user").expect("decode"),
        Some("alice".into())
    );
    assert!(session.remove("user"));
    assert_eq!(session.value::<u32>("visits").expect("decode"), Some(1));
    jar.apply(&session.save().expect("finish").set_cookie);
    let mut session = manager.load(&jar.headers(), HTTPS);
    assert_eq!(session.value::<String>("user").expect("decode"), None);
}

#[test]
fn configuration_mistakes_are_caught_at_startup_with_a_fix() {
    let keys = || KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let base = || SessionConfig::new(CookieConfig::new("__Host-s"));
    let cases = [
        (
            base().lifetimes(Lifetimes::new(None, None)),
            ConfigError::NoLifetime,
        ),
        (
            base().lifetimes(Lifetimes::new(Some(Duration::from_secs(401 * 86400)), None)),
            ConfigError::LifetimeTooLong,
        ),
        (
            base().lifetimes(Lifetimes::new(None, Some(Duration::ZERO))),
            ConfigError::LifetimeTooShort,
        ),
        (base().idle_refresh_after(1.5), ConfigError::IdleRefresh),
        (base().chunking(1), ConfigError::Chunks),
        (base().chunking(17), ConfigError::Chunks),
        (
            base().insecure_policy(InsecurePolicy::FollowScheme),
            ConfigError::FollowSchemeNotAllowed,
        ),
    ];
    for (config, expected) in cases {
        let err = SessionManager::<u8>::new(config, keys()).expect_err("invalid");
        assert_eq!(err, expected);
        assert!(err.to_string().len() > 30, "explains the fix: {err}");
    }
    let err = SessionManager::<u8>::new(base().clock_skew(Duration::from_secs(3600)), keys())
        .expect_err("skew");
    assert!(err.to_string().contains("NTP"), "{err}");
    let err = SessionManager::<u8>::new(
        SessionConfig::new(CookieConfig::new("__Host-s").domain("a.example")),
        keys(),
    )
    .expect_err("host prefix");
    assert!(matches!(err, ConfigError::HostPrefix(_)));
}

#[test]
fn at_most_one_set_cookie_per_name() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let (_, set) = app.request(&mut jar, |s| {
        for _ in 0..3 {
            s.get_mut().expect("session").visits += 1;
        }
        s.touch();
        s.regenerate();
    });
    assert_eq!(names(&set), vec!["__Host-s"]);
}

mod sequences {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Read,
        Set(u32),
        Mutate,
        Regenerate,
        Destroy,
        Advance(u64),
        Rotate,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Read),
            2 => any::<u32>().prop_map(Op::Set),
            2 => Just(Op::Mutate),
            1 => Just(Op::Regenerate),
            1 => Just(Op::Destroy),
            3 => (0u64..700).prop_map(Op::Advance),
            1 => Just(Op::Rotate),
        ]
    }

    /// What the session should be, computed without the library.
    #[derive(Debug, Default)]
    struct Model {
        data: Option<User>,
        issued: u64,
        last_seal: u64,
        sealed_generation: u32,
    }

    const IDLE: u64 = 600;
    const ABSOLUTE: u64 = 3600;

    impl Model {
        fn expire(&mut self, now: u64) {
            if now >= self.issued + ABSOLUTE || now >= self.last_seal + IDLE {
                self.data = None;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_operation_sequences_keep_the_invariants(ops in proptest::collection::vec(op(), 1..40)) {
            let lifetimes = Lifetimes::new(Some(Duration::from_secs(ABSOLUTE)), Some(Duration::from_secs(IDLE)));
            let app = app_with(SessionConfig::new(CookieConfig::new("__Host-s")).lifetimes(lifetimes));
            let mut jar = Jar::default();
            let mut model = Model::default();
            let mut generation = 1u32;
            let mut now = T0;
            for op in ops {
                match op {
                    Op::Advance(secs) => {
                        app.clock.advance(secs);
                        now += secs;
                        continue;
                    }
                    Op::Rotate => {
                        generation += 1;
                        app.manager.keys().update(|ring| {
                            ring.add_accept_only(KeySpec::new(generation, key(generation as u8)))?;
                            ring.promote(generation)
                        }).expect("rotate");
                        continue;
                    }
                    _ => {}
                }
                model.expire(now);
                let (seen, set) = app.request(&mut jar, |s| {
                    let seen = s.get().cloned();
                    match &op {
                        Op::Set(v) => s.set(User { name: v.to_string(), visits: 0 }),
                        Op::Mutate => {
                            if let Some(u) = s.get_mut() {
                                u.visits = u.visits.wrapping_add(1);
                            }
                        }
                        Op::Regenerate => s.regenerate(),
                        Op::Destroy => s.destroy(),
                        _ => {}
                    }
                    seen
                });
                // A valid cookie always reopens to the last data; a destroyed
                // or expired session never does.
                prop_assert_eq!(&seen, &model.data, "before {:?} at +{}", op, now - T0);
                let active = model.data.is_some();
                match op {
                    Op::Set(v) => {
                        if !active {
                            model.issued = now;
                        }
                        model.data = Some(User { name: v.to_string(), visits: 0 });
                        model.last_seal = now;
                        model.sealed_generation = generation;
                    }
                    Op::Mutate if active => {
                        if let Some(u) = model.data.as_mut() {
                            u.visits = u.visits.wrapping_add(1);
                        }
                        model.last_seal = now;
                        model.sealed_generation = generation;
                    }
                    Op::Regenerate if active => {
                        model.issued = now;
                        model.last_seal = now;
                        model.sealed_generation = generation;
                    }
                    Op::Destroy => model.data = None,
                    Op::Read if active => {
                        let refresh = now - model.last_seal >= IDLE / 2 || model.sealed_generation != generation;
                        if refresh {
                            model.last_seal = now;
                            model.sealed_generation = generation;
                        }
                        prop_assert_eq!(set.len(), usize::from(refresh));
                    }
                    _ => {}
                }
                prop_assert!(set.len() <= 1);
            }
        }
    }
}

#[test]
fn a_broken_clock_is_an_error_not_a_silently_dropped_session() {
    struct BeforeEpoch;
    impl Clock for BeforeEpoch {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH - Duration::from_secs(1)
        }
    }
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let manager =
        SessionManager::<User>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)
            .expect("config")
            .with_clock(BeforeEpoch);
    let mut session = manager.load(&HeaderMap::new(), HTTPS);
    session.set(user("alice"));
    match session.save() {
        Err(SessionError::Seal(err)) => assert_eq!(err.kind(), ErrorKind::Clock),
        other => panic!("expected a clock error, got {other:?}"),
    }
}

/// Opening under a clock before 1970 refuses the cookie (typed) rather than
/// panicking or accepting it.
#[test]
fn opening_under_a_broken_clock_gives_an_empty_session() {
    struct BeforeEpoch;
    impl Clock for BeforeEpoch {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH - Duration::from_secs(1)
        }
    }
    let good = app();
    let mut jar = Jar::default();
    good.login(&mut jar, "alice");
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let broken =
        SessionManager::<User>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)
            .expect("config")
            .with_clock(BeforeEpoch);
    let mut session = broken.load(&jar.headers(), HTTPS);
    assert!(session.get().is_none());
    assert!(
        session.invalid_cookie().is_some(),
        "{:?}",
        session.invalid_cookie()
    );
}

#[test]
fn refusing_insecure_contexts_never_turns_a_bad_cookie_into_an_error() {
    let app = app_with(
        SessionConfig::new(CookieConfig::new("__Host-s")).insecure_policy(InsecurePolicy::Refuse),
    );
    let plain = Connection::new(Some("127.0.0.1".parse().expect("ip")), false);
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_static("__Host-s=tampered"));
    let mut session = app.manager.load(&headers, plain);
    assert!(session.get().is_none());
    let outcome = session.save().expect("a removal carries no secret");
    assert_eq!(names(&outcome.set_cookie), vec!["__Host-s"]);
    // Sealing a session is still refused.
    let mut session = app.manager.load(&HeaderMap::new(), plain);
    session.set(user("alice"));
    assert!(matches!(
        session.save(),
        Err(SessionError::InsecureContext(_))
    ));
}

#[test]
fn two_distinct_valid_cookies_are_both_refused() {
    let app = app();
    let mut alice = Jar::default();
    app.login(&mut alice, "alice");
    let mut mallory = Jar::default();
    app.login(&mut mallory, "mallory");
    let (a, m) = (&alice.0["__Host-s"], &mallory.0["__Host-s"]);
    // A sibling subdomain planted Mallory's cookie with a longer Path, so
    // the browser sends it first; which one is the user's cannot be told.
    for line in [
        format!("__Host-s={m}; __Host-s={a}"),
        format!("__Host-s={a}; __Host-s=junk; __Host-s={m}"),
    ] {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&line).expect("header"));
        let mut session = app.manager.load(&headers, HTTPS);
        assert_eq!(session.get(), None, "{line}");
        assert_eq!(session.invalid_cookie(), Some(&InvalidCookie::Ambiguous));
        let outcome = session.save().expect("finish");
        assert_eq!(names(&outcome.set_cookie), vec!["__Host-s"], "removed");
    }
    // The same value twice is one cookie, not a conflict.
    let mut headers = HeaderMap::new();
    let line = format!("__Host-s={a}; __Host-s={a}");
    headers.insert(COOKIE, HeaderValue::from_str(&line).expect("header"));
    let mut session = app.manager.load(&headers, HTTPS);
    assert_eq!(session.get().map(|u| u.name.as_str()), Some("alice"));
}

#[test]
fn revocation_covers_the_whole_second_of_its_time() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    // Issued at T0 (whole seconds); revoked at T0 + 0.5 s.
    app.manager
        .revoke_issued_before(UNIX_EPOCH + Duration::from_millis(T0 * 1000 + 500));
    let ((seen, why), _) = app.request(&mut jar.clone(), |s| {
        (s.get().cloned(), s.invalid_cookie().cloned())
    });
    assert_eq!((seen, why), (None, Some(InvalidCookie::RevokedByTime)));
    app.clock.advance(1);
    let mut fresh = Jar::default();
    app.login(&mut fresh, "alice");
    assert!(app.request(&mut fresh, |s| s.get().cloned()).0.is_some());
}

/// Logs in under `manager` and returns the jar, or the save error.
fn try_login(manager: &SessionManager<User>, name: &str) -> Result<Jar, SessionError> {
    let mut jar = Jar::default();
    let mut session = manager.load(&jar.headers(), HTTPS);
    session.set(user(name));
    jar.apply(&session.save()?.set_cookie);
    Ok(jar)
}

#[test]
fn a_spent_seal_budget_never_fails_a_read_only_refresh() {
    let clock = TestClock::new();
    let spec = KeySpec::new(1, key(1))
        .suite(sealed_session::Suite::Aes256Gcm)
        .seal_budget(1);
    let manager = SessionManager::new(
        SessionConfig::new(CookieConfig::new("__Host-s")),
        KeyringHandle::new(Keyring::new(spec)),
    )
    .expect("config")
    .with_clock(clock.clone());
    let mut jar = try_login(&manager, "alice").expect("the one seal in budget");
    let before = jar.clone();
    // Past the idle-refresh threshold: this read would re-seal.
    clock.advance(20 * 60);
    let mut session = manager.load(&jar.headers(), HTTPS);
    assert_eq!(session.get().map(|u| u.name.as_str()), Some("alice"));
    let outcome = session.save().expect("a read never fails");
    assert!(outcome.set_cookie.is_empty(), "the current cookie stays");
    assert_eq!(manager.skipped_refreshes(), 1);
    // Not retried within the same request.
    assert!(session.save().expect("finish").set_cookie.is_empty());
    assert_eq!(manager.skipped_refreshes(), 1);
    jar.apply(&[]);
    assert_eq!(jar.0, before.0);
    // A write the handler asked for still reports the failure.
    let mut session = manager.load(&jar.headers(), HTTPS);
    session.set(user("bob"));
    let err = session.save().expect_err("budget spent");
    assert!(matches!(err, SessionError::Seal(e) if e.kind() == ErrorKind::KeyExhausted));
}

#[test]
fn a_reseal_that_outgrows_the_cookie_after_rotation_sends_nothing() {
    // AES-256-GCM's 12-byte nonce becomes XAES-256-GCM's 24 bytes: a
    // session that just fitted no longer does under the new primary.
    let clock = TestClock::new();
    let aes = || KeySpec::new(1, key(1)).suite(sealed_session::Suite::Aes256Gcm);
    let keys = KeyringHandle::new(Keyring::new(aes()));
    let manager = SessionManager::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)
        .expect("config")
        .with_clock(clock.clone());
    let mut name_len = 2900;
    while try_login(&manager, &"n".repeat(name_len + 1)).is_ok() {
        name_len += 1;
    }
    let jar = try_login(&manager, &"n".repeat(name_len)).expect("fits under AES-256-GCM");
    manager
        .keys()
        .update(|ring| {
            ring.add_accept_only(KeySpec::new(2, key(2)))?;
            ring.promote(2)
        })
        .expect("rotate");
    let mut session = manager.load(&jar.headers(), HTTPS);
    assert_eq!(session.get().map(|u| u.name.len()), Some(name_len));
    let outcome = session.save().expect("never a 500 for a re-seal");
    assert!(
        outcome.set_cookie.is_empty(),
        "the old-key cookie stays valid"
    );
    assert_eq!(manager.skipped_refreshes(), 1);
    // The handler asking for a change gets the typed error.
    let mut session = manager.load(&jar.headers(), HTTPS);
    session.get_mut().expect("session").visits += 1;
    assert!(matches!(session.save(), Err(SessionError::TooLarge(_))));
}

#[test]
fn shortened_lifetimes_bind_cookies_already_issued() {
    // Issued under 12 h / 30 min; the configuration then shortens to
    // 1 h / 10 min. The sealed deadlines still say yes; today's do not.
    let app = app();
    let shorter = SessionManager::<User>::new(
        SessionConfig::new(CookieConfig::new("__Host-s")).lifetimes(Lifetimes::new(
            Some(Duration::from_secs(3600)),
            Some(Duration::from_secs(600)),
        )),
        app.manager.keys().clone(),
    )
    .expect("config")
    .with_clock(app.clock.clone());
    let opens = |manager: &SessionManager<User>, jar: &Jar| {
        let mut session = manager.load(&jar.headers(), HTTPS);
        (
            session.get().is_some(),
            session.invalid_cookie().and_then(|r| r.kind()),
        )
    };
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    // Re-sealed (idle refresh) at +20 and +40 minutes under the long
    // configuration.
    for _ in 0..2 {
        app.clock.advance(20 * 60);
        let (_, set) = app.request(&mut jar, |s| s.get().cloned());
        assert_eq!(set.len(), 1, "refreshed");
    }
    // +55 min: 15 min since the last seal.
    app.clock.advance(15 * 60);
    assert_eq!(opens(&app.manager, &jar), (true, None));
    assert_eq!(
        opens(&shorter, &jar),
        (false, Some(ErrorKind::ExpiredIdle)),
        "idle is measured from the last seal"
    );
    // A cookie fresh from a seal, but issued 61 min ago.
    let (_, set) = app.request(&mut jar, |s| s.touch());
    assert_eq!(set.len(), 1);
    app.clock.advance(6 * 60);
    assert_eq!(opens(&app.manager, &jar), (true, None));
    assert_eq!(
        opens(&shorter, &jar),
        (false, Some(ErrorKind::ExpiredAbsolute)),
        "absolute is measured from the issue"
    );
}

#[test]
fn a_data_type_that_cannot_round_trip_is_an_error_at_the_first_seal() {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1))));
    let config = || SessionConfig::new(CookieConfig::new("__Host-s"));
    let round_trip = |err: Result<_, SessionError>| matches!(err, Err(SessionError::Seal(e)) if e.kind() == ErrorKind::DataRoundTrip);

    // Needs a self-describing format (deserialize_any).
    let json = SessionManager::<serde_json::Value>::new(config(), keys.clone()).expect("config");
    let mut session = json.load(&HeaderMap::new(), HTTPS);
    session.set(serde_json::json!({ "user": "alice" }));
    let err = session.save().map(|_| ());
    assert!(round_trip(err.clone()), "{err:?}");
    assert!(
        err.unwrap_err().to_string().contains("BTreeMap"),
        "the message says what to use"
    );

    // More than one encoding per value: iteration order differs between
    // maps, so some login among a few sees the error.
    let map = SessionManager::<std::collections::HashMap<String, u32>>::new(config(), keys.clone())
        .expect("config");
    let caught = (0..5).any(|_| {
        let mut session = map.load(&HeaderMap::new(), HTTPS);
        session.set((0..8).map(|i| (format!("key{i}"), i)).collect());
        round_trip(session.save().map(|_| ()))
    });
    assert!(caught);

    // A sorted map is fine.
    let sorted = SessionManager::<BTreeMap<String, u32>>::new(config(), keys).expect("config");
    let mut session = sorted.load(&HeaderMap::new(), HTTPS);
    session.set((0..8).map(|i| (format!("key{i}"), i)).collect());
    assert_eq!(session.save().expect("round-trips").set_cookie.len(), 1);
}

// Lifetime profiles ("remember me"), flash messages and CSRF tokens.

const REMEMBER_ME: ProfileId = ProfileId::new(1);
const DAY: u64 = 86_400;

fn profiles_config() -> SessionConfig {
    SessionConfig::new(CookieConfig::new("__Host-s"))
        .default_profile(Profile::browser_session(Lifetimes::default()))
        .profile(
            REMEMBER_ME,
            Profile::persistent(Lifetimes::new(
                Some(Duration::from_secs(30 * DAY)),
                Some(Duration::from_secs(7 * DAY)),
            )),
        )
}

fn login_remembered(app: &App, jar: &mut Jar) -> Vec<HeaderValue> {
    app.request(jar, |s| {
        s.regenerate();
        s.set(user("alice"));
        s.set_profile(REMEMBER_ME);
    })
    .1
}

#[test]
fn remember_me_is_a_persistent_cookie_and_the_default_a_browser_session_cookie() {
    let app = app_with(profiles_config());
    let mut jar = Jar::default();
    let plain = app.login(&mut jar, "alice");
    let text = plain[0].to_str().expect("ascii");
    assert!(
        !text.contains("Max-Age") && !text.contains("Expires"),
        "{text}"
    );

    let mut jar = Jar::default();
    let remembered = login_remembered(&app, &mut jar);
    let text = remembered[0].to_str().expect("ascii");
    assert!(
        text.contains("Max-Age=604800; Expires="),
        "the idle limit first: {text}"
    );
    let (profile, _) = app.request(&mut jar, |s| s.profile());
    assert_eq!(profile, REMEMBER_ME);
}

#[test]
fn a_profile_survives_refreshes_and_its_own_limits_apply() {
    let app = app_with(profiles_config());
    let mut jar = Jar::default();
    login_remembered(&app, &mut jar);
    // Past the default idle window, within the profile's.
    app.clock.advance(2 * 3600);
    let ((seen, profile), set) = app.request(&mut jar, |s| {
        s.touch();
        (s.get().cloned(), s.meta().map(|m| m.profile()))
    });
    assert_eq!(seen, Some(user("alice")));
    assert_eq!(profile, Some(REMEMBER_ME));
    assert!(
        set[0].to_str().expect("ascii").contains("Max-Age=604800"),
        "kept on refresh"
    );
    let (profile, _) = app.request(&mut jar, |s| s.meta().map(|m| m.profile()));
    assert_eq!(profile, Some(REMEMBER_ME), "sealed in the refreshed value");
    // Idle past the profile's own window: gone.
    app.clock.advance(7 * DAY);
    let (kind, _) = app.request(&mut jar, |s| {
        s.invalid_cookie().and_then(InvalidCookie::kind)
    });
    assert_eq!(kind, Some(ErrorKind::ExpiredIdle));
}

#[test]
fn a_sealed_profile_never_outlives_its_configured_limits() {
    let app = app_with(profiles_config());
    let mut jar = Jar::default();
    login_remembered(&app, &mut jar);
    // The same keys, the profile shortened to one day.
    let shorter = SessionManager::<User>::new(
        profiles_config().profile(
            REMEMBER_ME,
            Profile::persistent(Lifetimes::new(Some(Duration::from_secs(DAY)), None)),
        ),
        KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1)))),
    )
    .expect("config")
    .with_clock(app.clock.clone());
    app.clock.advance(DAY);
    let mut session = shorter.load(&jar.headers(), HTTPS);
    assert!(session.get().is_none());
    assert_eq!(
        session.invalid_cookie().and_then(InvalidCookie::kind),
        Some(ErrorKind::ExpiredAbsolute)
    );
}

#[test]
fn a_profile_no_longer_declared_lives_by_the_default_limits() {
    let app = app_with(profiles_config());
    let mut jar = Jar::default();
    login_remembered(&app, &mut jar);
    let without = SessionManager::<User>::new(
        SessionConfig::new(CookieConfig::new("__Host-s")),
        KeyringHandle::new(Keyring::new(KeySpec::new(1, key(1)))),
    )
    .expect("config")
    .with_clock(app.clock.clone());
    app.clock.advance(600);
    let mut session = without.load(&jar.headers(), HTTPS);
    assert_eq!(
        session.get(),
        Some(&user("alice")),
        "within the default idle window"
    );
    assert_eq!(session.profile(), ProfileId::DEFAULT);
    app.clock.advance(1800);
    let mut session = without.load(&jar.headers(), HTTPS);
    assert_eq!(
        session.invalid_cookie().and_then(InvalidCookie::kind),
        Some(ErrorKind::ExpiredIdle),
        "the default's 30 minutes, not the sealed 7 days"
    );
}

#[test]
fn picking_a_profile_later_counts_its_absolute_limit_from_the_issue_time() {
    let app = app_with(profiles_config());
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    app.clock.advance(600);
    let (_, set) = app.request(&mut jar, |s| s.set_profile(REMEMBER_ME));
    assert_eq!(set.len(), 1);
    let (meta, _) = app.request(&mut jar, |s| s.meta().cloned().expect("meta"));
    assert_eq!(
        meta.absolute_expiry(),
        Some(meta.issued_at() + Duration::from_secs(30 * DAY))
    );
    assert_eq!(
        meta.idle_expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(T0 + 600 + 7 * DAY))
    );
}

#[test]
fn every_profile_is_validated() {
    let endless = profiles_config().profile(
        ProfileId::new(2),
        Profile::persistent(Lifetimes::new(None, None)),
    );
    assert_eq!(endless.validate(), Err(ConfigError::NoLifetime));
    let too_long = profiles_config().profile(
        ProfileId::new(3),
        Profile::persistent(Lifetimes::new(Some(Duration::from_secs(401 * DAY)), None)),
    );
    assert_eq!(too_long.validate(), Err(ConfigError::LifetimeTooLong));
}

#[test]
fn a_session_id_drawn_early_is_the_one_sealed() {
    let app = app();
    let mut jar = Jar::default();
    let (early, _) = app.request(&mut jar, |s| {
        s.set(user("alice"));
        s.id().expect("id")
    });
    assert!(early.is_some());
    let ((next, sealed), _) = app.request(&mut jar, |s| {
        (s.id().expect("id"), s.meta().map(|m| *m.session_id()))
    });
    assert_eq!(
        (next, sealed),
        (early, early),
        "the id drawn early is the one sealed"
    );
    let (regenerated, _) = app.request(&mut jar, |s| {
        s.regenerate();
        s.id().expect("id")
    });
    assert_ne!(regenerated, early);
}

#[test]
fn a_flash_message_survives_exactly_one_redirect() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let (_, set) = app.request(&mut jar, |s| s.push_flash(Level::Success, "Saved, Zoë."));
    assert_eq!(set.len(), 1, "pushing re-seals");
    let (messages, set) = app.request(&mut jar, |s| s.take_flash());
    assert_eq!(
        messages,
        vec![FlashMessage::new(Level::Success, "Saved, Zoë.")]
    );
    assert_eq!(set.len(), 1, "reading re-seals without them");
    let (messages, set) = app.request(&mut jar, |s| (s.take_flash(), s.get().cloned()));
    assert_eq!(messages, (Vec::new(), Some(user("alice"))));
    assert!(set.is_empty(), "nothing to read, nothing to send");
}

#[test]
fn anonymous_flash_messages_need_no_login_and_leave_no_cookie_behind() {
    let app = app();
    let mut jar = Jar::default();
    let (_, set) = app.request(&mut jar, |s| s.take_flash());
    assert!(set.is_empty(), "no cookie when nothing is pushed");
    let (_, set) = app.request(&mut jar, |s| {
        s.push_flash(Level::Error, "Wrong user name or password.");
        s.push_flash(Level::Info, "Try again.");
    });
    assert_eq!(names(&set), vec!["__Host-s"]);
    let ((messages, data), _) = app.request(&mut jar, |s| (s.take_flash(), s.get().cloned()));
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].level, Level::Error, "oldest first");
    assert_eq!(data, None, "still anonymous");
    assert!(
        jar.0.is_empty(),
        "the emptied anonymous session was removed"
    );
}

#[test]
fn a_logout_message_outlives_the_destroyed_session() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let (old_id, _) = app.request(&mut jar, |s| s.id().expect("id"));
    app.request(&mut jar, |s| {
        s.destroy();
        s.push_flash(Level::Info, "You are logged out.");
    });
    let ((data, messages, id), _) = app.request(&mut jar, |s| {
        (
            s.get().cloned(),
            s.take_flash(),
            s.meta().map(|m| *m.session_id()),
        )
    });
    assert_eq!(data, None, "the user is gone");
    assert_eq!(
        messages,
        vec![FlashMessage::new(Level::Info, "You are logged out.")]
    );
    assert_ne!(id, old_id, "a new anonymous session, not the old one");
}

#[test]
fn flash_messages_count_towards_the_cookie_size() {
    let app = app();
    let mut jar = Jar::default();
    app.login(&mut jar, "alice");
    let mut session = app.manager.load(&jar.headers(), HTTPS);
    session.push_flash(Level::Info, "x".repeat(4000));
    assert!(matches!(session.save(), Err(SessionError::TooLarge(_))));
}

#[test]
fn csrf_tokens_hold_across_requests_and_regenerate_replaces_the_secret() {
    let app = app();
    let mut jar = Jar::default();
    // A login form before login: the token starts an anonymous session.
    let (token, set) = app.request(&mut jar, |s| s.csrf_token().expect("token"));
    assert_eq!(set.len(), 1);
    let ((valid, again), set) = app.request(&mut jar, |s| {
        (s.verify_csrf_token(&token), s.csrf_token().expect("token"))
    });
    assert!(valid);
    assert_ne!(again, token, "masked afresh");
    assert!(set.is_empty(), "a second token changes nothing sealed");
    // Login regenerates: tokens rendered before are worthless after.
    let ((old_valid, new_token), _) = app.request(&mut jar, |s| {
        s.regenerate();
        s.set(user("alice"));
        (s.verify_csrf_token(&token), s.csrf_token().expect("token"))
    });
    assert!(!old_valid);
    let ((old, new), _) = app.request(&mut jar, |s| {
        (s.verify_csrf_token(&again), s.verify_csrf_token(&new_token))
    });
    assert_eq!((old, new), (false, true));
}

#[test]
fn csrf_tokens_do_not_cross_sessions() {
    let app = app();
    let (mut alice, mut mallory) = (Jar::default(), Jar::default());
    app.login(&mut alice, "alice");
    app.login(&mut mallory, "mallory");
    let (token, _) = app.request(&mut mallory, |s| s.csrf_token().expect("token"));
    let (accepted, _) = app.request(&mut alice, |s| {
        s.csrf_token().expect("alice has a secret too");
        s.verify_csrf_token(&token)
    });
    assert!(!accepted);
}
