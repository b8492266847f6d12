use tower_layer::Layer;

use super::SessionService;
use crate::session::SessionManager;

/// Applies [`SessionService`] to a service: every request gets a
/// [`SessionHandle`](crate::SessionHandle) in its extensions.
///
/// ```
/// use sealed_session::tower::SessionLayer;
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys)?;
/// let layer = SessionLayer::new(manager);
/// // Requests count as HTTPS only when a trusted proxy says so.
/// assert!(format!("{layer:?}").contains("direct_tls: false"));
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
pub struct SessionLayer<T> {
    manager: SessionManager<T>,
    direct_tls: bool,
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        Self {
            manager: self.manager.clone(),
            direct_tls: self.direct_tls,
        }
    }
}

impl<T> std::fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("manager", &self.manager)
            .field("direct_tls", &self.direct_tls)
            .finish()
    }
}

impl<T> SessionLayer<T> {
    /// A layer serving sessions from `manager` (see the
    /// [module example](crate::tower)).
    pub fn new(manager: SessionManager<T>) -> Self {
        Self {
            manager,
            direct_tls: false,
        }
    }

    /// Declares that this server terminates TLS itself (e.g. with rustls),
    /// so every request it serves arrived over HTTPS. Off by default:
    /// requests count as HTTPS only when a trusted proxy says so.
    ///
    /// ```
    /// # use sealed_session::tower::SessionLayer;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys)?;
    /// let layer = SessionLayer::new(manager).direct_tls(true);
    /// assert!(format!("{layer:?}").contains("direct_tls: true"));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn direct_tls(mut self, tls: bool) -> Self {
        self.direct_tls = tls;
        self
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.manager.clone(), self.direct_tls)
    }
}
