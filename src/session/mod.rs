//! The framework-free session layer: request headers in, a lazily opened
//! session out; the session after the handler in, `Set-Cookie` values out.
//!
//! What express-session users know, done explicitly:
//!
//! - no cookie until something is stored (`saveUninitialized: false`);
//! - no `Set-Cookie` unless needed (`resave: false`): the data changed,
//!   [`Session::regenerate`], [`Session::destroy`] or [`Session::touch`] was
//!   called, the cookie was sealed under a key that is no longer primary,
//!   or more than the refresh fraction of the idle window has passed
//!   (`rolling`, without a new cookie on every response);
//! - a request whose handler never touches the session costs no
//!   decryption.

mod config;
mod error;
pub(crate) mod flash;
#[cfg(feature = "migrate")]
mod legacy;
mod lifecycle;
mod manager;
mod map;
mod payload;
mod profile;
mod save;

use std::net::IpAddr;
use std::time::SystemTime;

pub use config::{InsecurePolicy, SessionConfig};
pub use error::{InsecureContext, InvalidCookie, SessionError};
pub use lifecycle::Session;
pub use manager::SessionManager;
pub use map::SessionMap;
pub use payload::SessionPayload;
pub use profile::Profile;
pub use save::ResponseCookies;

/// Decodes a session payload around a string-keyed map, as the session
/// manager does.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_decode_payload(bytes: &[u8]) -> Result<(), crate::ErrorKind> {
    payload::decode::<std::collections::BTreeMap<String, Vec<u8>>>(bytes).map(drop)
}

/// The connection a request arrived on, as the server sees it.
///
/// It decides, with [`SessionConfig::trust_proxies`], whether the request
/// counts as HTTPS:
///
/// ```
/// use http::HeaderMap;
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
/// use sealed_session::adapter::Connection;
/// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys)?;
///
/// let mut over_tls = manager.load(&HeaderMap::new(), Connection::new(None, true));
/// over_tls.set(1);
/// assert!(over_tls.save()?.insecure_context.is_none());
///
/// // Plain HTTP from a peer nobody trusts: the Secure cookie is reported.
/// let peer = "203.0.113.9".parse().ok();
/// let mut plain = manager.load(&HeaderMap::new(), Connection::new(peer, false));
/// plain.set(1);
/// assert!(plain.save()?.insecure_context.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    peer: Option<IpAddr>,
    tls: bool,
}

impl Connection {
    /// The immediate peer's address (a proxy's, behind one) and whether the
    /// connection itself is TLS (see the example on [`Connection`]).
    pub const fn new(peer: Option<IpAddr>, tls: bool) -> Self {
        Self { peer, tls }
    }
}

/// Where the time comes from; tests substitute a controlled clock.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
