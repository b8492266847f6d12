//! The session layer's side of a migration from another session crate's
//! cookie (feature `migrate`): which legacy cookies a request carries, the
//! one legacy value a request may open, and their removal.

use std::sync::Arc;
use std::time::SystemTime;

use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cookie::CookieConfig;
use crate::cookie_header;
use crate::envelope::{ProfileId, SessionMeta, unix_secs};
use crate::migrate::{
    Counters, LegacyConfig, LegacyConfigError, LegacyCookie, LegacyRejection, LegacySession,
    LegacyStats,
};

use super::lifecycle::{Extras, Session, State};
use super::manager::Shared;
use super::payload::PayloadRef;
use super::{ResponseCookies, SessionManager};

type Mapping<T> = dyn Fn(&LegacySession) -> Option<T> + Send + Sync;

/// A manager's legacy configuration, checked at startup.
pub(super) struct Legacy<T> {
    config: LegacyConfig,
    map: Box<Mapping<T>>,
    counters: Counters,
    /// The removal `Set-Cookie` of each configured cookie, in order.
    removals: Vec<HeaderValue>,
}

/// The legacy cookies of one request.
#[derive(Debug, Default)]
pub(super) struct Incoming {
    /// Configured cookies the request carries, by index.
    present: Vec<usize>,
    /// The first value of the first configured cookie present: the only
    /// legacy value a request ever opens.
    first: Option<(usize, String)>,
    /// A session was migrated from it on this request.
    migrated: bool,
    /// The removals went out with an earlier save of this session.
    removed: bool,
}

/// Finds the configured legacy cookies in the request; decrypts nothing.
pub(super) fn read<'a, T>(
    legacy: Option<&Legacy<T>>,
    cookies: impl IntoIterator<Item = &'a HeaderValue> + Clone,
) -> Incoming {
    let mut incoming = Incoming::default();
    let Some(legacy) = legacy else {
        return incoming;
    };
    for (index, cookie) in legacy.config.cookies.iter().enumerate() {
        let found = cookie_header::read_fields(cookies.clone(), &cookie.name, 0);
        if let Some(value) = found.values().next() {
            incoming.present.push(index);
            if incoming.first.is_none() {
                incoming.first = Some((index, value.to_owned()));
            }
        }
    }
    incoming
}

impl<T: Serialize + DeserializeOwned> SessionManager<T> {
    /// Reads the cookies another session crate wrote, until the
    /// configuration's sunset: when a request carries no valid sealed
    /// cookie, its legacy cookie is opened as the peer wrote it, `map`
    /// turns its contents into the session's data, and the response sets
    /// the sealed cookie and removes the legacy one. `map` returning
    /// `None` (or anything that does not open, parse or fit) leaves the
    /// request anonymous and removes the legacy cookie; every outcome is
    /// counted in [`legacy_stats`](Self::legacy_stats) and logged by kind.
    ///
    /// A migrated session is a new session (new id, issued now) whose
    /// absolute expiry is the earlier of this manager's and the one the
    /// legacy cookie recorded, if it recorded one. At most one legacy
    /// value is opened per request (one trial per configured key).
    ///
    /// # Errors
    ///
    /// The first mistake [`LegacyConfig::validate`] finds.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use http::{HeaderMap, HeaderValue, header::COOKIE};
    /// use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacyKey, LegacySource};
    /// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// use sealed_session::adapter::Connection;
    ///
    /// // What `cookie`'s PrivateJar wrote for `("user", "alice")` under this key.
    /// let key = LegacyKey::derive_from(&[42u8; 32])?;
    /// let legacy = LegacyConfig::new(SystemTime::now() + Duration::from_secs(86_400))
    ///     .cookie(LegacyCookie::new(LegacySource::CookiePrivate, "user").key(key));
    /// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys)?
    ///     .with_legacy_cookies(legacy, |legacy| legacy.text().map(str::to_owned))?;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(COOKIE, HeaderValue::from_static("user=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /// let mut session = manager.load(&headers, Connection::new(None, true));
    /// assert_eq!(session.get(), None, "a forged legacy value stays anonymous");
    /// let removal = session.save()?.set_cookie;
    /// assert!(removal[0].to_str()?.starts_with("user=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"));
    /// assert_eq!(manager.legacy_stats().rejected(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
    pub fn with_legacy_cookies(
        self,
        config: LegacyConfig,
        map: impl Fn(&LegacySession) -> Option<T> + Send + Sync + 'static,
    ) -> Result<Self, LegacyConfigError> {
        let ours = &self.shared.config.cookie;
        config.validate(ours.name())?;
        let removals = config
            .cookies
            .iter()
            .map(|cookie| removal(cookie, ours.is_secure()))
            .collect::<Result<Vec<_>, _>>()?;
        log_window(&config);
        let legacy = Legacy {
            config,
            map: Box::new(map),
            counters: Counters::new(),
            removals,
        };
        Ok(self.rebuilt(|s| s.legacy = Some(Arc::new(legacy))))
    }
}

impl<T> SessionManager<T> {
    /// Legacy cookies migrated and refused so far, by source and reason,
    /// across this manager and its clones (all zero without
    /// [`with_legacy_cookies`](Self::with_legacy_cookies)). In
    /// [`metrics`](Self::metrics), a migrated session's first seal counts
    /// as a re-seal, and a refused legacy cookie not at all.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys)?;
    /// assert_eq!(manager.legacy_stats().migrated(), 0);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
    pub fn legacy_stats(&self) -> LegacyStats {
        match &self.shared.legacy {
            Some(legacy) => legacy.counters.snapshot(),
            None => Counters::new().snapshot(),
        }
    }
}

/// The removal header of a legacy cookie: its own Path and Domain, so the
/// browser replaces exactly the cookie the peer set.
fn removal(cookie: &LegacyCookie, secure: bool) -> Result<HeaderValue, LegacyConfigError> {
    let mut attributes = CookieConfig::new(cookie.name.clone()).path(cookie.path.clone());
    if let Some(domain) = &cookie.domain {
        attributes = attributes.domain(domain.clone());
    }
    if !secure {
        attributes = attributes.insecure_dev_only();
    }
    attributes
        .removal_header(&cookie.name)
        .map_err(|_| LegacyConfigError::Cookie(crate::ConfigError::Path("cannot render")))
}

/// Says at startup until when legacy cookies are read.
fn log_window(config: &LegacyConfig) {
    #[cfg(feature = "tracing")]
    {
        let names: Vec<_> = config.cookies.iter().map(|c| c.name.as_str()).collect();
        let sunset = time::OffsetDateTime::from(config.sunset);
        match config.sunset.duration_since(SystemTime::now()) {
            Ok(left) => tracing::info!(
                target: crate::error::LOG_TARGET,
                cookies = ?names,
                sunset = %sunset,
                days_left = left.as_secs() / 86_400,
                "legacy session cookies are read and migrated until the sunset; after it they are only removed"
            ),
            Err(_) => tracing::warn!(
                target: crate::error::LOG_TARGET,
                cookies = ?names,
                sunset = %sunset,
                "the legacy migration window has ended: legacy session cookies are only removed"
            ),
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = config;
}

impl<T: Serialize + DeserializeOwned> Session<T> {
    /// A sealed cookie opened: a legacy cookie beside it is not read, and
    /// is removed.
    pub(super) fn legacy_superseded(&mut self, shared: &Shared<T>) {
        let (Some(legacy), Some((index, _))) = (shared.legacy.as_deref(), self.legacy.first.take())
        else {
            return;
        };
        if let Some(cookie) = legacy.config.cookies.get(index) {
            count_rejection(legacy, cookie, LegacyRejection::Superseded);
        }
    }

    /// No sealed cookie opened: the session migrated from the request's
    /// legacy cookie, if it has one that opens, parses, maps and fits.
    pub(super) fn open_legacy(&mut self, shared: &Shared<T>) -> Option<State<T>> {
        let legacy = shared.legacy.as_deref()?;
        let (index, value) = self.legacy.first.take()?;
        let cookie = legacy.config.cookies.get(index)?;
        match self.migrate(shared, legacy, cookie, &value) {
            Ok(state) => {
                legacy.counters.migrated(cookie.source);
                self.legacy.migrated = true;
                #[cfg(feature = "tracing")]
                tracing::info!(
                    target: crate::error::LOG_TARGET,
                    source = cookie.source.as_str(),
                    cookie = cookie.name.as_str(),
                    "session migrated from a legacy cookie"
                );
                Some(state)
            }
            Err(reason) => {
                count_rejection(legacy, cookie, reason);
                None
            }
        }
    }

    fn migrate(
        &self,
        shared: &Shared<T>,
        legacy: &Legacy<T>,
        cookie: &LegacyCookie,
        value: &str,
    ) -> Result<State<T>, LegacyRejection> {
        if self.now >= legacy.config.sunset {
            return Err(LegacyRejection::Sunset);
        }
        let opened = crate::migrate::decode(cookie, value, self.now)?;
        let data = (legacy.map)(&opened).ok_or(LegacyRejection::Unmapped)?;
        let config = &shared.config;
        let profile = ProfileId::DEFAULT;
        let mut meta = SessionMeta::new_at(config.profile_for(profile).lifetimes, self.now)
            .map_err(|_| LegacyRejection::Unmapped)?
            .with_data_version(config.data_version)
            .with_profile(profile);
        if let Some(expiry) = opened.expires_at() {
            let expiry = unix_secs(expiry).map_err(|_| LegacyRejection::Expired)?;
            meta.absolute_expiry = Some(meta.absolute_expiry.map_or(expiry, |e| e.min(expiry)));
        }
        if shared
            .validate
            .as_ref()
            .is_some_and(|valid| !valid(&meta, &data))
        {
            return Err(LegacyRejection::Unmapped);
        }
        if !self.fits(shared, &meta, &data) {
            return Err(LegacyRejection::TooLarge);
        }
        Ok(State::Active {
            data: Some(data),
            meta: Some(meta),
            needs_reseal: true,
            extras: Extras {
                profile,
                ..Extras::default()
            },
        })
    }

    /// Whether `data` sealed under the primary key fits the cookie (or its
    /// chunks), without sealing it.
    fn fits(&self, shared: &Shared<T>, meta: &SessionMeta, data: &T) -> bool {
        let payload = PayloadRef {
            csrf_secret: None,
            flash: &[],
            data: Some(data),
        };
        crate::envelope::encode_into(Vec::new(), meta, &payload)
            .is_ok_and(|plain| shared.codec.fits(&shared.keys.load(), plain.len()))
    }

    /// Appends the removal of every legacy cookie the request carried, once
    /// the session has been looked at (and so the legacy cookie read,
    /// superseded or refused). A migrated session whose sealed cookie could
    /// not be set keeps its legacy cookie.
    pub(super) fn remove_legacy(&mut self, mut outcome: ResponseCookies) -> ResponseCookies {
        let Some(legacy) = self.shared.legacy.as_deref() else {
            return outcome;
        };
        let looked = !matches!(self.state, State::Pending);
        let kept = self.legacy.migrated && self.refresh_skipped;
        if self.legacy.removed || self.legacy.present.is_empty() || !looked || kept {
            return outcome;
        }
        for index in &self.legacy.present {
            outcome
                .set_cookie
                .extend(legacy.removals.get(*index).cloned());
        }
        self.legacy.removed = true;
        outcome
    }
}

fn count_rejection<T>(legacy: &Legacy<T>, cookie: &LegacyCookie, reason: LegacyRejection) {
    legacy.counters.rejected(cookie.source, reason);
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: crate::error::LOG_TARGET,
        source = cookie.source.as_str(),
        cookie = cookie.name.as_str(),
        reason = reason.as_str(),
        "legacy session cookie not migrated; it is removed"
    );
}
