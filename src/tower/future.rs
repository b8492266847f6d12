use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::handle::SessionHandle;
use crate::handle::Verdict;

pin_project! {
    /// The response future of [`SessionService`](super::SessionService):
    /// the inner response with the session's `Set-Cookie` values added.
    ///
    /// ```
    /// fn is_future<F: std::future::Future>() {}
    /// is_future::<sealed_session::tower::ResponseFuture<std::future::Ready<Result<http::Response<String>, ()>>, u8>>();
    /// ```
    pub struct ResponseFuture<F, T> {
        #[pin]
        inner: F,
        handle: Option<SessionHandle<T>>,
    }
}

impl<F, T> ResponseFuture<F, T> {
    pub(crate) fn new(inner: F, handle: SessionHandle<T>) -> Self {
        Self {
            inner,
            handle: Some(handle),
        }
    }
}

impl<F, T, B, E> Future for ResponseFuture<F, T>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
    T: Serialize + DeserializeOwned,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let Some(handle) = this.handle.take() else {
            return Poll::Ready(result);
        };
        let mut response = match result {
            Ok(response) => response,
            Err(err) => {
                // No response to carry the session's cookies: it is not
                // saved. Say so when the handler used it, so that errors get
                // mapped to responses inside this layer.
                if handle.was_opened() {
                    tracing::warn!(
                        target: crate::error::LOG_TARGET,
                        "the inner service failed with an error, so the session is not \
                         saved: turn errors into responses inside SessionLayer (e.g. with \
                         HandleErrorLayer)"
                    );
                }
                return Poll::Ready(Err(err));
            }
        };
        match handle.verdict() {
            Verdict::Pass { set_cookie, opened } => {
                super::apply(response.headers_mut(), set_cookie, opened)
            }
            Verdict::InternalError => {
                // Nothing of the handler's answer or the reason leaks out.
                response = Response::new(B::default());
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            }
        }
        Poll::Ready(Ok(response))
    }
}
