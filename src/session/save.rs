//! Saving: a session in, the `Set-Cookie` values the response needs out.

use core::fmt;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cookie::{CookieConfig, CookieTooLarge, SetCookieError};
use crate::cookie_header;
use crate::envelope::SessionMeta;
use crate::error::{Error, ErrorKind};
use crate::keyring::KeyId;
use crate::limits::{BROWSER_COOKIE_LIMIT, MAX_COOKIE_LIFETIME};

use super::config::chunk_len;
use super::lifecycle::{Plan, Session, State, idle_refresh_due};
use super::manager::{Counters, Shared};
use super::payload::{self, PayloadRef};
use super::{InsecureContext, InsecurePolicy, SessionError};

impl<T: Serialize + DeserializeOwned> Session<T> {
    /// Computes the `Set-Cookie` values the response needs (often none).
    /// The session stays usable: after a successful save, a later save
    /// emits only what changed since. On error nothing is consumed, so a
    /// handler can shrink the data and try again (framework adapters build
    /// on this).
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] when the data does not fit its cookie (or
    /// chunks), [`SessionError::InsecureContext`] for a `Secure` cookie on
    /// plain HTTP under
    /// [`InsecurePolicy::Refuse`](crate::InsecurePolicy::Refuse),
    /// [`SessionError::Seal`] when sealing fails (randomness, clock,
    /// serialization, a spent seal budget, data that does not round-trip). A
    /// refresh the handler did not ask for never fails: it is skipped.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set(1);
    /// assert_eq!(session.save()?.set_cookie.len(), 1);
    /// assert!(session.save()?.set_cookie.is_empty(), "already saved");
    /// assert_eq!(session.get(), Some(&1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&mut self) -> Result<ResponseCookies, SessionError> {
        let outcome = self.save_sealed();
        #[cfg(feature = "migrate")]
        let outcome = outcome.map(|outcome| self.remove_legacy(outcome));
        outcome
    }

    fn save_sealed(&mut self) -> Result<ResponseCookies, SessionError> {
        let shared = Arc::clone(&self.shared);
        let shared = &*shared;
        let config = &shared.config;
        let mut outcome = ResponseCookies::default();
        let secure_ok = !config.cookie.is_secure() || self.scheme.is_https();
        let mut cookie = std::borrow::Cow::Borrowed(&config.cookie);

        let fresh = matches!(self.state, State::Active { meta: None, .. });
        // A refresh the handler did not ask for (idle refresh, old key,
        // migrated data) never fails the request: when it cannot be sealed
        // the client keeps its current, still valid cookie.
        let requested = self.write_requested();
        let plan = match self.plan() {
            Plan::Nothing => return Ok(outcome),
            Plan::Fail(err) => return Err(SessionError::Seal(err)),
            plan => plan,
        };
        // Removal cookies carry no secret: the policy governs sealed values.
        if !secure_ok && matches!(plan, Plan::Seal { .. }) {
            let diagnostic = InsecureContext {
                decision: self.scheme,
                hint: self.scheme.insecure_context_hint(),
            };
            report_once(&diagnostic);
            outcome.insecure_context = Some(diagnostic);
            match config.insecure {
                InsecurePolicy::Send => {}
                InsecurePolicy::Refuse if !requested => {
                    self.skip_refresh(&SessionError::InsecureContext(diagnostic));
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
        let mut sealed_by = None;
        if let Plan::Seal {
            meta,
            payload,
            persistent,
        } = plan
        {
            match self.seal_cookies(&cookie, &meta, &payload, persistent) {
                Ok((values, parts, key_id)) => {
                    outcome.set_cookie = values;
                    keep_single = parts == 0;
                    keep_chunks = parts;
                    sealed_by = Some(key_id);
                }
                Err(err) if !requested => {
                    self.skip_refresh(&err);
                    return Ok(outcome);
                }
                Err(err) => return Err(err),
            }
            sealed = Some(meta);
        }
        // Delete what the browser holds and no longer needs: the old single
        // cookie, chunks past the new count, or everything on destroy.
        // Removal headers of a validated configuration always render.
        if !keep_single && (self.incoming.single_present || self.destroyed) {
            outcome
                .set_cookie
                .extend(config.cookie.removal_header(name).ok());
        }
        for index in self
            .incoming
            .chunk_names
            .iter()
            .filter(|i| *i >= keep_chunks)
        {
            outcome.set_cookie.extend(
                config
                    .cookie
                    .removal_header(&cookie_header::chunk_name(name, index))
                    .ok(),
            );
        }
        count_lifecycle(shared, sealed.is_some(), fresh, self.destroyed);
        #[cfg(feature = "tracing")]
        log_lifecycle(sealed.as_ref().zip(sealed_by), fresh, self);
        #[cfg(not(feature = "tracing"))]
        let _ = sealed_by;
        self.mark_saved(sealed, keep_single, keep_chunks);
        Ok(outcome)
    }

    /// Seals `data` and renders its cookies: one, or `parts` chunks.
    /// Returns them, `parts`, and the id of the key that sealed them.
    fn seal_cookies(
        &self,
        cookie: &CookieConfig,
        meta: &SessionMeta,
        payload: &PayloadRef<'_, T>,
        persistent: bool,
    ) -> Result<(Vec<HeaderValue>, u8, KeyId), SessionError> {
        let config = &self.shared.config;
        let name = config.cookie.name();
        // A new session's data must come back from its own encoding, or
        // every later request would lose the session: say so at the first
        // seal (a login), not as silent logouts afterwards.
        let fresh = matches!(self.state, State::Active { meta: None, .. });
        let round_trips = |plain: &[u8]| {
            if !fresh {
                return Ok(());
            }
            crate::envelope::decode_meta(plain)
                .and_then(|(_, bytes)| payload::decode::<T>(bytes))
                .map(drop)
                .map_err(|_| ErrorKind::DataRoundTrip)
        };
        let keyring = self.shared.keys.load();
        let (value, parts) = self
            .shared
            .codec
            .seal_split(&keyring, meta, payload, round_trips, |len| {
                parts_for(len, name, config.max_chunks)
            })
            .map_err(|err| too_large_or_seal(&self.shared, err))?;
        let max_age = persistent.then(|| {
            meta.expires_at()
                .and_then(|t| t.duration_since(self.now).ok())
                .unwrap_or(Duration::ZERO)
        });
        let mut values = Vec::with_capacity(usize::from(parts.max(1)));
        if parts == 0 {
            let set = cookie.set_cookie_named(name, &value, max_age, self.now);
            values.push(set.map_err(set_cookie_error)?.into_header());
        } else {
            let size = chunk_len(name, config.max_chunks);
            for (index, piece) in (0u8..).zip(split(&value, size)) {
                let chunk = cookie_header::chunk_name(name, index);
                let set = cookie.set_cookie_named(&chunk, piece, max_age, self.now);
                values.push(set.map_err(set_cookie_error)?.into_header());
            }
        }
        Ok((values, parts, keyring.primary_id()))
    }

    /// Records a refresh the handler did not ask for that could not be
    /// sealed: counted, logged once for this session, and not retried on
    /// this request.
    fn skip_refresh(&mut self, err: &SessionError) {
        self.refresh_skipped = true;
        Counters::bump(&self.shared.counters.skipped_refreshes);
        crate::telemetry::refresh_skipped();
        #[cfg(feature = "tracing")]
        {
            let kind = match err {
                SessionError::Seal(err) => Some(err.kind()),
                SessionError::TooLarge(_) => Some(ErrorKind::TooLarge),
                _ => None,
            };
            tracing::warn!(
                target: crate::error::LOG_TARGET,
                kind = ?kind,
                key_id = self.shared.keys.load().primary_id(),
                reason = %err,
                "session refresh skipped: the client keeps its current cookie"
            );
        }
        #[cfg(not(feature = "tracing"))]
        let _ = err;
    }

    fn plan(&self) -> Plan<'_, T> {
        let config = &self.shared.config;
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
                extras,
            } => {
                // Nothing left to keep (an anonymous session whose flash
                // messages were read): the browser drops what it holds.
                if data.is_none() && extras.is_empty() {
                    return if meta.is_some() || self.destroyed || self.incoming.any() {
                        Plan::Remove
                    } else {
                        Plan::Nothing
                    };
                }
                let profile = config.profile_for(extras.profile);
                let lifetimes = profile.lifetimes;
                let meta = match meta {
                    None => match SessionMeta::new_at(lifetimes, self.now) {
                        Ok(meta) => {
                            let meta = meta
                                .with_data_version(config.data_version)
                                .with_profile(extras.profile);
                            match extras.new_id {
                                Some(id) => meta.with_session_id(id),
                                None => meta,
                            }
                        }
                        Err(err) => return Plan::Fail(err),
                    },
                    Some(meta) => {
                        let refresh = self.dirty
                            || self.touched
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
                        if meta.profile() != extras.profile {
                            if let Err(err) = meta.reprofile(extras.profile, lifetimes, self.now) {
                                return Plan::Fail(err);
                            }
                        } else if let Some(idle) = lifetimes.idle {
                            let _ = meta.touch_at(idle, self.now);
                        }
                        meta
                    }
                };
                Plan::Seal {
                    meta,
                    payload: PayloadRef {
                        csrf_secret: extras.csrf_secret.as_deref(),
                        flash: &extras.flash,
                        data: data.as_ref(),
                    },
                    persistent: profile.persistent,
                }
            }
        }
    }

    /// Whether the handler asked for a write: changed data, a new or
    /// regenerated session, or `touch()`.
    fn write_requested(&self) -> bool {
        self.dirty || self.touched || matches!(self.state, State::Active { meta: None, .. })
    }

    /// Whether the handler looked at or changed the session at all: its
    /// response then depends on the request's cookie.
    #[cfg(any(feature = "tower", feature = "actix-web"))]
    pub(crate) fn was_opened(&self) -> bool {
        !matches!(self.state, State::Pending)
    }

    /// Whether the request counts as HTTPS (see
    /// [`ProxyTrust`](crate::ProxyTrust)).
    #[cfg(any(feature = "axum", feature = "actix-web"))]
    pub(crate) fn is_https(&self) -> bool {
        self.scheme.is_https()
    }

    /// Records that the browser now holds what `outcome` sent: later saves
    /// of this session emit only what changes after this point.
    fn mark_saved(&mut self, sealed: Option<SessionMeta>, single: bool, chunks: u8) {
        if let (
            Some(sealed),
            State::Active {
                meta,
                needs_reseal,
                extras,
                ..
            },
        ) = (sealed, &mut self.state)
        {
            *meta = Some(sealed);
            *needs_reseal = false;
            extras.new_id = None;
        }
        self.dirty = false;
        self.touched = false;
        self.destroyed = false;
        self.incoming.single_present = single;
        self.incoming.chunk_names = cookie_header::ChunkSet::first(chunks);
    }
}

/// Counts what a save did: a session sealed (new, or again), destroyed.
fn count_lifecycle<T>(shared: &Shared<T>, sealed: bool, fresh: bool, destroyed: bool) {
    let counters = &shared.counters;
    if destroyed {
        Counters::bump(&counters.destroyed);
        crate::telemetry::session_destroyed();
    }
    match (sealed, fresh) {
        (true, true) => {
            Counters::bump(&counters.created);
            crate::telemetry::session_created();
        }
        (true, false) => {
            Counters::bump(&counters.resealed);
            crate::telemetry::session_resealed();
        }
        (false, _) => {}
    }
}

fn too_large_or_seal<T>(shared: &Shared<T>, err: Error) -> SessionError {
    let name = shared.config.cookie.name();
    match (err.kind(), err.value_len()) {
        (ErrorKind::TooLarge, Some(value)) => SessionError::TooLarge(CookieTooLarge {
            name: name.len(),
            value,
            attributes: shared
                .config
                .cookie
                .set_cookie_at("", Some(MAX_COOKIE_LIFETIME), UNIX_EPOCH)
                .map_or(0, |s| {
                    s.header()
                        .len()
                        .saturating_sub(name.len().saturating_add(1))
                }),
            limit: shared.codec.max_value_len().saturating_add(name.len()),
        }),
        _ => SessionError::Seal(err),
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
fn log_lifecycle<T>(sealed: Option<(&SessionMeta, KeyId)>, fresh: bool, session: &Session<T>) {
    match sealed {
        Some((meta, key_id)) if fresh => tracing::info!(
            target: crate::error::LOG_TARGET,
            session = ?meta.session_id(),
            key_id,
            "session created"
        ),
        Some((meta, key_id)) => tracing::debug!(
            target: crate::error::LOG_TARGET,
            session = ?meta.session_id(),
            key_id,
            touched = session.touched,
            changed = session.dirty,
            "session re-sealed"
        ),
        None if session.destroyed => {
            tracing::info!(target: crate::error::LOG_TARGET, "session destroyed")
        }
        None => tracing::debug!(target: crate::error::LOG_TARGET, "stale session cookie removed"),
    }
}

fn report_once(diagnostic: &InsecureContext) {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    REPORTED.call_once(|| {
        #[cfg(feature = "tracing")]
        tracing::warn!(
            target: crate::error::LOG_TARGET,
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
pub struct ResponseCookies {
    /// Header values to append as `Set-Cookie`, at most one per cookie name.
    pub set_cookie: Vec<HeaderValue>,
    /// Set when a `Secure` cookie went out (or was refused) on a request
    /// judged plain HTTP.
    pub insecure_context: Option<InsecureContext>,
}

impl fmt::Debug for ResponseCookies {
    /// Sealed values are bearer credentials: only their count is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseCookies")
            .field(
                "set_cookie",
                &format_args!("<{} redacted>", self.set_cookie.len()),
            )
            .field("diagnostic", &self.insecure_context)
            .finish()
    }
}
