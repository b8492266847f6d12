//! The scenarios, each written once against any adapter; `main.rs` turns
//! each into one test per adapter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{CACHE_CONTROL, COOKIE, VARY};
use reqwest::{Response, StatusCode};
use sealed_session::{
    CookieConfig, InsecurePolicy, KeySpec, KeyringHandle, ProxyTrust, SessionConfig, SessionManager,
};
use serde::Serialize;

use crate::common::{self, TestClock};
use crate::helpers::{
    Kind, bare_client, browser, captured_log, key_id_of, keyring, log_contains, login, manager,
    manager_with, session_pair, set_cookies, start, text,
};
use crate::hostile::{Rng, adversarial_cookie_headers};
use crate::routes::Account;

/// Shared caches must never hand one user's session page to another.
pub(crate) async fn caching_headers_follow_the_session(kind: Kind) {
    let server = start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await;
    let client = browser();

    let untouched = client
        .get(server.url("/static"))
        .send()
        .await
        .expect("static");
    assert!(untouched.headers().get(CACHE_CONTROL).is_none());
    assert!(untouched.headers().get(VARY).is_none());

    let login = login(&client, &server).await;
    assert_eq!(login.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(login.headers()[VARY], "Cookie");

    let home = client.get(server.url("/")).send().await.expect("home");
    assert!(set_cookies(&home).is_empty());
    assert_eq!(home.headers()[CACHE_CONTROL], "private");
    let vary: Vec<_> = home.headers().get_all(VARY).iter().collect();
    assert_eq!(vary, ["Cookie"], "exactly one Vary: Cookie");

    // The handler's own choice stands; the response still varies.
    let cached = client
        .get(server.url("/cached"))
        .send()
        .await
        .expect("cached");
    assert_eq!(cached.headers()[CACHE_CONTROL], "max-age=60");
    assert_eq!(cached.headers()[VARY], "Cookie");
    assert_eq!(text(cached).await, "alice");
}

/// A handler that destroys the session and then fails still logs the
/// user out.
pub(crate) async fn a_failing_handler_still_sends_the_logout(kind: Kind) {
    let server = start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await;
    let client = browser();
    login(&client, &server).await;
    let failed = client
        .post(server.url("/logout/failing"))
        .send()
        .await
        .expect("logout");
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let removal = set_cookies(&failed);
    assert_eq!(removal.len(), 1, "{removal:?}");
    assert!(removal[0].starts_with("__Host-session=; "), "{removal:?}");
    assert!(removal[0].contains("Max-Age=0"));
    assert_eq!(failed.headers()[CACHE_CONTROL], "no-store");
    let dashboard = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(dashboard.status(), StatusCode::UNAUTHORIZED);
}

pub(crate) async fn login_dashboard_logout(kind: Kind) {
    let keys = KeyringHandle::new(keyring(1, 1));
    let server = start(kind, manager(keys)).await;
    let client = browser();

    let home = client.get(server.url("/")).send().await.expect("home");
    assert!(
        set_cookies(&home).is_empty(),
        "no cookie before data is set"
    );
    // Built from the (empty) session: private to this client.
    assert_eq!(home.headers()[CACHE_CONTROL], "private");
    assert_eq!(home.headers()[VARY], "Cookie");
    assert_eq!(text(home).await, "anonymous");

    let denied = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);

    let login = login(&client, &server).await;
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = set_cookies(&login);
    assert_eq!(cookie.len(), 1, "{cookie:?}");
    let attributes: Vec<&str> = cookie[0].split("; ").collect();
    assert!(attributes[0].starts_with("__Host-session="));
    assert_eq!(
        attributes[1..5],
        ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"]
    );
    let max_age: u64 = attributes[5]
        .strip_prefix("Max-Age=")
        .expect("Max-Age")
        .parse()
        .expect("digits");
    assert!((1790..=1800).contains(&max_age), "idle timeout: {max_age}");
    assert!(attributes[6].starts_with("Expires=") && attributes[6].ends_with(" GMT"));
    assert!(!cookie[0].contains("Domain"));
    assert_eq!(login.headers()[CACHE_CONTROL], "no-store");

    // The sealed value travels in Set-Cookie only: no other header and
    // no body carries it. And HTTP/2-style split Cookie fields work.
    let value = cookie[0]["__Host-session=".len()..]
        .split(';')
        .next()
        .expect("value")
        .to_owned();
    let split_fields = bare_client()
        .get(server.url("/dashboard"))
        .header(COOKIE, "theme=dark")
        .header(COOKIE, format!("__Host-session={value}"))
        .send()
        .await
        .expect("dash");
    for (name, header) in split_fields.headers() {
        let header = header.to_str().expect("ASCII");
        assert!(!header.contains(&value[..24]), "{name} echoes the cookie");
    }
    assert_eq!(text(split_fields).await, "dashboard:alice");

    let dashboard = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(
        set_cookies(&dashboard).is_empty(),
        "unchanged: no Set-Cookie"
    );
    assert_eq!(dashboard.headers()[CACHE_CONTROL], "private");
    assert_eq!(dashboard.headers()[VARY], "Cookie");
    assert_eq!(text(dashboard).await, "dashboard:alice");

    let logout = client
        .post(server.url("/logout"))
        .send()
        .await
        .expect("logout");
    let removal = set_cookies(&logout);
    assert_eq!(removal.len(), 1);
    assert!(
        removal[0]
            .starts_with("__Host-session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
    );
    assert_eq!(logout.headers()[CACHE_CONTROL], "no-store");

    let after = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

/// A cookie that does not open is an empty session and is deleted;
/// the client cannot tell why (the same bytes for every class).
pub(crate) async fn bad_cookies_are_empty_sessions_and_indistinguishable(kind: Kind) {
    let clock = TestClock::default();
    let keys = KeyringHandle::new(keyring(1, 1));
    let served = manager(keys.clone()).with_clock(clock.clone());
    let server = start(kind, served.clone()).await;
    let client = bare_client();

    let login = login(&client, &server).await;
    let good = session_pair(&login);
    let value = good.split_once('=').expect("pair").1.to_owned();

    let foreign = {
        let other = KeyringHandle::new(keyring(1, 9));
        let other_server = start(kind, manager(other)).await;
        let response = client
            .post(other_server.url("/login/alice"))
            .send()
            .await
            .expect("login elsewhere");
        session_pair(&response)
    };
    let flipped = {
        let mut bytes = value.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        format!(
            "__Host-session={}",
            String::from_utf8(bytes).expect("ASCII")
        )
    };
    let unknown_key = {
        let mut raw = common::decode(&value);
        raw[4] ^= 0x40;
        format!("__Host-session={}", common::encode(&raw))
    };
    let bad_version = {
        let mut raw = common::decode(&value);
        raw[0] = 9;
        format!("__Host-session={}", common::encode(&raw))
    };
    // Authentic values the app cannot use: another payload type, and
    // another data version with no migration.
    let bad_payload = sealed_by(
        &keys,
        SessionConfig::new(CookieConfig::default()),
        "text".to_owned(),
    );
    let other_version = sealed_by(
        &keys,
        SessionConfig::new(CookieConfig::default()).data_version(7),
        Account::default(),
    );

    let cases = [
        ("bad payload", bad_payload),
        ("other data version", other_version),
        ("malformed", "__Host-session=not-a-sealed-value".to_owned()),
        (
            "bad base64",
            "__Host-session=%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%".to_owned(),
        ),
        ("quoted", format!("__Host-session=\"{value}\"")),
        ("tampered", flipped),
        ("unknown key", unknown_key),
        ("unknown version", bad_version),
        ("foreign key", foreign),
        ("too long", format!("__Host-session={}", "A".repeat(5000))),
    ];

    let mut outward = Vec::new();
    for (class, cookie) in &cases {
        let response = client
            .get(server.url("/"))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("request");
        outward.push((*class, masked(response).await));
    }
    // The same good cookie seen an hour before it was issued, an hour
    // after its idle deadline, and after a global revocation.
    for (class, offset) in [("issued in the future", -3600), ("expired", 3600)] {
        clock.set(offset);
        let response = client
            .get(server.url("/"))
            .header(COOKIE, &good)
            .send()
            .await;
        outward.push((class, masked(response.expect("request")).await));
    }
    clock.set(0);
    served.revoke_issued_before(SystemTime::now() + Duration::from_secs(1));
    let revoked = client
        .get(server.url("/"))
        .header(COOKIE, &good)
        .send()
        .await;
    outward.push(("revoked", masked(revoked.expect("request")).await));
    assert_eq!(outward.len(), 13);

    let (first_class, first) = &outward[0];
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(first.2, "anonymous");
    assert!(
        first
            .1
            .iter()
            .any(|h| h.starts_with("set-cookie: __Host-session=; ") && h.contains("Max-Age=0")),
        "the stale cookie is deleted: {:?}",
        first.1
    );
    for (class, response) in &outward[1..] {
        assert_eq!(response, first, "{class} differs from {first_class}");
    }
}

/// A cookie sealed by a manager of another type or configuration.
fn sealed_by<T: Serialize + serde::de::DeserializeOwned>(
    keys: &KeyringHandle,
    config: SessionConfig,
    data: T,
) -> String {
    let other = SessionManager::<T>::new(config, keys.clone()).expect("config");
    let mut session = other.load(
        &http::HeaderMap::new(),
        sealed_session::adapter::Connection::new(None, true),
    );
    session.set(data);
    let set = session.save().expect("seal").set_cookie;
    let text = set[0].to_str().expect("ASCII");
    text.split(';').next().expect("pair").to_owned()
}

/// Status, headers (without `date`) and body.
async fn masked(response: Response) -> (StatusCode, Vec<String>, String) {
    let status = response.status();
    let mut headers: Vec<String> = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != "date")
        .map(|(name, value)| format!("{name}: {}", value.to_str().expect("ASCII")))
        .collect();
    headers.sort();
    (status, headers, text(response).await)
}

pub(crate) async fn unhandled_save_errors_are_bare_500s(kind: Kind) {
    captured_log();
    let keys = KeyringHandle::new(keyring(1, 1));
    let server = start(kind, manager(keys)).await;
    let client = browser();
    login(&client, &server).await;

    let response = client
        .post(server.url("/big/unhandled"))
        .send()
        .await
        .expect("big");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(text(response).await, "", "no details");
    assert!(log_contains("did not handle it"), "the reason is logged");

    // The old cookie still holds the session: nothing was lost.
    let dashboard = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(text(dashboard).await, "dashboard:alice");
}

pub(crate) async fn handlers_can_handle_save_errors(kind: Kind) {
    let keys = KeyringHandle::new(keyring(1, 1));
    let server = start(kind, manager(keys)).await;
    let client = browser();
    login(&client, &server).await;

    let response = client
        .post(server.url("/big/handled"))
        .send()
        .await
        .expect("big");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(text(response).await, "too large: handled");
    let dashboard = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(text(dashboard).await, "dashboard:alice");
}

/// The peer address reaches the secure-context decision: a trusted
/// proxy's `X-Forwarded-Proto` counts, anyone else's does not.
pub(crate) async fn forwarded_proto_counts_only_from_trusted_peers(kind: Kind) {
    let refuse = |trust: ProxyTrust| {
        manager_with(
            KeyringHandle::new(keyring(1, 1)),
            SessionConfig::new(CookieConfig::default())
                .trust_proxies(trust)
                .insecure_policy(InsecurePolicy::Refuse),
        )
    };
    let client = bare_client();

    let trusted = start(
        kind,
        refuse(ProxyTrust::cidrs(["127.0.0.0/8"]).expect("cidr")),
    )
    .await;
    let via_proxy = client
        .post(trusted.url("/login/alice"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("login");
    assert_eq!(via_proxy.status(), StatusCode::OK);
    assert_eq!(set_cookies(&via_proxy).len(), 1);
    let no_header = client
        .post(trusted.url("/login/alice"))
        .send()
        .await
        .expect("login");
    assert_eq!(no_header.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&no_header).is_empty());
    let appended = client
        .post(trusted.url("/login/alice"))
        .header("x-forwarded-proto", "https, http")
        .send()
        .await
        .expect("login");
    assert_eq!(appended.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let elsewhere = start(
        kind,
        refuse(ProxyTrust::cidrs(["10.0.0.0/8"]).expect("cidr")),
    )
    .await;
    let spoofed = client
        .post(elsewhere.url("/login/alice"))
        .header("x-forwarded-proto", "https")
        .header("forwarded", "proto=https")
        .send()
        .await
        .expect("login");
    assert_eq!(spoofed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        set_cookies(&spoofed).is_empty(),
        "a client cannot claim HTTPS"
    );
    assert_eq!(text(spoofed).await, "");
}

/// The cookie's Domain comes from configuration only, never `Host`.
pub(crate) async fn host_header_never_reaches_the_cookie(kind: Kind) {
    let server = start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await;
    let response = bare_client()
        .post(server.url("/login/alice"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .expect("login");
    let cookie = set_cookies(&response);
    assert_eq!(cookie.len(), 1);
    assert!(
        !cookie[0].to_ascii_lowercase().contains("domain"),
        "{cookie:?}"
    );
    assert!(!cookie[0].contains("evil"));
}

/// 100 clients at once, each with its own session.
pub(crate) async fn concurrent_clients_keep_their_own_sessions(kind: Kind) {
    let server = Arc::new(start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                let client = browser();
                let user = format!("user{i}");
                client
                    .post(server.url(&format!("/login/{user}")))
                    .send()
                    .await
                    .expect("login");
                for _ in 0..3 {
                    client.post(server.url("/bump")).send().await.expect("bump");
                }
                let home = client.get(server.url("/")).send().await.expect("home");
                assert_eq!(text(home).await, format!("user:{user} visits:3"));
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client");
    }
}

/// Concurrent requests of one client: every answer carries a whole
/// cookie, so whichever the browser keeps last is a valid session.
pub(crate) async fn concurrent_requests_of_one_client_never_corrupt(kind: Kind) {
    let server = Arc::new(start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await);
    let client = bare_client();
    let login = login(&client, &server).await;
    let cookie = session_pair(&login);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (server, client, cookie) = (Arc::clone(&server), client.clone(), cookie.clone());
            tokio::spawn(async move {
                let response = client
                    .post(server.url("/bump"))
                    .header(COOKIE, &cookie)
                    .send()
                    .await
                    .expect("bump");
                session_pair(&response)
            })
        })
        .collect();
    for task in tasks {
        let written = task.await.expect("request");
        let home = client
            .get(server.url("/"))
            .header(COOKIE, &written)
            .send()
            .await
            .expect("home");
        assert_eq!(text(home).await, "user:alice visits:1");
    }
}

/// Keys rotate at runtime: a client logged in under key 1 stays logged
/// in, and its next cookie is sealed under key 2.
pub(crate) async fn runtime_rotation_keeps_clients_logged_in(kind: Kind) {
    let keys = KeyringHandle::new(keyring(1, 1));
    let server = start(kind, manager(keys.clone())).await;
    let client = bare_client();
    let login = login(&client, &server).await;
    let under_1 = session_pair(&login);
    assert_eq!(key_id_of(&under_1), 1);

    keys.update(|ring| ring.add_accept_only(KeySpec::new(2, common::key(2))))
        .expect("add");
    let still = client
        .get(server.url("/dashboard"))
        .header(COOKIE, &under_1)
        .send()
        .await
        .expect("dash");
    assert!(
        set_cookies(&still).is_empty(),
        "accept-only: nothing to re-seal"
    );
    assert_eq!(text(still).await, "dashboard:alice");

    keys.update(|ring| ring.promote(2)).expect("promote");
    let resealed = client
        .get(server.url("/dashboard"))
        .header(COOKIE, &under_1)
        .send()
        .await
        .expect("dash");
    let under_2 = session_pair(&resealed);
    assert_eq!(key_id_of(&under_2), 2, "re-sealed under the new primary");
    assert_eq!(text(resealed).await, "dashboard:alice");

    keys.update(|ring| ring.retire(1)).expect("retire");
    let after = client
        .get(server.url("/dashboard"))
        .header(COOKIE, &under_2)
        .send()
        .await
        .expect("dash");
    assert_eq!(text(after).await, "dashboard:alice");
    let stale = client
        .get(server.url("/dashboard"))
        .header(COOKIE, &under_1)
        .send()
        .await
        .expect("dash");
    assert_eq!(
        stale.status(),
        StatusCode::UNAUTHORIZED,
        "retired key: no session"
    );
}

/// 10,000 hostile `Cookie` headers: every answer is the ordinary
/// anonymous page (at most deleting the session's cookies), promptly.
pub(crate) async fn adversarial_cookie_headers_get_the_anonymous_page(kind: Kind) {
    let server = Arc::new(start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await);
    let client = bare_client();
    let seed = Arc::new(AtomicU64::new(0x5eed_cafe_f00d_d00d));
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let (server, client, seed) = (Arc::clone(&server), client.clone(), Arc::clone(&seed));
        tasks.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for i in 0..1250u64 {
                let rng = Rng::new(seed.fetch_add(worker * 7919 + i + 1, Ordering::Relaxed));
                let headers = adversarial_cookie_headers(&rng);
                let mut request = client.get(server.url("/"));
                for header in &headers {
                    request = request.header(
                        COOKIE,
                        reqwest::header::HeaderValue::from_bytes(header).expect("valid field"),
                    );
                }
                let started = std::time::Instant::now();
                let response = request.send().await.expect("answered");
                slowest = slowest.max(started.elapsed());
                let status = response.status();
                let removals_only = set_cookies(&response)
                    .iter()
                    .all(|c| c.starts_with("__Host-session") && c.contains("Max-Age=0"));
                let body = text(response).await;
                let total: usize = headers.iter().map(Vec::len).sum();
                assert!(
                    status == StatusCode::OK && body == "anonymous" && removals_only,
                    "{status} {body:?} for {total} bytes: {:.300}",
                    String::from_utf8_lossy(&headers.concat())
                );
            }
            slowest
        }));
    }
    for task in tasks {
        let slowest = task.await.expect("worker");
        // A hang guard, not a benchmark: nothing should take near this.
        assert!(
            slowest < Duration::from_secs(2),
            "slowest request: {slowest:?}"
        );
    }
}

/// Idle expiry is enforced from inside the cookie, whatever the client
/// keeps sending.
pub(crate) async fn idle_expiry_is_enforced_by_the_server(kind: Kind) {
    let clock = TestClock::default();
    let server = start(
        kind,
        manager(KeyringHandle::new(keyring(1, 1))).with_clock(clock.clone()),
    )
    .await;
    let client = browser();
    login(&client, &server).await;
    clock.advance(Duration::from_secs(20 * 60));
    let refreshed = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(
        set_cookies(&refreshed).len(),
        1,
        "idle deadline moved past half-way"
    );
    clock.advance(Duration::from_secs(20 * 60));
    let alive = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(alive.status(), StatusCode::OK, "refreshed 20 minutes ago");
    clock.advance(Duration::from_secs(31 * 60));
    let expired = client
        .get(server.url("/dashboard"))
        .send()
        .await
        .expect("dash");
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
}
