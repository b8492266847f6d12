//! [`Session`]: one request's session, opened lazily.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use zeroize::Zeroizing;

use crate::cookie_header::Incoming;
use crate::envelope::{ProfileId, SessionId, SessionMeta};
use crate::error::{Error, ErrorKind};
use crate::proxy::SchemeDecision;
use crate::rng::OsRandom;

use super::InvalidCookie;
use super::flash::{FlashMessage, Level};
use super::manager::Shared;
use super::payload::{self, CSRF_SECRET_LEN};

pub(super) enum State<T> {
    /// Cookies not looked at yet.
    Pending,
    /// No session: none was sent, none opened, or it was destroyed.
    Empty,
    Active {
        /// `None` for an anonymous session (flash messages or a CSRF
        /// secret, no application data).
        data: Option<T>,
        /// `None` for a new or regenerated session: an issue time (and an
        /// id, unless one was drawn already) are set when it is sealed.
        meta: Option<SessionMeta>,
        needs_reseal: bool,
        extras: Extras,
    },
}

/// The session layer's own state, sealed beside the data.
#[derive(Default)]
pub(super) struct Extras {
    /// The profile the session lives under from its next seal on.
    pub(super) profile: ProfileId,
    /// The id a new session will be sealed with, once asked for.
    pub(super) new_id: Option<SessionId>,
    pub(super) csrf_secret: Option<Zeroizing<[u8; CSRF_SECRET_LEN]>>,
    pub(super) flash: Vec<FlashMessage>,
}

impl Extras {
    /// Nothing that needs a cookie.
    pub(super) fn is_empty(&self) -> bool {
        self.csrf_secret.is_none() && self.flash.is_empty()
    }
}

impl<T> State<T> {
    /// An anonymous session, or `self` if there is one already.
    fn activate(&mut self) -> &mut Self {
        if !matches!(self, Self::Active { .. }) {
            *self = Self::Active {
                data: None,
                meta: None,
                needs_reseal: false,
                extras: Extras::default(),
            };
        }
        self
    }
}

pub(super) enum Plan<'a, T> {
    Nothing,
    /// A new session id could not be drawn (randomness or clock failed).
    Fail(Error),
    Remove,
    Seal {
        meta: SessionMeta,
        payload: payload::PayloadRef<'a, T>,
        /// The profile's cookie carries `Max-Age`.
        persistent: bool,
    },
}

/// One request's session. Opened lazily on first access.
pub struct Session<T> {
    pub(super) shared: Arc<Shared<T>>,
    pub(super) now: SystemTime,
    pub(super) scheme: SchemeDecision,
    pub(super) incoming: Incoming,
    pub(super) state: State<T>,
    pub(super) dirty: bool,
    pub(super) touched: bool,
    pub(super) destroyed: bool,
    /// A refresh the handler did not ask for failed on this request.
    pub(super) refresh_skipped: bool,
    pub(super) rejection: Option<InvalidCookie>,
    #[cfg(feature = "migrate")]
    pub(super) legacy: super::legacy::Incoming,
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
        let shared = Arc::clone(&self.shared);
        let candidates = self.incoming.values().map(|v| (0, v)).chain(
            self.incoming
                .chunked
                .as_ref()
                .map(|(parts, value)| (*parts, value.as_str())),
        );
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
                    last_rejection = Some(InvalidCookie::Ambiguous);
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
                tracing::debug!(target: crate::error::LOG_TARGET, "session re-sealed: old key or data version");
            }
            self.state = state;
            self.rejection = None;
            #[cfg(feature = "migrate")]
            self.legacy_superseded(&shared);
            return;
        }
        if let Some(rejection) = &last_rejection {
            shared
                .counters
                .rejected(crate::metrics::RejectionKind::of(rejection));
        }
        #[cfg(feature = "tracing")]
        if let Some(rejection) = &last_rejection {
            // The classification and key id only: never the cookie value.
            match rejection {
                InvalidCookie::Invalid(err) => tracing::debug!(
                    target: crate::error::LOG_TARGET,
                    reason = ?err.kind(),
                    key_id = ?err.key_id(),
                    "session cookie rejected"
                ),
                other => {
                    tracing::debug!(target: crate::error::LOG_TARGET, reason = ?other, "session cookie rejected")
                }
            }
        }
        #[cfg(feature = "migrate")]
        if !matches!(last_rejection, Some(InvalidCookie::Ambiguous))
            && let Some(state) = self.open_legacy(&shared)
        {
            self.state = state;
            return;
        }
        self.rejection = last_rejection;
    }

    fn open_one(
        &self,
        shared: &Shared<T>,
        parts: u8,
        value: &str,
    ) -> Result<State<T>, InvalidCookie> {
        shared
            .codec
            .open_parts_with(&shared.keys.load(), value, self.now, parts, |raw| {
                Self::decode(shared, self.now, raw)
            })
            .map_err(InvalidCookie::Invalid)?
    }

    /// The session in an authenticated plaintext, under today's
    /// configuration.
    fn decode(
        shared: &Shared<T>,
        now: SystemTime,
        raw: crate::codec::OpenedRef<'_>,
    ) -> Result<State<T>, InvalidCookie> {
        let mut meta = raw.meta;
        // The sealed deadlines were set by the configuration in force when
        // the value was sealed; the limits of its profile today bind it
        // too, so shortening a lifetime takes effect on cookies already
        // issued. A profile no longer declared lives by the default's.
        let config = &shared.config;
        if !config.declares(meta.profile) {
            meta.profile = ProfileId::DEFAULT;
        }
        let now = crate::envelope::unix_secs(now).map_err(InvalidCookie::Invalid)?;
        let lifetimes = config.profile_for(meta.profile).lifetimes;
        let past = |from: u64, limit: Option<Duration>| {
            limit.is_some_and(|limit| now >= from.saturating_add(limit.as_secs()))
        };
        if past(meta.issued_at, lifetimes.absolute) {
            return Err(InvalidCookie::Invalid(Error::new(
                ErrorKind::ExpiredAbsolute,
            )));
        }
        if past(meta.sealed_at, lifetimes.idle) {
            return Err(InvalidCookie::Invalid(Error::new(ErrorKind::ExpiredIdle)));
        }
        let not_before = shared.not_before.load(Ordering::Relaxed);
        if meta.issued_at < not_before {
            return Err(InvalidCookie::RevokedByTime);
        }
        let invalid = |kind| InvalidCookie::Invalid(Error::new(kind));
        let payload = payload::split(raw.data).map_err(invalid)?;
        let (data, migrated) = match payload.data {
            None => (None, false),
            Some(bytes) if meta.data_version == config.data_version => (
                Some(crate::envelope::decode_canonical::<T>(bytes).map_err(invalid)?),
                false,
            ),
            Some(bytes) => {
                let migrated = shared
                    .migrate
                    .as_ref()
                    .and_then(|migrate| migrate(meta.data_version, bytes));
                (
                    Some(migrated.ok_or(InvalidCookie::DataVersion(meta.data_version))?),
                    true,
                )
            }
        };
        if let (Some(valid), Some(data)) = (shared.validate.as_ref(), data.as_ref())
            && !valid(&meta, data)
        {
            return Err(InvalidCookie::RevokedByValidator);
        }
        meta.data_version = config.data_version;
        Ok(State::Active {
            data,
            needs_reseal: raw.needs_reseal || migrated,
            extras: Extras {
                profile: meta.profile,
                new_id: None,
                csrf_secret: payload.csrf_secret.map(Zeroizing::new),
                flash: payload.flash,
            },
            meta: Some(meta),
        })
    }

    /// The data, if there is a session.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
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
            State::Active { data, .. } => data.as_ref(),
            _ => None,
        }
    }

    /// The data for changing it in place; the session is re-sealed.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
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
            State::Active {
                data: Some(data), ..
            } => {
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
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set("cart".to_owned());
    /// assert_eq!(session.save().unwrap().set_cookie.len(), 1);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn set(&mut self, data: T) {
        self.open();
        self.dirty = true;
        self.destroyed = false;
        if let State::Active { data: current, .. } = self.state.activate() {
            *current = Some(data);
        }
    }

    /// Gives a new session id and issue time, keeping the data. Call it
    /// after login or any change of privilege: a session id an attacker
    /// planted before login is then worthless.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.regenerate();
    /// session.set("alice".into());
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn regenerate(&mut self) {
        self.open();
        if let State::Active { meta, extras, .. } = &mut self.state {
            *meta = None;
            extras.new_id = None;
            // A CSRF token rendered before the change of privilege must
            // not be accepted after it.
            extras.csrf_secret = None;
            self.dirty = true;
        }
    }

    /// Ends the session: the response deletes the cookie (every chunk).
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.destroy();
    /// let outcome = session.save().unwrap();
    /// assert!(outcome.set_cookie[0].to_str().unwrap().starts_with("__Host-s=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn destroy(&mut self) {
        self.state = State::Empty;
        self.destroyed = true;
        self.dirty = false;
    }

    /// Re-seals the session on this response (fresh nonce, idle deadline
    /// moved), keeping its id, issue time and absolute expiry: express's
    /// `req.session.touch()`.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.touch();
    /// assert!(session.save().unwrap().set_cookie.is_empty(), "nothing to touch");
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn touch(&mut self) {
        self.open();
        self.touched = true;
    }

    /// Puts the session under another lifetime profile from this response
    /// on (declared with
    /// [`SessionConfig::profile`](crate::SessionConfig::profile)):
    /// typically "remember me" at login, next to
    /// [`regenerate`](Self::regenerate). The absolute expiry is counted
    /// from the session's issue time, the idle one from now. Does nothing
    /// without a session.
    ///
    /// ```
    /// use std::time::Duration;
    /// use http::HeaderMap;
    /// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, Profile, ProfileId, SessionConfig, SessionManager};
    /// use sealed_session::adapter::Connection;
    ///
    /// const REMEMBER_ME: ProfileId = ProfileId::new(1);
    /// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let config = SessionConfig::new(CookieConfig::new("__Host-s"))
    ///     .default_profile(Profile::browser_session(Lifetimes::default()))
    ///     .profile(REMEMBER_ME, Profile::persistent(Lifetimes::new(Some(Duration::from_secs(30 * 86_400)), None)));
    /// let manager = SessionManager::<u64>::new(config, keys)?;
    ///
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.regenerate();
    /// session.set(42);
    /// session.set_profile(REMEMBER_ME);
    /// let set_cookie = session.save()?.set_cookie;
    /// assert!(set_cookie[0].to_str()?.contains("Max-Age=259199"), "30 days, less the current second");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_profile(&mut self, profile: ProfileId) {
        self.open();
        if let State::Active { extras, .. } = &mut self.state
            && extras.profile != profile
        {
            extras.profile = profile;
            self.dirty = true;
        }
    }

    /// The profile the session lives under (the default without a
    /// session).
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, ProfileId, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert_eq!(session.profile(), ProfileId::DEFAULT);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn profile(&mut self) -> ProfileId {
        self.open();
        match &self.state {
            State::Active { extras, .. } => extras.profile,
            _ => ProfileId::DEFAULT,
        }
    }

    /// The session's id, for logs: `None` without a session. A new or
    /// regenerated session draws its id here (or when it is first sealed)
    /// and keeps it.
    ///
    /// The id is not a credential (the sealed cookie is), and it is not
    /// the CSRF secret.
    ///
    /// # Errors
    ///
    /// `ErrorKind::Rng` if the operating system cannot provide a new id.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert_eq!(session.id()?, None);
    /// session.set(1);
    /// let id = session.id()?.expect("a session");
    /// session.save()?;
    /// assert_eq!(session.meta().map(|m| *m.session_id()), Some(id));
    /// println!("session {id}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&mut self) -> Result<Option<SessionId>, Error> {
        self.open();
        match &mut self.state {
            State::Active {
                meta: Some(meta), ..
            } => Ok(Some(*meta.session_id())),
            State::Active { extras, .. } => match extras.new_id {
                Some(id) => Ok(Some(id)),
                None => {
                    let id = SessionId::generate(&mut OsRandom)?;
                    extras.new_id = Some(id);
                    Ok(Some(id))
                }
            },
            _ => Ok(None),
        }
    }

    /// Adds a flash message for the next request that reads them (see
    /// [`FlashMessage`]). Starts an anonymous session if there is none.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// use sealed_session::flash::Level;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.push_flash(Level::Info, "You are logged out.");
    /// assert_eq!(session.save()?.set_cookie.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_flash(&mut self, level: Level, text: impl Into<String>) {
        self.open();
        // After `destroy()` this starts a new anonymous session; the
        // destroyed one still counts as destroyed.
        if let State::Active { extras, .. } = self.state.activate() {
            extras.flash.push(FlashMessage::new(level, text));
            self.dirty = true;
        }
    }

    /// The flash messages, oldest first, removed from the session: the
    /// response re-seals it without them. Empty without a session.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(session.take_flash().is_empty());
    /// assert!(session.save()?.set_cookie.is_empty(), "reading nothing changes nothing");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_flash(&mut self) -> Vec<FlashMessage> {
        self.open();
        match &mut self.state {
            State::Active { extras, .. } if !extras.flash.is_empty() => {
                self.dirty = true;
                std::mem::take(&mut extras.flash)
            }
            _ => Vec::new(),
        }
    }

    /// A CSRF token for a form or a page's `X-CSRF-Token` header, bound to
    /// this session and different on every call (see
    /// [`csrf`](crate::csrf)). The first call draws the session's CSRF
    /// secret, starting an anonymous session if there is none (a login
    /// form needs a token too).
    ///
    /// # Errors
    ///
    /// `ErrorKind::Rng` if the operating system cannot provide randomness.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// let a = session.csrf_token()?;
    /// let b = session.csrf_token()?;
    /// assert_ne!(a, b, "masked afresh every time");
    /// assert!(session.verify_csrf_token(&a) && session.verify_csrf_token(&b));
    /// assert!(!session.verify_csrf_token("forged"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn csrf_token(&mut self) -> Result<String, Error> {
        self.open();
        let State::Active { extras, .. } = self.state.activate() else {
            return Err(Error::new(ErrorKind::Rng));
        };
        let secret = match &extras.csrf_secret {
            Some(secret) => secret,
            None => {
                let mut secret = Zeroizing::new([0u8; CSRF_SECRET_LEN]);
                crate::rng::fill_from_os(secret.as_mut_slice())
                    .map_err(|_| Error::new(ErrorKind::Rng))?;
                self.dirty = true;
                extras.csrf_secret.insert(secret)
            }
        };
        crate::csrf::mask(secret)
    }

    /// Whether `token` is a CSRF token of this session, compared in
    /// constant time. Without a session, or before any token was issued,
    /// nothing is valid.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(!session.verify_csrf_token(""));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn verify_csrf_token(&mut self, token: &str) -> bool {
        self.open();
        match &self.state {
            State::Active { extras, .. } => extras
                .csrf_secret
                .as_ref()
                .is_some_and(|secret| crate::csrf::verify(secret, token)),
            _ => false,
        }
    }

    /// The session's metadata, once it has been sealed before.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
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
    /// # use sealed_session::{CookieConfig, ErrorKind, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert(COOKIE, HeaderValue::from_static("s=forged"));
    /// let mut session = manager.load(&headers, Connection::new(None, true));
    /// assert!(session.get().is_none());
    /// assert_eq!(session.invalid_cookie().and_then(|r| r.kind()), Some(ErrorKind::Malformed));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn invalid_cookie(&mut self) -> Option<&InvalidCookie> {
        self.open();
        self.rejection.as_ref()
    }
}

/// Whether more than `fraction` of the idle window has passed since the
/// session was last sealed.
pub(super) fn idle_refresh_due(
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
