//! One acceptance suite, run against every framework adapter: a real
//! server on loopback, a real HTTP client.
#![cfg(any(feature = "axum", feature = "actix-web"))]

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use reqwest::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use reqwest::{Client, Response, StatusCode};
use sealed_session::adapter::Clock;
use sealed_session::{
    CookieConfig, InsecurePolicy, KeyId, KeySpec, Keyring, KeyringHandle, ProxyTrust,
    SessionConfig, SessionManager,
};
use serde::{Deserialize, Serialize};

/// What the test apps keep in the session.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Account {
    user: String,
    visits: u64,
    blob: Vec<u8>,
}

/// Bigger than any cookie can hold once sealed.
const TOO_BIG: usize = 8 * 1024;

/// A wall clock that tests can move forward.
#[derive(Clone, Default)]
struct TestClock(Arc<std::sync::atomic::AtomicI64>);

impl TestClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }

    fn set(&self, offset_secs: i64) {
        self.0.store(offset_secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        let offset = self.0.load(Ordering::SeqCst);
        let now = SystemTime::now();
        if offset >= 0 {
            now + Duration::from_secs(offset as u64)
        } else {
            now - Duration::from_secs(offset.unsigned_abs())
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    #[cfg(feature = "axum")]
    Axum,
    #[cfg(feature = "actix-web")]
    Actix,
}

struct Server {
    base: String,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn start(kind: Kind, manager: SessionManager<Account>) -> Server {
    match kind {
        #[cfg(feature = "axum")]
        Kind::Axum => axum_app::start(manager).await,
        #[cfg(feature = "actix-web")]
        Kind::Actix => actix_app::start(manager),
    }
}

fn keyring(id: KeyId, seed: u8) -> Keyring {
    Keyring::new(KeySpec::new(id, common::key(seed)))
}

fn manager_with(keys: KeyringHandle, config: SessionConfig) -> SessionManager<Account> {
    SessionManager::new(config, keys).expect("valid config")
}

/// Plain HTTP on loopback: the default policy sends the `Secure` cookie
/// anyway (browsers and the client treat loopback as secure).
fn manager(keys: KeyringHandle) -> SessionManager<Account> {
    manager_with(keys, SessionConfig::new(CookieConfig::default()))
}

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

fn bare_client() -> Client {
    Client::builder().build().expect("client")
}

fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .collect()
}

/// The `name=value` pair of the single session `Set-Cookie`.
fn session_pair(response: &Response) -> String {
    let all = set_cookies(response);
    assert_eq!(all.len(), 1, "one Set-Cookie: {all:?}");
    all[0].split(';').next().expect("pair").to_owned()
}

/// The key id in a sealed value's header.
fn key_id_of(pair: &str) -> KeyId {
    let value = pair.split_once('=').expect("name=value").1;
    let header = common::decode(&value[..8]);
    assert_eq!(header[0], 1, "format version");
    KeyId::from_be_bytes(header[1..5].try_into().expect("4 bytes"))
}

async fn text(response: Response) -> String {
    response.text().await.expect("body")
}

/// Everything the tracing feature logs, from every test in this binary.
fn captured_log() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct Sink(&'static Mutex<Vec<u8>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("log").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || Sink(log))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        log
    })
}

fn log_contains(needle: &str) -> bool {
    String::from_utf8_lossy(&captured_log().lock().expect("log")).contains(needle)
}

/// xorshift64*: reproducible junk without a dependency.
struct Rng(std::cell::Cell<u64>);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(std::cell::Cell::new(seed.max(1)))
    }

    fn next(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.set(x.max(1));
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes_from(&self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One request's worth of hostile `Cookie` fields (1 to 3 of them).
fn adversarial_cookie_headers(rng: &Rng) -> Vec<Vec<u8>> {
    let mut fields = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let mut field = Vec::new();
        for pair in 0..1 + rng.below(if rng.below(10) == 0 { 200 } else { 6 }) {
            if pair > 0 {
                field.extend_from_slice(if rng.below(4) == 0 { b";" } else { b"; " });
            }
            let name: Vec<u8> = match rng.below(6) {
                0 | 1 => b"__Host-session".to_vec(),
                2 => format!("__Host-session.{}", rng.below(20)).into_bytes(),
                3 => b"__host-SESSION".to_vec(),
                4 => rng.bytes_from(b"abc_-.%$!", 1 + rng.below(12)),
                _ => Vec::new(),
            };
            field.extend_from_slice(&name);
            if rng.below(12) != 0 {
                field.push(b'=');
            }
            let value: Vec<u8> = match rng.below(9) {
                // A plausible header: format 1, key 1, then noise.
                0 => [b"AQAAAAE".as_slice(), &rng.bytes_from(B64URL, 4090)].concat(),
                1 => [
                    b"AQAAAAE".as_slice(),
                    &rng.bytes_from(B64URL, 20 + rng.below(200)),
                ]
                .concat(),
                2 => rng.bytes_from(B64URL, 4096 + rng.below(2048)),
                3 => rng.bytes_from(b"%0123456789abcdefABCDEF+/=", 1 + rng.below(300)),
                4 => (0..1 + rng.below(64))
                    .map(|_| 0x80 + rng.below(128) as u8)
                    .collect(),
                5 => [
                    b"\"".as_slice(),
                    &rng.bytes_from(B64URL, rng.below(100)),
                    b"\"",
                ]
                .concat(),
                6 => rng.bytes_from(b" =;,\t\"\\", 1 + rng.below(30)),
                7 => Vec::new(),
                _ => rng.bytes_from(B64URL, rng.below(64)),
            };
            field.extend_from_slice(&value);
        }
        // A field value cannot start or end with whitespace on the wire.
        while field.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            field.pop();
        }
        if field.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            field.insert(0, b'x');
        }
        fields.push(field);
    }
    // Servers refuse header sections past ~8 KiB (431) before any
    // middleware runs; stay under that to reach the session layer.
    let mut budget = 7 * 1024;
    for field in &mut fields {
        field.truncate(budget.max(1));
        while field.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            field.pop();
        }
        if field.is_empty() {
            field.push(b'x');
        }
        budget = budget.saturating_sub(field.len());
    }
    fields
}

/// The scenarios, each written once against any adapter.
mod scenarios {
    use super::*;

    /// Shared caches must never hand one user's session page to another.
    pub(super) async fn caching_headers_follow_the_session(kind: Kind) {
        let server = start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await;
        let client = browser();

        let untouched = client
            .get(server.url("/static"))
            .send()
            .await
            .expect("static");
        assert!(untouched.headers().get(CACHE_CONTROL).is_none());
        assert!(untouched.headers().get(VARY).is_none());

        let login = client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");
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
    pub(super) async fn a_failing_handler_still_sends_the_logout(kind: Kind) {
        let server = start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await;
        let client = browser();
        client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");
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

    pub(super) async fn login_dashboard_logout(kind: Kind) {
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

        let login = client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");
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
    pub(super) async fn bad_cookies_are_empty_sessions_and_indistinguishable(kind: Kind) {
        let clock = TestClock::default();
        let keys = KeyringHandle::new(keyring(1, 1));
        let served = manager(keys.clone()).with_clock(clock.clone());
        let server = start(kind, served.clone()).await;
        let client = bare_client();

        let login = client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");
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

    pub(super) async fn unhandled_save_errors_are_bare_500s(kind: Kind) {
        captured_log();
        let keys = KeyringHandle::new(keyring(1, 1));
        let server = start(kind, manager(keys)).await;
        let client = browser();
        client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");

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

    pub(super) async fn handlers_can_handle_save_errors(kind: Kind) {
        let keys = KeyringHandle::new(keyring(1, 1));
        let server = start(kind, manager(keys)).await;
        let client = browser();
        client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");

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
    pub(super) async fn forwarded_proto_counts_only_from_trusted_peers(kind: Kind) {
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
    pub(super) async fn host_header_never_reaches_the_cookie(kind: Kind) {
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
    pub(super) async fn concurrent_clients_keep_their_own_sessions(kind: Kind) {
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
    pub(super) async fn concurrent_requests_of_one_client_never_corrupt(kind: Kind) {
        let server = Arc::new(start(kind, manager(KeyringHandle::new(keyring(1, 1)))).await);
        let client = bare_client();
        let login = client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");
        let cookie = session_pair(&login);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (server, client, cookie) =
                    (Arc::clone(&server), client.clone(), cookie.clone());
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
    pub(super) async fn runtime_rotation_keeps_clients_logged_in(kind: Kind) {
        let keys = KeyringHandle::new(keyring(1, 1));
        let server = start(kind, manager(keys.clone())).await;
        let client = bare_client();
        let login = client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");
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
    pub(super) async fn adversarial_cookie_headers_get_the_anonymous_page(kind: Kind) {
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
    pub(super) async fn idle_expiry_is_enforced_by_the_server(kind: Kind) {
        let clock = TestClock::default();
        let server = start(
            kind,
            manager(KeyringHandle::new(keyring(1, 1))).with_clock(clock.clone()),
        )
        .await;
        let client = browser();
        client
            .post(server.url("/login/alice"))
            .send()
            .await
            .expect("login");
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
}

macro_rules! acceptance_suite {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::scenarios;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn login_dashboard_logout() {
                scenarios::login_dashboard_logout($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn caching_headers_follow_the_session() {
                scenarios::caching_headers_follow_the_session($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_failing_handler_still_sends_the_logout() {
                scenarios::a_failing_handler_still_sends_the_logout($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bad_cookies_are_empty_sessions_and_indistinguishable() {
                scenarios::bad_cookies_are_empty_sessions_and_indistinguishable($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn unhandled_save_errors_are_bare_500s() {
                scenarios::unhandled_save_errors_are_bare_500s($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn handlers_can_handle_save_errors() {
                scenarios::handlers_can_handle_save_errors($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn forwarded_proto_counts_only_from_trusted_peers() {
                scenarios::forwarded_proto_counts_only_from_trusted_peers($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn host_header_never_reaches_the_cookie() {
                scenarios::host_header_never_reaches_the_cookie($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_clients_keep_their_own_sessions() {
                scenarios::concurrent_clients_keep_their_own_sessions($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_requests_of_one_client_never_corrupt() {
                scenarios::concurrent_requests_of_one_client_never_corrupt($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn runtime_rotation_keeps_clients_logged_in() {
                scenarios::runtime_rotation_keeps_clients_logged_in($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn adversarial_cookie_headers_get_the_anonymous_page() {
                scenarios::adversarial_cookie_headers_get_the_anonymous_page($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn idle_expiry_is_enforced_by_the_server() {
                scenarios::idle_expiry_is_enforced_by_the_server($kind).await;
            }
        }
    };
}

#[cfg(feature = "axum")]
acceptance_suite!(axum_adapter, super::Kind::Axum);
#[cfg(feature = "actix-web")]
acceptance_suite!(actix_adapter, super::Kind::Actix);

/// The test app's routes, written once over the session handle; each
/// adapter module only wires them into its framework. `(status, body)`.
mod routes {
    use sealed_session::{SessionError, SessionHandle};

    use super::{Account, TOO_BIG};

    pub(super) type Session = SessionHandle<Account>;
    pub(super) type Handler = fn(&Session, &str) -> Reply;

    /// What a handler answers, in framework-neutral terms.
    pub(super) struct Reply {
        pub(super) status: u16,
        pub(super) body: String,
        /// A `Cache-Control` the handler sets itself.
        pub(super) cache_control: Option<&'static str>,
        /// Fail as the framework's error type where it has one (actix-web's
        /// handler `Err`), rather than as a response.
        #[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
        pub(super) as_error: bool,
    }

    fn reply(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            body: body.into(),
            cache_control: None,
            as_error: false,
        }
    }

    /// Method, path (`{user}` is the one parameter) and handler.
    pub(super) const ALL: [(&str, &str, Handler); 10] = [
        ("GET", "/", home),
        ("POST", "/login/{user}", login),
        ("GET", "/dashboard", dashboard),
        ("POST", "/logout", logout),
        ("POST", "/bump", bump),
        ("POST", "/big/unhandled", big_unhandled),
        ("POST", "/big/handled", big_handled),
        ("GET", "/static", untouched),
        ("GET", "/cached", cached),
        ("POST", "/logout/failing", logout_failing),
    ];

    fn untouched(_: &Session, _: &str) -> Reply {
        reply(200, "no session needed")
    }

    /// Reads the session but chooses its own caching.
    fn cached(session: &Session, _: &str) -> Reply {
        let user = session.with(|a| a.map(|a| a.user.clone()));
        Reply {
            cache_control: Some("max-age=60"),
            ..reply(200, user.unwrap_or_default())
        }
    }

    /// Logs out, then fails.
    fn logout_failing(session: &Session, _: &str) -> Reply {
        session.destroy();
        Reply {
            as_error: true,
            ..reply(500, "failed after logout")
        }
    }

    fn home(session: &Session, _: &str) -> Reply {
        let body = match session.get() {
            Some(a) => format!("user:{} visits:{}", a.user, a.visits),
            None => "anonymous".to_owned(),
        };
        reply(200, body)
    }

    fn login(session: &Session, user: &str) -> Reply {
        session.regenerate();
        session.set(Account {
            user: user.to_owned(),
            ..Account::default()
        });
        reply(200, "ok")
    }

    fn dashboard(session: &Session, _: &str) -> Reply {
        match session.get() {
            Some(a) => reply(200, format!("dashboard:{}", a.user)),
            None => reply(401, "login first"),
        }
    }

    fn logout(session: &Session, _: &str) -> Reply {
        session.destroy();
        reply(200, "bye")
    }

    fn bump(session: &Session, _: &str) -> Reply {
        let visits = session.update(|a| {
            a.visits += 1;
            a.visits
        });
        match visits {
            Some(visits) => reply(200, visits.to_string()),
            None => reply(401, ""),
        }
    }

    fn oversized(account: &mut Account) {
        account.blob = vec![0x5a; TOO_BIG];
    }

    fn big_unhandled(session: &Session, _: &str) -> Reply {
        session.update(oversized);
        reply(200, "should never be seen")
    }

    fn big_handled(session: &Session, _: &str) -> Reply {
        session.update(oversized);
        match session.save() {
            Err(SessionError::TooLarge(_)) => {
                session.update(|a| a.blob.clear());
                reply(413, "too large: handled")
            }
            other => reply(200, format!("unexpected: {other:?}")),
        }
    }
}

#[cfg(feature = "axum")]
mod axum_app {
    use std::net::SocketAddr;

    use axum::Router;
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::{MethodRouter, get, post};
    use sealed_session::SessionManager;
    use sealed_session::tower::SessionLayer;

    use super::routes::{self, Reply, Session};
    use super::{Account, Server};

    fn respond(reply: Reply) -> Response {
        let status = StatusCode::from_u16(reply.status).expect("status");
        let mut response = (status, reply.body).into_response();
        if let Some(value) = reply.cache_control {
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static(value),
            );
        }
        response
    }

    pub(super) async fn start(manager: SessionManager<Account>) -> Server {
        let mut app = Router::new();
        for (method, path, handler) in routes::ALL {
            let route: MethodRouter = if path.contains("{user}") {
                post(
                    move |session: Session, Path(user): Path<String>| async move {
                        respond(handler(&session, &user))
                    },
                )
            } else {
                let run = move |session: Session| async move { respond(handler(&session, "")) };
                if method == "GET" { get(run) } else { post(run) }
            };
            app = app.route(path, route);
        }
        let app = app.layer(SessionLayer::new(manager));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });
        Server {
            base: format!("http://{address}"),
        }
    }
}

#[cfg(feature = "actix-web")]
mod actix_app {
    use actix_web::http::StatusCode;
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    use sealed_session::SessionManager;
    use sealed_session::actix::SessionMiddleware;

    use super::routes::{self, Session};
    use super::{Account, Server};

    pub(super) fn start(manager: SessionManager<Account>) -> Server {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let mut app = App::new().wrap(SessionMiddleware::new(manager.clone()));
                    for (method, path, handler) in routes::ALL {
                        let run = move |session: Session, request: HttpRequest| async move {
                            let user = request.match_info().get("user").unwrap_or("").to_owned();
                            let reply = handler(&session, &user);
                            if reply.as_error {
                                return Err(actix_web::error::ErrorInternalServerError(reply.body));
                            }
                            let mut response = HttpResponse::build(
                                StatusCode::from_u16(reply.status).expect("status"),
                            );
                            if let Some(value) = reply.cache_control {
                                response
                                    .insert_header((actix_web::http::header::CACHE_CONTROL, value));
                            }
                            Ok::<_, actix_web::Error>(response.body(reply.body))
                        };
                        let route = if method == "GET" {
                            web::get()
                        } else {
                            web::post()
                        };
                        app = app.route(path, route.to(run));
                    }
                    app
                })
                .workers(2)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind");
                let address = server.addrs()[0];
                sender.send(address).expect("report address");
                server.run().await
            })
        });
        let address = receiver.recv().expect("server started");
        Server {
            base: format!("http://{address}"),
        }
    }
}
