//! Flow 1: a user logs in through the form behind nginx, stays logged in
//! across a reload and either instance, gets a cookie with the secure
//! defaults (a browser-session cookie: "remember me" was not ticked), and
//! logs out, which a flash message confirms.

use fantoccini::Client;

use super::Ctx;
use crate::browser::{
    expect_logged_in, expect_logged_out_page, fetch, flash, log_in, log_out, session_cookie,
    text_of,
};
use crate::check::{Result, WAIT, ensure, wait_for};
use crate::http::COOKIE;
use crate::keys::key_id;

pub(super) async fn run(cx: &Ctx, client: &Client) -> Result<()> {
    let base = &cx.env.base;
    client.goto(&format!("{base}/")).await?;
    client.delete_all_cookies().await?;
    log_in(client, base).await?;
    let served = expect_logged_in(client, "#user alice on the dashboard").await?;
    cx.pass(format!(
        "logged in through the form at {base}/; landed on /dashboard showing alice (served by {served})"
    ));

    client.refresh().await?;
    let served = expect_logged_in(client, "#user alice after a reload").await?;
    client.goto(&format!("{base}/")).await?;
    let status = wait_for("\"Logged in as alice\" on /", WAIT, || async {
        let status = text_of(client, "status").await?.unwrap_or_default();
        Ok(status.starts_with("Logged in as alice").then_some(status))
    })
    .await?;
    cx.pass(format!(
        "reload: still logged in (served by {served}); / says {status:?}"
    ));

    let cookie = session_cookie(client)
        .await?
        .ok_or("the browser's cookie store has no __Host-session after login")?;
    ensure!(
        cookie.secure() == Some(true),
        "cookie not Secure: {cookie:?}"
    );
    ensure!(
        cookie.http_only() == Some(true),
        "cookie not HttpOnly: {cookie:?}"
    );
    let same_site = cookie.same_site().map(|s| s.to_string());
    ensure!(
        same_site.as_deref() == Some("Lax"),
        "cookie SameSite is {same_site:?}, expected Lax"
    );
    ensure!(
        cookie.path() == Some("/"),
        "cookie path is {:?}, expected /",
        cookie.path()
    );
    ensure!(
        cookie.expires_datetime().is_none(),
        "cookie expires at {:?}: without \"remember me\" it should be a browser-session cookie",
        cookie.expires_datetime()
    );
    let id = key_id(cookie.value())?;
    ensure!(id == 1, "cookie sealed with key {id}, expected 1");
    let visible = client.execute("return document.cookie", vec![]).await?;
    ensure!(
        !visible.as_str().unwrap_or_default().contains(COOKIE),
        "the session cookie is visible to page JavaScript: {visible}"
    );
    cx.pass(format!(
        "browser cookie store: name {COOKIE}, secure, httpOnly (absent from document.cookie), sameSite Lax, path /, \
         no expiry (a browser-session cookie, the default profile), format version 1, key id {id}, {} chars",
        cookie.value().len()
    ));

    client.goto(&format!("{base}/dashboard")).await?;
    expect_logged_in(client, "the dashboard before logging out").await?;
    log_out(client).await?;
    expect_logged_out_page(client, "\"Not logged in.\" after logging out").await?;
    let message = flash(client).await?.unwrap_or_default();
    ensure!(
        message.contains("You are logged out."),
        "no logout flash message on /: {message:?}"
    );
    // What the browser holds now is a new anonymous session (the login
    // form's CSRF secret), never the logged-in one.
    let after_logout = session_cookie(client).await?.map(|c| c.value().to_owned());
    ensure!(
        after_logout.as_deref() != Some(cookie.value()),
        "the browser still holds the logged-in __Host-session after logging out"
    );
    client.refresh().await?;
    expect_logged_out_page(client, "\"Not logged in.\" after a reload").await?;
    ensure!(
        flash(client).await?.is_none(),
        "the logout message showed twice"
    );
    let after = fetch(client, "GET", "/dashboard", None).await?;
    ensure!(
        after.status == 401,
        "GET /dashboard after logout answered {}, expected 401",
        after.status
    );
    ensure!(
        after.body.contains("Not logged in"),
        "401 body does not say Not logged in"
    );
    client.goto(&format!("{base}/dashboard")).await?;
    ensure!(
        text_of(client, "user").await?.is_none(),
        "/dashboard still shows a user after logout"
    );
    cx.pass(
        "logout: back on / showing \"Not logged in.\" and the flash \"You are logged out.\" (once: gone after a reload), \
         the logged-in cookie replaced, fetch /dashboard -> 401, /dashboard page shows no user",
    );
    Ok(())
}
