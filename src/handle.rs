//! The per-request session handle the framework adapters give handlers.
//!
//! Framework-free: an adapter loads a [`Session`] from the request, wraps it
//! in a [`SessionHandle`] for the handler, and turns it into `Set-Cookie`
//! values with [`SessionHandle::into_set_cookie`] once the handler answered.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::envelope::{ProfileId, SessionId, SessionMeta};
use crate::error::Error;
use crate::flash::{FlashMessage, Level};
use crate::session::{InvalidCookie, Session, SessionError, SessionMap};

/// A request's session, shared between the handler and the middleware that
/// writes `Set-Cookie` once the handler has answered.
///
/// Cloning gives another handle to the same session. The data is opened
/// on first access, and a response carries a cookie only when something
/// changed. The map flavour (`SessionHandle` with no type argument) offers
/// express-style [`value`](SessionHandle::value) /
/// [`insert`](SessionHandle::insert) / [`remove`](SessionHandle::remove).
///
/// Errors from sealing (a session too large for its cookie, a `Secure`
/// cookie refused on plain HTTP) surface from [`save`](Self::save) for a
/// handler that wants to handle them; a handler that does not gets a bare
/// `500` and the reason in the log.
///
/// Concurrent requests of one client each carry the cookie they were sent
/// and each response replaces it whole: the last response the browser
/// receives wins, and changes made by the others are lost. Keep data that
/// concurrent requests update (counters, carts edited from several tabs)
/// in a database keyed by the session's user.
///
/// # Panics
///
/// The closures of [`with`](Self::with) and [`update`](Self::update) run
/// while the session is locked. Calling any method of the same handle (or
/// a clone) from inside them would deadlock the worker thread, so it
/// panics instead, naming the method; use the closure's argument. A panic
/// while the session is locked (in a closure, or this one) leaves the
/// session unsaved: the response carries no session cookie.
///
/// ```
/// use http::HeaderMap;
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle};
/// use sealed_session::adapter::Connection;
/// use sealed_session::{SessionConfig, SessionHandle, SessionManager};
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys)?;
/// // What an adapter does around a handler:
/// let handle = SessionHandle::new(manager.load(&HeaderMap::new(), Connection::new(None, true)));
/// handle.set(41);
/// handle.update(|n| *n += 1);
/// assert_eq!(handle.get(), Some(42));
/// let set_cookie = handle.into_set_cookie().unwrap();
/// assert_eq!(set_cookie.len(), 1);
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
pub struct SessionHandle<T = SessionMap> {
    shared: Arc<Locked<T>>,
}

struct Locked<T> {
    inner: Mutex<Inner<T>>,
    /// The thread holding `inner`, as a [`thread_tag`]; 0 when free.
    holder: AtomicUsize,
}

struct Inner<T> {
    session: Session<T>,
    /// `Set-Cookie` values from saves made by the handler, by cookie.
    saved: Vec<HeaderValue>,
    /// The error the handler's last [`SessionHandle::save`] returned.
    seen: Option<SessionError>,
}

/// A number unique to the calling thread among live threads (the address
/// of a thread-local), never 0.
fn thread_tag() -> usize {
    thread_local! {
        static TAG: u8 = const { 0 };
    }
    TAG.with(|tag| core::ptr::from_ref(tag) as usize)
}

/// The locked session; clears the holder before unlocking.
struct Guard<'a, T> {
    guard: MutexGuard<'a, Inner<T>>,
    holder: &'a AtomicUsize,
}

impl<T> Deref for Guard<'_, T> {
    type Target = Inner<T>;
    fn deref(&self) -> &Inner<T> {
        &self.guard
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut Inner<T> {
        &mut self.guard
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.holder.store(0, Ordering::Release);
    }
}

impl<T> Clone for SessionHandle<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for SessionHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("SessionHandle");
        // Inside a `with`/`update` closure the session is locked by this
        // very thread: print what can be printed instead of panicking.
        if self.shared.holder.load(Ordering::Acquire) == thread_tag() {
            out.field("session", &"<locked>");
        } else {
            out.field("session", &self.lock("fmt").session);
        }
        out.finish()
    }
}

/// Why an adapter could not write the session into a response, and whether
/// the handler saw the error first.
pub(crate) struct Unsaved {
    pub(crate) error: SessionError,
    /// The handler saw this error from [`SessionHandle::save`] and answered
    /// anyway: its response stands, with the cookies saved before.
    pub(crate) handled: bool,
    pub(crate) set_cookie: Vec<HeaderValue>,
    /// Whether the handler looked at the session.
    pub(crate) opened: bool,
}

impl fmt::Debug for Unsaved {
    /// `Set-Cookie` values are bearer credentials: only their count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unsaved")
            .field("error", &self.error)
            .field("handled", &self.handled)
            .field(
                "set_cookie",
                &format_args!("<{} redacted>", self.set_cookie.len()),
            )
            .field("opened", &self.opened)
            .finish()
    }
}

impl<T> SessionHandle<T> {
    /// Locks the session for `method`.
    fn lock(&self, method: &str) -> Guard<'_, T> {
        let me = thread_tag();
        if self.shared.holder.load(Ordering::Acquire) == me {
            reentered(method);
        }
        // A handler that panicked mid-update leaves a session that is
        // still memory-safe to read; it is never saved (see `finish`).
        let guard = self
            .shared
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.shared.holder.store(me, Ordering::Release);
        Guard {
            guard,
            holder: &self.shared.holder,
        }
    }

    /// Whether a panic interrupted a change to the session.
    fn poisoned(&self) -> bool {
        self.shared.inner.is_poisoned()
    }
}

/// Re-entering the session lock from its own closure would deadlock.
#[cold]
#[allow(clippy::panic)] // API misuse, reported where it happens instead of a hung worker.
fn reentered(method: &str) -> ! {
    panic!(
        "SessionHandle::{method} called inside a `with` or `update` closure of the same \
         session, which would deadlock: use the closure's argument, or call it before or after"
    )
}

impl<T: Serialize + DeserializeOwned> SessionHandle<T> {
    /// Wraps a loaded session. Adapters call this; handlers receive the
    /// handle through their framework's extractor.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys)?;
    /// let session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// let handle = SessionHandle::new(session);
    /// assert_eq!(handle.get(), None);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn new(session: Session<T>) -> Self {
        Self {
            shared: Arc::new(Locked {
                inner: Mutex::new(Inner {
                    session,
                    saved: Vec::new(),
                    seen: None,
                }),
                holder: AtomicUsize::new(0),
            }),
        }
    }

    /// A copy of the data, if there is a session.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert_eq!(handle.get(), None);
    /// handle.set("alice".to_owned());
    /// assert_eq!(handle.get().as_deref(), Some("alice"));
    /// ```
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.lock("get").session.get().cloned()
    }

    /// Reads the data in place, without cloning it.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<Vec<u8>>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set(vec![1, 2, 3]);
    /// assert_eq!(handle.with(|data| data.map(Vec::len)), Some(3));
    /// ```
    pub fn with<R>(&self, read: impl FnOnce(Option<&T>) -> R) -> R {
        read(self.lock("with").session.get())
    }

    /// Stores data, starting a session if there is none.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set(7);
    /// assert_eq!(handle.get(), Some(7));
    /// ```
    pub fn set(&self, data: T) {
        self.lock("set").session.set(data);
    }

    /// Changes the data in place; `None` (and no change) when there is no
    /// session.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert_eq!(handle.update(|n| *n += 1), None, "no session yet");
    /// handle.set(1);
    /// assert_eq!(handle.update(|n| { *n += 1; *n }), Some(2));
    /// ```
    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.lock("update").session.get_mut().map(change)
    }

    /// Gives the session a new id and issue time, keeping the data: call
    /// it on login and on any privilege change (session fixation).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set("anonymous cart".to_owned());
    /// handle.regenerate();
    /// handle.set("alice".to_owned());
    /// ```
    pub fn regenerate(&self) {
        self.lock("regenerate").session.regenerate();
    }

    /// Ends the session: the response deletes the cookie.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set(1);
    /// handle.destroy();
    /// assert_eq!(handle.get(), None);
    /// ```
    pub fn destroy(&self) {
        self.lock("destroy").session.destroy();
    }

    /// Re-seals the session on this response, keeping its id, issue time
    /// and absolute expiry.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.touch();
    /// ```
    pub fn touch(&self) {
        self.lock("renew").session.touch();
    }

    /// Puts the session under another lifetime profile (see
    /// [`Session::set_profile`]), typically "remember me" at login.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, Profile, ProfileId, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// const REMEMBER_ME: ProfileId = ProfileId::new(1);
    /// let config = SessionConfig::new(CookieConfig::default())
    ///     .profile(REMEMBER_ME, Profile::persistent(Lifetimes::new(Some(Duration::from_secs(30 * 86_400)), None)));
    /// # let manager = SessionManager::<u8>::new(config, keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.regenerate();
    /// handle.set(1);
    /// handle.set_profile(REMEMBER_ME);
    /// assert_eq!(handle.profile(), REMEMBER_ME);
    /// ```
    pub fn set_profile(&self, profile: ProfileId) {
        self.lock("set_profile").session.set_profile(profile);
    }

    /// The lifetime profile the session lives under.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert_eq!(handle.profile(), sealed_session::ProfileId::DEFAULT);
    /// ```
    pub fn profile(&self) -> ProfileId {
        self.lock("profile").session.profile()
    }

    /// The session's id for logs (see [`Session::id`]); `None` without a
    /// session.
    ///
    /// # Errors
    ///
    /// `ErrorKind::Rng` if a new session's id cannot be drawn.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert_eq!(handle.id()?, None);
    /// handle.set(1);
    /// assert!(handle.id()?.is_some());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn id(&self) -> Result<Option<SessionId>, Error> {
        self.lock("id").session.id()
    }

    /// Adds a flash message for the next request that reads them (see
    /// [`FlashMessage`](crate::flash::FlashMessage)).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// use sealed_session::flash::Level;
    /// handle.push_flash(Level::Success, "Saved.");
    /// assert_eq!(handle.take_flash().len(), 1);
    /// assert!(handle.take_flash().is_empty(), "read once");
    /// ```
    pub fn push_flash(&self, level: Level, text: impl Into<String>) {
        self.lock("push_flash").session.push_flash(level, text);
    }

    /// The flash messages, oldest first, removed from the session.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(handle.take_flash().is_empty());
    /// ```
    pub fn take_flash(&self) -> Vec<FlashMessage> {
        self.lock("take_flash").session.take_flash()
    }

    /// A fresh CSRF token of this session for a form field or a header
    /// (see [`csrf`](crate::csrf)).
    ///
    /// # Errors
    ///
    /// `ErrorKind::Rng` if the operating system cannot provide randomness.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// let token = handle.csrf_token()?;
    /// assert!(handle.verify_csrf_token(&token));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn csrf_token(&self) -> Result<String, Error> {
        self.lock("csrf_token").session.csrf_token()
    }

    /// Whether `token` is a CSRF token of this session (constant time).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(!handle.verify_csrf_token("forged"));
    /// ```
    pub fn verify_csrf_token(&self, token: &str) -> bool {
        self.lock("verify_csrf_token")
            .session
            .verify_csrf_token(token)
    }

    /// The session's id and times, once it has been sealed before.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(handle.meta().is_none());
    /// ```
    pub fn meta(&self) -> Option<SessionMeta> {
        self.lock("meta").session.meta().cloned()
    }

    /// Why the request's cookie was refused, if it was (for logs and
    /// metrics; the client sees an empty session either way).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(handle.invalid_cookie().is_none());
    /// ```
    pub fn invalid_cookie(&self) -> Option<InvalidCookie> {
        self.lock("rejection").session.invalid_cookie().cloned()
    }

    /// Seals the session now, so the handler sees a failure and can answer
    /// it (e.g. drop some data and save again, or render an error page).
    /// Without this call the middleware saves after the handler, and a
    /// failure there becomes a bare `500`.
    ///
    /// # Errors
    ///
    /// What [`Session::save`](crate::adapter::Session::save) returns:
    /// [`SessionError::TooLarge`], [`SessionError::InsecureContext`],
    /// [`SessionError::Seal`], or [`SessionError::Poisoned`] after a panic
    /// interrupted a change.
    ///
    /// ```
    /// use sealed_session::SessionError;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<Vec<u8>>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set(vec![0; 8 * 1024]);
    /// match handle.save() {
    ///     Err(SessionError::TooLarge(too_large)) => {
    ///         assert!(too_large.to_string().contains("4096"));
    ///         handle.set(Vec::new());
    ///         handle.save()?;
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), SessionError>(())
    /// ```
    pub fn save(&self) -> Result<(), SessionError> {
        let poisoned = self.poisoned();
        let mut inner = self.lock("save");
        let inner = &mut *inner;
        let result = if poisoned {
            Err(SessionError::Poisoned)
        } else {
            inner.session.save()
        };
        match result {
            Ok(outcome) => {
                merge(&mut inner.saved, outcome.set_cookie);
                inner.seen = None;
                Ok(())
            }
            Err(err) => {
                inner.seen = Some(err.clone());
                Err(err)
            }
        }
    }

    /// Saves what the handler left unsaved and returns every `Set-Cookie`
    /// value the response needs, at most one per cookie name. For adapters
    /// to other frameworks: call it once, after the handler has answered;
    /// the built-in adapters already do.
    ///
    /// # Errors
    ///
    /// What [`save`](Self::save) would return; [`SessionError::Poisoned`]
    /// when a panic interrupted a change to the session (nothing is sent
    /// then, not even the changes saved before).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(handle.into_set_cookie().unwrap().is_empty(), "untouched: no cookie");
    /// ```
    pub fn into_set_cookie(self) -> Result<Vec<HeaderValue>, SessionError> {
        self.finish()
            .map(|saved| saved.set_cookie)
            .map_err(|unsaved| unsaved.error)
    }

    pub(crate) fn finish(self) -> Result<Saved, Unsaved> {
        let poisoned = self.poisoned();
        let mut inner = self.lock("finish");
        let inner = &mut *inner;
        let opened = inner.session.was_opened();
        if poisoned {
            // A handler panicked halfway through a change: sealing the
            // half-changed data could persist a broken session.
            return Err(Unsaved {
                error: SessionError::Poisoned,
                handled: false,
                set_cookie: Vec::new(),
                opened,
            });
        }
        match inner.session.save() {
            Ok(outcome) => {
                merge(&mut inner.saved, outcome.set_cookie);
                Ok(Saved {
                    set_cookie: core::mem::take(&mut inner.saved),
                    opened,
                })
            }
            Err(error) => Err(Unsaved {
                // Handled only if the handler saw this same failure.
                handled: inner
                    .seen
                    .as_ref()
                    .is_some_and(|seen| same_failure(seen, &error)),
                error,
                set_cookie: core::mem::take(&mut inner.saved),
                opened,
            }),
        }
    }
}

/// Whether two save errors are the same failure (sizes may differ after
/// the handler changed the data).
fn same_failure(a: &SessionError, b: &SessionError) -> bool {
    match (a, b) {
        (SessionError::Seal(a), SessionError::Seal(b)) => a.kind() == b.kind(),
        _ => core::mem::discriminant(a) == core::mem::discriminant(b),
    }
}

/// The session extractor found no session in the request: the app has no
/// session middleware ([`SessionLayer`](crate::tower::SessionLayer) or
/// `actix::SessionMiddleware`) for the handler's data type. A deployment
/// bug, answered with a bare `500`; the log names the fix.
///
/// ```
/// use sealed_session::tower::MissingSession;
/// assert!(MissingSession::default().to_string().contains("SessionLayer::new(manager)"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MissingSession;

impl fmt::Display for MissingSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no session in the request: add the session middleware, with a SessionManager of \
             the same data type as the handler's SessionHandle<T> (axum: \
             `.layer(SessionLayer::new(manager))` on the router; actix-web: \
             `.wrap(SessionMiddleware::new(manager))` on the app)",
        )
    }
}

impl std::error::Error for MissingSession {}

/// A session written into `Set-Cookie` values.
#[derive(Debug)]
pub(crate) struct Saved {
    pub(crate) set_cookie: Vec<HeaderValue>,
    /// Whether the handler looked at the session.
    pub(crate) opened: bool,
}

/// What an adapter does with the handler's response.
pub(crate) enum Verdict {
    /// Send it, with these `Set-Cookie` values (and `Cache-Control:
    /// no-store` when there are any). When the handler `opened` the
    /// session the response depends on the cookie: `Vary: Cookie`, and
    /// `Cache-Control: private` unless the handler set its own.
    Pass {
        set_cookie: Vec<HeaderValue>,
        opened: bool,
    },
    /// Replace it with a bare `500`: the session could not be saved and
    /// the handler never saw why. The reason is logged.
    InternalError,
}

/// The caching headers a passed response needs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CacheHeaders {
    /// A `Cache-Control` value to set (replacing the handler's for
    /// `no-store`), if any.
    pub(crate) cache_control: Option<&'static str>,
    /// Whether to append `Cookie` to `Vary`.
    pub(crate) vary_cookie: bool,
}

/// Responses that carry a session cookie are never stored (`no-store`);
/// responses built from the session are for this client only (`private`,
/// unless the handler chose its own `Cache-Control`) and vary by cookie,
/// so no shared cache hands one user's page to another.
pub(crate) fn cache_headers<'a>(
    opened: bool,
    sets_cookie: bool,
    has_cache_control: bool,
    mut vary: impl Iterator<Item = &'a [u8]>,
) -> CacheHeaders {
    let cache_control = if sets_cookie {
        Some("no-store")
    } else if opened && !has_cache_control {
        Some("private")
    } else {
        None
    };
    let varies = |value: &[u8]| {
        value.split(|b| *b == b',').any(|token| {
            let token = token.trim_ascii();
            token == b"*" || token.eq_ignore_ascii_case(b"cookie")
        })
    };
    CacheHeaders {
        cache_control,
        vary_cookie: (opened || sets_cookie) && !vary.any(varies),
    }
}

impl<T: Serialize + DeserializeOwned> SessionHandle<T> {
    /// Whether the handler looked at the session.
    #[cfg(feature = "tower")]
    pub(crate) fn was_opened(&self) -> bool {
        self.lock("was_opened").session.was_opened()
    }

    /// Saves the session after the handler answered and decides the
    /// response's fate; logs what the client is not told.
    pub(crate) fn verdict(self) -> Verdict {
        match self.finish() {
            Ok(saved) => Verdict::Pass {
                set_cookie: saved.set_cookie,
                opened: saved.opened,
            },
            Err(Unsaved {
                error: SessionError::Poisoned,
                opened,
                ..
            }) => {
                tracing::error!(
                    target: crate::error::LOG_TARGET,
                    "a panic interrupted a change to the session; it is not saved and the \
                     response carries no session cookie"
                );
                Verdict::Pass {
                    set_cookie: Vec::new(),
                    opened,
                }
            }
            Err(unsaved) if unsaved.handled => {
                tracing::debug!(
                    target: crate::error::LOG_TARGET,
                    error = %unsaved.error,
                    "session left unsaved after the handler saw the error"
                );
                Verdict::Pass {
                    set_cookie: unsaved.set_cookie,
                    opened: unsaved.opened,
                }
            }
            Err(unsaved) => {
                tracing::error!(
                    target: crate::error::LOG_TARGET,
                    error = %unsaved.error,
                    "session could not be saved and the handler did not handle it; answering 500 \
                     (call SessionHandle::save in the handler to handle it)"
                );
                Verdict::InternalError
            }
        }
    }
}

#[cfg(any(feature = "axum", feature = "actix-web"))]
impl<T: Serialize + DeserializeOwned + Send> crate::csrf::CsrfSession for SessionHandle<T> {
    fn verify(&self, token: &str) -> bool {
        self.verify_csrf_token(token)
    }

    fn https(&self) -> bool {
        self.lock("csrf").session.is_https()
    }
}

impl SessionHandle<SessionMap> {
    /// Reads one value of the map flavour.
    ///
    /// # Errors
    ///
    /// As [`SessionMap::get`].
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<sealed_session::SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.insert("user", "alice")?;
    /// assert_eq!(handle.value::<String>("user")?.as_deref(), Some("alice"));
    /// assert_eq!(handle.value::<String>("cart")?, None);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn value<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, Error> {
        self.lock("value").session.value(key)
    }

    /// Stores one value of the map flavour, starting a session if needed.
    ///
    /// # Errors
    ///
    /// As [`SessionMap::insert`].
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<sealed_session::SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.insert("visits", &3u32)?;
    /// assert_eq!(handle.value::<u32>("visits")?, Some(3));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn insert<V: Serialize + ?Sized>(&self, key: &str, value: &V) -> Result<(), Error> {
        self.lock("insert").session.insert(key, value)
    }

    /// Removes one value of the map flavour; `true` if it was there.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<sealed_session::SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.insert("user", "alice")?;
    /// assert!(handle.remove("user"));
    /// assert!(!handle.remove("user"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove(&self, key: &str) -> bool {
        self.lock("remove").session.remove(key)
    }
}

/// Adds `fresh` to `saved`, replacing any earlier value for the same
/// cookie name: one `Set-Cookie` per name per response.
fn merge(saved: &mut Vec<HeaderValue>, fresh: Vec<HeaderValue>) {
    for value in fresh {
        let name = cookie_name(&value);
        saved.retain(|old| cookie_name(old) != name);
        saved.push(value);
    }
}

fn cookie_name(value: &HeaderValue) -> &[u8] {
    let bytes = value.as_bytes();
    let end = bytes.iter().position(|b| *b == b'=').unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::Connection;
    use crate::{
        CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager,
    };
    use http::HeaderMap;

    fn handle<T: Serialize + DeserializeOwned>() -> SessionHandle<T> {
        let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
        let manager = SessionManager::new(SessionConfig::new(CookieConfig::default()), keys)
            .expect("valid config");
        let session = manager.load(&HeaderMap::new(), Connection::new(None, true));
        SessionHandle::new(session)
    }

    #[test]
    fn a_save_then_more_changes_give_one_cookie_per_name() {
        let handle = handle::<u32>();
        handle.set(1);
        handle.save().expect("fits");
        handle.set(2);
        let set = handle.clone().into_set_cookie().expect("fits");
        assert_eq!(set.len(), 1, "the second value replaces the first");
    }

    #[test]
    fn a_handled_error_is_remembered_for_the_adapter() {
        let handle = handle::<Vec<u8>>();
        handle.set(vec![7; 8 * 1024]);
        assert!(matches!(handle.save(), Err(SessionError::TooLarge(_))));
        let unsaved = handle.finish().expect_err("still too large");
        assert!(unsaved.handled);
        assert!(unsaved.set_cookie.is_empty());
    }

    #[test]
    fn an_unseen_error_is_not_marked_handled() {
        let handle = handle::<Vec<u8>>();
        handle.set(vec![7; 8 * 1024]);
        let unsaved = handle.finish().expect_err("too large");
        assert!(!unsaved.handled);
    }

    #[test]
    fn debug_shows_no_data() {
        let handle = handle::<String>();
        handle.set("secret-value".to_owned());
        assert!(!format!("{handle:?}").contains("secret-value"));
    }

    fn aes_handle(budget: u64) -> SessionHandle<Vec<u8>> {
        let spec = KeySpec::new(1, Key::generate())
            .suite(crate::Suite::Aes256Gcm)
            .seal_budget(budget);
        let keys = KeyringHandle::new(Keyring::new(spec));
        let manager = SessionManager::new(SessionConfig::new(CookieConfig::default()), keys)
            .expect("valid config");
        let session = manager.load(&HeaderMap::new(), Connection::new(None, true));
        SessionHandle::new(session)
    }

    #[test]
    fn a_panic_mid_update_leaves_the_session_unsaved() {
        let handle = handle::<u32>();
        handle.set(1);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.update(|n| {
                *n = 2;
                panic!("handler bug halfway through a change");
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(handle.save(), Err(SessionError::Poisoned));
        match handle.clone().verdict() {
            Verdict::Pass { set_cookie, opened } => {
                assert!(set_cookie.is_empty(), "half-changed data is never sealed");
                assert!(opened);
            }
            Verdict::InternalError => panic!("the handler's response stands"),
        }
        assert!(matches!(
            handle.into_set_cookie(),
            Err(SessionError::Poisoned)
        ));
    }

    #[test]
    fn only_the_error_the_handler_saw_counts_as_handled() {
        let handle = aes_handle(1);
        handle.set(vec![1]);
        handle.save().expect("first seal within budget");
        handle.set(vec![7; 8 * 1024]);
        assert!(matches!(handle.save(), Err(SessionError::TooLarge(_))));
        // The handler shrinks the data, but the final save now fails for
        // another reason it never saw: the seal budget is spent.
        handle.set(vec![2]);
        match handle.clone().verdict() {
            Verdict::InternalError => {}
            Verdict::Pass { .. } => panic!("an unseen error must become a 500"),
        }
        let unsaved = handle.finish().expect_err("budget spent");
        assert!(!unsaved.handled);
        assert!(matches!(
            unsaved.error,
            SessionError::Seal(ref err) if err.kind() == crate::ErrorKind::KeyExhausted
        ));
    }

    #[test]
    fn the_same_failure_again_stays_handled() {
        let handle = handle::<Vec<u8>>();
        handle.set(vec![7; 8 * 1024]);
        assert!(matches!(handle.save(), Err(SessionError::TooLarge(_))));
        handle.set(vec![7; 9 * 1024]);
        assert!(handle.finish().expect_err("too large").handled);
    }

    #[test]
    fn re_entering_the_handle_inside_its_closure_panics_instead_of_deadlocking() {
        let handle = handle::<u32>();
        handle.set(1);
        assert_eq!(
            handle.with(|_| format!("{handle:?}")),
            "SessionHandle { session: \"<locked>\" }"
        );
        let inner = handle.clone();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.with(|_| inner.get())
        }))
        .expect_err("re-entry is refused");
        let message = panicked
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains("SessionHandle::get called inside a `with` or `update` closure"),
            "{message}"
        );
        // The worker goes on; the interrupted session is not saved.
        assert_eq!(handle.get(), Some(1));
        assert!(matches!(
            handle.into_set_cookie(),
            Err(SessionError::Poisoned)
        ));
    }

    #[test]
    fn other_threads_wait_for_the_lock_instead_of_panicking() {
        let handle = handle::<u32>();
        handle.set(1);
        let other = handle.clone();
        // Another thread asks while this one holds the session: it waits
        // for the lock and then reads, rather than being refused.
        let waiter = handle.with(|_| {
            let waiter = std::thread::spawn(move || other.get());
            std::thread::sleep(std::time::Duration::from_millis(20));
            waiter
        });
        assert_eq!(waiter.join().ok(), Some(Some(1)));
    }

    #[test]
    fn unsaved_debug_shows_no_cookie_value() {
        let handle = handle::<String>();
        handle.set("x".repeat(8 * 1024));
        handle.save().expect_err("too large");
        handle.set("small".to_owned());
        handle.save().expect("fits");
        handle.set("y".repeat(8 * 1024));
        let unsaved = handle.finish().expect_err("too large");
        assert_eq!(unsaved.set_cookie.len(), 1);
        let value = unsaved.set_cookie[0].clone();
        assert!(value.is_sensitive());
        let shown = format!("{unsaved:?}");
        assert!(shown.contains("<1 redacted>"), "{shown}");
        let sealed = value
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        assert!(!shown.contains(&sealed));
    }

    #[test]
    fn caching_headers_for_each_kind_of_response() {
        let none = core::iter::empty::<&[u8]>;
        let untouched = cache_headers(false, false, false, none());
        assert_eq!(
            (untouched.cache_control, untouched.vary_cookie),
            (None, false)
        );
        let read = cache_headers(true, false, false, none());
        assert_eq!(
            (read.cache_control, read.vary_cookie),
            (Some("private"), true)
        );
        let own = cache_headers(true, false, true, none());
        assert_eq!((own.cache_control, own.vary_cookie), (None, true));
        let sets = cache_headers(true, true, true, none());
        assert_eq!(sets.cache_control, Some("no-store"));
        for vary in [&b"Accept, cookie"[..], b"*", b" Cookie "] {
            assert!(!cache_headers(true, false, false, [vary].into_iter()).vary_cookie);
        }
        assert!(cache_headers(true, false, false, [&b"Accept"[..]].into_iter()).vary_cookie);
    }
}
