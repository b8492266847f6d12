//! Flow 1c: pages on another origin of the same site (same host, another
//! port), whose requests carry the `SameSite=Lax` session cookie, submit
//! forms to the app. The CSRF protection refuses them with a 403;
//! the user stays logged in; the app logs why.

use fantoccini::Client;

use super::Ctx;
use crate::browser::{expect_logged_in, log_in, navigation_status, session_cookie};
use crate::check::{Result, WAIT, ensure, wait_for};
use crate::logs;

pub(super) async fn run(cx: &Ctx, client: &Client) -> Result<()> {
    let env = &cx.env;
    let base = &env.base;
    let attack = &env.attack_base;
    client.goto(&format!("{base}/")).await?;
    client.delete_all_cookies().await?;
    log_in(client, base).await?;
    expect_logged_in(client, "#user alice before the attack").await?;
    let before = session_cookie(client)
        .await?
        .ok_or("no session cookie after logging in")?;

    for (page, target) in [("logout.html", "/logout"), ("login.html", "/login")] {
        client.goto(&format!("{attack}/{page}")).await?;
        wait_for(&format!("the forged POST to {target}"), WAIT, || async {
            Ok((client.current_url().await?.path() == target).then_some(()))
        })
        .await?;
        let status = navigation_status(client).await?;
        ensure!(
            status == Some(403),
            "the forged POST {target} from {attack} answered {status:?}, expected 403"
        );
        cx.pass(format!(
            "a form on {attack}/{page} (same site, another origin) posting to {base}{target}: 403"
        ));
    }

    client.goto(&format!("{base}/dashboard")).await?;
    let served = expect_logged_in(client, "#user alice after the forged posts").await?;
    let after = session_cookie(client)
        .await?
        .ok_or("the browser lost its session cookie")?;
    ensure!(
        after.value() == before.value(),
        "the forged posts changed the session cookie"
    );
    let logged = wait_for("the CSRF refusal in an app log", WAIT, || async {
        for app in &env.apps {
            let text = logs::text(&app.log)?;
            if let Some(line) = text.lines().find(|l| {
                l.contains("request refused by CSRF protection") && l.contains("CrossOrigin")
            }) {
                return Ok(Some(format!("{}: {}", app.label, line.trim())));
            }
        }
        Ok(None)
    })
    .await?;
    ensure!(
        !logged.contains(before.value()),
        "the refusal log line holds the session cookie"
    );
    cx.pass(format!(
        "still logged in as alice with the same cookie (served by {served}); the refusal was logged with its \
         reason (CrossOrigin), never a token or cookie"
    ));
    Ok(())
}
