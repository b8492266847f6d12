//! Drives the login example through nginx with a real headless Chromium
//! (WebDriver), and talks to app instances directly where a flow needs
//! exact control over which instance answers.
//!
//! ```text
//! e2e-driver browser 1 2 4   # flows run in one browser session, in order
//! e2e-driver split           # two instances with diverging key files
//! e2e-driver key-id VALUE    # prints the key id that sealed a cookie value
//! ```
//!
//! Every setting comes from `E2E_*` environment variables that
//! `scripts/e2e.sh` exports (see `Env`). Each assertion that holds prints a
//! `PASS` line; the first one that fails ends the program with exit code 1.

use std::collections::BTreeSet;
use std::future::Future;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;

const COOKIE: &str = "__Host-session";
const USER: &str = "alice";
const PASSWORD: &str = "wonderland";
/// The app's idle timeout, which the cookie's Max-Age follows.
const IDLE: Duration = Duration::from_secs(30 * 60);
/// Bound for each wait on the browser or on a log line.
const WAIT: Duration = Duration::from_secs(15);

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}

fn pass(flow: &str, what: impl AsRef<str>) {
    println!("PASS [{flow}] {}", what.as_ref());
}

/// Settings exported by `scripts/e2e.sh`.
struct Env {
    /// https://127.0.0.1:18443: nginx rendered from deploy/nginx.
    base: String,
    /// The same site config without `proxy_set_header X-Forwarded-Proto`.
    base_no_xfp: String,
    webdriver: String,
    chromium: String,
    user_data_dir: String,
    /// The key file both round-robin instances read.
    key_file: PathBuf,
    /// Logs of the two round-robin instances; the first one is also the
    /// only upstream of the proxy without X-Forwarded-Proto.
    logs: [PathBuf; 2],
    labels: [String; 2],
    k1: String,
    k2: String,
    k3: String,
    /// Two more instances, each with its own key file.
    split_urls: [String; 2],
    split_key_files: [PathBuf; 2],
    split_logs: [PathBuf; 2],
    split_labels: [String; 2],
}

fn var(name: &str) -> Result<String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set (run through scripts/e2e.sh)").into())
}

impl Env {
    fn from_env() -> Result<Self> {
        Ok(Self {
            base: var("E2E_BASE")?,
            base_no_xfp: var("E2E_BASE_NO_XFP")?,
            webdriver: var("E2E_WEBDRIVER")?,
            chromium: var("E2E_CHROMIUM")?,
            user_data_dir: var("E2E_USER_DATA_DIR")?,
            key_file: var("E2E_KEY_FILE")?.into(),
            logs: [var("E2E_LOG_A")?.into(), var("E2E_LOG_B")?.into()],
            labels: [var("E2E_LABEL_A")?, var("E2E_LABEL_B")?],
            k1: var("E2E_K1")?,
            k2: var("E2E_K2")?,
            k3: var("E2E_K3")?,
            split_urls: [var("E2E_SPLIT_URL_A")?, var("E2E_SPLIT_URL_B")?],
            split_key_files: [
                var("E2E_SPLIT_KEYS_A")?.into(),
                var("E2E_SPLIT_KEYS_B")?.into(),
            ],
            split_logs: [
                var("E2E_SPLIT_LOG_A")?.into(),
                var("E2E_SPLIT_LOG_B")?.into(),
            ],
            split_labels: [var("E2E_SPLIT_LABEL_A")?, var("E2E_SPLIT_LABEL_B")?],
        })
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("browser") => browser(&args[1..]).await,
        Some("split") => split().await,
        Some("key-id") if args.len() == 2 => match key_id(&args[1]) {
            Ok(id) => {
                println!("{id}");
                Ok(())
            }
            Err(err) => Err(err),
        },
        _ => Err("usage: e2e-driver browser FLOW... | split | key-id COOKIE_VALUE".into()),
    };
    if let Err(err) = result {
        eprintln!("FAIL: {err}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// The key id in a sealed value's header: the first 8 base64url characters
/// are 6 bytes, of which byte 0 is the format version and bytes 1..5 the key
/// id (big-endian).
fn key_id(value: &str) -> Result<u32> {
    let head = value
        .get(..8)
        .ok_or_else(|| format!("cookie value too short: {} characters", value.len()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|err| format!("cookie value does not start with base64url: {err}"))?;
    ensure!(
        bytes[0] == 1,
        "cookie format version is {}, expected 1",
        bytes[0]
    );
    Ok(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]))
}

/// Polls `check` until it yields a value, or fails after `timeout` with a
/// message naming what was awaited and the last reason.
async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    loop {
        let last = match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => "condition not met yet".to_owned(),
            Err(err) => err.to_string(),
        };
        if start.elapsed() > timeout {
            return Err(
                format!("timed out after {timeout:?} waiting for {what} (last: {last})").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Replaces a key file in one step (write beside it, then rename), so the
/// app's watcher never reads a half-written file.
fn write_keys(path: &Path, keyring: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{keyring}\n"))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn log_text(path: &Path) -> Result<String> {
    Ok(String::from_utf8_lossy(&std::fs::read(path)?).into_owned())
}

fn reload_count(path: &Path) -> Result<usize> {
    Ok(log_text(path)?
        .lines()
        .filter(|l| l.contains("keys reloaded"))
        .count())
}

/// Writes `keyring` (shown with key names instead of keys) to `file` and
/// waits until every log in `logs` reports one more "keys reloaded" with
/// the expected primary.
async fn rotate(
    file: &Path,
    keyring: &str,
    shown: &str,
    primary: u32,
    logs: &[&Path],
) -> Result<()> {
    let before: Vec<usize> = logs
        .iter()
        .map(|l| reload_count(l))
        .collect::<Result<_>>()?;
    // The watcher compares modification times; make sure this write gets a
    // different one from the previous write even on a coarse clock.
    tokio::time::sleep(Duration::from_millis(20)).await;
    write_keys(file, keyring)?;
    for (log, before) in logs.iter().zip(before) {
        let wanted = format!("primary={primary} ");
        let line = wait_for(
            &format!("\"keys reloaded\" ({shown}) in {}", log.display()),
            Duration::from_secs(10),
            || async move {
                let text = log_text(log)?;
                if let Some(bad) = text.lines().find(|l| l.contains("keys not reloaded")) {
                    return Err(format!("the app refused the key file: {bad}").into());
                }
                let reloads: Vec<&str> = text
                    .lines()
                    .filter(|l| l.contains("keys reloaded"))
                    .collect();
                Ok(reloads.get(before).map(|l| l.to_string()))
            },
        )
        .await?;
        ensure!(
            line.contains(&wanted),
            "after writing {shown}, {} reloaded with another primary: {line}",
            log.display()
        );
    }
    Ok(())
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Browser flows

async fn connect(env: &Env) -> Result<Client> {
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
        &format!("--user-data-dir={}", env.user_data_dir),
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

async fn browser(flows: &[String]) -> Result<()> {
    let env = Env::from_env()?;
    ensure!(
        !flows.is_empty(),
        "browser: name the flows to run (1, 2, 4)"
    );
    let client = connect(&env).await?;
    let mut result = Ok(());
    for flow in flows {
        result = match flow.as_str() {
            "1" => flow_login(&env, &client).await,
            "2" => flow_missing_xfp(&env, &client).await,
            "4" => flow_rotation(&env, &client).await,
            other => Err(format!("unknown browser flow {other:?}").into()),
        };
        if result.is_err() {
            if let Ok(url) = client.current_url().await {
                eprintln!("browser was at {url}");
            }
            if let Ok(source) = client.source().await {
                eprintln!(
                    "page source: {}",
                    source.chars().take(2000).collect::<String>()
                );
            }
            break;
        }
    }
    // Ends the session and Chromium with it.
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result
}

async fn text_of(client: &Client, id: &str) -> Result<Option<String>> {
    match client.find(Locator::Id(id)).await {
        Ok(element) => Ok(Some(element.text().await?)),
        Err(err) if err.is_no_such_element() => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Waits for the page to show `alice` in `#user`; returns the instance
/// label of the page.
async fn expect_logged_in(client: &Client, what: &str) -> Result<String> {
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

async fn expect_logged_out_page(client: &Client, what: &str) -> Result<()> {
    wait_for(what, WAIT, || async {
        let status = text_of(client, "status").await?;
        Ok((status.as_deref() == Some("Not logged in.")).then_some(()))
    })
    .await
}

async fn login_form(client: &Client, base: &str) -> Result<()> {
    client.goto(&format!("{base}/")).await?;
    expect_logged_out_page(client, "the login form").await?;
    let username = client.find(Locator::Id("username")).await?;
    username.clear().await?;
    username.send_keys(USER).await?;
    client
        .find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    client.find(Locator::Id("login")).await?.click().await?;
    Ok(())
}

async fn path_is(client: &Client, path: &str) -> Result<Option<()>> {
    Ok((client.current_url().await?.path() == path).then_some(()))
}

async fn session_cookie(client: &Client) -> Result<Option<fantoccini::cookies::Cookie<'static>>> {
    Ok(client
        .get_all_cookies()
        .await?
        .into_iter()
        .find(|c| c.name() == COOKIE))
}

/// `fetch` from the page, with the browser's cookies: status, the
/// `X-Instance` header and the body.
async fn fetch(
    client: &Client,
    method: &str,
    path: &str,
    form: Option<&str>,
) -> Result<(u16, String, String)> {
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
    Ok((
        value["status"].as_u64().unwrap_or(0) as u16,
        value["instance"].as_str().unwrap_or_default().to_owned(),
        value["body"].as_str().unwrap_or_default().to_owned(),
    ))
}

async fn flow_login(env: &Env, client: &Client) -> Result<()> {
    const F: &str = "flow 1";
    client.goto(&format!("{}/", env.base)).await?;
    client.delete_all_cookies().await?;
    login_form(client, &env.base).await?;
    wait_for("the dashboard after logging in", WAIT, || {
        path_is(client, "/dashboard")
    })
    .await?;
    let served = expect_logged_in(client, "#user alice on the dashboard").await?;
    pass(
        F,
        format!(
            "logged in through the form at {}/; landed on /dashboard showing alice (served by {served})",
            env.base
        ),
    );

    client.refresh().await?;
    let served = expect_logged_in(client, "#user alice after a reload").await?;
    client.goto(&format!("{}/", env.base)).await?;
    let status = wait_for("\"Logged in as alice\" on /", WAIT, || async {
        let status = text_of(client, "status").await?.unwrap_or_default();
        Ok(status.starts_with("Logged in as alice").then_some(status))
    })
    .await?;
    pass(
        F,
        format!("reload: still logged in (served by {served}); / says {status:?}"),
    );

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
    let expiry = cookie
        .expires_datetime()
        .ok_or("cookie has no expiry: it would be a browser-session cookie")?
        .unix_timestamp();
    let ahead = expiry - now_unix();
    let idle = IDLE.as_secs() as i64;
    ensure!(
        ahead > idle - 120 && ahead <= idle + 5,
        "cookie expires {ahead}s ahead, expected about {idle}s (idle timeout)"
    );
    let id = key_id(cookie.value())?;
    ensure!(id == 1, "cookie sealed with key {id}, expected 1");
    let visible = client.execute("return document.cookie", vec![]).await?;
    ensure!(
        !visible.as_str().unwrap_or_default().contains(COOKIE),
        "the session cookie is visible to page JavaScript: {visible}"
    );
    pass(
        F,
        format!(
            "browser cookie store: name {COOKIE}, secure, httpOnly (absent from document.cookie), sameSite Lax, path /, \
             expiry {ahead}s ahead (<= {idle}s), format version 1, key id {id}, {} chars",
            cookie.value().len()
        ),
    );

    client.goto(&format!("{}/dashboard", env.base)).await?;
    expect_logged_in(client, "the dashboard before logging out").await?;
    client.find(Locator::Id("logout")).await?.click().await?;
    wait_for("/ after logging out", WAIT, || path_is(client, "/")).await?;
    expect_logged_out_page(client, "\"Not logged in.\" after logging out").await?;
    ensure!(
        session_cookie(client).await?.is_none(),
        "the browser still holds __Host-session after logging out"
    );
    let (status, _, body) = fetch(client, "GET", "/dashboard", None).await?;
    ensure!(
        status == 401,
        "GET /dashboard after logout answered {status}, expected 401"
    );
    ensure!(
        body.contains("Not logged in"),
        "401 body does not say Not logged in"
    );
    client.goto(&format!("{}/dashboard", env.base)).await?;
    ensure!(
        text_of(client, "user").await?.is_none(),
        "/dashboard still shows a user after logout"
    );
    pass(
        F,
        "logout: back on / showing \"Not logged in.\", cookie gone from the browser, fetch /dashboard -> 401, /dashboard page shows no user",
    );
    Ok(())
}

async fn flow_missing_xfp(env: &Env, client: &Client) -> Result<()> {
    const F: &str = "flow 2";
    let log = &env.logs[0];
    client.goto(&format!("{}/", env.base_no_xfp)).await?;
    client.delete_all_cookies().await?;

    login_form(client, &env.base_no_xfp).await?;
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
    pass(
        F,
        format!(
            "form login via {} (no X-Forwarded-Proto): not logged in, no cookie in the browser ({shown})",
            env.base_no_xfp
        ),
    );

    client.goto(&format!("{}/", env.base_no_xfp)).await?;
    let form = format!("username={USER}&password={PASSWORD}");
    let (status, instance, body) = fetch(client, "POST", "/login", Some(&form)).await?;
    ensure!(
        status == 500,
        "POST /login via the proxy without X-Forwarded-Proto answered {status}, expected 500"
    );
    ensure!(
        body.is_empty(),
        "the 500 has a body ({} bytes): the reason should stay in the log",
        body.len()
    );
    ensure!(
        session_cookie(client).await?.is_none(),
        "a cookie arrived with the 500"
    );
    pass(
        F,
        format!(
            "fetch POST /login via the same proxy: bare 500 (from {instance}), no cookie stored"
        ),
    );

    let (warn, error) = wait_for(
        &format!("the diagnostic in {}", log.display()),
        WAIT,
        || async {
            let text = log_text(log)?;
            let warn = text
                .lines()
                .find(|l| {
                    l.contains("WARN")
                        && l.contains("sealed_session")
                        && l.contains("proxy_set_header X-Forwarded-Proto $scheme")
                })
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
    pass(
        F,
        format!(
            "{} logged WARN (target sealed_session, source NoHeader) naming the fix `proxy_set_header X-Forwarded-Proto $scheme;`",
            env.labels[0]
        ),
    );
    ensure!(
        error.contains("proxy_set_header X-Forwarded-Proto $scheme"),
        "the ERROR for the 500 does not name the fix: {error}"
    );
    pass(
        F,
        format!(
            "{} logged ERROR \"refused to send a Secure cookie\" for the 500, naming the same fix",
            env.labels[0]
        ),
    );

    login_form(client, &env.base).await?;
    wait_for("the dashboard through the configured proxy", WAIT, || {
        path_is(client, "/dashboard")
    })
    .await?;
    let served = expect_logged_in(client, "#user alice through the configured proxy").await?;
    let cookie = session_cookie(client)
        .await?
        .ok_or("no cookie after logging in through the configured proxy")?;
    pass(
        F,
        format!(
            "same login through {} (X-Forwarded-Proto set): dashboard shows alice (served by {served}), cookie key id {}",
            env.base,
            key_id(cookie.value())?
        ),
    );
    client.find(Locator::Id("logout")).await?.click().await?;
    wait_for("/ after logging out", WAIT, || path_is(client, "/")).await?;
    Ok(())
}

/// Reloads the dashboard and fetches it a few times; every answer must show
/// alice. Returns the instance labels seen.
async fn check_logged_in_everywhere(
    env: &Env,
    client: &Client,
    phase: &str,
    rounds: usize,
) -> Result<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    let dashboard = format!("{}/dashboard", env.base);
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
            let (status, instance, body) = fetch(client, "GET", "/dashboard", None).await?;
            ensure!(
                status == 200 && body.contains("id=\"user\">alice<"),
                "{phase}: fetch /dashboard from {instance} answered {status} without alice: logged out"
            );
            seen.insert(instance);
        }
        if seen.len() == 2 && round >= 1 {
            break;
        }
    }
    let expected: BTreeSet<String> = env.labels.iter().cloned().collect();
    ensure!(
        seen == expected,
        "{phase}: answers came from {seen:?}, expected both of {expected:?}"
    );
    Ok(seen)
}

async fn cookie_key_id(client: &Client) -> Result<u32> {
    let cookie = session_cookie(client)
        .await?
        .ok_or("the browser lost its session cookie")?;
    key_id(cookie.value())
}

async fn flow_rotation(env: &Env, client: &Client) -> Result<()> {
    const F: &str = "flow 4";
    let logs = [env.logs[0].as_path(), env.logs[1].as_path()];
    client.goto(&format!("{}/", env.base)).await?;
    client.delete_all_cookies().await?;
    login_form(client, &env.base).await?;
    wait_for("the dashboard after logging in", WAIT, || {
        path_is(client, "/dashboard")
    })
    .await?;
    expect_logged_in(client, "#user alice after logging in").await?;
    let id = cookie_key_id(client).await?;
    ensure!(
        id == 1,
        "fresh login sealed with key {id}, expected 1 (key file \"1:K1\")"
    );
    let seen = check_logged_in_everywhere(env, client, "before rotation", 8).await?;
    pass(
        F,
        format!(
            "key file \"1:K1\": logged in on every answer, instances seen {seen:?}, cookie key id 1"
        ),
    );

    let phases: [(&str, String, u32, u32, &str); 3] = [
        (
            "phase A",
            format!("1:{},2:{}", env.k1, env.k2),
            1,
            1,
            "\"1:K1,2:K2\" (2 accept-only)",
        ),
        (
            "phase B",
            format!("2:{},1:{}", env.k2, env.k1),
            2,
            2,
            "\"2:K2,1:K1\" (2 promoted)",
        ),
        (
            "phase C",
            format!("2:{}", env.k2),
            2,
            2,
            "\"2:K2\" (1 retired)",
        ),
    ];
    for (phase, keyring, primary, expect_id, shown) in phases {
        rotate(&env.key_file, &keyring, shown, primary, &logs).await?;
        pass(
            F,
            format!(
                "{phase}: wrote {shown}; both {} and {} logged \"keys reloaded\" primary={primary}",
                env.labels[0], env.labels[1]
            ),
        );
        let seen = check_logged_in_everywhere(env, client, phase, 8).await?;
        let id = cookie_key_id(client).await?;
        ensure!(
            id == expect_id,
            "{phase}: the browser's cookie is sealed with key {id}, expected {expect_id}"
        );
        pass(
            F,
            format!(
                "{phase}: still logged in on every answer, instances seen {seen:?}, browser cookie key id {id}"
            ),
        );
    }
    pass(
        F,
        "two-phase rotation 1 -> 2 done without logging the browser out; final cookie key id 2",
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Split key files: the failure two-phase rotation prevents

struct Answer {
    status: u16,
    instance: String,
    cookie: Option<String>,
    body: String,
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    cookie: Option<&str>,
) -> Result<Answer> {
    let mut request = http
        .request(method.clone(), url)
        .header("X-Forwarded-Proto", "https");
    if let Some(value) = cookie {
        request = request.header("Cookie", format!("{COOKIE}={value}"));
    }
    if method == reqwest::Method::POST {
        request = request.form(&[("username", USER), ("password", PASSWORD)]);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let instance = response
        .headers()
        .get("x-instance")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{COOKIE}=")))
        .and_then(|v| v.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    Ok(Answer {
        status,
        instance,
        cookie,
        body: response.text().await?,
    })
}

async fn split() -> Result<()> {
    const F: &str = "flow 4 split";
    let env = Env::from_env()?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(WAIT)
        .build()?;
    let [url_a, url_b] = &env.split_urls;
    let [label_a, label_b] = &env.split_labels;
    let dashboard = |url: &str| format!("{url}/dashboard");

    let login = call(
        &http,
        reqwest::Method::POST,
        &format!("{url_a}/login"),
        None,
    )
    .await?;
    ensure!(
        login.status == 303,
        "login on {label_a} answered {}",
        login.status
    );
    let cookie = login.cookie.ok_or("login on A sent no cookie")?;
    ensure!(
        key_id(&cookie)? == 2,
        "A sealed with key {}, expected 2",
        key_id(&cookie)?
    );
    let on_b = call(
        &http,
        reqwest::Method::GET,
        &dashboard(url_b),
        Some(&cookie),
    )
    .await?;
    ensure!(
        on_b.status == 200,
        "baseline: B answered {} for A's cookie",
        on_b.status
    );
    pass(
        F,
        format!(
            "baseline, both on \"2:K2\": {label_a}'s cookie (key 2) opens on {} (200)",
            on_b.instance
        ),
    );

    rotate(
        &env.split_key_files[0],
        &format!("3:{},2:{}", env.k3, env.k2),
        "\"3:K3,2:K2\"",
        3,
        &[env.split_logs[0].as_path()],
    )
    .await?;
    let login = call(
        &http,
        reqwest::Method::POST,
        &format!("{url_a}/login"),
        None,
    )
    .await?;
    let cookie = login
        .cookie
        .ok_or("login on A after promoting key 3 sent no cookie")?;
    let id = key_id(&cookie)?;
    ensure!(id == 3, "A sealed with key {id} after promoting 3");
    let on_a = call(
        &http,
        reqwest::Method::GET,
        &dashboard(url_a),
        Some(&cookie),
    )
    .await?;
    ensure!(
        on_a.status == 200 && on_a.body.contains(USER),
        "A refused its own cookie: {}",
        on_a.status
    );
    let on_b = call(
        &http,
        reqwest::Method::GET,
        &dashboard(url_b),
        Some(&cookie),
    )
    .await?;
    ensure!(
        on_b.status == 401 && on_b.body.contains("Not logged in"),
        "expected {label_b} (still \"2:K2\") to refuse a key-3 cookie, got {}",
        on_b.status
    );
    pass(
        F,
        format!(
            "EXPECTED FAILURE, demonstrated: key 3 promoted on {label_a} only (\"3:K3,2:K2\") while {label_b} has \"2:K2\": \
             {label_a} seals with key 3 and serves the dashboard (200), {label_b} answers 401 \"Not logged in\" for the same cookie: \
             the user is logged out whenever the balancer picks {label_b}"
        ),
    );

    rotate(
        &env.split_key_files[1],
        &format!("2:{},3:{}", env.k2, env.k3),
        "\"2:K2,3:K3\"",
        2,
        &[env.split_logs[1].as_path()],
    )
    .await?;
    let on_b = call(
        &http,
        reqwest::Method::GET,
        &dashboard(url_b),
        Some(&cookie),
    )
    .await?;
    ensure!(
        on_b.status == 200,
        "{label_b} still refuses the key-3 cookie after accepting key 3: {}",
        on_b.status
    );
    pass(
        F,
        format!(
            "fix: once {label_b} accepts key 3 (\"2:K2,3:K3\", phase A of the two-phase rotation) the same cookie opens there (200)"
        ),
    );
    Ok(())
}
