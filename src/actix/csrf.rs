//! CSRF protection for actix-web: [`CsrfMiddleware`] and the
//! [`CsrfToken`] extractor.

use core::fmt;
use std::future::{Ready, poll_fn, ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{
    Extensions, Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_core::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::BoxFuture;
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
/// Wrap it inside the [`SessionMiddleware`](super::SessionMiddleware) of
/// the same data type `T` (`.wrap(CsrfMiddleware)` before
/// `.wrap(SessionMiddleware)`). A refused request is a bare `403
/// Forbidden`, the reason logged. A form body is read (up to the
/// configured limit) only for an unsafe request without the header, and
/// handed on intact.
///
/// ```
/// use actix_web::{App, web};
/// use sealed_session::actix::{CsrfMiddleware, SessionMiddleware};
/// use sealed_session::csrf::{CsrfProtection, CsrfToken};
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
///
/// async fn form(token: CsrfToken) -> String {
///     format!(r#"<form method="post"><input type="hidden" name="csrf_token" value="{token}"></form>"#)
/// }
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys)?;
/// let app = App::new()
///     .route("/form", web::get().to(form))
///     .wrap(CsrfMiddleware::<SessionMap>::new(CsrfProtection::new()))
///     .wrap(SessionMiddleware::new(manager));
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
pub struct CsrfMiddleware<T = SessionMap> {
    protection: Rc<CsrfProtection>,
    data: PhantomData<fn() -> T>,
}

impl<T> CsrfMiddleware<T> {
    /// The middleware enforcing `protection` for sessions of type `T`.
    ///
    /// ```
    /// # use sealed_session::actix::CsrfMiddleware;
    /// # use sealed_session::csrf::CsrfProtection;
    /// let middleware = CsrfMiddleware::<u64>::new(CsrfProtection::new());
    /// ```
    pub fn new(protection: CsrfProtection) -> Self {
        Self {
            protection: Rc::new(protection),
            data: PhantomData,
        }
    }
}

impl<T> Clone for CsrfMiddleware<T> {
    fn clone(&self) -> Self {
        Self {
            protection: Rc::clone(&self.protection),
            data: PhantomData,
        }
    }
}

impl<T> fmt::Debug for CsrfMiddleware<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfMiddleware")
            .field("protection", &self.protection)
            .finish()
    }
}

impl<S, B, T> Transform<S, ServiceRequest> for CsrfMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CsrfMiddlewareService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CsrfMiddlewareService {
            service: Rc::new(service),
            protection: Rc::clone(&self.protection),
            data: PhantomData,
        }))
    }
}

/// The service [`CsrfMiddleware`] wraps around the app's; an
/// implementation detail of actix-web's middleware pattern.
#[doc(hidden)]
pub struct CsrfMiddlewareService<S, T> {
    service: Rc<S>,
    protection: Rc<CsrfProtection>,
    data: PhantomData<fn() -> T>,
}

impl<S, T> fmt::Debug for CsrfMiddlewareService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfMiddlewareService")
            .field("protection", &self.protection)
            .finish_non_exhaustive()
    }
}

impl<S, B, T> Service<ServiceRequest> for CsrfMiddlewareService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = BoxFuture<Self::Response>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let method = http::Method::from_bytes(request.method().as_str().as_bytes())
            .unwrap_or(http::Method::POST);
        let checked = self.protection.applies_to(&method, request.path());
        // The session is copied only for a request that is checked.
        let found = request
            .extensions()
            .get::<SessionHandle<T>>()
            .map(|session| checked.then(|| session.clone()));
        let session = match found {
            Some(session) => session,
            None => {
                log_missing_session();
                let bare = HttpResponse::InternalServerError().finish();
                return Box::pin(ready(Ok(request.into_response(bare).map_into_right_body())));
            }
        };
        request
            .extensions_mut()
            .insert(CsrfMint::<Extensions>(mint::<T>));
        let Some(session) = session else {
            // Safe methods and exempt paths: nothing to check.
            let response = self.service.call(request);
            return Box::pin(async move { Ok(response.await?.map_into_left_body()) });
        };
        let service = Rc::clone(&self.service);
        let protection = Rc::clone(&self.protection);
        Box::pin(async move {
            let path = request.path().to_owned();
            let verdict = check(&protection, &method, &path, &mut request, &session).await;
            let mut response = match verdict {
                Ok(()) => service.call(request).await?.map_into_left_body(),
                Err(reason) => {
                    log_refusal(reason, &method, &path);
                    let bare = HttpResponse::Forbidden().finish();
                    request.into_response(bare).map_into_right_body()
                }
            };
            // The answer depended on these request headers.
            response.headers_mut().append(
                actix_web::http::header::VARY,
                actix_web::http::header::HeaderValue::from_static(VARY_CSRF),
            );
            Ok(response)
        })
    }
}

/// Both lines of defence; a form body read for the token is put back.
async fn check(
    protection: &CsrfProtection,
    method: &http::Method,
    path: &str,
    request: &mut ServiceRequest,
    session: &dyn CsrfSession,
) -> Result<(), CsrfRejection> {
    let headers = csrf_headers(request, protection);
    match protection.precheck(method, path, &headers, session)? {
        Precheck::Pass => Ok(()),
        Precheck::ReadForm => {
            let body = read_body(request.take_payload(), protection.form_limit_bytes()).await;
            let body = body.ok_or(CsrfRejection::BodyUnreadable)?;
            let verdict = protection.check_form(&body, session);
            request.set_payload(Payload::from(body));
            verdict
        }
    }
}

/// The headers the CSRF checks read, as `http` 1 values.
fn csrf_headers(request: &ServiceRequest, protection: &CsrfProtection) -> http::HeaderMap {
    let names = [
        http::header::HOST,
        http::header::ORIGIN,
        http::header::CONTENT_TYPE,
        http::HeaderName::from_static("sec-fetch-site"),
        protection.header_name().clone(),
    ];
    super::copy_headers(request.headers(), &names)
}

/// The whole body, or `None` past `limit` bytes or on a read error.
async fn read_body(mut payload: Payload, limit: usize) -> Option<Bytes> {
    let mut body = BytesMut::new();
    while let Some(chunk) = poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await {
        let chunk = chunk.ok()?;
        if body.len().saturating_add(chunk.len()) > limit {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body.freeze())
}

/// A token of the session of type `T` among the extensions.
fn mint<T: Serialize + DeserializeOwned + Send + 'static>(
    extensions: &Extensions,
) -> Option<Result<String, crate::Error>> {
    extensions
        .get::<SessionHandle<T>>()
        .map(SessionHandle::csrf_token)
}

/// A fresh token of the request's session (see [`CsrfToken`]); needs a
/// [`CsrfMiddleware`] around the handler, or it is a bare `500` and a log
/// line.
impl FromRequest for CsrfToken {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let minted = {
            let extensions = request.extensions();
            extensions
                .get::<CsrfMint<Extensions>>()
                .copied()
                .and_then(|CsrfMint(mint)| mint(&extensions))
        };
        let Some(minted) = minted else {
            tracing::error!(
                target: crate::error::LOG_TARGET,
                "CsrfToken needs the CsrfMiddleware around the handler"
            );
            return ready(Err(actix_web::error::InternalError::from_response(
                "",
                HttpResponse::InternalServerError().finish(),
            )
            .into()));
        };
        ready(minted.map(CsrfToken::from).map_err(|err| {
            tracing::error!(target: crate::error::LOG_TARGET, error = %err, "no CSRF token");
            actix_web::error::InternalError::from_response(
                "",
                HttpResponse::InternalServerError().finish(),
            )
            .into()
        }))
    }
}
