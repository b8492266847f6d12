//! The settings `scripts/e2e.sh` exports as `E2E_*` variables: where
//! nginx, the app instances, chromedriver and their logs are, and the keys.

use std::path::PathBuf;

use crate::check::Result;

/// One app instance the driver talks to or reads the log of.
pub(crate) struct Instance {
    /// `app-a`, `split-b`, ...: the `X-Instance` header and page footer.
    pub(crate) label: String,
    pub(crate) log: PathBuf,
}

pub(crate) struct Env {
    /// The example under test (`login_axum`, `login_actix`).
    pub(crate) example: String,
    /// `https://127.0.0.1:18443`: nginx rendered from deploy/nginx.
    pub(crate) base: String,
    /// The same site config without `proxy_set_header X-Forwarded-Proto`,
    /// in front of the first round-robin instance only.
    pub(crate) base_no_xfp: String,
    /// nginx's plain-HTTP server, which only redirects.
    pub(crate) plain: String,
    /// Another origin of the same site, serving pages that post forms to
    /// `base` as soon as they load.
    pub(crate) attack_base: String,
    /// The self-signed certificate nginx serves, the only root the HTTP
    /// client trusts.
    pub(crate) ca_cert: PathBuf,
    pub(crate) webdriver: String,
    pub(crate) chromium: String,
    /// Each browser session gets a fresh profile directory under this one.
    pub(crate) profile_dir: PathBuf,
    /// The key file both round-robin instances read.
    pub(crate) key_file: PathBuf,
    /// The `sealed-session` command, which rotates `key_file`.
    pub(crate) cli: PathBuf,
    /// The two round-robin instances behind nginx.
    pub(crate) apps: [Instance; 2],
    /// The first round-robin instance, without nginx in front.
    pub(crate) app_a_url: String,
    /// The instances' `TRUSTED_PROXIES` (nginx's address).
    pub(crate) trusted_proxies: String,
    /// An instance whose trusted range excludes loopback, so a direct
    /// client on loopback is not a trusted proxy.
    pub(crate) untrusted: Instance,
    pub(crate) untrusted_url: String,
    pub(crate) untrusted_proxies: String,
    /// Two more instances, each with its own key file.
    pub(crate) split: [Instance; 2],
    pub(crate) split_urls: [String; 2],
    pub(crate) split_key_files: [PathBuf; 2],
    pub(crate) k2: String,
    pub(crate) k3: String,
    /// The wrk script and run length of the load flow, and where wrk's
    /// output goes.
    pub(crate) wrk_script: PathBuf,
    pub(crate) wrk_seconds: u64,
    pub(crate) wrk_log: PathBuf,
}

fn var(name: &str) -> Result<String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set (run through scripts/e2e.sh)").into())
}

fn instance(label: &str, log: &str) -> Result<Instance> {
    Ok(Instance {
        label: var(label)?,
        log: var(log)?.into(),
    })
}

impl Env {
    pub(crate) fn from_env() -> Result<Self> {
        Ok(Self {
            example: var("E2E_EXAMPLE")?,
            base: var("E2E_BASE")?,
            base_no_xfp: var("E2E_BASE_NO_XFP")?,
            plain: var("E2E_PLAIN")?,
            attack_base: var("E2E_ATTACK_BASE")?,
            ca_cert: var("E2E_CA_CERT")?.into(),
            webdriver: var("E2E_WEBDRIVER")?,
            chromium: var("E2E_CHROMIUM")?,
            profile_dir: var("E2E_PROFILE_DIR")?.into(),
            key_file: var("E2E_KEY_FILE")?.into(),
            cli: var("E2E_CLI")?.into(),
            apps: [
                instance("E2E_LABEL_A", "E2E_LOG_A")?,
                instance("E2E_LABEL_B", "E2E_LOG_B")?,
            ],
            app_a_url: var("E2E_APP_A_URL")?,
            trusted_proxies: var("E2E_TRUSTED_PROXIES")?,
            untrusted: instance("E2E_UNTRUSTED_LABEL", "E2E_UNTRUSTED_LOG")?,
            untrusted_url: var("E2E_UNTRUSTED_URL")?,
            untrusted_proxies: var("E2E_UNTRUSTED_PROXIES")?,
            split: [
                instance("E2E_SPLIT_LABEL_A", "E2E_SPLIT_LOG_A")?,
                instance("E2E_SPLIT_LABEL_B", "E2E_SPLIT_LOG_B")?,
            ],
            split_urls: [var("E2E_SPLIT_URL_A")?, var("E2E_SPLIT_URL_B")?],
            split_key_files: [
                var("E2E_SPLIT_KEYS_A")?.into(),
                var("E2E_SPLIT_KEYS_B")?.into(),
            ],
            k2: var("E2E_K2")?,
            k3: var("E2E_K3")?,
            wrk_script: var("E2E_WRK_SCRIPT")?.into(),
            wrk_seconds: var("E2E_WRK_SECONDS")?
                .parse()
                .map_err(|err| format!("E2E_WRK_SECONDS: {err}"))?,
            wrk_log: var("E2E_WRK_LOG")?.into(),
        })
    }

    /// `host:port` of the TLS site, for a raw TLS handshake.
    pub(crate) fn tls_address(&self) -> Result<String> {
        let url = reqwest::Url::parse(&self.base)?;
        let host = url.host_str().ok_or("E2E_BASE has no host")?;
        let port = url.port_or_known_default().ok_or("E2E_BASE has no port")?;
        Ok(format!("{host}:{port}"))
    }
}
