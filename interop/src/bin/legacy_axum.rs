//! A small axum app keeping its login in axum-extra's `PrivateCookieJar`
//! (cookie `user`), as an application would have run before moving to
//! sealed-session. For the end-to-end migration flow.
//!
//! Environment: `BIND`, `INSTANCE`, `LEGACY_KEY` (base64 of 64 bytes).

use sealed_session_interop::app as common;

use axum::Router;
use axum::extract::{Form, FromRef};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar};
use http::StatusCode;

#[derive(Clone)]
struct State {
    key: Key,
}

impl FromRef<State> for Key {
    fn from_ref(state: &State) -> Self {
        state.key.clone()
    }
}

fn user(jar: &PrivateCookieJar) -> Option<String> {
    jar.get("user").map(|c| c.value().to_owned())
}

async fn home(jar: PrivateCookieJar) -> Html<String> {
    Html(common::home(user(&jar).as_deref(), &common::instance()))
}

async fn login(jar: PrivateCookieJar, Form(form): Form<common::Login>) -> Response {
    if !form.ok() {
        return (StatusCode::UNAUTHORIZED, "wrong user or password").into_response();
    }
    let cookie = Cookie::build(("user", form.username))
        .path("/")
        .secure(true)
        .http_only(true);
    (jar.add(cookie), Redirect::to("/dashboard")).into_response()
}

async fn dashboard(jar: PrivateCookieJar) -> Response {
    match user(&jar) {
        Some(user) => Html(common::dashboard(&user, &common::instance())).into_response(),
        None => (StatusCode::UNAUTHORIZED, "Not logged in").into_response(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let state = State {
        key: Key::from(&common::key_bytes()),
    };
    let router = Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/dashboard", get(dashboard))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(common::bind()).await?;
    axum::serve(listener, router).await
}
