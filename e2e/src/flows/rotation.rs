//! Flow 4: the two-phase rotation from README.md on both round-robin
//! instances at once (add the new key accept-only, promote it, retire the
//! old one), each phase one run of the `sealed-session` command, with the
//! browser logged in on every answer throughout.

use std::collections::BTreeSet;

use fantoccini::Client;

use super::Ctx;
use crate::browser::{cookie_key_id, expect_logged_in, fetch, log_in};
use crate::check::{Result, ensure};
use crate::keys::rotate_with_cli;

/// Reloads the dashboard and fetches it a few times; every answer must
/// show alice, and both instances must answer. Returns the instance labels
/// seen.
async fn check_logged_in_everywhere(
    cx: &Ctx,
    client: &Client,
    phase: &str,
    rounds: usize,
) -> Result<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    let dashboard = format!("{}/dashboard", cx.env.base);
    for round in 0..rounds {
        if client.current_url().await?.as_str() == dashboard {
            client.refresh().await?;
        } else {
            client.goto(&dashboard).await?;
        }
        let served =
            expect_logged_in(client, &format!("{phase}: #user alice on reload {round}")).await?;
        seen.insert(served);
        for _ in 0..2 {
            let answer = fetch(client, "GET", "/dashboard", None).await?;
            ensure!(
                answer.status == 200 && answer.body.contains("id=\"user\">alice<"),
                "{phase}: fetch /dashboard from {} answered {} without alice: logged out",
                answer.instance,
                answer.status
            );
            seen.insert(answer.instance);
        }
        if seen.len() == 2 && round >= 1 {
            break;
        }
    }
    let expected: BTreeSet<String> = cx.env.apps.iter().map(|a| a.label.clone()).collect();
    ensure!(
        seen == expected,
        "{phase}: answers came from {seen:?}, expected both of {expected:?}"
    );
    Ok(seen)
}

pub(super) async fn run(cx: &Ctx, client: &Client) -> Result<()> {
    let env = &cx.env;
    let logs = [env.apps[0].log.as_path(), env.apps[1].log.as_path()];
    client.goto(&format!("{}/", env.base)).await?;
    client.delete_all_cookies().await?;
    log_in(client, &env.base).await?;
    expect_logged_in(client, "#user alice after logging in").await?;
    let id = cookie_key_id(client).await?;
    ensure!(
        id == 1,
        "fresh login sealed with key {id}, expected 1 (key file \"1:K1\")"
    );
    let seen = check_logged_in_everywhere(cx, client, "before rotation", 8).await?;
    cx.pass(format!(
        "key file \"1:K1\": logged in on every answer, instances seen {seen:?}, cookie key id 1"
    ));

    // Each phase is one run of the `sealed-session` command on the key
    // file both instances watch, as the README's runbook says.
    let phases: [(&str, &[&str], u32, u32); 3] = [
        ("phase A", &["add", "--id", "2"], 1, 1),
        ("phase B", &["promote", "2"], 2, 2),
        ("phase C", &["retire", "1"], 2, 2),
    ];
    for (phase, command, primary, expect_id) in phases {
        let keys = rotate_with_cli(&env.cli, &env.key_file, command, primary, &logs).await?;
        cx.pass(format!(
            "{phase}: `sealed-session rotate {}` left keys [{keys}]; both {} and {} logged \"keys reloaded\" primary={primary}",
            command.join(" "),
            env.apps[0].label,
            env.apps[1].label
        ));
        let seen = check_logged_in_everywhere(cx, client, phase, 8).await?;
        let id = cookie_key_id(client).await?;
        ensure!(
            id == expect_id,
            "{phase}: the browser's cookie is sealed with key {id}, expected {expect_id}"
        );
        cx.pass(format!(
            "{phase}: still logged in on every answer, instances seen {seen:?}, browser cookie key id {id}"
        ));
    }
    cx.pass(
        "two-phase rotation 1 -> 2 done without logging the browser out; final cookie key id 2",
    );
    Ok(())
}
