//! WebDriver session helpers: a headless Chromium through chromedriver,
//! and what the flows read from the example app's pages.

use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::check::{Result, WAIT, wait_for};
use crate::env::Env;
use crate::http::{COOKIE, PASSWORD, USER};
use crate::keys::key_id;

/// Starts Chromium with a fresh profile in `profile` (a directory name
/// under `E2E_PROFILE_DIR`).
pub(crate) async fn connect(env: &Env, profile: &str) -> Result<Client> {
    let user_data_dir = env.profile_dir.join(profile);
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--ignore-certificate-errors",
        &format!("--user-data-dir={}", user_data_dir.display()),
    ];
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": env.chromium, "args": args },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let client = tokio::time::timeout(
        Duration::from_secs(60),
        ClientBuilder::rustls()?
            .capabilities(caps)
            .connect(&env.webdriver),
    )
    .await
    .map_err(|_| "timed out after 60s starting Chromium through chromedriver")??;
    // Bounds for navigations and scripts, so no browser call waits long.
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(WAIT),
            Some(Duration::from_secs(20)),
            Some(Duration::ZERO),
        ))
        .await?;
    Ok(client)
}

/// Ends the session, and Chromium with it.
pub(crate) async fn close(client: Client) {
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
}

/// Where the browser is and what it shows, for a failure report.
pub(crate) async fn report(client: &Client) {
    if let Ok(url) = client.current_url().await {
        eprintln!("browser was at {url}");
    }
    if let Ok(source) = client.source().await {
        eprintln!(
            "page source: {}",
            source.chars().take(2000).collect::<String>()
        );
    }
}

pub(crate) async fn text_of(client: &Client, id: &str) -> Result<Option<String>> {
    match client.find(Locator::Id(id)).await {
        Ok(element) => Ok(Some(element.text().await?)),
        Err(err) if err.is_no_such_element() => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Waits for the page to show `alice` in `#user`; returns the instance
/// label of the page.
pub(crate) async fn expect_logged_in(client: &Client, what: &str) -> Result<String> {
    wait_for(what, WAIT, || async {
        let user = text_of(client, "user").await?;
        if user.as_deref() != Some(USER) {
            let status = text_of(client, "status")
                .await?
                .or(text_of(client, "error").await?)
                .unwrap_or_default();
            return Err(format!("page shows {status:?}, not #user {USER}").into());
        }
        text_of(client, "instance").await
    })
    .await
    .map(|served| served.trim_start_matches("served by ").to_owned())
}

pub(crate) async fn expect_logged_out_page(client: &Client, what: &str) -> Result<()> {
    wait_for(what, WAIT, || async {
        let status = text_of(client, "status").await?;
        Ok((status.as_deref() == Some("Not logged in.")).then_some(()))
    })
    .await
}

/// Opens `base`/ and submits the login form with the right credentials.
pub(crate) async fn login_form(client: &Client, base: &str) -> Result<()> {
    login_form_with(client, base, PASSWORD, false).await
}

/// Opens `base`/ and submits the login form with `password`, ticking
/// "remember me" if asked.
pub(crate) async fn login_form_with(
    client: &Client,
    base: &str,
    password: &str,
    remember: bool,
) -> Result<()> {
    client.goto(&format!("{base}/")).await?;
    expect_logged_out_page(client, "the login form").await?;
    let username = client.find(Locator::Id("username")).await?;
    username.clear().await?;
    username.send_keys(USER).await?;
    client
        .find(Locator::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    if remember {
        client.find(Locator::Id("remember")).await?.click().await?;
    }
    client.find(Locator::Id("login")).await?.click().await?;
    Ok(())
}

/// The page's flash messages (`#flash`), if it shows any.
pub(crate) async fn flash(client: &Client) -> Result<Option<String>> {
    text_of(client, "flash").await
}

/// The HTTP status of the page the browser shows.
pub(crate) async fn navigation_status(client: &Client) -> Result<Option<u64>> {
    Ok(client
        .execute(
            "const e = performance.getEntriesByType('navigation')[0]; return e ? e.responseStatus : null;",
            vec![],
        )
        .await?
        .as_u64())
}

/// For `wait_for`: the page's path is `path`.
pub(crate) async fn path_is(client: &Client, path: &str) -> Result<Option<()>> {
    Ok((client.current_url().await?.path() == path).then_some(()))
}

/// Submits the login form at `base` and waits for the dashboard.
pub(crate) async fn log_in(client: &Client, base: &str) -> Result<()> {
    login_form(client, base).await?;
    wait_for("the dashboard after logging in", WAIT, || {
        path_is(client, "/dashboard")
    })
    .await
}

/// Clicks "log out" and waits for `/`.
pub(crate) async fn log_out(client: &Client) -> Result<()> {
    client.find(Locator::Id("logout")).await?.click().await?;
    wait_for("/ after logging out", WAIT, || path_is(client, "/")).await
}

/// The session cookie in the browser's cookie store.
pub(crate) async fn session_cookie(
    client: &Client,
) -> Result<Option<fantoccini::cookies::Cookie<'static>>> {
    Ok(client
        .get_all_cookies()
        .await?
        .into_iter()
        .find(|c| c.name() == COOKIE))
}

/// The key id that sealed the browser's session cookie.
pub(crate) async fn cookie_key_id(client: &Client) -> Result<u32> {
    let cookie = session_cookie(client)
        .await?
        .ok_or("the browser lost its session cookie")?;
    key_id(cookie.value())
}

/// What `fetch` from the page answered, with the browser's cookies.
pub(crate) struct Fetched {
    pub(crate) status: u16,
    /// The `X-Instance` header.
    pub(crate) instance: String,
    pub(crate) body: String,
}

pub(crate) async fn fetch(
    client: &Client,
    method: &str,
    path: &str,
    form: Option<&str>,
) -> Result<Fetched> {
    let script = r#"
        const [method, path, form, done] = arguments;
        const init = { method, credentials: 'same-origin', redirect: 'manual' };
        if (form !== null) {
            init.body = form;
            init.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
        }
        fetch(path, init)
            .then(async r => done({ status: r.status, instance: r.headers.get('x-instance') || '', body: await r.text() }))
            .catch(e => done({ error: String(e) }));
    "#;
    let args = vec![
        json!(method),
        json!(path),
        form.map_or(Value::Null, |f| json!(f)),
    ];
    let value = tokio::time::timeout(WAIT, client.execute_async(script, args))
        .await
        .map_err(|_| format!("timed out after {WAIT:?} on fetch {method} {path}"))??;
    if let Some(err) = value.get("error") {
        return Err(format!("fetch {method} {path} failed: {err}").into());
    }
    Ok(Fetched {
        status: value["status"].as_u64().unwrap_or(0) as u16,
        instance: value["instance"].as_str().unwrap_or_default().to_owned(),
        body: value["body"].as_str().unwrap_or_default().to_owned(),
    })
}
