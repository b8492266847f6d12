//! HTTP clients for the flows that need exact control over a request:
//! through nginx over TLS (HTTP/2 when nginx offers it), or straight to an
//! app instance over plain HTTP. Neither follows redirects or keeps cookies.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, SET_COOKIE};
use reqwest::{Method, Version};

use crate::check::{Result, WAIT};
use crate::env::Env;

pub(crate) const COOKIE: &str = "__Host-session";
pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "wonderland";

pub(crate) struct Http {
    /// Trusts only the test certificate nginx serves.
    pub(crate) tls: reqwest::Client,
    /// HTTP/1.1 to the app instances and nginx's redirecting server.
    pub(crate) plain: reqwest::Client,
}

impl Http {
    pub(crate) fn new(env: &Env) -> Result<Self> {
        let pem = std::fs::read(&env.ca_cert)
            .map_err(|err| format!("{}: {err}", env.ca_cert.display()))?;
        let tls = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem)?])
            .redirect(reqwest::redirect::Policy::none())
            .timeout(WAIT)
            .build()?;
        let plain = reqwest::Client::builder()
            .http1_only()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(WAIT)
            .build()?;
        Ok(Self { tls, plain })
    }
}

/// One response, read whole.
pub(crate) struct Answer {
    pub(crate) version: Version,
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) async fn read(response: reqwest::Response) -> Result<Self> {
        Ok(Self {
            version: response.version(),
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await?,
        })
    }

    /// Status line as curl shows it: `HTTP/2 303`.
    pub(crate) fn status_line(&self) -> String {
        let version = match self.version {
            Version::HTTP_10 => "HTTP/1.0",
            Version::HTTP_11 => "HTTP/1.1",
            Version::HTTP_2 => "HTTP/2",
            Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/?",
        };
        format!("{version} {}", self.status)
    }

    /// Status line and headers, for failure messages.
    pub(crate) fn head(&self) -> String {
        let mut out = self.status_line();
        for (name, value) in &self.headers {
            out.push_str(&format!(
                "; {name}: {}",
                value.to_str().unwrap_or("<bytes>")
            ));
        }
        out
    }

    pub(crate) fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The value of a non-empty `__Host-session` `Set-Cookie`, if any.
    pub(crate) fn session_cookie(&self) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find_map(|v| v.strip_prefix(&format!("{COOKIE}=")))
            .and_then(|v| v.split(';').next())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// The CSRF token of the page's first form, if it has one.
    pub(crate) fn csrf_token(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf_token\" value=\"")?;
        let rest = &self.body[at + "name=\"csrf_token\" value=\"".len()..];
        rest.split('"').next().map(str::to_owned)
    }

    /// The `X-Instance` header the example apps add.
    pub(crate) fn instance(&self) -> &str {
        self.header("x-instance").unwrap_or_default()
    }
}

/// A request to build: method, URL, extra headers, the session cookie and
/// whether to post the login form.
pub(crate) struct Call<'a> {
    method: Method,
    url: String,
    headers: Vec<(&'a str, String)>,
    cookie: Option<&'a str>,
    login_form: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            url: url.into(),
            headers: Vec::new(),
            cookie: None,
            login_form: false,
        }
    }

    /// `POST` of the login form with the right credentials.
    pub(crate) fn login(url: impl Into<String>) -> Self {
        Self {
            method: Method::POST,
            login_form: true,
            ..Self::get(url)
        }
    }

    pub(crate) fn header(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sends `__Host-session=<value>`.
    pub(crate) fn cookie(mut self, value: &'a str) -> Self {
        self.cookie = Some(value);
        self
    }

    /// `method url` with this call's extra headers and the session cookie.
    fn request(
        &self,
        client: &reqwest::Client,
        method: Method,
        url: &str,
        cookie: Option<&str>,
    ) -> Result<reqwest::RequestBuilder> {
        let mut request = client.request(method, url);
        for (name, value) in &self.headers {
            request = request.header(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
        }
        if let Some(value) = cookie {
            request = request.header("Cookie", format!("{COOKIE}={value}"));
        }
        Ok(request)
    }

    /// Sends the request. The login form first fetches the login page
    /// (`/`) with the same headers and cookie, as a browser would, for its
    /// CSRF token and the anonymous session that token belongs to; when
    /// that page has no form (it failed), its answer is the login's.
    pub(crate) async fn send(self, client: &reqwest::Client) -> Result<Answer> {
        let mut form = Vec::new();
        let mut cookie = self.cookie.map(str::to_owned);
        if self.login_form {
            let home = match self.url.strip_suffix("/login") {
                Some(base) => format!("{base}/"),
                None => return Err(format!("login URL {} does not end in /login", self.url).into()),
            };
            let page = self
                .request(client, Method::GET, &home, cookie.as_deref())?
                .send()
                .await
                .map_err(|err| format!("GET {home}: {}", chain(&err)))?;
            let page = Answer::read(page).await?;
            let Some(token) = page.csrf_token() else {
                return Ok(page);
            };
            if let Some(value) = page.session_cookie() {
                cookie = Some(value);
            }
            form.push(("csrf_token", token));
            form.push(("username", USER.to_owned()));
            form.push(("password", PASSWORD.to_owned()));
        }
        let mut request =
            self.request(client, self.method.clone(), &self.url, cookie.as_deref())?;
        if self.login_form {
            request = request.form(&form);
        }
        let response = request
            .send()
            .await
            .map_err(|err| format!("{} {}: {}", self.method, self.url, chain(&err)))?;
        Answer::read(response).await
    }
}

/// An error and its causes, `: `-separated (reqwest's own message leaves
/// out why a connection failed).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
