//! Flow 1b: a wrong password comes back as a flash message shown once; a
//! login with "remember me" gets a persistent cookie with the long
//! profile's expiry, and the anonymous session after logging out is a
//! browser-session cookie again.

use std::time::Duration;

use fantoccini::Client;

use super::Ctx;
use crate::browser::{
    expect_logged_in, expect_logged_out_page, flash, log_out, login_form_with, path_is,
    session_cookie,
};
use crate::check::{Result, WAIT, ensure, now_unix, wait_for};
use crate::http::PASSWORD;

/// The "remember me" profile's idle limit, which comes before its
/// absolute one and so sets the cookie's expiry.
const REMEMBER_IDLE: Duration = Duration::from_secs(7 * 86_400);

pub(super) async fn run(cx: &Ctx, client: &Client) -> Result<()> {
    let base = &cx.env.base;
    client.goto(&format!("{base}/")).await?;
    client.delete_all_cookies().await?;

    login_form_with(client, base, "not the password", false).await?;
    let message = wait_for("the wrong-password flash on /", WAIT, || async {
        Ok(flash(client)
            .await?
            .filter(|m| m.contains("Wrong user name or password.")))
    })
    .await?;
    expect_logged_out_page(client, "\"Not logged in.\" after a wrong password").await?;
    client.refresh().await?;
    expect_logged_out_page(client, "the login form after a reload").await?;
    ensure!(
        flash(client).await?.is_none(),
        "the wrong-password message showed twice"
    );
    cx.pass(format!(
        "wrong password: redirected to / with the flash {message:?}, gone after a reload"
    ));

    login_form_with(client, base, PASSWORD, true).await?;
    wait_for(
        "the dashboard after logging in with \"remember me\"",
        WAIT,
        || path_is(client, "/dashboard"),
    )
    .await?;
    let served = expect_logged_in(client, "#user alice, remembered").await?;
    let cookie = session_cookie(client)
        .await?
        .ok_or("no session cookie after logging in with \"remember me\"")?;
    let expiry = cookie
        .expires_datetime()
        .ok_or("the remembered cookie has no expiry: it is a browser-session cookie")?
        .unix_timestamp();
    let ahead = expiry - now_unix();
    let idle = REMEMBER_IDLE.as_secs() as i64;
    ensure!(
        ahead > idle - 120 && ahead <= idle + 5,
        "the remembered cookie expires {ahead}s ahead, expected about {idle}s"
    );
    client.refresh().await?;
    expect_logged_in(client, "#user alice after a reload, remembered").await?;
    let refreshed = session_cookie(client)
        .await?
        .and_then(|c| c.expires_datetime())
        .map(|t| t.unix_timestamp() - now_unix());
    ensure!(
        refreshed.is_some_and(|ahead| ahead > idle - 120),
        "the remembered cookie lost its expiry on a later response: {refreshed:?}"
    );
    cx.pass(format!(
        "\"remember me\": persistent cookie expiring {ahead}s ahead (the profile's 7-day idle limit; \
         the default is a browser-session cookie), kept across a reload (served by {served})"
    ));

    log_out(client).await?;
    expect_logged_out_page(client, "\"Not logged in.\" after logging out").await?;
    let anonymous = session_cookie(client).await?;
    ensure!(
        anonymous
            .as_ref()
            .is_none_or(|c| c.expires_datetime().is_none()),
        "after logout the anonymous session kept the remembered expiry: {anonymous:?}"
    );
    cx.pass("logged out: the anonymous session that follows is a browser-session cookie again");
    Ok(())
}
