//! [`SessionManager`]: built once at startup, it turns requests into
//! sessions.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thread_local::ThreadLocal;

use crate::codec::Codec;
use crate::cookie_header;
use crate::envelope::SessionMeta;
use crate::keyring_handle::KeyringHandle;
use crate::metrics::{RejectionKind, SessionMetrics};

use super::lifecycle::{Session, State};
use crate::error::ConfigError;

use super::{Clock, Connection, SessionConfig, SystemClock};

type Migration<T> = dyn Fn(u32, &[u8]) -> Option<T> + Send + Sync;
type Validator<T> = dyn Fn(&SessionMeta, &T) -> bool + Send + Sync;

pub(super) struct Shared<T> {
    pub(super) config: SessionConfig,
    pub(super) codec: Codec,
    pub(super) keys: KeyringHandle,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) migrate: Option<Arc<Migration<T>>>,
    pub(super) validate: Option<Arc<Validator<T>>>,
    /// Shared by every clone of the manager.
    pub(super) not_before: Arc<AtomicU64>,
    /// Sessions sealed, deleted and refused, and refreshes skipped; shared
    /// by every clone of the manager.
    pub(super) counters: Arc<Counters>,
    #[cfg(feature = "migrate")]
    pub(super) legacy: Option<Arc<super::legacy::Legacy<T>>>,
}

/// What [`SessionManager::metrics`] reports. Written only when a session is
/// sealed, deleted or refused: a request that only reads writes nothing.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) created: AtomicU64,
    pub(super) resealed: AtomicU64,
    pub(super) destroyed: AtomicU64,
    pub(super) skipped_refreshes: AtomicU64,
    rejections: [AtomicU64; RejectionKind::ALL.len()],
}

impl Counters {
    pub(super) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn rejected(&self, kind: RejectionKind) {
        if let Some(counter) = self.rejections.get(kind.index()) {
            Self::bump(counter);
        }
        crate::telemetry::cookie_rejected(kind.as_str());
    }
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
            counters: Arc::clone(&self.counters),
            #[cfg(feature = "migrate")]
            legacy: self.legacy.clone(),
        }
    }
}

/// Turns requests into sessions and sessions into `Set-Cookie` values.
/// Build one at startup and share it (it is cheap to clone).
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::COOKIE};
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
/// use sealed_session::adapter::Connection;
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)?;
///
/// // A first request: no cookie, the handler logs the user in.
/// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
/// assert_eq!(session.get(), None);
/// session.set("alice".to_owned());
/// let outcome = session.save()?;
/// let set_cookie = outcome.set_cookie[0].to_str()?;
///
/// // The next request carries the cookie back.
/// let pair = set_cookie.split(';').next().unwrap();
/// let mut headers = HeaderMap::new();
/// headers.insert(COOKIE, HeaderValue::from_str(pair)?);
/// let mut session = manager.load(&headers, Connection::new(None, true));
/// assert_eq!(session.get().map(String::as_str), Some("alice"));
/// assert!(session.save()?.set_cookie.is_empty(), "unchanged: no Set-Cookie");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionManager<T> {
    pub(super) shared: Arc<Shared<T>>,
    /// A copy of `shared` per thread that loads sessions: a session holds
    /// its thread's copy, so taking and dropping that reference writes
    /// nothing other cores read.
    replicas: Arc<ThreadLocal<Arc<Shared<T>>>>,
}

impl<T> Clone for SessionManager<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            replicas: Arc::clone(&self.replicas),
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
    /// # Errors
    ///
    /// The first mistake [`SessionConfig::validate`] finds, with a message that
    /// says the fix.
    ///
    /// ```
    /// # use sealed_session::{ConfigError, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, SessionConfig, SessionManager};
    /// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let config = SessionConfig::new(CookieConfig::new("s")).lifetimes(Lifetimes::new(None, None));
    /// let err = SessionManager::<()>::new(config, keys).unwrap_err();
    /// assert_eq!(err, ConfigError::NoLifetime);
    /// ```
    pub fn new(config: SessionConfig, keys: KeyringHandle) -> Result<Self, ConfigError> {
        let codec = config.codec()?;
        #[cfg(feature = "tracing")]
        if !config.cookie.is_secure() || config.insecure == super::InsecurePolicy::FollowScheme {
            tracing::warn!(
                target: crate::error::LOG_TARGET,
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
                counters: Arc::default(),
                #[cfg(feature = "migrate")]
                legacy: None,
            }),
            replicas: Arc::default(),
        })
    }

    /// A copy of the shared state to change while building; clones of
    /// this manager taken earlier keep what they had.
    pub(super) fn rebuilt(mut self, change: impl FnOnce(&mut Shared<T>)) -> Self {
        let mut shared = Shared::clone(&self.shared);
        change(&mut shared);
        self.shared = Arc::new(shared);
        self.replicas = Arc::default();
        self
    }

    /// Uses another clock (tests).
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Clock;
    /// struct Fixed;
    /// impl Clock for Fixed {
    ///     fn now(&self) -> SystemTime { UNIX_EPOCH + Duration::from_secs(1_800_000_000) }
    /// }
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?.with_clock(Fixed);
    /// let mut session = manager.load(&http::HeaderMap::new(), sealed_session::adapter::Connection::new(None, true));
    /// session.set(1);
    /// session.save()?;
    /// assert_eq!(session.meta().unwrap().issued_at(), UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
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
    /// let mut session = manager.load(&http::HeaderMap::new(), sealed_session::adapter::Connection::new(None, true));
    /// session.set("user-7".to_owned());
    /// session.save()?;
    /// assert_eq!(session.meta().unwrap().data_version(), 2, "sealed with today's version");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
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
    ///
    /// // A cookie from before the user's generation moved on (e.g. a
    /// // password change) no longer opens.
    /// let https = sealed_session::adapter::Connection::new(None, true);
    /// let mut session = manager.load(&http::HeaderMap::new(), https);
    /// session.set(User { id: 1, generation: 2 });
    /// let set_cookie = session.save()?.set_cookie;
    /// let pair = set_cookie[0].to_str()?.split(';').next().unwrap().to_owned();
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert(http::header::COOKIE, pair.parse()?);
    /// let mut stale = manager.load(&headers, https);
    /// assert!(stale.get().is_none());
    /// assert_eq!(stale.invalid_cookie(), Some(&sealed_session::InvalidCookie::RevokedByValidator));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
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
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(session.get().is_none());
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn load(&self, headers: &HeaderMap, connection: Connection) -> Session<T> {
        self.load_with_cookies(&headers.get_all(COOKIE), headers, connection)
    }

    /// As [`SessionManager::load`], with the request's `Cookie` fields given
    /// apart from the headers the scheme is decided from: adapters whose
    /// framework speaks another version of `http` copy only what they must.
    pub(crate) fn load_with_cookies<'a>(
        &self,
        cookies: impl IntoIterator<Item = &'a HeaderValue> + Clone,
        scheme_headers: &HeaderMap,
        connection: Connection,
    ) -> Session<T> {
        let shared = self
            .replicas
            .get_or(|| Arc::new(Shared::clone(&self.shared)));
        let incoming = cookie_header::read_fields(
            cookies.clone(),
            shared.config.cookie.name(),
            shared.config.max_chunks,
        );
        let scheme =
            shared
                .config
                .proxy
                .request_scheme(scheme_headers, connection.peer, connection.tls);
        Session {
            shared: Arc::clone(shared),
            now: shared.clock.now(),
            scheme,
            incoming,
            state: State::Pending,
            dirty: false,
            touched: false,
            destroyed: false,
            refresh_skipped: false,
            rejection: None,
            #[cfg(feature = "migrate")]
            legacy: super::legacy::read(shared.legacy.as_deref(), cookies),
        }
    }

    /// Whether the forwarded headers of a request from `peer` can matter:
    /// adapters that must copy headers skip them otherwise.
    #[cfg(feature = "actix-web")]
    pub(crate) fn reads_forwarded_headers(&self, peer: Option<std::net::IpAddr>) -> bool {
        peer.is_some_and(|peer| self.shared.config.proxy.trusts_peer(peer))
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
        self.shared
            .counters
            .skipped_refreshes
            .load(Ordering::Relaxed)
    }

    /// A snapshot of this manager's counters (shared with its clones) and
    /// of the keys in force: sessions created, re-sealed and destroyed,
    /// cookies refused by kind, refreshes skipped, and per key the seals,
    /// authentication failures and seal budget. See [`crate::metrics`].
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&http::HeaderMap::new(), Connection::new(None, true));
    /// session.set(1);
    /// session.save()?;
    /// let metrics = manager.metrics();
    /// assert_eq!((metrics.created, metrics.keys[0].seals), (1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> SessionMetrics {
        let counters = &self.shared.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut metrics = SessionMetrics::default();
        metrics.created = load(&counters.created);
        metrics.resealed = load(&counters.resealed);
        metrics.destroyed = load(&counters.destroyed);
        metrics.skipped_refreshes = load(&counters.skipped_refreshes);
        metrics.rejections = RejectionKind::ALL
            .iter()
            .zip(&counters.rejections)
            .map(|(kind, counter)| (*kind, load(counter)))
            .collect();
        metrics.keys = self.shared.keys.current().metrics();
        metrics
    }
}
