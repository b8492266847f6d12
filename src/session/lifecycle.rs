//! [`Session`]: one request's session, opened lazily.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cookie_header::Incoming;
use crate::envelope::SessionMeta;
use crate::error::{Error, ErrorKind};
use crate::keyring::Keyring;
use crate::proxy::SchemeDecision;

use super::InvalidCookie;
use super::manager::Shared;

pub(super) enum State<T> {
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

pub(super) enum Plan<'a, T> {
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
    pub(super) shared: Arc<Shared<T>>,
    pub(super) keyring: Keyring,
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
        self.rejection = last_rejection;
    }

    fn open_one(
        &self,
        shared: &Shared<T>,
        parts: u8,
        value: &str,
    ) -> Result<State<T>, InvalidCookie> {
        let raw = shared
            .codec
            .open_parts(&self.keyring, value, self.now, parts)
            .map_err(InvalidCookie::Invalid)?;
        let meta = raw.meta().clone();
        // The sealed deadlines were set by the configuration in force when
        // the value was sealed; today's limits bind it too, so shortening
        // a lifetime takes effect on cookies already issued.
        let now = crate::envelope::unix_secs(self.now).map_err(InvalidCookie::Invalid)?;
        let lifetimes = shared.config.lifetimes;
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
        let (data, migrated) = if meta.data_version == shared.config.data_version {
            (raw.decode::<T>().map_err(InvalidCookie::Invalid)?, false)
        } else {
            let migrated = shared
                .migrate
                .as_ref()
                .and_then(|migrate| migrate(meta.data_version, raw.data_bytes()));
            (
                migrated.ok_or(InvalidCookie::DataVersion(meta.data_version))?,
                true,
            )
        };
        if shared
            .validate
            .as_ref()
            .is_some_and(|valid| !valid(&meta, &data))
        {
            return Err(InvalidCookie::RevokedByValidator);
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
            State::Active { data, .. } => Some(data),
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
        if let State::Active { meta, .. } = &mut self.state {
            *meta = None;
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
    /// moved), keeping its id, issue time and absolute expiry.
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
