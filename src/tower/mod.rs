//! Tower middleware: sessions for axum, hyper, tonic and anything tower.
//!
//! [`SessionLayer`] loads the request's session (lazily: nothing is
//! decrypted until a handler looks), puts a [`SessionHandle`] in the
//! request's extensions, and once the inner service has answered appends
//! the `Set-Cookie` values the response needs, with `Cache-Control:
//! no-store` so no cache keeps a session cookie.
//!
//! With the `axum` feature, `SessionHandle<T>` is an extractor.
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
//! - An inner service that fails with an error (rather than an error
//!   response) leaves no response to carry the session's cookies; the
//!   layer logs a warning. Turn errors into responses inside
//!   [`SessionLayer`] (axum handlers always do).
//!
//! # Deployment caveat
//!
//! Whether a request arrived over HTTPS decides whether a `Secure` cookie
//! is being sent to a plain-HTTP client. Behind a reverse proxy the layer
//! needs the proxy's address to trust its `X-Forwarded-Proto`: with axum,
//! serve with `into_make_service_with_connect_info::<SocketAddr>()`;
//! elsewhere, insert a [`Connection`](crate::adapter::Connection) into the
//! request's extensions. Then list the proxy in
//! [`SessionConfig::trust_proxies`](crate::SessionConfig::trust_proxies).
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use sealed_session::tower::SessionLayer;
//! use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle};
//! use sealed_session::{SessionConfig, SessionHandle, SessionManager};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
//! let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::default()), keys)?;
//!
//! let service = ServiceBuilder::new()
//!     .layer(SessionLayer::new(manager).direct_tls(true))
//!     .service(service_fn(|req: Request<String>| async move {
//!         let session = req.extensions().get::<SessionHandle<u32>>().unwrap();
//!         let visits = session.get().unwrap_or(0) + 1;
//!         session.set(visits);
//!         Ok::<_, Infallible>(Response::new(format!("visit {visits}")))
//!     }));
//!
//! let response = service.oneshot(Request::new(String::new())).await.unwrap();
//! assert!(response.headers()["set-cookie"].to_str()?.starts_with("__Host-session="));
//! assert_eq!(response.headers()["cache-control"], "no-store");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "axum")]
mod csrf;
mod future;
mod layer;
mod service;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::csrf::{CsrfLayer, CsrfService};
pub use self::future::ResponseFuture;
pub use self::layer::SessionLayer;
pub use self::service::SessionService;
pub use crate::handle::MissingSession;
pub use crate::handle::SessionHandle;

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue};

use crate::handle::cache_headers;

/// Appends the session's `Set-Cookie` values and the caching headers they
/// call for.
fn apply(headers: &mut HeaderMap, set_cookie: Vec<HeaderValue>, opened: bool) {
    let caching = cache_headers(
        opened,
        !set_cookie.is_empty(),
        headers.contains_key(CACHE_CONTROL),
        headers.get_all(VARY).iter().map(HeaderValue::as_bytes),
    );
    for value in set_cookie {
        headers.append(SET_COOKIE, value);
    }
    if let Some(value) = caching.cache_control {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
    }
    if caching.vary_cookie {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
}
