//! Configuration and pages shared by the login examples.
//!
//! Environment:
//! - `SESSION_KEYS`: keyring string, primary first (`2:<base64>,1:<base64>`).
//! - `SESSION_KEYS_FILE`: the same in a file, re-read when it changes, so
//!   keys rotate without a restart. Wins over `SESSION_KEYS`.
//! - `BIND` (or `--bind ADDR`): listen address, default `127.0.0.1:3000`.
//! - `TRUSTED_PROXIES`: comma-separated CIDRs whose `X-Forwarded-Proto` /
//!   `Forwarded` headers count (e.g. `127.0.0.1/32` behind a local nginx).
//! - `INSECURE_POLICY`: `send` (default), `refuse` or `follow-scheme`.
//! - `INSTANCE`: a label shown in pages and the `X-Instance` header.
//! - `PUBLIC_ORIGIN`: the origin browsers see (`https://example.com`), for
//!   the CSRF origin check when a proxy rewrites `Host` (nginx's `$host`
//!   drops a non-default port). Without it, `Host` is compared.
//!
//! Sessions use two lifetime profiles: by default a browser-session cookie
//! (12 h absolute, 30 min idle); with "remember me" a persistent one (30
//! days absolute, 7 days idle). Every form carries a CSRF token.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use sealed_session::csrf::CsrfProtection;
use sealed_session::flash::FlashMessage;
use sealed_session::keys::KeyFileWatcher;
use sealed_session::{
    CookieConfig, InsecurePolicy, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, Profile,
    ProfileId, ProxyTrust, SessionConfig,
};
use subtle::ConstantTimeEq;

pub(crate) const DEMO_USER: &str = "alice";
pub(crate) const DEMO_PASSWORD: &str = "wonderland";

/// The "remember me" lifetime profile.
pub(crate) const REMEMBER_ME: ProfileId = ProfileId::new(1);

const DAY: u64 = 86_400;

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

/// Sends tracing events (the library's diagnostics among them) to stderr.
pub(crate) fn init_logging() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
}

pub(crate) fn instance() -> String {
    std::env::var("INSTANCE").unwrap_or_else(|_| "app".to_owned())
}

pub(crate) fn bind_address() -> Result<SocketAddr, Error> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--bind" {
            let value = args
                .next()
                .ok_or("--bind needs an address, e.g. 127.0.0.1:3000")?;
            return Ok(value.parse()?);
        }
    }
    match std::env::var("BIND") {
        Ok(value) => Ok(value.parse().map_err(|err| {
            format!("BIND={value:?} is not an address like 127.0.0.1:3000: {err}")
        })?),
        Err(_) => Ok(SocketAddr::from(([127, 0, 0, 1], 3000))),
    }
}

/// The keyring from `SESSION_KEYS_FILE` (watched), `SESSION_KEYS`, or a
/// generated development key with a warning.
/// The keys, and the watcher that keeps them in step with a key file (it
/// stops when dropped, so keep it for the life of the server).
pub(crate) struct Keys {
    pub(crate) handle: KeyringHandle,
    _watcher: Option<KeyFileWatcher>,
}

pub(crate) fn keyring() -> Result<Keys, Error> {
    if let Some(path) = std::env::var_os("SESSION_KEYS_FILE") {
        let path = PathBuf::from(path);
        let handle = KeyringHandle::new(Keyring::from_file(&path)?);
        tracing::info!(file = %path.display(), primary = handle.current().primary_id(), "keys loaded");
        // Replaced files (a rotation phase, a Kubernetes Secret update) are
        // picked up without a restart; bad files are reported and skipped.
        let watcher = handle.watch_file(&path, Duration::from_millis(250))?;
        return Ok(Keys {
            handle,
            _watcher: Some(watcher),
        });
    }
    if std::env::var_os("SESSION_KEYS").is_some() {
        let keyring = Keyring::from_env("SESSION_KEYS")?;
        tracing::info!(
            primary = keyring.primary_id(),
            "keys loaded from SESSION_KEYS"
        );
        return Ok(Keys {
            handle: KeyringHandle::new(keyring),
            _watcher: None,
        });
    }
    eprintln!(
        "\n\
         WARNING: neither SESSION_KEYS nor SESSION_KEYS_FILE is set: using a freshly generated\n\
         WARNING: development key. Sessions will not survive a restart, and other instances\n\
         WARNING: cannot open them. For anything real:\n\
         WARNING:   SESSION_KEYS=\"1:$(openssl rand -base64 32)\"\n"
    );
    Ok(Keys {
        handle: KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::try_generate()?))),
        _watcher: None,
    })
}

pub(crate) fn session_config() -> Result<SessionConfig, Error> {
    let mut config = SessionConfig::new(CookieConfig::default())
        .default_profile(Profile::browser_session(Lifetimes::default()))
        .profile(
            REMEMBER_ME,
            Profile::persistent(Lifetimes::new(
                Some(Duration::from_secs(30 * DAY)),
                Some(Duration::from_secs(7 * DAY)),
            )),
        );
    if let Ok(list) = std::env::var("TRUSTED_PROXIES") {
        let ranges: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        config = config.trust_proxies(ProxyTrust::cidrs(ranges)?);
    }
    let policy = match std::env::var("INSECURE_POLICY").as_deref() {
        Err(_) | Ok("send") => InsecurePolicy::Send,
        Ok("refuse") => InsecurePolicy::Refuse,
        Ok("follow-scheme") => InsecurePolicy::FollowScheme,
        Ok(other) => {
            return Err(format!(
                "INSECURE_POLICY={other:?}: expected `send`, `refuse` or `follow-scheme`"
            )
            .into());
        }
    };
    Ok(config.insecure_policy(policy))
}

/// The CSRF policy: the origin from `PUBLIC_ORIGIN`, or each request's
/// `Host`.
pub(crate) fn csrf() -> Result<CsrfProtection, Error> {
    let csrf = CsrfProtection::new();
    Ok(match std::env::var("PUBLIC_ORIGIN") {
        Ok(origin) => csrf.origin(&origin)?,
        Err(_) => csrf,
    })
}

pub(crate) fn credentials_ok(user: &str, password: &str) -> bool {
    let user_ok = user.as_bytes().ct_eq(DEMO_USER.as_bytes());
    let password_ok = password.as_bytes().ct_eq(DEMO_PASSWORD.as_bytes());
    (user_ok & password_ok).into()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The flash messages, each with its level as the class.
fn flash_list(flash: &[FlashMessage]) -> String {
    if flash.is_empty() {
        return String::new();
    }
    let items: String = flash
        .iter()
        .map(|m| {
            format!(
                "<li class=\"{}\">{}</li>",
                m.level.as_str(),
                escape(&m.text)
            )
        })
        .collect();
    format!("<ul id=\"flash\">{items}</ul>")
}

fn logout_form(csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/logout\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
         <button id=\"logout\">Log out</button></form>",
        escape(csrf)
    )
}

pub(crate) fn home_page(
    user: Option<&str>,
    csrf: &str,
    flash: &[FlashMessage],
    instance: &str,
) -> String {
    let body = match user {
        Some(user) => format!(
            "<p id=\"status\">Logged in as <b id=\"user\">{}</b>.</p>\
             <p><a href=\"/dashboard\">Dashboard</a></p>{}",
            escape(user),
            logout_form(csrf)
        ),
        None => format!(
            "<p id=\"status\">Not logged in.</p>\
             <form method=\"post\" action=\"/login\">\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
             <label>User <input id=\"username\" name=\"username\" value=\"{DEMO_USER}\"></label> \
             <label>Password <input id=\"password\" name=\"password\" type=\"password\"></label> \
             <label><input id=\"remember\" name=\"remember\" type=\"checkbox\" value=\"on\"> Remember me</label> \
             <button id=\"login\">Log in</button></form>\
             <p>Demo credential: {DEMO_USER} / {DEMO_PASSWORD}</p>",
            escape(csrf)
        ),
    };
    page("Home", &format!("{}{body}", flash_list(flash)), instance)
}

pub(crate) fn dashboard_page(
    user: &str,
    csrf: &str,
    flash: &[FlashMessage],
    instance: &str,
) -> String {
    page(
        "Dashboard",
        &format!(
            "{}<p id=\"dashboard\">Dashboard of <b id=\"user\">{}</b>.</p>{}",
            flash_list(flash),
            escape(user),
            logout_form(csrf)
        ),
        instance,
    )
}

pub(crate) fn page(title: &str, body: &str, instance: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}<p><small id=\"instance\">served by {}</small></p></body></html>",
        escape(instance)
    )
}

/// With `LEGACY_SOURCE` set (e.g. `actix-session-private`, see
/// `LegacySource::as_str`), also reads the cookie the app's previous
/// session crate wrote and re-seals it, for `LEGACY_SUNSET_DAYS` (default
/// 30) days: `LEGACY_KEY` is the base64 of the previous crate's 64-byte
/// key, `LEGACY_COOKIE` the cookie's name (default: the crate's). The
/// user name is the legacy string, or its `user` entry. Needs the
/// `migrate` feature.
pub(crate) fn with_legacy<T>(
    manager: sealed_session::SessionManager<T>,
    account: fn(String) -> Option<T>,
) -> Result<sealed_session::SessionManager<T>, Error>
where
    T: serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    let Ok(source) = std::env::var("LEGACY_SOURCE") else {
        return Ok(manager);
    };
    #[cfg(not(feature = "migrate"))]
    {
        let _ = account;
        Err(
            format!("LEGACY_SOURCE={source:?} needs the example built with the migrate feature")
                .into(),
        )
    }
    #[cfg(feature = "migrate")]
    {
        use base64::Engine as _;
        use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacyKey, LegacySource};
        let source = LegacySource::ALL
            .into_iter()
            .find(|s| s.as_str() == source)
            .ok_or_else(|| format!("LEGACY_SOURCE={source:?} is not a legacy source"))?;
        let name = match std::env::var("LEGACY_COOKIE") {
            Ok(name) => name,
            Err(_) => source
                .default_cookie_name()
                .ok_or("LEGACY_COOKIE: the legacy cookie's name")?
                .to_owned(),
        };
        let key = base64::engine::general_purpose::STANDARD.decode(
            std::env::var("LEGACY_KEY").map_err(|_| "LEGACY_KEY: base64 of the legacy key")?,
        )?;
        let days: u64 = std::env::var("LEGACY_SUNSET_DAYS").map_or(Ok(30), |d| d.parse())?;
        let sunset = std::time::SystemTime::now() + Duration::from_secs(days * 86_400);
        let config = LegacyConfig::new(sunset)
            .cookie(LegacyCookie::new(source, name).key(LegacyKey::from_master(&key)?));
        Ok(manager.with_legacy_cookies(config, move |legacy| {
            let user = legacy
                .text()
                .map(str::to_owned)
                .or_else(|| legacy.get::<String>("user"))?;
            account(user)
        })?)
    }
}
