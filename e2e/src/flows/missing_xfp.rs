//! Flow 2: the classic deployment mistake, a proxy that does not send
//! `X-Forwarded-Proto`. With `INSECURE_POLICY=refuse` the login page (whose
//! form needs a session for its CSRF token) answers a bare 500 without a
//! cookie, and the app's log names the missing nginx line; the same login
//! through the configured proxy works.

use fantoccini::Client;

use super::Ctx;
use crate::browser::{
    expect_logged_in, fetch, log_out, login_form, navigation_status, path_is, session_cookie,
    text_of,
};
use crate::check::{Result, WAIT, ensure, wait_for};
use crate::http::{PASSWORD, USER};
use crate::keys::key_id;
use crate::logs;

const FIX: &str = "proxy_set_header X-Forwarded-Proto $scheme";

pub(super) async fn run(cx: &Ctx, client: &Client) -> Result<()> {
    let env = &cx.env;
    let app = &env.apps[0];
    let no_xfp = &env.base_no_xfp;
    client.goto(&format!("{no_xfp}/")).await?;
    client.delete_all_cookies().await?;

    client.goto(&format!("{no_xfp}/")).await?;
    let status = navigation_status(client).await?;
    ensure!(
        status == Some(500),
        "the login page via {no_xfp} (no X-Forwarded-Proto) answered {status:?}, expected 500"
    );
    ensure!(
        text_of(client, "login").await?.is_none() && text_of(client, "user").await?.is_none(),
        "the page through the proxy without X-Forwarded-Proto shows a form or a user"
    );
    ensure!(
        session_cookie(client).await?.is_none(),
        "the browser got a session cookie through the proxy without X-Forwarded-Proto"
    );
    cx.pass(format!(
        "login page via {no_xfp} (no X-Forwarded-Proto): bare 500, no form, no cookie in the browser"
    ));

    // From a page of that origin that needs no session (the error page
    // above has none the browser can script).
    client.goto(&format!("{no_xfp}/healthz")).await?;
    let form = format!("username={USER}&password={PASSWORD}");
    let answer = fetch(client, "POST", "/login", Some(&form)).await?;
    ensure!(
        answer.status == 403 && answer.body.is_empty(),
        "POST /login without a CSRF token via the proxy without X-Forwarded-Proto answered {} ({} bytes), \
         expected a bare 403",
        answer.status,
        answer.body.len()
    );
    ensure!(
        session_cookie(client).await?.is_none(),
        "a cookie arrived with the 403"
    );
    cx.pass(format!(
        "fetch POST /login via the same proxy without a token: bare 403 (from {}), no cookie stored",
        answer.instance
    ));

    let (warn, error) = wait_for(
        &format!("the diagnostic in {}", app.log.display()),
        WAIT,
        || async {
            let text = logs::text(&app.log)?;
            let warn = text
                .lines()
                .find(|l| l.contains("WARN") && l.contains("sealed_session") && l.contains(FIX))
                .map(str::to_owned);
            let error = text
                .lines()
                .find(|l| l.contains("ERROR") && l.contains("refused to send a Secure cookie"))
                .map(str::to_owned);
            Ok(warn.zip(error))
        },
    )
    .await?;
    ensure!(
        warn.contains("NoHeader"),
        "the WARN does not say the trusted proxy sent no header: {warn}"
    );
    cx.pass(format!(
        "{} logged WARN (target sealed_session, source NoHeader) naming the fix `{FIX};`",
        app.label
    ));
    ensure!(
        error.contains(FIX),
        "the ERROR for the 500 does not name the fix: {error}"
    );
    cx.pass(format!(
        "{} logged ERROR \"refused to send a Secure cookie\" for the 500, naming the same fix",
        app.label
    ));

    login_form(client, &env.base).await?;
    wait_for("the dashboard through the configured proxy", WAIT, || {
        path_is(client, "/dashboard")
    })
    .await?;
    let served = expect_logged_in(client, "#user alice through the configured proxy").await?;
    let cookie = session_cookie(client)
        .await?
        .ok_or("no cookie after logging in through the configured proxy")?;
    cx.pass(format!(
        "same login through {} (X-Forwarded-Proto set): dashboard shows alice (served by {served}), cookie key id {}",
        env.base,
        key_id(cookie.value())?
    ));
    log_out(client).await
}
