//! Flow 6: a user logged in to an app on another session crate (an
//! actix-session app, then an axum app keeping its login in axum-extra's
//! `PrivateCookieJar`) stays logged in when the app is replaced by the
//! example configured with that crate's key: one reload, and the
//! browser's jar holds the sealed cookie instead of the legacy one.
//!
//! The driver runs the apps itself, one at a time on one port behind its
//! own nginx server, so that the browser keeps its session cookies (the
//! legacy ones are browser-session cookies) across the swap.

use std::path::PathBuf;
use std::process::Stdio;

use fantoccini::Client;
use tokio::process::{Child, Command};

use super::Ctx;
use crate::browser::{expect_logged_in, expect_logged_out_page, log_in, log_out};
use crate::check::{Result, WAIT, ensure, wait_for};
use crate::http::COOKIE;

fn var(name: &str) -> Result<String> {
    std::env::var(name).map_err(|_| format!("{name} is not set (scripts/e2e.sh sets it)").into())
}

/// The previous apps, each with its crate's source and cookie name as the
/// example's `LEGACY_SOURCE` and `LEGACY_COOKIE` take them.
const LEGACY_APPS: [(&str, &str, &str, &str); 2] = [
    (
        "actix-session",
        "E2E_LEGACY_ACTIX_BIN",
        "actix-session-private",
        "id",
    ),
    (
        "axum-extra PrivateCookieJar",
        "E2E_LEGACY_AXUM_BIN",
        "axum-extra-private",
        "user",
    ),
];

struct Apps {
    base: String,
    bind: String,
    key: String,
    example_bin: String,
    log_dir: PathBuf,
}

impl Apps {
    fn from_env() -> Result<Self> {
        Ok(Self {
            base: var("E2E_MIGRATE_BASE")?,
            bind: var("E2E_MIGRATE_BIND")?,
            key: var("E2E_LEGACY_KEY")?,
            example_bin: var("E2E_APP_BIN")?,
            log_dir: var("E2E_MIGRATE_LOG_DIR")?.into(),
        })
    }

    /// Starts `bin` on the flow's port and waits until it answers.
    async fn start(&self, label: &str, bin: &str, env: &[(&str, &str)]) -> Result<Child> {
        let log = std::fs::File::create(self.log_dir.join(format!("{label}.log")))?;
        let mut command = Command::new(bin);
        command
            .env_remove("SESSION_KEYS")
            .env("BIND", &self.bind)
            .env("INSTANCE", label)
            .env("LEGACY_KEY", &self.key)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {bin}: {e}"))?;
        let url = format!("http://{}/healthz", self.bind);
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(format!("{label} ({bin}) exited early ({status})").into());
            }
            let answer = reqwest::get(&url).await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill().await;
                return Err(format!(
                    "timed out after {WAIT:?} waiting for {label} to answer {url}"
                )
                .into());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(child)
    }
}

async fn stop(mut child: Child) -> Result<()> {
    child.kill().await?;
    Ok(())
}

async fn sealed_value(client: &Client) -> Result<Option<String>> {
    Ok(client
        .get_all_cookies()
        .await?
        .into_iter()
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned()))
}

async fn cookie_names(client: &Client) -> Result<Vec<String>> {
    Ok(client
        .get_all_cookies()
        .await?
        .into_iter()
        .map(|c| c.name().to_owned())
        .collect())
}

pub(super) async fn run(cx: &Ctx, client: &Client) -> Result<()> {
    let apps = Apps::from_env()?;
    let base = &apps.base;
    let trusted = cx.env.trusted_proxies.clone();
    let key_file = cx.env.key_file.display().to_string();
    for (crate_name, bin_var, source, legacy_cookie) in LEGACY_APPS {
        let legacy_bin = var(bin_var)?;
        let legacy = apps.start("legacy", &legacy_bin, &[]).await?;
        client.goto(&format!("{base}/")).await?;
        client.delete_all_cookies().await?;
        log_in(client, base).await?;
        let served = expect_logged_in(client, "#user alice on the legacy app's dashboard").await?;
        let names = cookie_names(client).await?;
        ensure!(
            names.iter().any(|n| n == legacy_cookie) && !names.iter().any(|n| n == COOKIE),
            "after logging in to the {crate_name} app the browser holds {names:?}, expected {legacy_cookie} only"
        );
        cx.pass(format!(
            "logged in to the {crate_name} app through nginx (served by {served}); the browser holds its `{legacy_cookie}` cookie"
        ));

        stop(legacy).await?;
        let example = apps
            .start(
                "migrated",
                &apps.example_bin,
                &[
                    ("SESSION_KEYS_FILE", key_file.as_str()),
                    ("TRUSTED_PROXIES", trusted.as_str()),
                    ("INSECURE_POLICY", "refuse"),
                    ("LEGACY_SOURCE", source),
                    ("LEGACY_COOKIE", legacy_cookie),
                ],
            )
            .await?;
        client.refresh().await?;
        let served = expect_logged_in(client, "#user alice after the app was replaced").await?;
        let names = wait_for(
            "the sealed cookie in place of the legacy one",
            WAIT,
            || async {
                let names = cookie_names(client).await?;
                let swapped =
                    names.iter().any(|n| n == COOKIE) && !names.iter().any(|n| n == legacy_cookie);
                Ok(swapped.then_some(names))
            },
        )
        .await?;
        cx.pass(format!(
            "replaced by {} with LEGACY_SOURCE={source}: one reload, still logged in as alice (served by {served}); \
             the browser's jar holds {names:?}: {COOKIE}, no `{legacy_cookie}`",
            cx.env.example
        ));

        let migrated = sealed_value(client).await?;
        client.refresh().await?;
        expect_logged_in(client, "#user alice on the sealed cookie alone").await?;
        ensure!(
            sealed_value(client).await? == migrated,
            "the reload on the sealed cookie alone changed it"
        );
        log_out(client).await?;
        expect_logged_out_page(client, "\"Not logged in.\" after logging out").await?;
        let names = cookie_names(client).await?;
        ensure!(
            !names.iter().any(|n| n == legacy_cookie),
            "the legacy cookie came back after logging out: {names:?}"
        );
        ensure!(
            sealed_value(client).await? != migrated,
            "the browser still holds the migrated session after logging out"
        );
        cx.pass(format!(
            "the next reload runs on the sealed cookie alone (unchanged); logging out ends the migrated session, \
             no `{legacy_cookie}` comes back"
        ));
        stop(example).await?;
    }
    Ok(())
}
