//! axum glue: `SessionHandle<T>` as an extractor, `SessionError` as a
//! response.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::handle::MissingSession;
use crate::handle::SessionHandle;
use crate::session::SessionError;

impl IntoResponse for MissingSession {
    fn into_response(self) -> Response {
        tracing::error!(target: crate::error::LOG_TARGET, "{self}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

/// Lets a handler answer `handle.save()?`: a bare `500`, with the reason
/// in the log only.
impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        tracing::error!(target: crate::error::LOG_TARGET, error = %self, "session could not be saved");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S, T> FromRequestParts<S> for SessionHandle<T>
where
    S: Send + Sync,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Rejection = MissingSession;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SessionHandle<T>>()
            .cloned()
            .ok_or_else(MissingSession::default)
    }
}
