//! The flows, in the order they run: each one a file, each assertion that
//! holds a `PASS [<label>] ...` line.
//!
//! Order matters: the rotation flow starts from the key file the earlier
//! flows used ("1:K1") and leaves it at "2:K2", which the load flow starts
//! from.

use std::cell::Cell;

use fantoccini::Client;

use crate::browser;
use crate::check::Result;
use crate::env::Env;
use crate::http::Http;

mod cross_site;
mod load;
mod login;
mod migrate;
mod missing_xfp;
mod nginx_config;
mod remember;
mod rotation;
mod split_keys;
mod spoofing;

pub(crate) struct Flow {
    /// What to pass to `e2e-driver run`.
    pub(crate) name: &'static str,
    /// The tag of its PASS lines.
    pub(crate) label: &'static str,
    /// The browser profile it runs in, if it drives the browser; flows with
    /// the same profile share one browser session, in order.
    browser: Option<&'static str>,
    pub(crate) about: &'static str,
}

pub(crate) const ALL: [Flow; 10] = [
    Flow {
        name: "nginx",
        label: "nginx config",
        browser: None,
        about: "the deploy config: redirect, HSTS, HTTP/2, TLS versions, big Cookie headers, forwarded headers overwritten",
    },
    Flow {
        name: "login",
        label: "flow 1",
        browser: Some("chromium-1"),
        about: "log in through the form, reload, cookie attributes, log out",
    },
    Flow {
        name: "remember",
        label: "flow 1b",
        browser: Some("chromium-1"),
        about: "a wrong password as a flash message; \"remember me\": a persistent cookie vs. a browser-session one",
    },
    Flow {
        name: "cross-site",
        label: "flow 1c",
        browser: Some("chromium-1"),
        about: "forms on another origin of the same site posting to the app: refused with a bare 403",
    },
    Flow {
        name: "missing-xfp",
        label: "flow 2",
        browser: Some("chromium-1"),
        about: "a proxy without X-Forwarded-Proto: bare 500, no cookie, a log line naming the fix",
    },
    Flow {
        name: "spoofing",
        label: "flow 3",
        browser: None,
        about: "forwarded headers from a peer that is not a trusted proxy are ignored",
    },
    Flow {
        name: "rotation",
        label: "flow 4",
        browser: Some("chromium-2"),
        about: "two-phase key rotation across both instances without logging the browser out",
    },
    Flow {
        name: "split",
        label: "flow 4 split",
        browser: None,
        about: "promoting a key before every instance accepts it logs users out; accepting it first fixes that",
    },
    Flow {
        name: "load",
        label: "flow 5",
        browser: None,
        about: "wrk through nginx while the key rotates: no error, no lost session",
    },
    Flow {
        name: "migrate",
        label: "flow 6",
        browser: Some("chromium-3"),
        about: "logged in on an actix-session app, then an axum-extra PrivateCookieJar app: replaced by the example with the legacy key, one reload, still logged in, the jar holds only the sealed cookie",
    },
];

/// What the flows share: the settings, the HTTP clients, the browser
/// session if one is open, and the PASS count.
pub(crate) struct Ctx {
    pub(crate) env: Env,
    pub(crate) http: Http,
    label: &'static str,
    passes: Cell<usize>,
    browser: Option<(&'static str, Client)>,
}

impl Ctx {
    pub(crate) fn new(env: Env) -> Result<Self> {
        let http = Http::new(&env)?;
        Ok(Self {
            env,
            http,
            label: "",
            passes: Cell::new(0),
            browser: None,
        })
    }

    /// Reports an assertion that held.
    pub(crate) fn pass(&self, what: impl AsRef<str>) {
        self.passes.set(self.passes.get() + 1);
        println!("PASS [{}] {}", self.label, what.as_ref());
    }

    pub(crate) fn passes(&self) -> usize {
        self.passes.get()
    }

    /// The browser session of the running flow.
    fn client(&self) -> Result<Client> {
        match &self.browser {
            Some((_, client)) => Ok(client.clone()),
            None => Err(format!("{} runs without a browser", self.label).into()),
        }
    }

    /// Runs one flow: opens its browser session (closing another
    /// profile's), or closes the browser it does not need.
    pub(crate) async fn run(&mut self, flow: &Flow) -> Result<()> {
        self.label = flow.label;
        if self.browser.as_ref().map(|(profile, _)| *profile) != flow.browser {
            self.close_browser().await;
            if let Some(profile) = flow.browser {
                self.browser = Some((profile, browser::connect(&self.env, profile).await?));
            }
        }
        let result = match flow.name {
            "nginx" => nginx_config::run(self).await,
            "login" => login::run(self, &self.client()?).await,
            "remember" => remember::run(self, &self.client()?).await,
            "cross-site" => cross_site::run(self, &self.client()?).await,
            "missing-xfp" => missing_xfp::run(self, &self.client()?).await,
            "spoofing" => spoofing::run(self).await,
            "rotation" => rotation::run(self, &self.client()?).await,
            "split" => split_keys::run(self).await,
            "load" => load::run(self).await,
            "migrate" => migrate::run(self, &self.client()?).await,
            other => Err(format!("no flow named {other:?}").into()),
        };
        if let (Err(_), Some((_, client))) = (&result, &self.browser) {
            browser::report(client).await;
        }
        result
    }

    pub(crate) async fn close_browser(&mut self) {
        if let Some((_, client)) = self.browser.take() {
            browser::close(client).await;
        }
    }
}
