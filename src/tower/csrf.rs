//! CSRF protection for axum: [`CsrfLayer`] and the [`CsrfToken`]
//! extractor.

use core::fmt;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::csrf::{
    CsrfMint, CsrfProtection, CsrfRejection, CsrfSession, CsrfToken, Precheck, VARY_CSRF,
    log_missing_session, log_refusal,
};
use crate::handle::SessionHandle;
use crate::session::SessionMap;

/// Refuses cross-site requests as [`CsrfProtection`] says (origin check,
/// then the session's token in the `X-CSRF-Token` header or the
/// urlencoded form), and gives handlers the [`CsrfToken`] extractor.
///
/// Add it inside the [`SessionLayer`](super::SessionLayer) of the same data
/// type `T` (in axum, `.layer(CsrfLayer)` before `.layer(SessionLayer)`).
/// A refused request is a bare `403 Forbidden`, the reason logged. A form
/// body is read (up to the configured limit) only for an unsafe request
/// without the header, and handed on intact.
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use sealed_session::csrf::{CsrfProtection, CsrfToken};
/// use sealed_session::tower::{CsrfLayer, SessionLayer};
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
///
/// async fn form(token: CsrfToken) -> String {
///     format!(r#"<form method="post"><input type="hidden" name="csrf_token" value="{token}"></form>"#)
/// }
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys)?;
/// let app: Router = Router::new()
///     .route("/form", get(form).post(|| async { "accepted" }))
///     .layer(CsrfLayer::<SessionMap>::new(CsrfProtection::new().exempt_path("/webhooks/")))
///     .layer(SessionLayer::new(manager));
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
pub struct CsrfLayer<T = SessionMap> {
    protection: Arc<CsrfProtection>,
    data: PhantomData<fn() -> T>,
}

impl<T> CsrfLayer<T> {
    /// The layer enforcing `protection` for sessions of type `T`.
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// # use sealed_session::tower::CsrfLayer;
    /// let layer = CsrfLayer::<u64>::new(CsrfProtection::new());
    /// ```
    pub fn new(protection: CsrfProtection) -> Self {
        Self {
            protection: Arc::new(protection),
            data: PhantomData,
        }
    }
}

impl<T> Clone for CsrfLayer<T> {
    fn clone(&self) -> Self {
        Self {
            protection: Arc::clone(&self.protection),
            data: PhantomData,
        }
    }
}

impl<T> fmt::Debug for CsrfLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfLayer")
            .field("protection", &self.protection)
            .finish()
    }
}

impl<S, T> Layer<S> for CsrfLayer<T> {
    type Service = CsrfService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        CsrfService {
            inner,
            protection: Arc::clone(&self.protection),
            data: PhantomData,
        }
    }
}

/// The service [`CsrfLayer`] wraps around the application.
pub struct CsrfService<S, T> {
    inner: S,
    protection: Arc<CsrfProtection>,
    data: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for CsrfService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            protection: Arc::clone(&self.protection),
            data: PhantomData,
        }
    }
}

impl<S, T> fmt::Debug for CsrfService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfService")
            .field("protection", &self.protection)
            .finish_non_exhaustive()
    }
}

impl<S, T> Service<Request<Body>> for CsrfService<S, T>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let checked = self
            .protection
            .applies_to(request.method(), request.uri().path());
        // The session is copied only for a request that is checked.
        let session = match request.extensions().get::<SessionHandle<T>>() {
            Some(session) => checked.then(|| session.clone()),
            None => {
                log_missing_session();
                let bare = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                return Box::pin(std::future::ready(Ok(bare)));
            }
        };
        request
            .extensions_mut()
            .insert(CsrfMint::<http::Extensions>(mint::<T>));
        let Some(session) = session else {
            // Safe methods and exempt paths: nothing to check.
            return Box::pin(self.inner.call(request));
        };
        // The clone that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let protection = Arc::clone(&self.protection);
        Box::pin(async move {
            let (method, path) = (request.method().clone(), request.uri().path().to_owned());
            let mut response = match check(&protection, request, &session).await {
                Ok(request) => inner.call(request).await?,
                Err(reason) => {
                    log_refusal(reason, &method, &path);
                    StatusCode::FORBIDDEN.into_response()
                }
            };
            // The answer depended on these request headers.
            response
                .headers_mut()
                .append(http::header::VARY, HeaderValue::from_static(VARY_CSRF));
            Ok(response)
        })
    }
}

/// Both lines of defence on an unsafe request; a form body read for the
/// token is put back.
async fn check(
    protection: &CsrfProtection,
    request: Request<Body>,
    session: &dyn CsrfSession,
) -> Result<Request<Body>, CsrfRejection> {
    let precheck = protection.precheck(
        request.method(),
        request.uri().path(),
        request.headers(),
        session,
    )?;
    match precheck {
        Precheck::Pass => Ok(request),
        Precheck::ReadForm => {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, protection.form_limit_bytes())
                .await
                .map_err(|_| CsrfRejection::BodyUnreadable)?;
            protection.check_form(&bytes, session)?;
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
    }
}

/// A token of the session of type `T` among the extensions.
fn mint<T: Serialize + DeserializeOwned + Send + 'static>(
    extensions: &http::Extensions,
) -> Option<Result<String, crate::Error>> {
    extensions
        .get::<SessionHandle<T>>()
        .map(SessionHandle::csrf_token)
}

/// A fresh token of the request's session (see [`CsrfToken`]); needs a
/// [`CsrfLayer`] around the handler, or it is a bare `500` and a log line.
impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let minted = parts
            .extensions
            .get::<CsrfMint<http::Extensions>>()
            .and_then(|CsrfMint(mint)| mint(&parts.extensions));
        let Some(minted) = minted else {
            tracing::error!(
                target: crate::error::LOG_TARGET,
                "CsrfToken needs the CsrfLayer around the handler"
            );
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        };
        minted.map(CsrfToken::from).map_err(|err| {
            tracing::error!(target: crate::error::LOG_TARGET, error = %err, "no CSRF token");
            StatusCode::INTERNAL_SERVER_ERROR
        })
    }
}
