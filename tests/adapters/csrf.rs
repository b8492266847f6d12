//! CSRF protection through each adapter: every unsafe method against every
//! combination of `Sec-Fetch-Site`, `Origin`, header token and form token,
//! plus the exempt path, another session's token, an oversize form, and a
//! middleware wired outside its session.

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode};
use sealed_session::csrf::CsrfProtection;

use crate::helpers::{self, Kind, Server, bare_client, browser, keyring, manager};

/// The form limit of the test apps: small, so the oversize case is cheap.
const FORM_LIMIT: usize = 4096;

fn protection() -> CsrfProtection {
    CsrfProtection::new()
        .exempt_path("/hooks/")
        .trusted_origin("https://partner.example")
        .expect("origin")
        .form_limit(FORM_LIMIT)
}

async fn start(kind: Kind) -> Server {
    let manager = manager(sealed_session::KeyringHandle::new(keyring(1, 7)));
    match kind {
        #[cfg(feature = "axum")]
        Kind::Axum => axum_app::start(manager, protection()).await,
        #[cfg(feature = "actix-web")]
        Kind::Actix => actix_app::start(manager, protection()),
    }
}

#[cfg(feature = "axum")]
mod axum_app {
    use axum::Router;
    use axum::routing::{get, post};
    use sealed_session::SessionManager;
    use sealed_session::csrf::{CsrfProtection, CsrfToken};
    use sealed_session::tower::{CsrfLayer, SessionLayer};

    use crate::helpers::Server;
    use crate::routes::Account;

    pub(crate) async fn start(manager: SessionManager<Account>, csrf: CsrfProtection) -> Server {
        let echo = |body: String| async move { format!("changed:{body}") };
        let app = Router::new()
            .route(
                "/token",
                get(|token: CsrfToken| async move { token.to_string() }),
            )
            .route(
                "/change",
                get(|| async { "read" })
                    .post(echo)
                    .put(echo)
                    .patch(echo)
                    .delete(echo),
            )
            .route("/hooks/in", post(|| async { "hooked" }))
            .layer(CsrfLayer::<Account>::new(csrf))
            .layer(SessionLayer::new(manager));
        crate::axum_app::serve(app).await
    }

    /// The CSRF layer outside the session layer: a configuration mistake.
    pub(crate) async fn start_misordered(manager: SessionManager<Account>) -> Server {
        let app = Router::new()
            .route("/change", post(|| async { "changed" }))
            .layer(SessionLayer::new(manager))
            .layer(CsrfLayer::<Account>::new(CsrfProtection::new()));
        crate::axum_app::serve(app).await
    }
}

#[cfg(feature = "actix-web")]
mod actix_app {
    use actix_web::{App, web};
    use sealed_session::SessionManager;
    use sealed_session::actix::{CsrfMiddleware, SessionMiddleware};
    use sealed_session::csrf::{CsrfProtection, CsrfToken};

    use crate::helpers::Server;
    use crate::routes::Account;

    async fn echo(body: String) -> String {
        format!("changed:{body}")
    }

    pub(crate) fn start(manager: SessionManager<Account>, csrf: CsrfProtection) -> Server {
        crate::actix_app::serve(move || {
            App::new()
                .route(
                    "/token",
                    web::get().to(|token: CsrfToken| async move { token.to_string() }),
                )
                .route("/change", web::get().to(|| async { "read" }))
                .route("/change", web::post().to(echo))
                .route("/change", web::put().to(echo))
                .route("/change", web::patch().to(echo))
                .route("/change", web::delete().to(echo))
                .route("/hooks/in", web::post().to(|| async { "hooked" }))
                .wrap(CsrfMiddleware::<Account>::new(csrf.clone()))
                .wrap(SessionMiddleware::new(manager.clone()))
        })
    }

    pub(crate) fn start_misordered(manager: SessionManager<Account>) -> Server {
        crate::actix_app::serve(move || {
            App::new()
                .route("/change", web::post().to(|| async { "changed" }))
                .wrap(SessionMiddleware::new(manager.clone()))
                .wrap(CsrfMiddleware::<Account>::new(CsrfProtection::new()))
        })
    }
}

/// A client with a session and a token of it.
async fn session_with_token(server: &Server) -> (Client, String) {
    let client = browser();
    let response = client
        .get(server.url("/token"))
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        helpers::set_cookies(&response).len(),
        1,
        "the token starts a session"
    );
    let token = response.text().await.expect("body");
    assert_eq!(token.len(), 86);
    (client, token)
}

#[derive(Clone, Copy, Debug)]
enum Token {
    None,
    Header,
    Form,
    WrongHeader,
    WrongForm,
}

async fn send(
    client: &Client,
    server: &Server,
    method: Method,
    path: &str,
    origin_headers: &[(&'static str, &str)],
    token: Token,
    valid: &str,
) -> (StatusCode, String) {
    let mut headers = HeaderMap::new();
    for (name, value) in origin_headers {
        headers.insert(*name, HeaderValue::from_str(value).expect("header"));
    }
    let forged = "A".repeat(86);
    let (header, form) = match token {
        Token::None => (None, None),
        Token::Header => (Some(valid), None),
        Token::WrongHeader => (Some(forged.as_str()), None),
        Token::Form => (None, Some(valid)),
        Token::WrongForm => (None, Some(forged.as_str())),
    };
    if let Some(token) = header {
        headers.insert("x-csrf-token", HeaderValue::from_str(token).expect("token"));
    }
    let body = match form {
        Some(token) => {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            format!("note=hello+there&csrf_token={token}")
        }
        None => "note".to_owned(),
    };
    let checked = method != Method::GET && !path.starts_with("/hooks/");
    let response = client
        .request(method, server.url(path))
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("request");
    let vary: Vec<&str> = response
        .headers()
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(
        vary.contains(&"Origin, Sec-Fetch-Site"),
        checked,
        "Vary on {path}: {vary:?}"
    );
    let status = response.status();
    (status, response.text().await.expect("body"))
}

/// Origin headers to send, where the token travels, the expected status.
type Case<'a> = (Vec<(&'static str, &'a str)>, Token, StatusCode);

pub(crate) async fn unsafe_methods_need_a_same_origin_and_the_session_token(kind: Kind) {
    let server = start(kind).await;
    let (client, token) = session_with_token(&server).await;
    let own = server.base.clone();
    let ok = StatusCode::OK;
    let no = StatusCode::FORBIDDEN;
    let cases: Vec<Case<'_>> = vec![
        (vec![], Token::None, no),
        (vec![], Token::Header, ok),
        (vec![], Token::Form, ok),
        (vec![], Token::WrongHeader, no),
        (vec![], Token::WrongForm, no),
        (vec![("sec-fetch-site", "same-origin")], Token::Header, ok),
        (vec![("sec-fetch-site", "same-origin")], Token::Form, ok),
        (vec![("sec-fetch-site", "same-origin")], Token::None, no),
        (vec![("sec-fetch-site", "none")], Token::Header, ok),
        (vec![("sec-fetch-site", "same-site")], Token::Header, no),
        (vec![("sec-fetch-site", "cross-site")], Token::Header, no),
        (vec![("sec-fetch-site", "cross-site")], Token::Form, no),
        (
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://partner.example"),
            ],
            Token::Header,
            ok,
        ),
        (
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://partner.example"),
            ],
            Token::None,
            no,
        ),
        (vec![("origin", own.as_str())], Token::Header, ok),
        (vec![("origin", own.as_str())], Token::Form, ok),
        (vec![("origin", own.as_str())], Token::None, no),
        (vec![("origin", "http://evil.example")], Token::Header, no),
        (vec![("origin", "null")], Token::Form, no),
        (
            vec![("origin", "https://partner.example")],
            Token::Header,
            ok,
        ),
    ];
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        for (origin, token_kind, expected) in &cases {
            let (status, body) = send(
                &client,
                &server,
                method.clone(),
                "/change",
                origin,
                *token_kind,
                &token,
            )
            .await;
            assert_eq!(
                status, *expected,
                "{kind:?} {method} {origin:?} {token_kind:?}"
            );
            if status == no {
                assert_eq!(body, "", "a refusal says nothing");
            } else if matches!(token_kind, Token::Form) {
                assert_eq!(
                    body,
                    format!("changed:note=hello+there&csrf_token={token}"),
                    "the form reaches the handler intact"
                );
            }
        }
    }
    // Safe methods and the exempt path are not checked.
    for (method, path, expected) in [
        (Method::GET, "/change", "read"),
        (Method::POST, "/hooks/in", "hooked"),
    ] {
        let (status, body) = send(
            &client,
            &server,
            method,
            path,
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ],
            Token::None,
            &token,
        )
        .await;
        assert_eq!((status, body.as_str()), (ok, expected), "{kind:?} {path}");
    }
    assert!(helpers::log_contains("request refused by CSRF protection"));
}

pub(crate) async fn another_sessions_token_and_sessionless_requests_are_refused(kind: Kind) {
    let server = start(kind).await;
    let (_, mallorys_token) = session_with_token(&server).await;
    let (alice, _) = session_with_token(&server).await;
    // Alice's own session, and no session at all: mallory's token is no
    // token of either.
    for client in [&alice, &bare_client()] {
        let (status, _) = send(
            client,
            &server,
            Method::POST,
            "/change",
            &[],
            Token::Header,
            &mallorys_token,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind:?}");
    }
}

pub(crate) async fn oversize_forms_are_refused(kind: Kind) {
    let server = start(kind).await;
    let (client, token) = session_with_token(&server).await;
    let body = format!("csrf_token={token}&pad={}", "x".repeat(FORM_LIMIT));
    let response = client
        .post(server.url("/change"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{kind:?}");
}

pub(crate) async fn a_csrf_middleware_outside_its_session_is_a_bare_500(kind: Kind) {
    let manager = manager(sealed_session::KeyringHandle::new(keyring(1, 7)));
    let server = match kind {
        #[cfg(feature = "axum")]
        Kind::Axum => axum_app::start_misordered(manager).await,
        #[cfg(feature = "actix-web")]
        Kind::Actix => actix_app::start_misordered(manager),
    };
    let response = bare_client()
        .post(server.url("/change"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "{kind:?}"
    );
    assert_eq!(response.text().await.expect("body"), "");
    assert!(helpers::log_contains(
        "the CSRF middleware found no session"
    ));
}
