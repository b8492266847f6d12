use std::task::{Context, Poll};

use http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_service::Service;

use super::ResponseFuture;
use crate::handle::SessionHandle;
use crate::session::{Connection, SessionManager};

/// The middleware [`SessionLayer`](super::SessionLayer) builds.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use sealed_session::tower::SessionService;
/// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
/// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// # let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::default()), keys)?;
/// let inner = tower::service_fn(|_: Request<String>| async {
///     Ok::<_, Infallible>(Response::new(String::new()))
/// });
/// let service = SessionService::new(inner, manager, false);
/// assert!(format!("{service:?}").contains("direct_tls: false"));
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
pub struct SessionService<S, T> {
    inner: S,
    manager: SessionManager<T>,
    direct_tls: bool,
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            manager: self.manager.clone(),
            direct_tls: self.direct_tls,
        }
    }
}

impl<S: std::fmt::Debug, T> std::fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("manager", &self.manager)
            .field("direct_tls", &self.direct_tls)
            .finish()
    }
}

impl<S, T> SessionService<S, T> {
    /// Wraps `inner`; `direct_tls` as in
    /// [`SessionLayer::direct_tls`](super::SessionLayer::direct_tls). Most
    /// applications use [`SessionLayer`](super::SessionLayer) instead.
    pub fn new(inner: S, manager: SessionManager<T>, direct_tls: bool) -> Self {
        Self {
            inner,
            manager,
            direct_tls,
        }
    }
}

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, T>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let connection = connection(request.extensions(), self.direct_tls);
        let session = self.manager.load(request.headers(), connection);
        let handle = SessionHandle::new(session);
        request.extensions_mut().insert(handle.clone());
        ResponseFuture::new(self.inner.call(request), handle)
    }
}

/// The connection as the server saw it: a [`Connection`] someone put in
/// the extensions, else axum's `ConnectInfo` peer address.
fn connection(extensions: &http::Extensions, direct_tls: bool) -> Connection {
    if let Some(connection) = extensions.get::<Connection>() {
        return *connection;
    }
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>() {
        return Connection::new(Some(info.0.ip()), direct_tls);
    }
    Connection::new(None, direct_tls)
}
