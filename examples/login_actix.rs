//! A login app on actix-web with sessions sealed in a cookie, using the
//! express-style map flavour of the session.
//!
//! ```text
//! cargo run --example login_actix --features actix-web
//! SESSION_KEYS="1:$(openssl rand -base64 32)" BIND=127.0.0.1:8080 \
//!     cargo run --example login_actix --features actix-web
//! ```
//!
//! Same routes, flash messages, CSRF protection and environment as
//! `login_axum` (see `examples/common/mod.rs`).

#[path = "common/mod.rs"]
mod common;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpResponse, HttpServer, web};
use sealed_session::actix::{CsrfMiddleware, SessionMiddleware};
use sealed_session::csrf::CsrfToken;
use sealed_session::flash::Level;
use sealed_session::{SessionHandle, SessionManager, SessionMap};
use serde::Deserialize;

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
    /// The "remember me" checkbox: present when ticked.
    remember: Option<String>,
}

struct Instance(String);

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(body)
}

fn see_other(location: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The logged-in user; a value that no longer decodes counts as none.
fn user(session: &SessionHandle) -> Option<String> {
    session.value::<String>("user").ok().flatten()
}

async fn home(
    instance: web::Data<Instance>,
    session: SessionHandle,
    token: CsrfToken,
) -> HttpResponse {
    html(
        StatusCode::OK,
        common::home_page(
            user(&session).as_deref(),
            token.as_str(),
            &session.take_flash(),
            &instance.0,
        ),
    )
}

async fn login(session: SessionHandle, form: web::Form<Login>) -> HttpResponse {
    if !common::credentials_ok(&form.username, &form.password) {
        session.push_flash(Level::Error, "Wrong user name or password.");
        return see_other("/");
    }
    // A new session id on every privilege change: a planted id is worthless.
    session.regenerate();
    if let Err(err) = session.insert("user", &form.username) {
        tracing::error!("cannot store the user in the session: {err}");
        return HttpResponse::InternalServerError().finish();
    }
    if form.remember.is_some() {
        session.set_profile(common::REMEMBER_ME);
    }
    if let Ok(Some(id)) = session.id() {
        tracing::info!(session = %id, "logged in");
    }
    see_other("/dashboard")
}

async fn dashboard(instance: web::Data<Instance>, session: SessionHandle) -> HttpResponse {
    match user(&session) {
        // The token only for a logged-in page: a 401 starts no session.
        Some(user) => match session.csrf_token() {
            Ok(token) => html(
                StatusCode::OK,
                common::dashboard_page(&user, &token, &session.take_flash(), &instance.0),
            ),
            Err(_) => HttpResponse::InternalServerError().finish(),
        },
        None => {
            let body = common::page(
                "Not logged in",
                "<p id=\"error\">Log in first.</p>",
                &instance.0,
            );
            html(StatusCode::UNAUTHORIZED, body)
        }
    }
}

async fn logout(session: SessionHandle) -> HttpResponse {
    session.destroy();
    session.push_flash(Level::Info, "You are logged out.");
    see_other("/")
}

fn main() -> Result<(), common::Error> {
    common::init_logging();
    let keys = common::keyring()?;
    // Every configuration mistake stops the program here, with the fix.
    let manager =
        SessionManager::<SessionMap>::new(common::session_config()?, keys.handle.clone())?;
    let manager = common::with_legacy(manager, |user| {
        let mut map = SessionMap::default();
        map.insert("user", &user).ok()?;
        Some(map)
    })?;
    let address = common::bind_address()?;
    let instance = common::instance();
    let csrf = common::csrf()?;
    tracing::info!("{instance} listening on http://{address}");
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(Instance(instance.clone())))
                .wrap(CsrfMiddleware::<SessionMap>::new(csrf.clone()))
                .wrap(SessionMiddleware::new(manager.clone()))
                .wrap(DefaultHeaders::new().add(("x-instance", instance.clone())))
                .route("/", web::get().to(home))
                .route("/login", web::post().to(login))
                .route("/dashboard", web::get().to(dashboard))
                .route("/logout", web::post().to(logout))
                .route("/healthz", web::get().to(|| async { "ok" }))
        })
        .bind(address)?
        .run()
        .await
    })?;
    Ok(())
}
