//! axum glue: `SessionHandle<T>` as an extractor, `SessionError` as a
//! response.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{SessionError, SessionHandle};

/// The extractor's rejection: the route has no
/// [`SessionLayer`](super::SessionLayer) for this data type. A deployment
/// bug, answered with a bare `500` and logged.
///
/// ```
/// use axum::response::IntoResponse;
/// use sealed_session::tower::MissingSessionLayer;
///
/// let response = MissingSessionLayer::default().into_response();
/// assert_eq!(response.status(), 500);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MissingSessionLayer;

impl std::fmt::Display for MissingSessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "no session in the request: add `.layer(SessionLayer::new(manager))` to the router, \
             with a SessionManager of the same data type as the handler's SessionHandle<T>",
        )
    }
}

impl std::error::Error for MissingSessionLayer {}

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        tracing::error!(target: "sealed_session", "{self}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

/// Lets a handler answer `handle.save()?`: a bare `500`, with the reason
/// in the log only.
impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        tracing::error!(target: "sealed_session", error = %self, "session could not be saved");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S, T> FromRequestParts<S> for SessionHandle<T>
where
    S: Send + Sync,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SessionHandle<T>>()
            .cloned()
            .ok_or(MissingSessionLayer)
    }
}
