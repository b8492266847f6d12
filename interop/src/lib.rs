//! Cookies minted by the peer session crates themselves, and small apps
//! on sealed-session's adapters that migrate them.
//!
//! Every `mint_*` function runs the peer's own code (its middleware or
//! jar) with the same session data: a user id, a role list and a name
//! with non-ASCII characters, and returns the `Set-Cookie` it wrote.

pub mod app;

use std::convert::Infallible;

use axum::response::IntoResponse as _;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, Request, StatusCode};
use sealed_session::migrate::{LegacyConfig, LegacySession};
use sealed_session::{
    CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionHandle,
    SessionManager, SessionMap,
};
use serde::{Deserialize, Serialize};
use tower::ServiceExt as _;

/// The user id every peer stores.
pub const USER_ID: u64 = 42;
/// The roles every peer stores.
pub const ROLES: [&str; 2] = ["admin", "ops"];
/// The name every peer stores: not ASCII.
pub const NAME: &str = "Zoë Ångström, 東京";
/// The sealed cookie's name in every app here.
pub const SEALED: &str = "__Host-session";

/// The session data an application keeps, typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// User id.
    pub id: u64,
    /// Role names.
    pub roles: Vec<String>,
    /// Display name.
    pub name: String,
}

impl User {
    /// The user every peer stores.
    pub fn expected() -> Self {
        Self {
            id: USER_ID,
            roles: ROLES.iter().map(|r| (*r).to_owned()).collect(),
            name: NAME.to_owned(),
        }
    }

    /// What the apps here answer for this user.
    pub fn line(&self) -> String {
        format!("{} [{}] {}", self.id, self.roles.join(","), self.name)
    }
}

/// The JSON string string-shaped peers store (cookie-rs, axum-extra, Rocket).
pub fn user_json() -> String {
    serde_json::to_string(&User::expected()).expect("serializable")
}

/// The mapping of string-shaped sources: the stored JSON.
pub fn map_text(legacy: &LegacySession) -> Option<User> {
    serde_json::from_str(legacy.text()?).ok()
}

/// The mapping of map-shaped sources, typed.
pub fn map_fields(legacy: &LegacySession) -> Option<User> {
    Some(User {
        id: legacy.get("user_id")?,
        roles: legacy.get("roles")?,
        name: legacy.get("name")?,
    })
}

/// What the apps answer for a `SessionMap` session.
pub fn map_line(map: &SessionMap) -> Option<String> {
    let user = User {
        id: u64::try_from(map.get::<i64>("user_id").ok()??).ok()?,
        roles: map.get::<Vec<String>>("roles").ok()??,
        name: map.get::<String>("name").ok()??,
    };
    Some(user.line())
}

/// A `Set-Cookie` header as the peer wrote it.
#[derive(Clone, Debug)]
pub struct Minted {
    /// The whole header.
    pub set_cookie: String,
}

impl Minted {
    fn from_headers<'a>(values: impl IntoIterator<Item = &'a HeaderValue>, name: &str) -> Self {
        let set_cookie = values
            .into_iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("the peer set no `{name}` cookie"))
            .to_owned();
        Self { set_cookie }
    }

    /// `name=value`, as a browser sends it back.
    pub fn pair(&self) -> &str {
        self.set_cookie.split(';').next().unwrap_or_default()
    }

    /// The value as sent back.
    pub fn value(&self) -> &str {
        self.pair().split_once('=').map_or("", |(_, v)| v)
    }

    /// The value of attribute `name` (e.g. `Path`) the peer set, if any.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.set_cookie.split(';').skip(1).find_map(|a| {
            let (k, v) = a.trim().split_once('=')?;
            k.eq_ignore_ascii_case(name).then_some(v)
        })
    }
}

/// cookie-rs `PrivateJar` (or `SignedJar`), written as is (`to_string`).
pub fn mint_cookie_jar(
    key: &cookie::Key,
    name: &str,
    value: &str,
    private: bool,
    encoded: bool,
) -> Minted {
    let mut jar = cookie::CookieJar::new();
    let cookie = cookie::Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .secure(true)
        .http_only(true)
        .build();
    if private {
        jar.private_mut(key).add(cookie);
    } else {
        jar.signed_mut(key).add(cookie);
    }
    let written = jar.delta().next().expect("one cookie");
    let set_cookie = if encoded {
        written.encoded().to_string()
    } else {
        written.to_string()
    };
    Minted { set_cookie }
}

/// axum-extra's `PrivateCookieJar` or `SignedCookieJar`, through its
/// `IntoResponseParts`.
pub fn mint_axum_extra(
    key: &axum_extra::extract::cookie::Key,
    name: &str,
    value: &str,
    private: bool,
) -> Minted {
    use axum_extra::extract::cookie::{Cookie, PrivateCookieJar, SignedCookieJar};
    let cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .secure(true)
        .http_only(true)
        .build();
    let response = if private {
        (PrivateCookieJar::new(key.clone()).add(cookie), "ok").into_response()
    } else {
        (SignedCookieJar::new(key.clone()).add(cookie), "ok").into_response()
    };
    Minted::from_headers(response.headers().get_all(SET_COOKIE), name)
}

/// actix-session's `CookieSessionStore`, through its middleware, on a
/// login request.
pub async fn mint_actix_session(key: &actix_web::cookie::Key, private: bool) -> Minted {
    use actix_session::config::CookieContentSecurity;
    use actix_session::storage::CookieSessionStore;
    use actix_session::{Session, SessionMiddleware};
    use actix_web::{App, HttpResponse, test, web};

    async fn login(session: Session) -> HttpResponse {
        session.insert("user_id", USER_ID).expect("insert");
        session.insert("roles", ROLES).expect("insert");
        session.insert("name", NAME).expect("insert");
        session.renew();
        HttpResponse::Ok().body("logged in")
    }
    let security = if private {
        CookieContentSecurity::Private
    } else {
        CookieContentSecurity::Signed
    };
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_content_security(security)
                    .build(),
            )
            .route("/login", web::post().to(login)),
    )
    .await;
    let response =
        test::call_service(&app, test::TestRequest::post().uri("/login").to_request()).await;
    assert!(response.status().is_success());
    let values: Vec<HeaderValue> = response
        .headers()
        .get_all(actix_web::http::header::SET_COOKIE)
        .filter_map(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        .collect();
    Minted::from_headers(&values, "id")
}

/// tower-sessions with tower-sessions-cookie-store, through its layer, on
/// a login request; `expiry` as configured there.
pub async fn mint_tower_sessions(
    key: &tower_sessions_cookie_store::Key,
    private: bool,
    config: tower_sessions_cookie_store::CookieSessionConfig,
) -> Minted {
    use axum::Router;
    use axum::routing::post;
    use tower_sessions_cookie_store::{CookieSessionManagerLayer, Session};

    async fn login(session: Session) -> &'static str {
        session.insert("user_id", USER_ID).await.expect("insert");
        session.insert("roles", ROLES).await.expect("insert");
        session.insert("name", NAME).await.expect("insert");
        session.cycle_id().await.expect("cycle");
        "logged in"
    }
    let router = Router::new().route("/login", post(login));
    let router = if private {
        router.layer(CookieSessionManagerLayer::private(key.clone()).with_config(config))
    } else {
        router.layer(CookieSessionManagerLayer::signed(key.clone()).with_config(config))
    };
    let request = Request::post("/login")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = router.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    Minted::from_headers(response.headers().get_all(SET_COOKIE), "session")
}

/// A fresh keyring for the sealed cookie.
pub fn keys() -> KeyringHandle {
    KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())))
}

/// The default sealed configuration of the apps here.
pub fn sealed_config() -> SessionConfig {
    SessionConfig::new(CookieConfig::new(SEALED))
}

/// A typed manager migrating `legacy` with `map`.
pub fn user_manager(
    legacy: LegacyConfig,
    map: fn(&LegacySession) -> Option<User>,
) -> SessionManager<User> {
    SessionManager::new(sealed_config(), keys())
        .expect("valid config")
        .with_legacy_cookies(legacy, map)
        .expect("valid legacy config")
}

/// A `SessionMap` manager migrating `legacy` with the built-in mapping.
pub fn map_manager(legacy: LegacyConfig) -> SessionManager<SessionMap> {
    SessionManager::new(sealed_config(), keys())
        .expect("valid config")
        .with_legacy_cookies(legacy, LegacySession::to_session_map)
        .expect("valid legacy config")
}

/// One request's answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Status code.
    pub status: u16,
    /// Body text: the user line, or `anonymous`.
    pub body: String,
    /// The `Set-Cookie` headers.
    pub set_cookie: Vec<String>,
}

impl Exchange {
    /// The `Set-Cookie` for `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookie
            .iter()
            .map(String::as_str)
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// `name=value` of the sealed cookie set, for the next request.
    pub fn sealed_pair(&self) -> String {
        let set = self.cookie(SEALED).expect("the sealed cookie is set");
        set.split(';').next().unwrap_or_default().to_owned()
    }
}

/// What the apps answer: the session's user line or `anonymous`.
async fn whoami_user(session: SessionHandle<User>) -> String {
    session
        .get()
        .map_or_else(|| "anonymous".to_owned(), |u| u.line())
}

async fn whoami_map(session: SessionHandle<SessionMap>) -> String {
    session
        .with(|map| map.and_then(map_line))
        .unwrap_or_else(|| "anonymous".to_owned())
}

async fn logout_user(session: SessionHandle<User>) -> &'static str {
    session.destroy();
    "bye"
}

/// One request to an axum app on sealed-session's tower layer.
pub async fn axum_user(manager: &SessionManager<User>, cookie: &str) -> Exchange {
    use axum::Router;
    use axum::routing::get;
    let router = Router::new()
        .route("/whoami", get(whoami_user))
        .route("/logout", get(logout_user))
        .layer(sealed_session::tower::SessionLayer::new(manager.clone()).direct_tls(true));
    axum_call(router, "/whoami", cookie).await
}

/// One request to an axum app on sealed-session's tower layer, whose
/// session is a `SessionMap`.
pub async fn axum_map(manager: &SessionManager<SessionMap>, cookie: &str) -> Exchange {
    use axum::Router;
    use axum::routing::get;
    let router = Router::new()
        .route("/whoami", get(whoami_map))
        .layer(sealed_session::tower::SessionLayer::new(manager.clone()).direct_tls(true));
    axum_call(router, "/whoami", cookie).await
}

async fn axum_call(router: axum::Router, path: &str, cookie: &str) -> Exchange {
    let mut request = Request::get(path);
    if !cookie.is_empty() {
        request = request.header(
            COOKIE,
            HeaderValue::from_bytes(cookie.as_bytes()).expect("header"),
        );
    }
    let request = request.body(axum::body::Body::empty()).expect("request");
    let response = router
        .oneshot(request)
        .await
        .unwrap_or_else(|e: Infallible| match e {});
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .collect();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    Exchange {
        status,
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
        set_cookie,
    }
}

/// One request to an actix-web app on sealed-session's middleware, whose
/// session is a `SessionMap`.
pub async fn actix_map(manager: &SessionManager<SessionMap>, cookie: &str) -> Exchange {
    use actix_web::{App, HttpResponse, test, web};
    async fn whoami(session: SessionHandle<SessionMap>) -> HttpResponse {
        let line = session
            .with(|map| map.and_then(map_line))
            .unwrap_or_else(|| "anonymous".to_owned());
        HttpResponse::Ok().body(line)
    }
    let app = test::init_service(
        App::new()
            .wrap(sealed_session::actix::SessionMiddleware::new(
                manager.clone(),
            ))
            .route("/whoami", web::get().to(whoami)),
    )
    .await;
    let mut request = test::TestRequest::get().uri("/whoami");
    if !cookie.is_empty() {
        request = request.insert_header((
            actix_web::http::header::COOKIE,
            actix_web::http::header::HeaderValue::from_bytes(cookie.as_bytes()).expect("header"),
        ));
    }
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get_all(actix_web::http::header::SET_COOKIE)
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .collect();
    let body = test::read_body(response).await;
    Exchange {
        status,
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
        set_cookie,
    }
}

/// The removal header the apps here send for a legacy cookie with `Path=/`
/// and no `Domain`.
pub fn removal(name: &str) -> String {
    format!(
        "{name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    )
}
