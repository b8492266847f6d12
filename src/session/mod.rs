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

use core::fmt;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{BROWSER_COOKIE_LIMIT, Codec, CodecError, MAX_VALUE_LIMIT};
use crate::cookie::{
    CookieConfig, CookieConfigError, CookieTooLarge, MAX_COOKIE_LIFETIME, SetCookieError,
};
use crate::cookie_header::{self, Incoming};
use crate::envelope::{Lifetimes, SessionMeta};
use crate::error::{Error, ErrorKind};
use crate::keyring::Keyring;
use crate::proxy::{ProxyTrust, SchemeDecision};

/// Most cookies one session may be split over.
pub const MAX_CHUNKS: u8 = 16;

/// What to do when a `Secure` cookie would go out on a request judged to
/// be plain HTTP (see [`ProxyTrust`]). Every choice also reports a
/// [`Diagnostic`]; none is silent.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InsecurePolicy {
    /// Send the cookie anyway; the browser decides (it keeps `Secure`
    /// cookies from `http://localhost`, drops them elsewhere).
    #[default]
    Send,
    /// Refuse: finishing the session fails with
    /// [`SessionError::InsecureContext`].
    Refuse,
    /// Drop `Secure` from cookies sent over plain HTTP (development only;
    /// not allowed with `__Host-`/`__Secure-` names, `SameSite=None` or
    /// `Partitioned`).
    FollowScheme,
}

/// Session configuration: the cookie, lifetimes and policies. Checked once
/// by [`SessionManager::new`].
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{CookieConfig, Lifetimes, SessionConfig};
///
/// let config = SessionConfig::new(CookieConfig::new("__Host-session"))
///     .lifetimes(Lifetimes::new(Some(Duration::from_secs(8 * 3600)), Some(Duration::from_secs(900))))
///     .idle_refresh_after(0.5)
///     .clock_skew(Duration::from_secs(30));
/// # drop(config);
/// ```
#[derive(Clone, Debug)]
pub struct SessionConfig {
    cookie: CookieConfig,
    lifetimes: Lifetimes,
    idle_refresh: f64,
    clock_skew: Duration,
    context: Vec<u8>,
    max_chunks: u8,
    data_version: u32,
    insecure: InsecurePolicy,
    proxy: ProxyTrust,
}

impl SessionConfig {
    /// Defaults: 12 h absolute lifetime, 30 min idle timeout, refresh after
    /// half the idle window, 60 s clock skew, no chunking, data version 0,
    /// [`InsecurePolicy::Send`], no trusted proxy.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// let config = SessionConfig::new(CookieConfig::new("__Host-s"));
    /// # drop(config);
    /// ```
    pub fn new(cookie: CookieConfig) -> Self {
        Self {
            cookie,
            lifetimes: Lifetimes::default(),
            idle_refresh: 0.5,
            clock_skew: Duration::from_secs(60),
            context: Vec::new(),
            max_chunks: 0,
            data_version: 0,
            insecure: InsecurePolicy::Send,
            proxy: ProxyTrust::none(),
        }
    }

    /// Absolute lifetime and idle timeout; at least one, each at most 400
    /// days.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{CookieConfig, Lifetimes, SessionConfig};
    /// let c = SessionConfig::new(CookieConfig::new("s")).lifetimes(Lifetimes::new(None, Some(Duration::from_secs(600))));
    /// # drop(c);
    /// ```
    pub fn lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// Re-seal an unchanged session only once this fraction of the idle
    /// window has passed since its last seal (0.0 = on every request that
    /// reads it, 1.0 = never just for idleness).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// let c = SessionConfig::new(CookieConfig::new("s")).idle_refresh_after(0.25);
    /// # drop(c);
    /// ```
    pub fn idle_refresh_after(mut self, fraction: f64) -> Self {
        self.idle_refresh = fraction;
        self
    }

    /// How far in the future an issue time may lie (clocks of servers
    /// differ); at most five minutes.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// let c = SessionConfig::new(CookieConfig::new("s")).clock_skew(Duration::from_secs(10));
    /// # drop(c);
    /// ```
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Binds cookies to an application or environment label as well as the
    /// name: a value sealed under one context never opens under another.
    ///
    /// Set a distinct context for every [`SessionManager`] that shares a
    /// cookie name and keys with another, and in particular for managers
    /// of different data types. The data is postcard-encoded, which is not
    /// self-describing: a `SessionManager<Cart>` may well decode the bytes
    /// of a `SessionManager<Account>` cookie into a `Cart` if nothing else
    /// tells them apart.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    ///
    /// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let accounts = SessionManager::<u64>::new(
    ///     SessionConfig::new(CookieConfig::default()).context(b"accounts"),
    ///     keys.clone(),
    /// )?;
    /// let carts = SessionManager::<u64>::new(
    ///     SessionConfig::new(CookieConfig::default()).context(b"carts"),
    ///     keys,
    /// )?;
    /// let mut session = accounts.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set(42);
    /// let set_cookie = accounts.finish(session)?.set_cookie;
    /// let pair = set_cookie[0].to_str()?.split(';').next().unwrap().to_owned();
    /// let mut headers = HeaderMap::new();
    /// headers.insert(http::header::COOKIE, pair.parse()?);
    /// assert_eq!(accounts.load(&headers, Connection::new(None, true)).get(), Some(&42));
    /// assert_eq!(carts.load(&headers, Connection::new(None, true)).get(), None, "other context");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(mut self, context: &[u8]) -> Self {
        self.context = context.to_vec();
        self
    }

    /// Allows a session too large for one cookie to be split over up to
    /// `max` cookies named `name.0 … name.(max-1)` (2..=16). Off by default:
    /// browsers limit cookies per site, and every request carries them all.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// let c = SessionConfig::new(CookieConfig::new("__Host-s")).chunking(4);
    /// # drop(c);
    /// ```
    pub fn chunking(mut self, max: u8) -> Self {
        self.max_chunks = max;
        self
    }

    /// The version of the application's data type, sealed with the data.
    /// Sessions sealed with another version go through the migration hook
    /// ([`SessionManager::with_migration`]) or are dropped.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// let c = SessionConfig::new(CookieConfig::new("s")).data_version(2);
    /// # drop(c);
    /// ```
    pub fn data_version(mut self, version: u32) -> Self {
        self.data_version = version;
        self
    }

    /// What to do with a `Secure` cookie on a plain-HTTP request.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, InsecurePolicy, SessionConfig};
    /// let c = SessionConfig::new(CookieConfig::new("__Host-s")).insecure_policy(InsecurePolicy::Refuse);
    /// # drop(c);
    /// ```
    pub fn insecure_policy(mut self, policy: InsecurePolicy) -> Self {
        self.insecure = policy;
        self
    }

    /// Which proxies may say, through `Forwarded` or `X-Forwarded-Proto`,
    /// that the client used HTTPS (express's `trust proxy`).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, ProxyTrust, SessionConfig};
    /// let trust = ProxyTrust::cidrs(["127.0.0.1/32"]).unwrap();
    /// let c = SessionConfig::new(CookieConfig::new("__Host-s")).trust_proxies(trust);
    /// # drop(c);
    /// ```
    pub fn trust_proxies(mut self, trust: ProxyTrust) -> Self {
        self.proxy = trust;
        self
    }

    fn validate(&self) -> Result<Codec, ConfigError> {
        self.cookie.validate()?;
        let Lifetimes { absolute, idle } = self.lifetimes;
        if absolute.is_none() && idle.is_none() {
            return Err(ConfigError::NoLifetime);
        }
        if absolute
            .into_iter()
            .chain(idle)
            .any(|d| d > MAX_COOKIE_LIFETIME)
        {
            return Err(ConfigError::LifetimeTooLong);
        }
        if absolute
            .into_iter()
            .chain(idle)
            .any(|d| d < Duration::from_secs(1))
        {
            return Err(ConfigError::LifetimeTooShort);
        }
        if !(0.0..=1.0).contains(&self.idle_refresh) {
            return Err(ConfigError::IdleRefresh);
        }
        if self.max_chunks == 1 || self.max_chunks > MAX_CHUNKS {
            return Err(ConfigError::Chunks);
        }
        if self.insecure == InsecurePolicy::FollowScheme {
            let lower = self.cookie.name().to_ascii_lowercase();
            let prefixed = lower.starts_with("__host-") || lower.starts_with("__secure-");
            if prefixed || !self.cookie.allows_plain_http() {
                return Err(ConfigError::FollowSchemeNotAllowed);
            }
        }
        let name = self.cookie.name();
        let limit = match self.max_chunks {
            0 => BROWSER_COOKIE_LIMIT.saturating_sub(name.len()),
            n => chunk_len(name, n)
                .saturating_mul(usize::from(n))
                .min(MAX_VALUE_LIMIT),
        };
        Ok(Codec::new(name)?
            .with_context(&self.context)?
            .with_clock_skew(self.clock_skew)?
            .with_max_value_len(limit)?)
    }
}

/// Characters of the sealed value each chunk cookie carries.
fn chunk_len(name: &str, max_chunks: u8) -> usize {
    // The longest chunk name is `name.15`.
    let suffix = if max_chunks > 10 { 3 } else { 2 };
    BROWSER_COOKIE_LIMIT.saturating_sub(name.len().saturating_add(suffix))
}

/// A session configuration that cannot work. Each message says how to fix
/// it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The cookie attributes are invalid.
    Cookie(CookieConfigError),
    /// The name, context or clock skew is invalid.
    Codec(CodecError),
    /// Neither an absolute lifetime nor an idle timeout is set.
    NoLifetime,
    /// A lifetime exceeds 400 days, the browsers' cap.
    LifetimeTooLong,
    /// A lifetime is under one second.
    LifetimeTooShort,
    /// The idle refresh fraction is outside 0.0..=1.0.
    IdleRefresh,
    /// Chunking must allow 2 to 16 cookies.
    Chunks,
    /// [`InsecurePolicy::FollowScheme`] with a cookie that requires Secure.
    FollowSchemeNotAllowed,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cookie(err) => fmt::Display::fmt(err, f),
            Self::Codec(err) => fmt::Display::fmt(err, f),
            Self::NoLifetime => f.write_str(
                "sessions need an absolute lifetime, an idle timeout, or both: set \
                 Lifetimes::new(Some(..), Some(..))",
            ),
            Self::LifetimeTooLong => f.write_str(
                "session lifetimes above 400 days are cut by browsers: use at most 400 days",
            ),
            Self::LifetimeTooShort => f.write_str("session lifetimes must be at least one second"),
            Self::IdleRefresh => f.write_str(
                "the idle refresh fraction must be between 0.0 and 1.0 (0.5 re-seals after half \
                 the idle window)",
            ),
            Self::Chunks => {
                f.write_str("chunking takes a maximum of 2 to 16 cookies, or 0 for off")
            }
            Self::FollowSchemeNotAllowed => f.write_str(
                "InsecurePolicy::FollowScheme drops Secure on plain HTTP, which __Host-/__Secure- \
                 names, SameSite=None and Partitioned forbid: use a plain name in development, \
                 or InsecurePolicy::Send",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<CookieConfigError> for ConfigError {
    fn from(err: CookieConfigError) -> Self {
        Self::Cookie(err)
    }
}

impl From<CodecError> for ConfigError {
    fn from(err: CodecError) -> Self {
        Self::Codec(err)
    }
}

/// The session could not be written into the response.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// The session is too large for the cookie (or all its chunks).
    TooLarge(CookieTooLarge),
    /// A `Secure` cookie met a plain-HTTP request under
    /// [`InsecurePolicy::Refuse`].
    InsecureContext(Diagnostic),
    /// Sealing failed (randomness, clock, serialization, seal budget).
    Seal(Error),
    /// A panic interrupted a change to the session (the handle's lock is
    /// poisoned), so it is not saved: sealing half-changed data could
    /// persist a broken session.
    Poisoned,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(err) => fmt::Display::fmt(err, f),
            Self::InsecureContext(diag) => write!(f, "refused to send a Secure cookie: {diag}"),
            Self::Seal(err) => write!(f, "cannot seal the session: {err}"),
            Self::Poisoned => {
                f.write_str("a panic interrupted a change to the session; it is not saved")
            }
        }
    }
}

impl std::error::Error for SessionError {}

/// A deployment problem noticed while serving a request: reported with the
/// outcome, and through `tracing` once per process when that feature is
/// on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Why the request counted as plain HTTP.
    pub decision: SchemeDecision,
    /// The likely fix, in words.
    pub hint: &'static str,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hint)
    }
}

/// Why an incoming cookie did not become the session.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The codec refused it (malformed, unknown key, tampered, expired…).
    Invalid(Error),
    /// It was sealed with another data version and no migration accepted it.
    DataVersion(u32),
    /// It was issued before the manager's not-before time.
    RevokedByTime,
    /// The validation hook refused it.
    RevokedByValidator,
    /// More than one distinct cookie of the session's name authenticated,
    /// as when a sibling subdomain plants its own valid cookie next to the
    /// user's; all are refused rather than one picked.
    Ambiguous,
}

impl Rejection {
    /// The codec's classification, when the codec refused the cookie.
    ///
    /// ```
    /// # use sealed_session::Rejection;
    /// assert_eq!(Rejection::RevokedByTime.kind(), None);
    /// ```
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Invalid(err) => Some(err.kind()),
            _ => None,
        }
    }
}

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

/// A keyring that can be replaced while the server runs: the next request
/// uses the new one.
///
/// ```
/// use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
///
/// let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// handle.update(|ring| {
///     ring.add_accept_only(KeySpec::new(2, Key::generate()))?;
///     ring.promote(2)
/// })?;
/// assert_eq!(handle.current().primary_id(), 2);
/// # Ok::<(), sealed_session::KeyringError>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeyringHandle(Arc<RwLock<Keyring>>);

impl KeyringHandle {
    /// A handle holding `keyring`.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # drop(handle);
    /// ```
    pub fn new(keyring: Keyring) -> Self {
        Self(Arc::new(RwLock::new(keyring)))
    }

    /// The keyring now in force (a cheap clone).
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// assert_eq!(handle.current().key_ids(), vec![1]);
    /// ```
    pub fn current(&self) -> Keyring {
        match self.0.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the keyring. Keys with the same id and suite keep their
    /// counters (AES-GCM seal budget, opens, authentication failures), so
    /// re-reading a key file does not reset the budget.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// handle.replace(Keyring::new(KeySpec::new(5, Key::generate())));
    /// assert_eq!(handle.current().primary_id(), 5);
    /// ```
    pub fn replace(&self, keyring: Keyring) {
        keyring.inherit_counters(&self.current());
        match self.0.write() {
            Ok(mut ring) => *ring = keyring,
            Err(poisoned) => *poisoned.into_inner() = keyring,
        }
    }

    /// Changes the keyring in place; on error nothing changes.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// assert!(handle.update(|ring| ring.retire(1)).is_err());
    /// assert_eq!(handle.current().key_ids(), vec![1]);
    /// ```
    pub fn update<E>(&self, change: impl FnOnce(&mut Keyring) -> Result<(), E>) -> Result<(), E> {
        let mut next = self.current();
        change(&mut next)?;
        self.replace(next);
        Ok(())
    }
}

type Migration<T> = dyn Fn(u32, &[u8]) -> Option<T> + Send + Sync;
type Validator<T> = dyn Fn(&SessionMeta, &T) -> bool + Send + Sync;

struct Shared<T> {
    config: SessionConfig,
    codec: Codec,
    keys: KeyringHandle,
    clock: Arc<dyn Clock>,
    migrate: Option<Arc<Migration<T>>>,
    validate: Option<Arc<Validator<T>>>,
    /// Shared by every clone of the manager.
    not_before: Arc<AtomicU64>,
    /// Refreshes and re-seals the handler did not ask for that failed and
    /// were skipped; shared by every clone of the manager.
    skipped_refreshes: Arc<AtomicU64>,
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            codec: self.codec.clone(),
            keys: self.keys.clone(),
            clock: Arc::clone(&self.clock),
            migrate: self.migrate.clone(),
            validate: self.validate.clone(),
            not_before: Arc::clone(&self.not_before),
            skipped_refreshes: Arc::clone(&self.skipped_refreshes),
        }
    }
}

/// Turns requests into sessions and sessions into `Set-Cookie` values.
/// Build one at startup and share it (it is cheap to clone).
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::COOKIE};
/// use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)?;
///
/// // A first request: no cookie, the handler logs the user in.
/// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
/// assert_eq!(session.get(), None);
/// session.set("alice".to_owned());
/// let outcome = manager.finish(session)?;
/// let set_cookie = outcome.set_cookie[0].to_str()?;
///
/// // The next request carries the cookie back.
/// let pair = set_cookie.split(';').next().unwrap();
/// let mut headers = HeaderMap::new();
/// headers.insert(COOKIE, HeaderValue::from_str(pair)?);
/// let mut session = manager.load(&headers, Connection::new(None, true));
/// assert_eq!(session.get().map(String::as_str), Some("alice"));
/// assert!(manager.finish(session)?.set_cookie.is_empty(), "unchanged: no Set-Cookie");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionManager<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for SessionManager<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for SessionManager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionManager")
            .field("config", &self.shared.config)
            .field("keys", &self.shared.keys)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned> SessionManager<T> {
    /// Checks the configuration and builds the manager.
    ///
    /// ```
    /// # use sealed_session::{ConfigError, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, SessionConfig, SessionManager};
    /// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let config = SessionConfig::new(CookieConfig::new("s")).lifetimes(Lifetimes::new(None, None));
    /// let err = SessionManager::<()>::new(config, keys).unwrap_err();
    /// assert_eq!(err, ConfigError::NoLifetime);
    /// ```
    pub fn new(config: SessionConfig, keys: KeyringHandle) -> Result<Self, ConfigError> {
        let codec = config.validate()?;
        #[cfg(feature = "tracing")]
        if !config.cookie.is_secure() || config.insecure == InsecurePolicy::FollowScheme {
            tracing::warn!(
                target: "sealed_session",
                cookie = config.cookie.name(),
                "the session cookie may go out without Secure (insecure_dev_only or \
                 InsecurePolicy::FollowScheme): for development only"
            );
        }
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                codec,
                keys,
                clock: Arc::new(SystemClock),
                migrate: None,
                validate: None,
                not_before: Arc::new(AtomicU64::new(0)),
                skipped_refreshes: Arc::new(AtomicU64::new(0)),
            }),
        })
    }

    /// A copy of the shared state to change while building; clones of
    /// this manager taken earlier keep what they had.
    fn rebuilt(mut self, change: impl FnOnce(&mut Shared<T>)) -> Self {
        let mut shared = Shared::clone(&self.shared);
        change(&mut shared);
        self.shared = Arc::new(shared);
        self
    }

    /// Uses another clock (tests).
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// # use sealed_session::{Clock, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// struct Fixed;
    /// impl Clock for Fixed {
    ///     fn now(&self) -> SystemTime { UNIX_EPOCH + Duration::from_secs(1_800_000_000) }
    /// }
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?.with_clock(Fixed);
    /// # drop(manager);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn with_clock(self, clock: impl Clock) -> Self {
        self.rebuilt(|s| s.clock = Arc::new(clock))
    }

    /// Installs a migration: given the data version and the postcard bytes
    /// of a session sealed with another [`SessionConfig::data_version`], it
    /// returns the data in today's type, or `None` to drop the session.
    /// Migrated sessions are re-sealed with the current version.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// // Version 1 stored a user id as u32; version 2 stores a String.
    /// let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("s")).data_version(2), keys)?
    ///     .with_migration(|version, bytes| match version {
    ///         1 => postcard::from_bytes::<u32>(bytes).ok().map(|id| format!("user-{id}")),
    ///         _ => None,
    ///     });
    /// # drop(manager);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn with_migration(
        self,
        migrate: impl Fn(u32, &[u8]) -> Option<T> + Send + Sync + 'static,
    ) -> Self {
        self.rebuilt(|s| s.migrate = Some(Arc::new(migrate)))
    }

    /// Installs a revocation check run on every opened session, e.g.
    /// comparing a per-user generation counter stored in the data with the
    /// one the application keeps. Returning `false` drops the session and
    /// deletes the cookie.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct User { id: u64, generation: u32 }
    /// fn current_generation(_user: u64) -> u32 { 3 }
    ///
    /// let manager = SessionManager::<User>::new(SessionConfig::new(CookieConfig::new("s")), keys)?
    ///     .with_validator(|_meta, user| user.generation == current_generation(user.id));
    /// # drop(manager);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn with_validator(
        self,
        validate: impl Fn(&SessionMeta, &T) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.rebuilt(|s| s.validate = Some(Arc::new(validate)))
    }

    /// Rejects every session issued before `time` (log everyone out without
    /// rotating keys). Takes effect on the next request, on this manager
    /// and its clones.
    ///
    /// Issue times are sealed in whole seconds, so when `time` falls inside
    /// a second, sessions issued during that whole second are rejected too,
    /// including any issued just after `time`: a revocation never lets an
    /// earlier session through.
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// manager.revoke_issued_before(SystemTime::now());
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn revoke_issued_before(&self, time: SystemTime) {
        // Rounded up: a session issued earlier in the same second as `time`
        // carries the same whole-second issue time.
        let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| {
            d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
        });
        self.shared.not_before.fetch_max(secs, Ordering::Relaxed);
    }

    /// The keyring handle, for rotating keys at runtime.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// assert_eq!(manager.keys().current().primary_id(), 1);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn keys(&self) -> &KeyringHandle {
        &self.shared.keys
    }

    /// Reads the session's cookies from the request. Nothing is decrypted
    /// until the handler asks for the data.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(session.get().is_none());
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn load(&self, headers: &HeaderMap, connection: Connection) -> Session<T> {
        let shared = &self.shared;
        let incoming = cookie_header::read(
            headers,
            shared.config.cookie.name(),
            shared.config.max_chunks,
        );
        let scheme = shared
            .config
            .proxy
            .request_scheme(headers, connection.peer, connection.tls);
        Session {
            manager: self.clone(),
            keyring: shared.keys.current(),
            now: shared.clock.now(),
            scheme,
            incoming,
            state: State::Pending,
            dirty: false,
            renew: false,
            destroyed: false,
            refresh_skipped: false,
            rejection: None,
        }
    }

    /// Whether the forwarded headers of a request from `peer` can matter:
    /// adapters that must copy headers skip them otherwise.
    #[cfg(feature = "actix-web")]
    pub(crate) fn reads_forwarded_headers(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|peer| self.shared.config.proxy.trusts_peer(peer))
    }

    /// Computes the `Set-Cookie` values the response needs (often none).
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(manager.finish(session)?.set_cookie.is_empty(), "no cookie until data is set");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(&self, mut session: Session<T>) -> Result<Outcome, SessionError> {
        self.save(&mut session)
    }

    /// Like [`finish`](Self::finish), but keeps the session usable: after
    /// a successful save, a later save emits only what changed since. On
    /// error nothing is consumed, so a handler can shrink the data and try
    /// again (framework adapters build on this).
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set(1);
    /// assert_eq!(manager.save(&mut session)?.set_cookie.len(), 1);
    /// assert!(manager.save(&mut session)?.set_cookie.is_empty(), "already saved");
    /// assert_eq!(session.get(), Some(&1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, session: &mut Session<T>) -> Result<Outcome, SessionError> {
        let shared = &*self.shared;
        let config = &shared.config;
        let mut outcome = Outcome::default();
        let secure_ok = !config.cookie.is_secure() || session.scheme.is_https();
        let mut cookie = std::borrow::Cow::Borrowed(&config.cookie);

        #[cfg(feature = "tracing")]
        let fresh = matches!(session.state, State::Active { meta: None, .. });
        // A refresh the handler did not ask for (idle refresh, old key,
        // migrated data) never fails the request: when it cannot be sealed
        // the client keeps its current, still valid cookie.
        let requested = session.write_requested();
        let plan = match session.plan() {
            Plan::Nothing => return Ok(outcome),
            Plan::Fail(err) => return Err(SessionError::Seal(err)),
            plan => plan,
        };
        // Removal cookies carry no secret: the policy governs sealed values.
        if !secure_ok && matches!(plan, Plan::Seal { .. }) {
            let diagnostic = Diagnostic {
                decision: session.scheme,
                hint: session.scheme.insecure_context_hint(),
            };
            report_once(&diagnostic);
            outcome.diagnostic = Some(diagnostic);
            match config.insecure {
                InsecurePolicy::Send => {}
                InsecurePolicy::Refuse if !requested => {
                    self.skip_refresh(session, &SessionError::InsecureContext(diagnostic));
                    return Ok(outcome);
                }
                InsecurePolicy::Refuse => return Err(SessionError::InsecureContext(diagnostic)),
                InsecurePolicy::FollowScheme => {
                    cookie = std::borrow::Cow::Owned(config.cookie.clone().insecure_dev_only());
                }
            }
        }

        let name = config.cookie.name();
        let mut keep_chunks: u8 = 0;
        let mut keep_single = false;
        let mut sealed = None;
        if let Plan::Seal { meta, data } = plan {
            match self.seal_cookies(session, &cookie, &meta, data) {
                Ok((values, parts)) => {
                    outcome.set_cookie = values;
                    keep_single = parts == 0;
                    keep_chunks = parts;
                }
                Err(err) if !requested => {
                    self.skip_refresh(session, &err);
                    outcome.set_cookie.clear();
                    return Ok(outcome);
                }
                Err(err) => return Err(err),
            }
            sealed = Some(meta);
        }
        // Delete what the browser holds and no longer needs: the old single
        // cookie, chunks past the new count, or everything on destroy.
        // Removal headers of a validated configuration always render.
        if !keep_single && (session.incoming.single_present || session.destroyed) {
            outcome
                .set_cookie
                .extend(config.cookie.removal_header(name).ok());
        }
        for index in session
            .incoming
            .chunk_names
            .iter()
            .filter(|i| **i >= keep_chunks)
        {
            outcome.set_cookie.extend(
                config
                    .cookie
                    .removal_header(&cookie_header::chunk_name(name, *index))
                    .ok(),
            );
        }
        #[cfg(feature = "tracing")]
        log_lifecycle(sealed.as_ref(), fresh, session);
        session.mark_saved(sealed, keep_single, keep_chunks);
        Ok(outcome)
    }

    /// Seals `data` and renders its cookies: one, or `parts` chunks.
    fn seal_cookies(
        &self,
        session: &Session<T>,
        cookie: &CookieConfig,
        meta: &SessionMeta,
        data: &T,
    ) -> Result<(Vec<HeaderValue>, u8), SessionError> {
        let config = &self.shared.config;
        let name = config.cookie.name();
        let (value, parts) = self
            .shared
            .codec
            .seal_split(&session.keyring, meta, data, |len| {
                parts_for(len, name, config.max_chunks)
            })
            .map_err(|err| self.too_large_or_seal(err))?;
        let max_age = meta
            .expires_at()
            .and_then(|t| t.duration_since(session.now).ok())
            .unwrap_or(Duration::ZERO);
        let mut values = Vec::with_capacity(usize::from(parts.max(1)));
        if parts == 0 {
            let set = cookie.set_cookie_named(name, &value, Some(max_age), session.now);
            values.push(set.map_err(set_cookie_error)?.into_header());
        } else {
            let size = chunk_len(name, config.max_chunks);
            for (index, piece) in (0u8..).zip(split(&value, size)) {
                let chunk = cookie_header::chunk_name(name, index);
                let set = cookie.set_cookie_named(&chunk, piece, Some(max_age), session.now);
                values.push(set.map_err(set_cookie_error)?.into_header());
            }
        }
        Ok((values, parts))
    }

    /// Records a refresh the handler did not ask for that could not be
    /// sealed: counted, logged once for this session, and not retried on
    /// this request.
    fn skip_refresh(&self, session: &mut Session<T>, err: &SessionError) {
        session.refresh_skipped = true;
        self.shared
            .skipped_refreshes
            .fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "tracing")]
        {
            let kind = match err {
                SessionError::Seal(err) => Some(err.kind()),
                SessionError::TooLarge(_) => Some(ErrorKind::TooLarge),
                _ => None,
            };
            tracing::warn!(
                target: "sealed_session",
                kind = ?kind,
                key_id = session.keyring.primary_id(),
                reason = %err,
                "session refresh skipped: the client keeps its current cookie"
            );
        }
        #[cfg(not(feature = "tracing"))]
        let _ = err;
    }

    /// How many refreshes and re-seals the handler did not ask for (idle
    /// refresh, a cookie under an old key, migrated data) could not be
    /// sealed and were skipped, across this manager and its clones. The
    /// requests still succeeded with the client's current cookie; a rising
    /// count means a key's seal budget is spent or sessions outgrew their
    /// cookie, and each skip is logged with its reason.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys)?;
    /// assert_eq!(manager.skipped_refreshes(), 0);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn skipped_refreshes(&self) -> u64 {
        self.shared.skipped_refreshes.load(Ordering::Relaxed)
    }

    fn too_large_or_seal(&self, err: Error) -> SessionError {
        let name = self.shared.config.cookie.name();
        match (err.kind(), err.value_len()) {
            (ErrorKind::TooLarge, Some(value)) => SessionError::TooLarge(CookieTooLarge {
                name: name.len(),
                value,
                attributes: self
                    .shared
                    .config
                    .cookie
                    .set_cookie_at("", Some(MAX_COOKIE_LIFETIME), UNIX_EPOCH)
                    .map_or(0, |s| {
                        s.header()
                            .len()
                            .saturating_sub(name.len().saturating_add(1))
                    }),
                limit: self.shared.codec.max_value_len().saturating_add(name.len()),
            }),
            _ => SessionError::Seal(err),
        }
    }
}

fn set_cookie_error(err: SetCookieError) -> SessionError {
    match err {
        SetCookieError::TooLarge(err) => SessionError::TooLarge(err),
        // The configuration, names and sealed values are validated; this
        // is not reachable, but never becomes an empty header.
        _ => SessionError::Seal(Error::new(ErrorKind::Malformed)),
    }
}

/// How many cookies a sealed value of `len` characters needs: 0 when it
/// fits one cookie under the plain name.
fn parts_for(len: usize, name: &str, max_chunks: u8) -> u8 {
    if max_chunks == 0 || len.saturating_add(name.len()) <= BROWSER_COOKIE_LIMIT {
        return 0;
    }
    let size = chunk_len(name, max_chunks).max(1);
    u8::try_from(len.div_ceil(size)).unwrap_or(u8::MAX)
}

fn split(text: &str, size: usize) -> impl Iterator<Item = &str> {
    // Sealed values are ASCII, so any byte offset is a char boundary.
    let size = size.max(1);
    (0..text.len().div_ceil(size)).filter_map(move |i| {
        let start = i.saturating_mul(size);
        text.get(start..start.saturating_add(size).min(text.len()))
    })
}

/// Lifecycle events (created, re-sealed, destroyed) carry a short prefix
/// of the session id and the sealing key's id: enough to follow a session
/// through logs, never enough to forge or replay one.
#[cfg(feature = "tracing")]
fn log_lifecycle<T>(sealed: Option<&SessionMeta>, fresh: bool, session: &Session<T>) {
    let key_id = session.keyring.primary_id();
    match sealed {
        Some(meta) if fresh => tracing::info!(
            target: "sealed_session",
            session = ?meta.session_id(),
            key_id,
            "session created"
        ),
        Some(meta) => tracing::debug!(
            target: "sealed_session",
            session = ?meta.session_id(),
            key_id,
            renewed = session.renew,
            changed = session.dirty,
            "session re-sealed"
        ),
        None if session.destroyed => {
            tracing::info!(target: "sealed_session", "session destroyed")
        }
        None => tracing::debug!(target: "sealed_session", "stale session cookie removed"),
    }
}

fn report_once(diagnostic: &Diagnostic) {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    REPORTED.call_once(|| {
        #[cfg(feature = "tracing")]
        tracing::warn!(
            target: "sealed_session",
            decision = ?diagnostic.decision,
            "Secure session cookie on a request judged plain HTTP: {}",
            diagnostic.hint
        );
        #[cfg(not(feature = "tracing"))]
        let _ = diagnostic;
    });
}

/// The `Set-Cookie` values for a response, and any deployment problem
/// noticed.
#[non_exhaustive]
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Header values to append as `Set-Cookie`, at most one per cookie name.
    pub set_cookie: Vec<HeaderValue>,
    /// Set when a `Secure` cookie went out (or was refused) on a request
    /// judged plain HTTP.
    pub diagnostic: Option<Diagnostic>,
}

impl fmt::Debug for Outcome {
    /// Sealed values are bearer credentials: only their count is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field(
                "set_cookie",
                &format_args!("<{} redacted>", self.set_cookie.len()),
            )
            .field("diagnostic", &self.diagnostic)
            .finish()
    }
}

enum State<T> {
    /// Cookies not looked at yet.
    Pending,
    /// No session: none was sent, none opened, or it was destroyed.
    Empty,
    Active {
        data: T,
        /// `None` for a new or regenerated session: a fresh id and issue
        /// time are drawn when it is sealed.
        meta: Option<SessionMeta>,
        needs_reseal: bool,
    },
}

enum Plan<'a, T> {
    Nothing,
    /// A new session id could not be drawn (randomness or clock failed).
    Fail(Error),
    Remove,
    Seal {
        meta: SessionMeta,
        data: &'a T,
    },
}

/// One request's session. Opened lazily on first access.
pub struct Session<T> {
    manager: SessionManager<T>,
    keyring: Keyring,
    now: SystemTime,
    scheme: SchemeDecision,
    incoming: Incoming,
    state: State<T>,
    dirty: bool,
    renew: bool,
    destroyed: bool,
    /// A refresh the handler did not ask for failed on this request.
    refresh_skipped: bool,
    rejection: Option<Rejection>,
}

impl<T> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Pending => "pending",
            State::Empty => "empty",
            State::Active { .. } => "active",
        };
        f.debug_struct("Session")
            .field("state", &state)
            .field("data", &"<redacted>")
            .field("dirty", &self.dirty)
            .field("destroyed", &self.destroyed)
            .field("rejection", &self.rejection)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned> Session<T> {
    fn open(&mut self) {
        if !matches!(self.state, State::Pending) {
            return;
        }
        self.state = State::Empty;
        let shared = Arc::clone(&self.manager.shared);
        let mut candidates: Vec<(u8, &str)> = self
            .incoming
            .values
            .iter()
            .map(|v| (0, v.as_str()))
            .collect();
        if let Some((parts, value)) = &self.incoming.chunked {
            candidates.push((*parts, value.as_str()));
        }
        let mut last_rejection = None;
        let mut opened: Option<(&str, State<T>)> = None;
        for (parts, value) in candidates {
            if opened.as_ref().is_some_and(|(first, _)| *first == value) {
                continue;
            }
            match self.open_one(&shared, parts, value) {
                // A second, different value that also authenticates: a
                // sibling subdomain may have planted it (with a longer Path
                // browsers send it first). Trust neither.
                Ok(_) if opened.is_some() => {
                    opened = None;
                    last_rejection = Some(Rejection::Ambiguous);
                    break;
                }
                Ok(state) => opened = Some((value, state)),
                Err(rejection) => last_rejection = Some(rejection),
            }
        }
        if let Some((_, state)) = opened {
            #[cfg(feature = "tracing")]
            if let State::Active {
                needs_reseal: true, ..
            } = &state
            {
                tracing::debug!(target: "sealed_session", "session re-sealed: old key or data version");
            }
            self.state = state;
            self.rejection = None;
            return;
        }
        #[cfg(feature = "tracing")]
        if let Some(rejection) = &last_rejection {
            // The classification and key id only: never the cookie value.
            match rejection {
                Rejection::Invalid(err) => tracing::debug!(
                    target: "sealed_session",
                    reason = ?err.kind(),
                    key_id = ?err.key_id(),
                    "session cookie rejected"
                ),
                other => {
                    tracing::debug!(target: "sealed_session", reason = ?other, "session cookie rejected")
                }
            }
        }
        self.rejection = last_rejection;
    }

    fn open_one(&self, shared: &Shared<T>, parts: u8, value: &str) -> Result<State<T>, Rejection> {
        let raw = shared
            .codec
            .open_parts(&self.keyring, value, self.now, parts)
            .map_err(Rejection::Invalid)?;
        let meta = raw.meta().clone();
        let not_before = shared.not_before.load(Ordering::Relaxed);
        if meta.issued_at < not_before {
            return Err(Rejection::RevokedByTime);
        }
        let (data, migrated) = if meta.data_version == shared.config.data_version {
            (raw.decode::<T>().map_err(Rejection::Invalid)?, false)
        } else {
            let migrated = shared
                .migrate
                .as_ref()
                .and_then(|migrate| migrate(meta.data_version, raw.data_bytes()));
            (
                migrated.ok_or(Rejection::DataVersion(meta.data_version))?,
                true,
            )
        };
        if shared
            .validate
            .as_ref()
            .is_some_and(|valid| !valid(&meta, &data))
        {
            return Err(Rejection::RevokedByValidator);
        }
        let mut meta = meta;
        meta.data_version = shared.config.data_version;
        Ok(State::Active {
            data,
            meta: Some(meta),
            needs_reseal: raw.needs_reseal() || migrated,
        })
    }

    /// The data, if there is a session.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set(7);
    /// assert_eq!(session.get(), Some(&7));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn get(&mut self) -> Option<&T> {
        self.open();
        match &self.state {
            State::Active { data, .. } => Some(data),
            _ => None,
        }
    }

    /// The data for changing it in place; the session is re-sealed.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set(1);
    /// *session.get_mut().unwrap() += 1;
    /// assert_eq!(session.get(), Some(&2));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.open();
        match &mut self.state {
            State::Active { data, .. } => {
                self.dirty = true;
                Some(data)
            }
            _ => None,
        }
    }

    /// Stores data, starting a session if there is none.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set("cart".to_owned());
    /// assert_eq!(manager.finish(session).unwrap().set_cookie.len(), 1);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn set(&mut self, data: T) {
        self.open();
        self.dirty = true;
        self.destroyed = false;
        match &mut self.state {
            State::Active { data: current, .. } => *current = data,
            _ => {
                self.state = State::Active {
                    data,
                    meta: None,
                    needs_reseal: false,
                }
            }
        }
    }

    /// Gives a new session id and issue time, keeping the data. Call it
    /// after login or any change of privilege: a session id an attacker
    /// planted before login is then worthless.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.regenerate();
    /// session.set("alice".into());
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn regenerate(&mut self) {
        self.open();
        if let State::Active { meta, .. } = &mut self.state {
            *meta = None;
            self.dirty = true;
        }
    }

    /// Ends the session: the response deletes the cookie (every chunk).
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.destroy();
    /// let outcome = manager.finish(session).unwrap();
    /// assert!(outcome.set_cookie[0].to_str().unwrap().starts_with("__Host-s=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn destroy(&mut self) {
        self.state = State::Empty;
        self.destroyed = true;
        self.dirty = false;
    }

    /// Re-seals the session on this response (fresh nonce, idle deadline
    /// moved), keeping its id, issue time and absolute expiry.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.renew();
    /// assert!(manager.finish(session).unwrap().set_cookie.is_empty(), "nothing to renew");
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn renew(&mut self) {
        self.open();
        self.renew = true;
    }

    /// The session's metadata, once it has been sealed before.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(session.meta().is_none());
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn meta(&mut self) -> Option<&SessionMeta> {
        self.open();
        match &self.state {
            State::Active { meta, .. } => meta.as_ref(),
            _ => None,
        }
    }

    /// Why the request's cookie did not become a session, if one was sent
    /// and refused. For logs and metrics; the client sees no difference.
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue, header::COOKIE};
    /// # use sealed_session::{Connection, CookieConfig, ErrorKind, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert(COOKIE, HeaderValue::from_static("s=forged"));
    /// let mut session = manager.load(&headers, Connection::new(None, true));
    /// assert!(session.get().is_none());
    /// assert_eq!(session.rejection().and_then(|r| r.kind()), Some(ErrorKind::Malformed));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn rejection(&mut self) -> Option<&Rejection> {
        self.open();
        self.rejection.as_ref()
    }

    fn plan(&self) -> Plan<'_, T> {
        let config = &self.manager.shared.config;
        match &self.state {
            State::Pending => Plan::Nothing,
            // Whatever the request carried did not open (refused, or a
            // partial chunk set): have the browser drop it.
            State::Empty if self.destroyed || self.incoming.any() => Plan::Remove,
            State::Empty => Plan::Nothing,
            State::Active {
                data,
                meta,
                needs_reseal,
            } => {
                let lifetimes = config.lifetimes;
                let meta = match meta {
                    None => match SessionMeta::new_at(lifetimes, self.now) {
                        Ok(meta) => meta.with_data_version(config.data_version),
                        Err(err) => return Plan::Fail(err),
                    },
                    Some(meta) => {
                        let refresh = self.dirty
                            || self.renew
                            || (!self.refresh_skipped
                                && (*needs_reseal
                                    || idle_refresh_due(
                                        meta,
                                        lifetimes.idle,
                                        config.idle_refresh,
                                        self.now,
                                    )));
                        if !refresh {
                            return Plan::Nothing;
                        }
                        let mut meta = meta.clone();
                        if let Some(idle) = lifetimes.idle {
                            let _ = meta.touch_at(idle, self.now);
                        }
                        meta
                    }
                };
                Plan::Seal { meta, data }
            }
        }
    }

    /// Whether the handler asked for a write: changed data, a new or
    /// regenerated session, or `renew()`.
    fn write_requested(&self) -> bool {
        self.dirty || self.renew || matches!(self.state, State::Active { meta: None, .. })
    }

    /// Whether the handler looked at or changed the session at all: its
    /// response then depends on the request's cookie.
    pub(crate) fn was_opened(&self) -> bool {
        !matches!(self.state, State::Pending)
    }

    /// Records that the browser now holds what `outcome` sent: later saves
    /// of this session emit only what changes after this point.
    fn mark_saved(&mut self, sealed: Option<SessionMeta>, single: bool, chunks: u8) {
        if let (
            Some(sealed),
            State::Active {
                meta, needs_reseal, ..
            },
        ) = (sealed, &mut self.state)
        {
            *meta = Some(sealed);
            *needs_reseal = false;
        }
        self.dirty = false;
        self.renew = false;
        self.destroyed = false;
        self.incoming.single_present = single;
        self.incoming.chunk_names = (0..chunks).collect();
    }
}

/// Whether more than `fraction` of the idle window has passed since the
/// session was last sealed.
fn idle_refresh_due(
    meta: &SessionMeta,
    idle: Option<Duration>,
    fraction: f64,
    now: SystemTime,
) -> bool {
    let (Some(idle), Some(deadline)) = (idle, meta.idle_expiry()) else {
        return false;
    };
    let Ok(remaining) = deadline.duration_since(now) else {
        return true;
    };
    let elapsed = idle.saturating_sub(remaining);
    elapsed.as_secs_f64() >= idle.as_secs_f64() * fraction
}

/// A string-keyed map whose values are serialized one by one, for
/// express-style `get`/`insert`/`remove` without a session type.
///
/// ```
/// use sealed_session::SessionMap;
///
/// let mut map = SessionMap::default();
/// map.insert("user", &"alice")?;
/// map.insert("visits", &3u32)?;
/// assert_eq!(map.get::<String>("user")?, Some("alice".to_owned()));
/// assert_eq!(map.get::<u32>("visits")?, Some(3));
/// assert!(map.remove("user"));
/// assert_eq!(map.get::<String>("user")?, None);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SessionMap(BTreeMap<String, Vec<u8>>);

impl SessionMap {
    /// The value under `key`, decoded as `V`; an error if it is not a `V`.
    ///
    /// ```
    /// # use sealed_session::{ErrorKind, SessionMap};
    /// let mut map = SessionMap::default();
    /// map.insert("n", &1u8)?;
    /// assert_eq!(map.get::<(u8, u8)>("n").unwrap_err().kind(), ErrorKind::PayloadDecode);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn get<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, Error> {
        self.0
            .get(key)
            .map(|bytes| crate::envelope::decode_data(bytes).map_err(Error::new))
            .transpose()
    }

    /// Stores `value` under `key`.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// let mut map = SessionMap::default();
    /// map.insert("theme", &"dark")?;
    /// assert!(map.contains_key("theme"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn insert<V: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &V,
    ) -> Result<(), Error> {
        let bytes =
            postcard::to_allocvec(value).map_err(|_| Error::new(ErrorKind::PayloadEncode))?;
        self.0.insert(key.into(), bytes);
        Ok(())
    }

    /// Removes `key`; whether it was present.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// assert!(!SessionMap::default().remove("missing"));
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        self.0.remove(key).is_some()
    }

    /// Whether `key` is present.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// assert!(!SessionMap::default().contains_key("k"));
    /// ```
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Whether the map is empty.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// assert!(SessionMap::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SessionMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Session<SessionMap> {
    /// The value under `key`, if the session has one.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.insert("user", &"alice").unwrap();
    /// assert_eq!(session.value::<String>("user").unwrap(), Some("alice".to_owned()));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn value<V: DeserializeOwned>(&mut self, key: &str) -> Result<Option<V>, Error> {
        match self.get() {
            Some(map) => map.get(key),
            None => Ok(None),
        }
    }

    /// Stores `value` under `key`, starting a session if needed.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.insert("visits", &1u32).unwrap();
    /// assert_eq!(manager.finish(session).unwrap().set_cookie.len(), 1);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn insert<V: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &V,
    ) -> Result<(), Error> {
        match self.get_mut() {
            Some(map) => map.insert(key, value),
            None => {
                let mut map = SessionMap::default();
                map.insert(key, value)?;
                self.set(map);
                Ok(())
            }
        }
    }

    /// Removes `key`; whether it was present.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(!session.remove("user"));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        let present = self.get().is_some_and(|map| map.contains_key(key));
        if let (true, Some(map)) = (present, self.get_mut()) {
            map.remove(key);
        }
        present
    }
}
