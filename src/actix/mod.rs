//! actix-web middleware: [`SessionMiddleware`] and the [`SessionHandle`]
//! extractor.
//!
//! The middleware loads the request's session (lazily: nothing is
//! decrypted until a handler looks), hands handlers a [`SessionHandle`],
//! and once the handler has answered appends the `Set-Cookie` values the
//! response needs, with `Cache-Control: no-store`.
//!
//! # Behaviour
//!
//! - A bad, tampered, expired or foreign cookie gives the handler an empty
//!   session, and the response deletes the cookie. Never an error page.
//! - A save that fails (session too large for its cookie, a `Secure`
//!   cookie refused on plain HTTP) reaches a handler that calls
//!   [`SessionHandle::save`]; otherwise the response becomes a bare `500`
//!   and the reason is logged through `tracing`. A refresh the handler did
//!   not ask for never fails: the client keeps its current cookie.
//! - A response whose handler looked at the session gets `Vary: Cookie`
//!   and, unless the handler set its own, `Cache-Control: private`; one
//!   that sets a cookie gets `Cache-Control: no-store`.
//! - A handler error still carries the session's cookies (the removal
//!   after `destroy()`): the middleware renders the error's response and
//!   adds them, and outer middleware still sees the error.
//!
//! # Deployment caveat
//!
//! The peer address (`ServiceRequest::peer_addr`) and whether the server
//! itself is bound with TLS decide whether a request arrived over HTTPS.
//! Behind a reverse proxy, list the proxy in
//! [`SessionConfig::trust_proxies`](crate::SessionConfig::trust_proxies) so
//! its `X-Forwarded-Proto` counts.
//!
//! # Example
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use sealed_session::actix::SessionMiddleware;
//! use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle};
//! use sealed_session::{SessionConfig, SessionHandle, SessionManager};
//!
//! async fn visit(session: SessionHandle<u32>) -> HttpResponse {
//!     let visits = session.get().unwrap_or(0) + 1;
//!     session.set(visits);
//!     HttpResponse::Ok().body(format!("visit {visits}"))
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
//! let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys)?;
//! let app = test::init_service(
//!     App::new()
//!         .wrap(SessionMiddleware::new(manager))
//!         .route("/", web::get().to(visit)),
//! )
//! .await;
//! let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! assert!(response.headers().get("set-cookie").unwrap().to_str()?.starts_with("__Host-session="));
//! assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::InternalError;
use actix_web::http::header::{self as actix_header, HeaderMap as ActixHeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::handle::{Verdict, cache_headers};
use crate::session::{Connection, SessionError, SessionManager};

mod csrf;

pub use self::csrf::{CsrfMiddleware, CsrfMiddlewareService};
pub use crate::handle::MissingSession;
pub use crate::handle::SessionHandle;

/// The middleware: `App::new().wrap(SessionMiddleware::new(manager))`, as
/// in the [module example](crate::actix).
pub struct SessionMiddleware<T> {
    manager: SessionManager<T>,
}

impl<T> Clone for SessionMiddleware<T> {
    fn clone(&self) -> Self {
        Self {
            manager: self.manager.clone(),
        }
    }
}

impl<T> fmt::Debug for SessionMiddleware<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("manager", &self.manager)
            .finish()
    }
}

impl<T> SessionMiddleware<T> {
    /// Middleware serving sessions from `manager` (see the
    /// [module example](crate::actix)).
    pub fn new(manager: SessionManager<T>) -> Self {
        Self { manager }
    }
}

impl<S, B, T> Transform<S, ServiceRequest> for SessionMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionMiddlewareService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionMiddlewareService {
            service: Rc::new(service),
            manager: self.manager.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the app's; an
/// implementation detail of actix-web's middleware pattern.
#[doc(hidden)]
pub struct SessionMiddlewareService<S, T> {
    service: Rc<S>,
    manager: SessionManager<T>,
}

impl<S, T> fmt::Debug for SessionMiddlewareService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddlewareService")
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

/// The future of the CSRF middleware service.
type BoxFuture<R> = Pin<Box<dyn Future<Output = Result<R, actix_web::Error>>>>;

impl<S, B, T> Service<ServiceRequest> for SessionMiddlewareService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = SessionFuture<S::Future, T>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let peer = request.peer_addr().map(|address| address.ip());
        let connection = Connection::new(peer, request.app_config().secure());
        // Only a trusted proxy's forwarded headers can matter; the rest
        // are not copied.
        let scheme_headers = if self.manager.reads_forwarded_headers(peer) {
            copy_headers(request.headers(), &FORWARDED_HEADERS)
        } else {
            http::HeaderMap::new()
        };
        let (few, more) = cookie_fields(request.headers());
        let cookies = few.iter().flatten().chain(&more);
        let session = self
            .manager
            .load_with_cookies(cookies, &scheme_headers, connection);
        let handle = SessionHandle::new(session);
        request.extensions_mut().insert(handle.clone());
        SessionFuture {
            response: self.service.call(request),
            handle: Some(handle),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SessionMiddlewareService`]: the app's
    /// response with the session's cookies; an implementation detail of
    /// actix-web's middleware pattern.
    #[doc(hidden)]
    pub struct SessionFuture<F, T> {
        #[pin]
        response: F,
        handle: Option<SessionHandle<T>>,
    }
}

impl<F, B, T> Future for SessionFuture<F, T>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.response.poll(cx));
        let Some(handle) = this.handle.take() else {
            // Polled again after completion: a bug in the caller, answered
            // without a session rather than with a panic.
            return Poll::Ready(result.map(ServiceResponse::map_into_left_body));
        };
        Poll::Ready(finish(result, handle))
    }
}

/// The app's response, or its error's, with the session's cookies.
fn finish<B: MessageBody + 'static, T: Serialize + DeserializeOwned>(
    result: Result<ServiceResponse<B>, actix_web::Error>,
    handle: SessionHandle<T>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let (set_cookie, opened) = match handle.verdict() {
        Verdict::Pass { set_cookie, opened } => (
            set_cookie
                .iter()
                .map(|value| {
                    actix_header::HeaderValue::from_bytes(value.as_bytes()).map(|mut value| {
                        value.set_sensitive(true);
                        value
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .ok(),
            opened,
        ),
        Verdict::InternalError => (None, false),
    };
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            // The error's own response carries the session's cookies
            // (a logout's removal must not be lost to a failing
            // handler); it stays an error for outer middleware.
            let mut response = match &set_cookie {
                Some(_) => err.error_response(),
                None => HttpResponse::InternalServerError().finish(),
            };
            decorate(
                response.headers_mut(),
                set_cookie.unwrap_or_default(),
                opened,
            );
            return Err(InternalError::from_response(err, response).into());
        }
    };
    let Some(set_cookie) = set_cookie else {
        // Nothing of the handler's answer or the reason leaks out.
        let (request, _) = response.into_parts();
        let bare = HttpResponse::InternalServerError().finish();
        return Ok(ServiceResponse::new(request, bare).map_into_right_body());
    };
    decorate(response.headers_mut(), set_cookie, opened);
    Ok(response.map_into_left_body())
}

/// Appends the session's `Set-Cookie` values and the caching headers they
/// call for.
fn decorate(
    headers: &mut ActixHeaderMap,
    set_cookie: Vec<actix_header::HeaderValue>,
    opened: bool,
) {
    let caching = cache_headers(
        opened,
        !set_cookie.is_empty(),
        headers.contains_key(actix_header::CACHE_CONTROL),
        headers
            .get_all(actix_header::VARY)
            .map(actix_header::HeaderValue::as_bytes),
    );
    for value in set_cookie {
        headers.append(actix_header::SET_COOKIE, value);
    }
    if let Some(value) = caching.cache_control {
        headers.insert(
            actix_header::CACHE_CONTROL,
            actix_header::HeaderValue::from_static(value),
        );
    }
    if caching.vary_cookie {
        headers.append(
            actix_header::VARY,
            actix_header::HeaderValue::from_static("Cookie"),
        );
    }
}

/// The headers a trusted proxy tells the request's scheme in.
const FORWARDED_HEADERS: [http::HeaderName; 2] = [
    http::header::FORWARDED,
    http::HeaderName::from_static("x-forwarded-proto"),
];

/// How many `Cookie` fields are copied without allocating a list: one in
/// HTTP/1.1, where browsers send a single field.
const INLINE_COOKIE_FIELDS: usize = 2;

/// The request's `Cookie` fields as `http` 1 values: the first few in an
/// array, the rest (HTTP/2 sends one field per cookie) in a vector.
fn cookie_fields(
    from: &ActixHeaderMap,
) -> (
    [Option<http::HeaderValue>; INLINE_COOKIE_FIELDS],
    Vec<http::HeaderValue>,
) {
    let mut few = [const { None }; INLINE_COOKIE_FIELDS];
    let mut more = Vec::new();
    // Every actix header value is a valid `http` value too.
    let values = from
        .get_all(actix_header::COOKIE)
        .filter_map(|value| http::HeaderValue::from_bytes(value.as_bytes()).ok());
    for (index, value) in values.enumerate() {
        match few.get_mut(index) {
            Some(slot) => *slot = Some(value),
            None => more.push(value),
        }
    }
    (few, more)
}

/// The named headers of an actix request, every value, as `http` 1 values
/// (the version of `http` the framework-free layers speak).
fn copy_headers<'a>(
    from: &ActixHeaderMap,
    names: impl IntoIterator<Item = &'a http::HeaderName>,
) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for name in names {
        for value in from.get_all(name.as_str()) {
            // Every actix header value is a valid `http` value too.
            if let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) {
                headers.append(name.clone(), value);
            }
        }
    }
    headers
}

impl ResponseError for MissingSession {
    fn error_response(&self) -> HttpResponse {
        tracing::error!(target: crate::error::LOG_TARGET, "{self}");
        HttpResponse::InternalServerError().finish()
    }
}

/// Lets a handler answer `handle.save()?`: a bare `500`, with the reason
/// in the log only.
impl ResponseError for SessionError {
    fn error_response(&self) -> HttpResponse {
        tracing::error!(target: crate::error::LOG_TARGET, error = %self, "session could not be saved");
        HttpResponse::InternalServerError().finish()
    }
}

impl<T: Serialize + DeserializeOwned + 'static> FromRequest for SessionHandle<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<SessionHandle<T>>()
                .cloned()
                .ok_or_else(|| MissingSession::default().into()),
        )
    }
}
