//! A login app on axum with sessions sealed in a cookie.
//!
//! ```text
//! cargo run --example login_axum --features axum
//! SESSION_KEYS="1:$(openssl rand -base64 32)" BIND=127.0.0.1:8080 \
//!     cargo run --example login_axum --features axum
//! ```
//!
//! `/` shows who is logged in, `POST /login` checks the demo credential and
//! starts a fresh session ("remember me" picks the long-lived profile),
//! `/dashboard` needs a session, `POST /logout` ends it. A wrong password
//! and a logout come back as flash messages; every form carries a CSRF
//! token and the CSRF layer refuses cross-site posts. See
//! `examples/common/mod.rs` for the environment it reads.
//!
//! With the `metrics` feature, `/metrics` serves the library's counters in
//! the Prometheus text format (`metrics-exporter-prometheus`):
//!
//! ```text
//! cargo run --example login_axum --features axum,metrics
//! curl http://127.0.0.1:3000/metrics
//! ```
//!
//! In production, let only the scraper reach `/metrics` (e.g. a
//! `location = /metrics { deny all; }` in the public nginx server).

#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sealed_session::csrf::{CsrfProtection, CsrfToken};
use sealed_session::flash::Level;
use sealed_session::tower::{CsrfLayer, SessionLayer};
use sealed_session::{SessionHandle, SessionManager};
use serde::{Deserialize, Serialize};

/// What the session holds: who logged in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Account {
    user: String,
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
    /// The "remember me" checkbox: present when ticked.
    remember: Option<String>,
}

#[derive(Clone)]
struct App {
    instance: String,
}

async fn home(
    State(app): State<App>,
    session: SessionHandle<Account>,
    token: CsrfToken,
) -> Html<String> {
    let account = session.get();
    Html(common::home_page(
        account.as_ref().map(|a| a.user.as_str()),
        token.as_str(),
        &session.take_flash(),
        &app.instance,
    ))
}

async fn login(session: SessionHandle<Account>, Form(form): Form<Login>) -> Redirect {
    if !common::credentials_ok(&form.username, &form.password) {
        session.push_flash(Level::Error, "Wrong user name or password.");
        return Redirect::to("/");
    }
    // A new session id on every privilege change: a planted id is worthless.
    session.regenerate();
    session.set(Account {
        user: form.username,
    });
    if form.remember.is_some() {
        session.set_profile(common::REMEMBER_ME);
    }
    if let Ok(Some(id)) = session.id() {
        tracing::info!(session = %id, "logged in");
    }
    Redirect::to("/dashboard")
}

async fn dashboard(State(app): State<App>, session: SessionHandle<Account>) -> Response {
    match session.get() {
        // The token only for a logged-in page: a 401 starts no session.
        Some(account) => match session.csrf_token() {
            Ok(token) => Html(common::dashboard_page(
                &account.user,
                &token,
                &session.take_flash(),
                &app.instance,
            ))
            .into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        None => {
            let body = common::page(
                "Not logged in",
                "<p id=\"error\">Log in first.</p>",
                &app.instance,
            );
            (StatusCode::UNAUTHORIZED, Html(body)).into_response()
        }
    }
}

async fn logout(session: SessionHandle<Account>) -> Redirect {
    session.destroy();
    session.push_flash(Level::Info, "You are logged out.");
    Redirect::to("/")
}

pub(crate) fn router(
    manager: SessionManager<Account>,
    csrf: CsrfProtection,
    instance: String,
) -> Router {
    let instance_header =
        HeaderValue::from_str(&instance).unwrap_or(HeaderValue::from_static("app"));
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/dashboard", get(dashboard))
        .route("/logout", post(logout))
        .route("/healthz", get(|| async { "ok" }))
        .layer(CsrfLayer::<Account>::new(csrf))
        .layer(SessionLayer::new(manager))
        .layer(axum::middleware::map_response(
            move |mut response: Response| {
                let value = instance_header.clone();
                async move {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static("x-instance"), value);
                    response
                }
            },
        ))
        .with_state(App { instance })
}

/// Installs a Prometheus recorder as the process's `metrics` recorder
/// (once per process) and adds `/metrics`, which renders it. The route
/// sits outside the session layer: scraping it opens no session.
#[cfg(feature = "metrics")]
pub(crate) fn with_metrics(router: Router) -> Result<Router, common::Error> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    sealed_session::metrics::describe();
    Ok(router.route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    ))
}

#[tokio::main]
async fn main() -> Result<(), common::Error> {
    common::init_logging();
    let keys = common::keyring()?;
    // Every configuration mistake stops the program here, with the fix.
    let manager = SessionManager::new(common::session_config()?, keys.handle.clone())?;
    let manager = common::with_legacy(manager, |user| Some(Account { user }))?;
    let address = common::bind_address()?;
    let instance = common::instance();
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!("{instance} listening on http://{}", listener.local_addr()?);
    let app = router(manager, common::csrf()?, instance);
    #[cfg(feature = "metrics")]
    let app = with_metrics(app)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
