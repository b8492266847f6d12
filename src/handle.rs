//! The per-request session handle the framework adapters give handlers.
//!
//! Framework-free: an adapter loads a [`Session`] from the request, wraps it
//! in a [`SessionHandle`] for the handler, and turns it into `Set-Cookie`
//! values with [`SessionHandle::into_set_cookie`] once the handler answered.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Rejection, Session, SessionError, SessionManager, SessionMap, SessionMeta};

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
/// ```
/// use http::HeaderMap;
/// use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle};
/// use sealed_session::{SessionConfig, SessionHandle, SessionManager};
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys)?;
/// // What an adapter does around a handler:
/// let handle = SessionHandle::new(
///     manager.clone(),
///     manager.load(&HeaderMap::new(), Connection::new(None, true)),
/// );
/// handle.set(41);
/// handle.update(|n| *n += 1);
/// assert_eq!(handle.get(), Some(42));
/// let set_cookie = handle.into_set_cookie().unwrap();
/// assert_eq!(set_cookie.len(), 1);
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
pub struct SessionHandle<T = SessionMap> {
    inner: Arc<Mutex<Inner<T>>>,
}

struct Inner<T> {
    manager: SessionManager<T>,
    session: Session<T>,
    /// `Set-Cookie` values from saves made by the handler, by cookie.
    saved: Vec<HeaderValue>,
    /// A save error the handler has been shown.
    handled: bool,
}

impl<T> Clone for SessionHandle<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for SessionHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionHandle")
            .field("session", &self.lock().session)
            .finish()
    }
}

/// Why an adapter could not write the session into a response, and whether
/// the handler saw the error first.
#[derive(Debug)]
pub(crate) struct Unsaved {
    pub(crate) error: SessionError,
    /// The handler saw this error from [`SessionHandle::save`] and answered
    /// anyway: its response stands, with the cookies saved before.
    pub(crate) handled: bool,
    pub(crate) set_cookie: Vec<HeaderValue>,
}

impl<T> SessionHandle<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A handler that panicked mid-update leaves a session that is
        // still memory-safe to read; the response is a 500 anyway.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Serialize + DeserializeOwned> SessionHandle<T> {
    /// Wraps a loaded session. Adapters call this; handlers receive the
    /// handle through their framework's extractor.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys)?;
    /// let session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// let handle = SessionHandle::new(manager, session);
    /// assert_eq!(handle.get(), None);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn new(manager: SessionManager<T>, session: Session<T>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                manager,
                session,
                saved: Vec::new(),
                handled: false,
            })),
        }
    }

    /// A copy of the data, if there is a session.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert_eq!(handle.get(), None);
    /// handle.set("alice".to_owned());
    /// assert_eq!(handle.get().as_deref(), Some("alice"));
    /// ```
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.lock().session.get().cloned()
    }

    /// Reads the data in place, without cloning it.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<Vec<u8>>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set(vec![1, 2, 3]);
    /// assert_eq!(handle.with(|data| data.map(Vec::len)), Some(3));
    /// ```
    pub fn with<R>(&self, read: impl FnOnce(Option<&T>) -> R) -> R {
        read(self.lock().session.get())
    }

    /// Stores data, starting a session if there is none.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set(7);
    /// assert_eq!(handle.get(), Some(7));
    /// ```
    pub fn set(&self, data: T) {
        self.lock().session.set(data);
    }

    /// Changes the data in place; `None` (and no change) when there is no
    /// session.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert_eq!(handle.update(|n| *n += 1), None, "no session yet");
    /// handle.set(1);
    /// assert_eq!(handle.update(|n| { *n += 1; *n }), Some(2));
    /// ```
    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.lock().session.get_mut().map(change)
    }

    /// Gives the session a new id and issue time, keeping the data: call
    /// it on login and on any privilege change (session fixation).
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set("anonymous cart".to_owned());
    /// handle.regenerate();
    /// handle.set("alice".to_owned());
    /// ```
    pub fn regenerate(&self) {
        self.lock().session.regenerate();
    }

    /// Ends the session: the response deletes the cookie.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.set(1);
    /// handle.destroy();
    /// assert_eq!(handle.get(), None);
    /// ```
    pub fn destroy(&self) {
        self.lock().session.destroy();
    }

    /// Re-seals the session on this response, keeping its id, issue time
    /// and absolute expiry.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.renew();
    /// ```
    pub fn renew(&self) {
        self.lock().session.renew();
    }

    /// The session's id and times, once it has been sealed before.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(handle.meta().is_none());
    /// ```
    pub fn meta(&self) -> Option<SessionMeta> {
        self.lock().session.meta().cloned()
    }

    /// Why the request's cookie was refused, if it was (for logs and
    /// metrics; the client sees an empty session either way).
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(handle.rejection().is_none());
    /// ```
    pub fn rejection(&self) -> Option<Rejection> {
        self.lock().session.rejection().cloned()
    }

    /// Seals the session now, so the handler sees a failure and can answer
    /// it (e.g. drop some data and save again, or render an error page).
    /// Without this call the middleware saves after the handler, and a
    /// failure there becomes a bare `500`.
    ///
    /// ```
    /// use sealed_session::SessionError;
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<Vec<u8>>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
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
        let mut inner = self.lock();
        let inner = &mut *inner;
        match inner.manager.save(&mut inner.session) {
            Ok(outcome) => {
                merge(&mut inner.saved, outcome.set_cookie);
                inner.handled = false;
                Ok(())
            }
            Err(err) => {
                inner.handled = true;
                Err(err)
            }
        }
    }

    /// Saves what the handler left unsaved and returns every `Set-Cookie`
    /// value the response needs, at most one per cookie name. For adapters
    /// to other frameworks: call it once, after the handler has answered;
    /// the built-in adapters already do.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// assert!(handle.into_set_cookie().unwrap().is_empty(), "untouched: no cookie");
    /// ```
    pub fn into_set_cookie(self) -> Result<Vec<HeaderValue>, SessionError> {
        self.finish().map_err(|unsaved| unsaved.error)
    }

    pub(crate) fn finish(self) -> Result<Vec<HeaderValue>, Unsaved> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        match inner.manager.save(&mut inner.session) {
            Ok(outcome) => {
                merge(&mut inner.saved, outcome.set_cookie);
                Ok(core::mem::take(&mut inner.saved))
            }
            Err(error) => Err(Unsaved {
                error,
                handled: inner.handled,
                set_cookie: core::mem::take(&mut inner.saved),
            }),
        }
    }
}

/// What an adapter does with the handler's response.
pub(crate) enum Verdict {
    /// Send it, with these `Set-Cookie` values (and `Cache-Control:
    /// no-store` when there are any).
    Pass(Vec<HeaderValue>),
    /// Replace it with a bare `500`: the session could not be saved and
    /// the handler never saw why. The reason is logged.
    InternalError,
}

impl<T: Serialize + DeserializeOwned> SessionHandle<T> {
    /// Saves the session after the handler answered and decides the
    /// response's fate; logs what the client is not told.
    pub(crate) fn verdict(self) -> Verdict {
        match self.finish() {
            Ok(set_cookie) => Verdict::Pass(set_cookie),
            Err(unsaved) if unsaved.handled => {
                tracing::debug!(
                    target: "sealed_session",
                    error = %unsaved.error,
                    "session left unsaved after the handler saw the error"
                );
                Verdict::Pass(unsaved.set_cookie)
            }
            Err(unsaved) => {
                tracing::error!(
                    target: "sealed_session",
                    error = %unsaved.error,
                    "session could not be saved and the handler did not handle it; answering 500 \
                     (call SessionHandle::save in the handler to handle it)"
                );
                Verdict::InternalError
            }
        }
    }
}

impl SessionHandle<SessionMap> {
    /// Reads one value of the map flavour.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<sealed_session::SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.insert("user", "alice")?;
    /// assert_eq!(handle.value::<String>("user")?.as_deref(), Some("alice"));
    /// assert_eq!(handle.value::<String>("cart")?, None);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn value<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, Error> {
        self.lock().session.value(key)
    }

    /// Stores one value of the map flavour, starting a session if needed.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<sealed_session::SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.insert("visits", &3u32)?;
    /// assert_eq!(handle.value::<u32>("visits")?, Some(3));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn insert<V: Serialize + ?Sized>(&self, key: &str, value: &V) -> Result<(), Error> {
        self.lock().session.insert(key, value)
    }

    /// Removes one value of the map flavour; `true` if it was there.
    ///
    /// ```
    /// # use sealed_session::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<sealed_session::SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    /// # let handle = SessionHandle::new(manager.clone(), manager.load(&http::HeaderMap::new(), Connection::new(None, true)));
    /// handle.insert("user", "alice")?;
    /// assert!(handle.remove("user"));
    /// assert!(!handle.remove("user"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn remove(&self, key: &str) -> bool {
        self.lock().session.remove(key)
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
    use crate::{Connection, CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig};
    use http::HeaderMap;

    fn handle<T: Serialize + DeserializeOwned>() -> SessionHandle<T> {
        let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
        let manager = SessionManager::new(SessionConfig::new(CookieConfig::default()), keys)
            .expect("valid config");
        let session = manager.load(&HeaderMap::new(), Connection::new(None, true));
        SessionHandle::new(manager, session)
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
}
