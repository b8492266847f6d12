//! A small actix-web app on actix-session's `CookieSessionStore` (private,
//! the default), as an application would have run before moving to
//! sealed-session: log in, dashboard. For the end-to-end migration flow.
//!
//! Environment: `BIND`, `INSTANCE`, `LEGACY_KEY` (base64 of 64 bytes).

use sealed_session_interop::app as common;

use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::http::header::{ContentType, LOCATION};
use actix_web::{App, HttpResponse, HttpServer, web};

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(body)
}

fn user(session: &Session) -> Option<String> {
    session.get::<String>("user").ok().flatten()
}

async fn home(session: Session) -> HttpResponse {
    html(common::home(user(&session).as_deref(), &common::instance()))
}

async fn login(session: Session, form: web::Form<common::Login>) -> HttpResponse {
    if !form.ok() {
        return HttpResponse::Unauthorized().body("wrong user or password");
    }
    session.renew();
    if session.insert("user", &form.username).is_err() {
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/dashboard"))
        .finish()
}

async fn dashboard(session: Session) -> HttpResponse {
    match user(&session) {
        Some(user) => html(common::dashboard(&user, &common::instance())),
        None => HttpResponse::Unauthorized().body("Not logged in"),
    }
}

fn main() -> std::io::Result<()> {
    let key = Key::from(&common::key_bytes());
    let bind = common::bind();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .wrap(SessionMiddleware::new(
                    CookieSessionStore::default(),
                    key.clone(),
                ))
                .route("/", web::get().to(home))
                .route("/login", web::post().to(login))
                .route("/dashboard", web::get().to(dashboard))
                .route("/healthz", web::get().to(|| async { "ok" }))
        })
        .workers(1)
        .bind(bind)?
        .run()
        .await
    })
}
