//! Flow 2: the classic deployment mistake, a proxy that does not send
//! `X-Forwarded-Proto`. With `INSECURE_POLICY=refuse` the login answers a
//! bare 500 without a cookie, and the app's log names the missing nginx
//! line; the same login through the configured proxy works.

use fantoccini::Client;

use super::Ctx;
use crate::browser::{
    expect_logged_in, fetch, log_out, login_form, path_is, session_cookie, text_of,
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

    login_form(client, no_xfp).await?;
    wait_for(
        "the browser to leave / after submitting the form",
        WAIT,
        || async { Ok((client.current_url().await?.path() != "/").then_some(())) },
    )
    .await?;
    let status = client
        .execute(
            "const e = performance.getEntriesByType('navigation')[0]; return e ? e.responseStatus : null;",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_u64());
    ensure!(
        text_of(client, "user").await?.is_none(),
        "the login through the proxy without X-Forwarded-Proto showed a logged-in page"
    );
    ensure!(
        session_cookie(client).await?.is_none(),
        "the browser got a session cookie through the proxy without X-Forwarded-Proto"
    );
    let shown = status.map_or("status not readable from the error page".to_owned(), |s| {
        format!("navigation status {s}")
    });
    if let Some(s) = status {
        ensure!(s == 500, "form login answered {s}, expected 500");
    }
    cx.pass(format!(
        "form login via {no_xfp} (no X-Forwarded-Proto): not logged in, no cookie in the browser ({shown})"
    ));

    client.goto(&format!("{no_xfp}/")).await?;
    let form = format!("username={USER}&password={PASSWORD}");
    let answer = fetch(client, "POST", "/login", Some(&form)).await?;
    ensure!(
        answer.status == 500,
        "POST /login via the proxy without X-Forwarded-Proto answered {}, expected 500",
        answer.status
    );
    ensure!(
        answer.body.is_empty(),
        "the 500 has a body ({} bytes): the reason should stay in the log",
        answer.body.len()
    );
    ensure!(
        session_cookie(client).await?.is_none(),
        "a cookie arrived with the 500"
    );
    cx.pass(format!(
        "fetch POST /login via the same proxy: bare 500 (from {}), no cookie stored",
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
