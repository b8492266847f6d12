//! The axum example's `/metrics`: the example's own router, with the
//! Prometheus recorder it installs, shows the library's counters after a
//! login, a refused cookie and a logout.

// The example, compiled as a module of this test (its `main` unused).
#[allow(dead_code)]
#[path = "../examples/login_axum.rs"]
mod login_axum;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sealed_session::{
    CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager,
};
use tower::ServiceExt as _;

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Vec<String>, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        cookies,
        String::from_utf8(body.to_vec()).expect("utf-8"),
    )
}

/// The CSRF token of a page's first form.
fn csrf_token(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = page.find(marker).expect("a form with a token") + marker.len();
    page[at..].split('"').next().expect("token").to_owned()
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn metrics_page_shows_the_session_counters() {
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(5, Key::generate())));
    let manager =
        SessionManager::new(SessionConfig::new(CookieConfig::default()), keys).expect("manager");
    let app = login_axum::with_metrics(login_axum::router(
        manager,
        sealed_session::csrf::CsrfProtection::new(),
        "test".into(),
    ))
    .expect("the only recorder of this process");

    // The login form: its CSRF token belongs to an anonymous session.
    let (status, cookies, page) = send(&app, get("/", None)).await;
    assert_eq!(status, StatusCode::OK);
    let anonymous = cookies[0].split(';').next().expect("pair").to_owned();
    let login = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &anonymous)
        .body(Body::from(format!(
            "csrf_token={}&username=alice&password=wonderland",
            csrf_token(&page)
        )))
        .expect("request");
    let (status, cookies, _) = send(&app, login).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pair = cookies[0].split(';').next().expect("pair").to_owned();
    let (status, cookies, body) = send(&app, get("/dashboard", Some(&pair))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The dashboard's token drew the logged-in session's CSRF secret.
    let pair = cookies[0].split(';').next().expect("pair").to_owned();
    let (status, _, _) = send(&app, get("/dashboard", Some("__Host-session=forged"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let logout = Request::post("/logout")
        .header(header::COOKIE, &pair)
        .header("x-csrf-token", csrf_token(&body))
        .body(Body::empty())
        .expect("request");
    let (status, _, _) = send(&app, logout).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, _, text) = send(&app, get("/metrics", None)).await;
    assert_eq!(status, StatusCode::OK);
    // Created: the login form's anonymous session, the login, the
    // anonymous session holding the logout message. Re-sealed: the
    // dashboard's CSRF secret. Destroyed: the logout.
    for line in [
        "sealed_session_sessions_created_total 3",
        "sealed_session_sessions_resealed_total 1",
        "sealed_session_sessions_destroyed_total 1",
        "sealed_session_cookies_rejected_total{kind=\"malformed\"} 1",
        "sealed_session_key_seals_total{key_id=\"5\"} 4",
        "# HELP sealed_session_sessions_created_total",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
}
