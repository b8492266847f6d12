//! Flow 4 split: the failure two-phase rotation prevents. Two instances
//! with their own key files; promoting a key on one before the other
//! accepts it logs users out whenever the balancer picks the other, and
//! accepting the key there first is the fix.

use super::Ctx;
use crate::check::{Result, ensure};
use crate::http::{Answer, Call, USER};
use crate::keys::{key_id, rotate};

/// The instances trust loopback as their proxy: say the request was HTTPS.
async fn send(cx: &Ctx, call: Call<'_>) -> Result<Answer> {
    call.header("X-Forwarded-Proto", "https")
        .send(&cx.http.plain)
        .await
}

pub(super) async fn run(cx: &Ctx) -> Result<()> {
    let env = &cx.env;
    let [url_a, url_b] = &env.split_urls;
    let [a, b] = &env.split;
    let (label_a, label_b) = (&a.label, &b.label);

    let login = send(cx, Call::login(format!("{url_a}/login"))).await?;
    ensure!(
        login.status == 303,
        "login on {label_a} answered {}",
        login.status
    );
    let cookie = login.session_cookie().ok_or("login on A sent no cookie")?;
    let id = key_id(&cookie)?;
    ensure!(id == 2, "A sealed with key {id}, expected 2");
    let on_b = send(cx, Call::get(format!("{url_b}/dashboard")).cookie(&cookie)).await?;
    ensure!(
        on_b.status == 200,
        "baseline: B answered {} for A's cookie",
        on_b.status
    );
    cx.pass(format!(
        "baseline, both on \"2:K2\": {label_a}'s cookie (key 2) opens on {} (200)",
        on_b.instance()
    ));

    rotate(
        &env.split_key_files[0],
        &format!("3:{},2:{}", env.k3, env.k2),
        "\"3:K3,2:K2\"",
        3,
        &[a.log.as_path()],
    )
    .await?;
    let login = send(cx, Call::login(format!("{url_a}/login"))).await?;
    let cookie = login
        .session_cookie()
        .ok_or("login on A after promoting key 3 sent no cookie")?;
    let id = key_id(&cookie)?;
    ensure!(id == 3, "A sealed with key {id} after promoting 3");
    let on_a = send(cx, Call::get(format!("{url_a}/dashboard")).cookie(&cookie)).await?;
    ensure!(
        on_a.status == 200 && on_a.body.contains(USER),
        "A refused its own cookie: {}",
        on_a.status
    );
    let on_b = send(cx, Call::get(format!("{url_b}/dashboard")).cookie(&cookie)).await?;
    ensure!(
        on_b.status == 401 && on_b.body.contains("Not logged in"),
        "expected {label_b} (still \"2:K2\") to refuse a key-3 cookie, got {}",
        on_b.status
    );
    cx.pass(format!(
        "EXPECTED FAILURE, demonstrated: key 3 promoted on {label_a} only (\"3:K3,2:K2\") while {label_b} has \"2:K2\": \
         {label_a} seals with key 3 and serves the dashboard (200), {label_b} answers 401 \"Not logged in\" for the same cookie: \
         the user is logged out whenever the balancer picks {label_b}"
    ));

    rotate(
        &env.split_key_files[1],
        &format!("2:{},3:{}", env.k2, env.k3),
        "\"2:K2,3:K3\"",
        2,
        &[b.log.as_path()],
    )
    .await?;
    let on_b = send(cx, Call::get(format!("{url_b}/dashboard")).cookie(&cookie)).await?;
    ensure!(
        on_b.status == 200,
        "{label_b} still refuses the key-3 cookie after accepting key 3: {}",
        on_b.status
    );
    cx.pass(format!(
        "fix: once {label_b} accepts key 3 (\"2:K2,3:K3\", phase A of the two-phase rotation) the same cookie opens there (200)"
    ));
    Ok(())
}
