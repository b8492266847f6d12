//! The server side of `scripts/throughput.sh`: one small app, served by one
//! framework with one session variant, on one thread.
//!
//! ```text
//! throughput-server --framework axum|actix \
//!     --variant baseline|plain-cookie|sealed|tower-sessions|private-jar|actix-session \
//!     --bind 127.0.0.1:0
//! ```
//!
//! It prints `listening on ADDR` once bound, then serves until killed.
//!
//! Every variant answers the same three routes with the same bodies:
//!
//! - `POST /login` (form `user=NAME`) stores `Account { user: NAME, visits: 0 }`;
//! - `GET /` reads the session and answers `user=NAME visits=N`;
//! - `POST /visit` reads the session, adds one visit, stores it, and answers
//!   like `GET /`.
//!
//! Without a session, `GET /` and `POST /visit` answer `anonymous` (still
//! `200`, so the load script counts missing sessions apart from errors).
//! The baseline does the same work on a fixed account and keeps no session.
//!
//! `plain-cookie` is the floor of any cookie session: the account travels
//! in the clear in a cookie as long as a sealed one, with the same
//! attributes and the same caching headers (`Vary: Cookie`, `Cache-Control:
//! private` or `no-store`), but nothing is encrypted, authenticated or
//! checked. What a real session costs beyond it is the session layer's own
//! work; what it costs beyond the baseline is moving the cookie at all.
//!
//! Threads: axum runs on a tokio current-thread runtime; actix-web runs one
//! worker (plus its accept thread, idle under keep-alive). Both set
//! `TCP_NODELAY` on accepted connections.

use std::error::Error;
use std::io::Write as _;
use std::net::TcpListener;

use serde::{Deserialize, Serialize};

/// The session data, the same for every variant.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Account {
    user: String,
    visits: u64,
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

/// The response body for a session.
fn render(account: &Account) -> String {
    format!("user={} visits={}\n", account.user, account.visits)
}

/// The response body when the request carried no (valid) session.
const ANONYMOUS: &str = "anonymous\n";

/// The baseline's stand-in for a session: built fresh on every request,
/// as a session's data would be decoded or cloned.
fn baseline_account() -> Account {
    Account {
        user: "alice".to_owned(),
        visits: 0,
    }
}

/// The `plain-cookie` variant's cookie: the account in the clear.
mod plain {
    use super::Account;

    /// The same name as the sealed variant's cookie.
    pub(crate) const NAME: &str = "__Host-session";

    /// Characters of a sealed cookie value for this app's accounts (XAES-256-GCM,
    /// default lifetimes): the plain value is padded to the same length.
    const VALUE_LEN: usize = 130;

    /// `NAME=user.visits.AAAA…`: the account, padded to a sealed value's length.
    pub(crate) fn set_cookie(account: &Account, expires: &str) -> String {
        let mut value = format!("{}.{}.", account.user, account.visits);
        let pad = VALUE_LEN.saturating_sub(value.len());
        value.extend(std::iter::repeat_n('A', pad));
        format!(
            "{NAME}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=1800; Expires={expires}"
        )
    }

    /// An `Expires` date as long as the sealed variant's; fixed, as the floor
    /// leaves out the clock.
    pub(crate) const EXPIRES: &str = "Fri, 27 Nov 2026 20:19:22 GMT";

    /// The account in the request's `Cookie` fields, if any.
    pub(crate) fn read<'a>(fields: impl Iterator<Item = &'a [u8]>) -> Option<Account> {
        for field in fields {
            let Ok(text) = std::str::from_utf8(field) else {
                continue;
            };
            for pair in text.split(';') {
                let Some((key, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if key != NAME {
                    continue;
                }
                let mut parts = value.splitn(3, '.');
                let user = parts.next()?.to_owned();
                let visits = parts.next()?.parse().ok()?;
                return Some(Account { user, visits });
            }
        }
        None
    }
}

/// Key of the account inside map-shaped sessions (tower-sessions,
/// actix-session).
const MAP_KEY: &str = "account";

/// Cookie name of the hand-made private-jar variant.
const JAR_COOKIE: &str = "session";

/// A sealed-session manager with the defaults (cookie `__Host-session`,
/// Secure, HttpOnly, SameSite=Lax, XAES-256-GCM, 12 h / 30 min lifetimes).
fn sealed_manager() -> Result<sealed_session::SessionManager<Account>, sealed_session::ConfigError>
{
    use sealed_session::{
        CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager,
    };
    SessionManager::new(
        SessionConfig::new(CookieConfig::default()),
        KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate()))),
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framework {
    Axum,
    Actix,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Baseline,
    PlainCookie,
    Sealed,
    TowerSessions,
    PrivateJar,
    ActixSession,
}

struct Args {
    framework: Framework,
    variant: Variant,
    bind: String,
}

const USAGE: &str = "usage: throughput-server --framework axum|actix \
                     --variant baseline|plain-cookie|sealed|tower-sessions|private-jar|actix-session \
                     --bind ADDR";

fn parse_args() -> Result<Args, String> {
    let mut framework = None;
    let mut variant = None;
    let mut bind = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--framework" => {
                framework = Some(match value.as_str() {
                    "axum" => Framework::Axum,
                    "actix" => Framework::Actix,
                    other => return Err(format!("unknown framework {other:?}\n{USAGE}")),
                });
            }
            "--variant" => {
                variant = Some(match value.as_str() {
                    "baseline" => Variant::Baseline,
                    "plain-cookie" => Variant::PlainCookie,
                    "sealed" => Variant::Sealed,
                    "tower-sessions" => Variant::TowerSessions,
                    "private-jar" => Variant::PrivateJar,
                    "actix-session" => Variant::ActixSession,
                    other => return Err(format!("unknown variant {other:?}\n{USAGE}")),
                });
            }
            "--bind" => bind = Some(value),
            other => return Err(format!("unknown flag {other:?}\n{USAGE}")),
        }
    }
    let (Some(framework), Some(variant), Some(bind)) = (framework, variant, bind) else {
        return Err(USAGE.to_owned());
    };
    let supported = match framework {
        Framework::Axum => matches!(
            variant,
            Variant::Baseline
                | Variant::PlainCookie
                | Variant::Sealed
                | Variant::TowerSessions
                | Variant::PrivateJar
        ),
        Framework::Actix => matches!(
            variant,
            Variant::Baseline | Variant::PlainCookie | Variant::Sealed | Variant::ActixSession
        ),
    };
    if !supported {
        return Err(format!("{variant:?} is not a variant for {framework:?}"));
    }
    Ok(Args {
        framework,
        variant,
        bind,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(&args.bind)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {address}")?;
    stdout.flush()?;
    drop(stdout);
    match args.framework {
        Framework::Axum => axum_app::run(args.variant, listener),
        Framework::Actix => actix_app::run(args.variant, listener),
    }
}

mod axum_app {
    use std::error::Error;

    use axum::Router;
    use axum::extract::Form;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use axum::serve::ListenerExt as _;

    use super::{
        ANONYMOUS, Account, JAR_COOKIE, Login, MAP_KEY, Variant, baseline_account, render,
        sealed_manager,
    };

    pub(crate) fn run(
        variant: Variant,
        listener: std::net::TcpListener,
    ) -> Result<(), Box<dyn Error>> {
        let app = match variant {
            Variant::Baseline => baseline::router(),
            Variant::PlainCookie => plain_cookie::router(),
            Variant::Sealed => sealed::router()?,
            Variant::TowerSessions => tower_sessions::router(),
            Variant::PrivateJar => private_jar::router(),
            Variant::ActixSession => unreachable!("checked by parse_args"),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await
        })?;
        Ok(())
    }

    mod baseline {
        use super::*;

        pub(crate) fn router() -> Router {
            Router::new()
                .route("/login", post(login))
                .route("/", get(read))
                .route("/visit", post(write))
        }

        async fn login(Form(login): Form<Login>) -> String {
            render(&Account {
                user: login.user,
                visits: 0,
            })
        }

        async fn read() -> String {
            render(&baseline_account())
        }

        async fn write() -> String {
            let mut account = baseline_account();
            account.visits += 1;
            render(&account)
        }
    }

    mod plain_cookie {
        use axum::http::HeaderMap;
        use axum::http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};

        use super::super::plain;
        use super::*;

        pub(crate) fn router() -> Router {
            Router::new()
                .route("/login", post(login))
                .route("/", get(read))
                .route("/visit", post(write))
        }

        fn account(headers: &HeaderMap) -> Option<Account> {
            plain::read(headers.get_all(COOKIE).iter().map(|v| v.as_bytes()))
        }

        fn stored(account: &Account) -> Response {
            (
                [
                    (SET_COOKIE, plain::set_cookie(account, plain::EXPIRES)),
                    (CACHE_CONTROL, "no-store".to_owned()),
                    (VARY, "Cookie".to_owned()),
                ],
                render(account),
            )
                .into_response()
        }

        async fn login(Form(login): Form<Login>) -> Response {
            stored(&Account {
                user: login.user,
                visits: 0,
            })
        }

        async fn read(headers: HeaderMap) -> Response {
            let body = account(&headers).map_or_else(|| ANONYMOUS.to_owned(), |a| render(&a));
            ([(CACHE_CONTROL, "private"), (VARY, "Cookie")], body).into_response()
        }

        async fn write(headers: HeaderMap) -> Response {
            let Some(mut account) = account(&headers) else {
                return ANONYMOUS.into_response();
            };
            account.visits += 1;
            stored(&account)
        }
    }

    mod sealed {
        use sealed_session::SessionHandle;
        use sealed_session::tower::SessionLayer;

        use super::*;

        pub(crate) fn router() -> Result<Router, sealed_session::ConfigError> {
            Ok(Router::new()
                .route("/login", post(login))
                .route("/", get(read))
                .route("/visit", post(write))
                .layer(SessionLayer::new(sealed_manager()?)))
        }

        async fn login(session: SessionHandle<Account>, Form(login): Form<Login>) -> String {
            let account = Account {
                user: login.user,
                visits: 0,
            };
            let body = render(&account);
            session.set(account);
            body
        }

        async fn read(session: SessionHandle<Account>) -> String {
            match session.get() {
                Some(account) => render(&account),
                None => ANONYMOUS.to_owned(),
            }
        }

        async fn write(session: SessionHandle<Account>) -> String {
            session
                .update(|account| {
                    account.visits += 1;
                    render(account)
                })
                .unwrap_or_else(|| ANONYMOUS.to_owned())
        }
    }

    mod tower_sessions {
        use tower_sessions_cookie_store::{CookieSessionManagerLayer, Key, Session};

        use super::*;

        /// `tower-sessions-cookie-store` in private mode: the session
        /// record (id, expiry, data map) as JSON in a `cookie` private
        /// (AES-256-GCM) cookie, through `tower-cookies`.
        pub(crate) fn router() -> Router {
            Router::new()
                .route("/login", post(login))
                .route("/", get(read))
                .route("/visit", post(write))
                .layer(CookieSessionManagerLayer::private(Key::generate()))
        }

        async fn login(session: Session, Form(login): Form<Login>) -> Result<String, StatusCode> {
            let account = Account {
                user: login.user,
                visits: 0,
            };
            let body = render(&account);
            session
                .insert(MAP_KEY, account)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            Ok(body)
        }

        async fn read(session: Session) -> Result<String, StatusCode> {
            match session.get::<Account>(MAP_KEY).await {
                Ok(Some(account)) => Ok(render(&account)),
                Ok(None) => Ok(ANONYMOUS.to_owned()),
                Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
            }
        }

        async fn write(session: Session) -> Result<String, StatusCode> {
            let Some(mut account) = session
                .get::<Account>(MAP_KEY)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
            else {
                return Ok(ANONYMOUS.to_owned());
            };
            account.visits += 1;
            let body = render(&account);
            session
                .insert(MAP_KEY, account)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            Ok(body)
        }
    }

    mod private_jar {
        use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};

        use super::*;

        /// The account as JSON in an axum-extra private (AES-256-GCM)
        /// cookie, by hand: no expiry inside, no session id.
        pub(crate) fn router() -> Router {
            Router::new()
                .route("/login", post(login))
                .route("/", get(read))
                .route("/visit", post(write))
                .with_state(Key::generate())
        }

        fn account(jar: &PrivateCookieJar) -> Option<Account> {
            let cookie = jar.get(JAR_COOKIE)?;
            serde_json::from_str(cookie.value()).ok()
        }

        fn store(jar: PrivateCookieJar, account: &Account) -> Result<PrivateCookieJar, StatusCode> {
            let value =
                serde_json::to_string(account).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            Ok(jar.add(
                Cookie::build((JAR_COOKIE, value))
                    .path("/")
                    .secure(true)
                    .http_only(true)
                    .same_site(SameSite::Lax)
                    .build(),
            ))
        }

        async fn login(
            jar: PrivateCookieJar,
            Form(login): Form<Login>,
        ) -> Result<Response, StatusCode> {
            let account = Account {
                user: login.user,
                visits: 0,
            };
            let body = render(&account);
            Ok((store(jar, &account)?, body).into_response())
        }

        async fn read(jar: PrivateCookieJar) -> String {
            match account(&jar) {
                Some(account) => render(&account),
                None => ANONYMOUS.to_owned(),
            }
        }

        async fn write(jar: PrivateCookieJar) -> Result<Response, StatusCode> {
            let Some(mut account) = account(&jar) else {
                return Ok(ANONYMOUS.into_response());
            };
            account.visits += 1;
            let body = render(&account);
            Ok((store(jar, &account)?, body).into_response())
        }
    }
}

mod actix_app {
    use std::error::Error;

    use actix_web::{App, HttpServer, web};

    use super::{
        ANONYMOUS, Account, Login, MAP_KEY, Variant, baseline_account, render, sealed_manager,
    };

    /// Serves `app` (an `App` expression) with one worker on `listener`.
    macro_rules! serve {
        ($listener:expr, $app:expr) => {
            HttpServer::new($app)
                .workers(1)
                .tcp_nodelay(true)
                .listen($listener)?
                .run()
                .await
        };
    }

    pub(crate) fn run(
        variant: Variant,
        listener: std::net::TcpListener,
    ) -> Result<(), Box<dyn Error>> {
        let system = actix_web::rt::System::new();
        match variant {
            Variant::Baseline => system.block_on(async move {
                serve!(listener, || {
                    App::new()
                        .route("/login", web::post().to(baseline::login))
                        .route("/", web::get().to(baseline::read))
                        .route("/visit", web::post().to(baseline::write))
                })
            })?,
            Variant::PlainCookie => system.block_on(async move {
                serve!(listener, || {
                    App::new()
                        .route("/login", web::post().to(plain_cookie::login))
                        .route("/", web::get().to(plain_cookie::read))
                        .route("/visit", web::post().to(plain_cookie::write))
                })
            })?,
            Variant::Sealed => {
                let manager = sealed_manager()?;
                system.block_on(async move {
                    serve!(listener, move || {
                        App::new()
                            .wrap(sealed_session::actix::SessionMiddleware::new(
                                manager.clone(),
                            ))
                            .route("/login", web::post().to(sealed::login))
                            .route("/", web::get().to(sealed::read))
                            .route("/visit", web::post().to(sealed::write))
                    })
                })?;
            }
            Variant::ActixSession => {
                let key = actix_web::cookie::Key::generate();
                system.block_on(async move {
                    serve!(listener, move || {
                        App::new()
                            .wrap(actix_session::SessionMiddleware::new(
                                actix_session::storage::CookieSessionStore::default(),
                                key.clone(),
                            ))
                            .route("/login", web::post().to(actix_session_variant::login))
                            .route("/", web::get().to(actix_session_variant::read))
                            .route("/visit", web::post().to(actix_session_variant::write))
                    })
                })?;
            }
            Variant::TowerSessions | Variant::PrivateJar => unreachable!("checked by parse_args"),
        }
        Ok(())
    }

    mod baseline {
        use super::*;

        pub(crate) async fn login(login: web::Form<Login>) -> String {
            render(&Account {
                user: login.into_inner().user,
                visits: 0,
            })
        }

        pub(crate) async fn read() -> String {
            render(&baseline_account())
        }

        pub(crate) async fn write() -> String {
            let mut account = baseline_account();
            account.visits += 1;
            render(&account)
        }
    }

    mod sealed {
        use sealed_session::SessionHandle;

        use super::*;

        pub(crate) async fn login(
            session: SessionHandle<Account>,
            login: web::Form<Login>,
        ) -> String {
            let account = Account {
                user: login.into_inner().user,
                visits: 0,
            };
            let body = render(&account);
            session.set(account);
            body
        }

        pub(crate) async fn read(session: SessionHandle<Account>) -> String {
            match session.get() {
                Some(account) => render(&account),
                None => ANONYMOUS.to_owned(),
            }
        }

        pub(crate) async fn write(session: SessionHandle<Account>) -> String {
            session
                .update(|account| {
                    account.visits += 1;
                    render(account)
                })
                .unwrap_or_else(|| ANONYMOUS.to_owned())
        }
    }

    mod plain_cookie {
        use actix_web::http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
        use actix_web::{HttpRequest, HttpResponse};

        use super::super::plain;
        use super::*;

        /// What actix-web's `String` responder sends, as the other variants do.
        const TEXT: &str = "text/plain; charset=utf-8";

        fn account(request: &HttpRequest) -> Option<Account> {
            plain::read(request.headers().get_all(COOKIE).map(|v| v.as_bytes()))
        }

        fn stored(account: &Account) -> HttpResponse {
            HttpResponse::Ok()
                .insert_header((SET_COOKIE, plain::set_cookie(account, plain::EXPIRES)))
                .insert_header((CACHE_CONTROL, "no-store"))
                .insert_header((VARY, "Cookie"))
                .content_type(TEXT)
                .body(render(account))
        }

        pub(crate) async fn login(login: web::Form<Login>) -> HttpResponse {
            stored(&Account {
                user: login.into_inner().user,
                visits: 0,
            })
        }

        pub(crate) async fn read(request: HttpRequest) -> HttpResponse {
            let body = account(&request).map_or_else(|| ANONYMOUS.to_owned(), |a| render(&a));
            HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "private"))
                .insert_header((VARY, "Cookie"))
                .content_type(TEXT)
                .body(body)
        }

        pub(crate) async fn write(request: HttpRequest) -> HttpResponse {
            let Some(mut account) = account(&request) else {
                return HttpResponse::Ok().content_type(TEXT).body(ANONYMOUS);
            };
            account.visits += 1;
            stored(&account)
        }
    }

    mod actix_session_variant {
        use actix_session::Session;

        use super::*;

        /// `actix-session` with `CookieSessionStore` and its default
        /// content security (private: AES-256-GCM through `cookie`); the
        /// state is a map of JSON strings, itself JSON in the cookie.
        pub(crate) async fn login(
            session: Session,
            login: web::Form<Login>,
        ) -> actix_web::Result<String> {
            let account = Account {
                user: login.into_inner().user,
                visits: 0,
            };
            let body = render(&account);
            session.insert(MAP_KEY, account)?;
            Ok(body)
        }

        pub(crate) async fn read(session: Session) -> actix_web::Result<String> {
            Ok(match session.get::<Account>(MAP_KEY)? {
                Some(account) => render(&account),
                None => ANONYMOUS.to_owned(),
            })
        }

        pub(crate) async fn write(session: Session) -> actix_web::Result<String> {
            let Some(mut account) = session.get::<Account>(MAP_KEY)? else {
                return Ok(ANONYMOUS.to_owned());
            };
            account.visits += 1;
            let body = render(&account);
            session.insert(MAP_KEY, account)?;
            Ok(body)
        }
    }
}
