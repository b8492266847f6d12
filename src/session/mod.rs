//! The framework-free session layer: request headers in, a lazily opened
//! session out; the session after the handler in, `Set-Cookie` values out.
//!
//! What express-session users know, done explicitly:
//!
//! - no cookie until something is stored (`saveUninitialized: false`);
//! - no `Set-Cookie` unless needed (`resave: false`): the data changed,
//!   [`Session::regenerate`], [`Session::destroy`] or [`Session::renew`] was
//!   called, the cookie was sealed under a key that is no longer primary,
//!   or more than the refresh fraction of the idle window has passed
//!   (`rolling`, without a new cookie on every response);
//! - a request whose handler never touches the session costs no
//!   decryption.

mod config;
mod error;
mod lifecycle;
mod manager;
mod map;
mod save;

use std::net::IpAddr;
use std::time::SystemTime;

pub use config::{InsecurePolicy, MAX_CHUNKS, SessionConfig};
pub use error::{ConfigError, Diagnostic, Rejection, SessionError};
pub use lifecycle::Session;
pub use manager::SessionManager;
pub use map::SessionMap;
pub use save::Outcome;

/// The connection a request arrived on, as the server sees it.
///
/// ```
/// use sealed_session::Connection;
/// let conn = Connection::new(Some("127.0.0.1".parse().unwrap()), false);
/// # drop(conn);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    peer: Option<IpAddr>,
    tls: bool,
}

impl Connection {
    /// The immediate peer's address (a proxy's, behind one) and whether the
    /// connection itself is TLS.
    ///
    /// ```
    /// # use sealed_session::Connection;
    /// let direct_tls = Connection::new(None, true);
    /// # drop(direct_tls);
    /// ```
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
