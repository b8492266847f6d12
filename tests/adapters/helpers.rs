//! Servers for the scenarios, the clients that talk to them, and what the
//! scenarios read from the answers.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use reqwest::header::SET_COOKIE;
use reqwest::{Client, Response};
use sealed_session::{
    CookieConfig, KeyId, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager,
};

use crate::common;
use crate::routes::Account;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    #[cfg(feature = "axum")]
    Axum,
    #[cfg(feature = "actix-web")]
    Actix,
}

pub(crate) struct Server {
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

pub(crate) async fn start(kind: Kind, manager: SessionManager<Account>) -> Server {
    match kind {
        #[cfg(feature = "axum")]
        Kind::Axum => crate::axum_app::start(manager).await,
        #[cfg(feature = "actix-web")]
        Kind::Actix => crate::actix_app::start(manager),
    }
}

pub(crate) fn keyring(id: KeyId, seed: u8) -> Keyring {
    Keyring::new(KeySpec::new(id, common::key(seed)))
}

pub(crate) fn manager_with(keys: KeyringHandle, config: SessionConfig) -> SessionManager<Account> {
    SessionManager::new(config, keys).expect("valid config")
}

/// Plain HTTP on loopback: the default policy sends the `Secure` cookie
/// anyway (browsers and the client treat loopback as secure).
pub(crate) fn manager(keys: KeyringHandle) -> SessionManager<Account> {
    manager_with(keys, SessionConfig::new(CookieConfig::default()))
}

/// Logs alice in through the test app with `client`.
pub(crate) async fn login(client: &Client, server: &Server) -> Response {
    client
        .post(server.url("/login/alice"))
        .send()
        .await
        .expect("login")
}

pub(crate) fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

pub(crate) fn bare_client() -> Client {
    Client::builder().build().expect("client")
}

pub(crate) fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .collect()
}

/// The `name=value` pair of the single session `Set-Cookie`.
pub(crate) fn session_pair(response: &Response) -> String {
    let all = set_cookies(response);
    assert_eq!(all.len(), 1, "one Set-Cookie: {all:?}");
    all[0].split(';').next().expect("pair").to_owned()
}

/// The key id in a sealed value's header.
pub(crate) fn key_id_of(pair: &str) -> KeyId {
    let value = pair.split_once('=').expect("name=value").1;
    let header = common::decode(&value[..8]);
    assert_eq!(header[0], 1, "format version");
    KeyId::from_be_bytes(header[1..5].try_into().expect("4 bytes"))
}

pub(crate) async fn text(response: Response) -> String {
    response.text().await.expect("body")
}

/// Everything the tracing feature logs, from every test in this binary.
pub(crate) fn captured_log() -> &'static Mutex<Vec<u8>> {
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

pub(crate) fn log_contains(needle: &str) -> bool {
    String::from_utf8_lossy(&captured_log().lock().expect("log")).contains(needle)
}
