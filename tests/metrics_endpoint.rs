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
    let app = login_axum::with_metrics(login_axum::router(manager, "test".into()))
        .expect("the only recorder of this process");

    let login = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("username=alice&password=wonderland"))
        .expect("request");
    let (status, cookies, _) = send(&app, login).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pair = cookies[0].split(';').next().expect("pair").to_owned();
    let (status, _, body) = send(&app, get("/dashboard", Some(&pair))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = send(&app, get("/dashboard", Some("__Host-session=forged"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let logout = Request::post("/logout")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .expect("request");
    send(&app, logout).await;

    let (status, _, text) = send(&app, get("/metrics", None)).await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        "sealed_session_sessions_created_total 1",
        "sealed_session_sessions_destroyed_total 1",
        "sealed_session_cookies_rejected_total{kind=\"malformed\"} 1",
        "sealed_session_key_seals_total{key_id=\"5\"} 1",
        "# HELP sealed_session_sessions_created_total",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
}
