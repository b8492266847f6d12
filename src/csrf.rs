//! Cross-site request forgery protection that needs no server state.
//!
//! `SameSite=Lax` keeps the session cookie off most cross-site requests,
//! but not off requests from sibling subdomains (same site), from browsers
//! without `SameSite`, or off a top-level `GET` that changes state. Two
//! lines of defence close these gaps:
//!
//! 1. **Origin check** ([`CsrfProtection::check_origin`]): an unsafe
//!    request (any method but `GET`, `HEAD`, `OPTIONS`, `TRACE`) is refused
//!    when the browser says it is cross-origin: `Sec-Fetch-Site` other than
//!    `same-origin` or `none`, or, from browsers that do not send that
//!    header, an `Origin` that is neither the application's own nor a
//!    trusted one. Requests with neither header (not from a browser, or a
//!    very old one) pass to the second line. This is the approach of Go's
//!    `http.CrossOriginProtection` and of OWASP's cheat sheet.
//! 2. **Synchronizer token** ([`Session::csrf_token`](crate::adapter::Session::csrf_token)):
//!    every unsafe request must carry a token of its session, in the
//!    `X-CSRF-Token` header or a form field (`csrf_token`). The token
//!    derives from a 32-byte secret sealed in the session (drawn on first
//!    use, replaced by `regenerate()`), masked with 32 fresh random bytes
//!    on every render, so it never repeats in a compressed response
//!    (BREACH), and is compared in constant time.
//!
//! The framework adapters apply both (`tower::CsrfLayer` for axum,
//! `actix::CsrfMiddleware`): a refused request is a bare `403 Forbidden`,
//! and the reason is logged; every response to a checked request carries
//! `Vary: Origin, Sec-Fetch-Site`. Paths that receive requests from other
//! sites by design (webhooks) can be exempted. `Referer` is not consulted:
//! every browser that lacks `Sec-Fetch-Site` sends `Origin` on unsafe
//! requests, and `Referer` is often stripped by privacy settings.
//!
//! What it does not cover: a script running on the application's own
//! origin (XSS) can read tokens and send same-origin requests; `GET`
//! handlers that change state are not checked (keep them safe); and a
//! request with neither `Sec-Fetch-Site` nor `Origin` is judged by its
//! token alone.
//!
//! ```
//! use http::{HeaderMap, HeaderValue, Method};
//! use sealed_session::csrf::{CsrfProtection, CsrfRejection};
//!
//! let csrf = CsrfProtection::new().trusted_origin("https://pay.example.net")?;
//! let mut headers = HeaderMap::new();
//! headers.insert("host", HeaderValue::from_static("app.example.com"));
//! headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
//! headers.insert("origin", HeaderValue::from_static("https://evil.example"));
//! assert_eq!(
//!     csrf.check_origin(&Method::POST, &headers, true),
//!     Err(CsrfRejection::CrossOrigin)
//! );
//! headers.insert("origin", HeaderValue::from_static("https://pay.example.net"));
//! assert!(csrf.check_origin(&Method::POST, &headers, true).is_ok());
//! # Ok::<(), sealed_session::ConfigError>(())
//! ```

use core::fmt;

use base64::Engine as _;
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, HeaderName, Method};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::codec::BASE64;
use crate::error::{ConfigError, Error, ErrorKind};

/// Bytes of a session's CSRF secret.
pub(crate) const CSRF_SECRET_LEN: usize = 32;

/// Characters of a masked token: base64url of pad ‖ (pad ⊕ secret).
pub const TOKEN_LEN: usize = (2 * CSRF_SECRET_LEN * 4).div_ceil(3);

/// The default form field carrying the token.
pub const DEFAULT_FORM_FIELD: &str = "csrf_token";

/// The default request header carrying the token.
pub const DEFAULT_HEADER: &str = "x-csrf-token";

/// Most bytes of a form body the adapters read to find the token.
pub const DEFAULT_FORM_LIMIT: usize = 64 * 1024;

/// Why a request was refused. The client only ever sees `403 Forbidden`;
/// this is for logs and metrics.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrfRejection {
    /// `Sec-Fetch-Site` or `Origin` says the request comes from another
    /// origin that is not trusted.
    CrossOrigin,
    /// No token in the header or the form.
    MissingToken,
    /// A token that is not one of this session's.
    InvalidToken,
    /// The form body is larger than the configured limit, or could not be
    /// read.
    BodyUnreadable,
}

impl fmt::Display for CsrfRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CrossOrigin => "cross-origin request refused",
            Self::MissingToken => "CSRF token missing",
            Self::InvalidToken => "CSRF token invalid for this session",
            Self::BodyUnreadable => "request body too large or unreadable for the CSRF check",
        })
    }
}

impl std::error::Error for CsrfRejection {}

/// The CSRF policy the adapters enforce: trusted origins, exempt paths and
/// where the token travels.
///
/// ```
/// use sealed_session::csrf::CsrfProtection;
///
/// let csrf = CsrfProtection::new()
///     .origin("https://app.example.com")?
///     .trusted_origin("https://admin.example.com")?
///     .exempt_path("/webhooks/")
///     .form_field("authenticity_token");
/// assert!(csrf.is_exempt("/webhooks/stripe"));
/// assert!(!csrf.is_exempt("/login"));
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct CsrfProtection {
    origin: Option<String>,
    trusted: Vec<String>,
    exempt: Vec<String>,
    form_field: String,
    header: HeaderName,
    form_limit: usize,
}

impl Default for CsrfProtection {
    fn default() -> Self {
        Self::new()
    }
}

impl CsrfProtection {
    /// The defaults: the application's origin from each request's `Host`,
    /// no trusted origin, no exempt path, the token in `X-CSRF-Token` or
    /// the form field `csrf_token`, form bodies read up to 64 KiB.
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert_eq!(CsrfProtection::new().form_field_name(), "csrf_token");
    /// ```
    pub fn new() -> Self {
        Self {
            origin: None,
            trusted: Vec::new(),
            exempt: Vec::new(),
            form_field: DEFAULT_FORM_FIELD.to_owned(),
            header: HeaderName::from_static(DEFAULT_HEADER),
            form_limit: DEFAULT_FORM_LIMIT,
        }
    }

    /// The application's own origin (`https://host[:port]`). Without it,
    /// an `Origin` header matches when its host and port equal the
    /// request's `Host`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::CsrfOrigin`] when `origin` is not
    /// `scheme://host[:port]` (no path, no trailing slash).
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert!(CsrfProtection::new().origin("https://app.example.com").is_ok());
    /// assert!(CsrfProtection::new().origin("https://app.example.com/").is_err());
    /// ```
    pub fn origin(mut self, origin: &str) -> Result<Self, ConfigError> {
        self.origin = Some(parse_origin(origin)?);
        Ok(self)
    }

    /// An origin whose cross-origin requests are accepted (say, a payment
    /// page posting back, or an admin front end on another host).
    ///
    /// # Errors
    ///
    /// [`ConfigError::CsrfOrigin`] when `origin` is not
    /// `scheme://host[:port]`.
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert!(CsrfProtection::new().trusted_origin("https://PAY.example.net:8443").is_ok());
    /// assert!(CsrfProtection::new().trusted_origin("pay.example.net").is_err());
    /// ```
    pub fn trusted_origin(mut self, origin: &str) -> Result<Self, ConfigError> {
        self.trusted.push(parse_origin(origin)?);
        Ok(self)
    }

    /// Exempts a path from both checks: the exact path, or, when it ends
    /// with `/`, every path below it. For endpoints other sites call by
    /// design (webhooks), which must authenticate their callers another
    /// way.
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// let csrf = CsrfProtection::new().exempt_path("/hooks/").exempt_path("/ping");
    /// assert!(csrf.is_exempt("/hooks/github") && csrf.is_exempt("/ping"));
    /// assert!(!csrf.is_exempt("/ping/x") && !csrf.is_exempt("/hooks"));
    /// ```
    pub fn exempt_path(mut self, path: &str) -> Self {
        self.exempt.push(path.to_owned());
        self
    }

    /// The form field that carries the token (default `csrf_token`).
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert_eq!(CsrfProtection::new().form_field("_csrf").form_field_name(), "_csrf");
    /// ```
    pub fn form_field(mut self, name: &str) -> Self {
        name.clone_into(&mut self.form_field);
        self
    }

    /// The header that carries the token (default `X-CSRF-Token`).
    ///
    /// ```
    /// # use http::HeaderName;
    /// # use sealed_session::csrf::CsrfProtection;
    /// let csrf = CsrfProtection::new().header(HeaderName::from_static("x-xsrf-token"));
    /// assert_eq!(csrf.header_name(), "x-xsrf-token");
    /// ```
    pub fn header(mut self, name: HeaderName) -> Self {
        self.header = name;
        self
    }

    /// The most bytes of an `application/x-www-form-urlencoded` body read
    /// to find the token (default 64 KiB); larger forms are refused.
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert_eq!(CsrfProtection::new().form_limit(1024).form_limit_bytes(), 1024);
    /// ```
    pub fn form_limit(mut self, bytes: usize) -> Self {
        self.form_limit = bytes;
        self
    }

    /// The form field's name.
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert_eq!(CsrfProtection::new().form_field_name(), "csrf_token");
    /// ```
    pub fn form_field_name(&self) -> &str {
        &self.form_field
    }

    /// The header's name.
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert_eq!(CsrfProtection::new().header_name(), "x-csrf-token");
    /// ```
    pub fn header_name(&self) -> &HeaderName {
        &self.header
    }

    /// The form body limit in bytes.
    ///
    /// ```
    /// # use sealed_session::csrf::{CsrfProtection, DEFAULT_FORM_LIMIT};
    /// assert_eq!(CsrfProtection::new().form_limit_bytes(), DEFAULT_FORM_LIMIT);
    /// ```
    pub fn form_limit_bytes(&self) -> usize {
        self.form_limit
    }

    /// Whether `path` is exempt (see [`exempt_path`](Self::exempt_path)).
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// assert!(!CsrfProtection::new().is_exempt("/"));
    /// ```
    pub fn is_exempt(&self, path: &str) -> bool {
        self.exempt.iter().any(|exempt| {
            if exempt.ends_with('/') {
                path.starts_with(exempt.as_str())
            } else {
                path == exempt
            }
        })
    }

    /// Whether a request with this method and path must pass the checks:
    /// an unsafe method on a path that is not exempt.
    ///
    /// ```
    /// # use http::Method;
    /// # use sealed_session::csrf::CsrfProtection;
    /// let csrf = CsrfProtection::new();
    /// assert!(csrf.applies_to(&Method::POST, "/login"));
    /// assert!(!csrf.applies_to(&Method::GET, "/login"));
    /// ```
    pub fn applies_to(&self, method: &Method, path: &str) -> bool {
        !is_safe(method) && !self.is_exempt(path)
    }

    /// The first line: refuses an unsafe request the browser marks as
    /// cross-origin (see the [module docs](self)). `https` says whether the
    /// request reached the application over HTTPS (as the session layer
    /// judged it), for comparing `Origin` with the `Host`.
    ///
    /// # Errors
    ///
    /// [`CsrfRejection::CrossOrigin`].
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue, Method};
    /// # use sealed_session::csrf::CsrfProtection;
    /// let csrf = CsrfProtection::new();
    /// let mut headers = HeaderMap::new();
    /// headers.insert("host", HeaderValue::from_static("app.example.com:8443"));
    /// headers.insert("origin", HeaderValue::from_static("https://app.example.com:8443"));
    /// assert!(csrf.check_origin(&Method::POST, &headers, true).is_ok());
    /// headers.insert("origin", HeaderValue::from_static("https://app.example.com.evil.example"));
    /// assert!(csrf.check_origin(&Method::POST, &headers, true).is_err());
    /// ```
    pub fn check_origin(
        &self,
        method: &Method,
        headers: &HeaderMap,
        https: bool,
    ) -> Result<(), CsrfRejection> {
        if is_safe(method) {
            return Ok(());
        }
        let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
        let trusted = || {
            origin.is_some_and(|origin| {
                parse_origin(origin).is_ok_and(|origin| self.trusted.contains(&origin))
            })
        };
        match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
            Some(b"same-origin" | b"none") => return Ok(()),
            Some(_) if trusted() => return Ok(()),
            Some(_) => return Err(CsrfRejection::CrossOrigin),
            None => {}
        }
        let Some(origin) = origin else {
            // Not a browser, or one that sends neither header: the token
            // decides.
            return Ok(());
        };
        let Ok(origin) = parse_origin(origin) else {
            // `Origin: null` (sandboxed frames, some redirects) and
            // anything unparsable.
            return Err(CsrfRejection::CrossOrigin);
        };
        let own = match &self.origin {
            Some(own) => *own == origin,
            None => headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|host| same_authority(&origin, host, https)),
        };
        if own || self.trusted.contains(&origin) {
            Ok(())
        } else {
            Err(CsrfRejection::CrossOrigin)
        }
    }

    /// The token in the request's header, if any.
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue};
    /// # use sealed_session::csrf::CsrfProtection;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-csrf-token", HeaderValue::from_static("abc"));
    /// assert_eq!(CsrfProtection::new().token_from_headers(&headers), Some("abc"));
    /// ```
    pub fn token_from_headers<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers.get(&self.header).and_then(|v| v.to_str().ok())
    }

    /// The token in an `application/x-www-form-urlencoded` body, if any
    /// (the first field of that name).
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfProtection;
    /// let body = b"user=alice&csrf_token=abc%2D1&password=x";
    /// assert_eq!(CsrfProtection::new().token_from_form(body).as_deref(), Some("abc-1"));
    /// ```
    pub fn token_from_form(&self, body: &[u8]) -> Option<String> {
        body.split(|b| *b == b'&').find_map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (pair.get(..at)?, pair.get(at.saturating_add(1)..)?),
                None => (pair, &[][..]),
            };
            (form_decode(name)? == self.form_field).then(|| form_decode(value))?
        })
    }
}

/// Whether the content type is a urlencoded form.
///
/// ```
/// # use sealed_session::csrf::is_form;
/// assert!(is_form(Some("application/x-www-form-urlencoded; charset=UTF-8")));
/// assert!(!is_form(Some("multipart/form-data; boundary=x")) && !is_form(None));
/// ```
pub fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';').next().is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    })
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// `scheme://host[:port]`, lower case, default port dropped.
fn parse_origin(origin: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError::CsrfOrigin;
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") || rest.is_empty() {
        return Err(bad());
    }
    if rest
        .bytes()
        .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b' ') || !b.is_ascii_graphic())
    {
        return Err(bad());
    }
    let rest = rest.to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    let authority = rest.strip_suffix(default).unwrap_or(&rest);
    Ok(format!("{scheme}://{authority}"))
}

/// Whether `origin` names the host (and port) of the request's `Host`.
fn same_authority(origin: &str, host: &str, https: bool) -> bool {
    let scheme = if https { "https" } else { "http" };
    parse_origin(&format!("{scheme}://{host}")).is_ok_and(|own| own == origin)
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(bytes: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let (hex, tail) = rest.split_at_checked(2)?;
                let hex = core::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                rest = tail;
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// A fresh CSRF token of the request's session, for a form field or a
/// page's header; the `CsrfToken` extractor of the axum and actix-web
/// adapters hands one to a handler behind their CSRF middleware. Every
/// extraction masks the session's secret afresh.
///
/// ```
/// use sealed_session::csrf::CsrfToken;
/// let token = CsrfToken::from("abc".to_owned());
/// assert_eq!(format!(r#"<input type="hidden" name="csrf_token" value="{token}">"#),
///            r#"<input type="hidden" name="csrf_token" value="abc">"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl CsrfToken {
    /// The token's text (base64url, safe in HTML attributes and headers).
    ///
    /// ```
    /// # use sealed_session::csrf::CsrfToken;
    /// assert_eq!(CsrfToken::from("t".to_owned()).as_str(), "t");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for CsrfToken {
    fn from(token: String) -> Self {
        Self(token)
    }
}

impl fmt::Display for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(<redacted>)")
    }
}

/// What the adapters' CSRF middleware needs of the request's session,
/// whatever its data type.
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) trait CsrfSession: Sync {
    fn verify(&self, token: &str) -> bool;
    fn https(&self) -> bool;
}

/// How the `CsrfToken` extractors find the request's session among the
/// extensions `E`, whatever its data type: a function the CSRF middleware
/// of that type leaves there (no allocation beyond the extension's own).
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) struct CsrfMint<E>(pub(crate) fn(&E) -> Option<Result<String, Error>>);

#[cfg(any(feature = "axum", feature = "actix-web"))]
impl<E> Clone for CsrfMint<E> {
    fn clone(&self) -> Self {
        *self
    }
}

#[cfg(any(feature = "axum", feature = "actix-web"))]
impl<E> Copy for CsrfMint<E> {}

/// What the adapters add to `Vary` on every response to a checked request.
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) const VARY_CSRF: &str = "Origin, Sec-Fetch-Site";

/// The middleware's decision before reading any body.
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) enum Precheck {
    /// Nothing to check, or the header's token is valid.
    Pass,
    /// The token can only be in the urlencoded form body.
    ReadForm,
}

#[cfg(any(feature = "axum", feature = "actix-web"))]
impl CsrfProtection {
    /// Both lines of defence that need no body.
    pub(crate) fn precheck(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        session: &dyn CsrfSession,
    ) -> Result<Precheck, CsrfRejection> {
        if !self.applies_to(method, path) {
            return Ok(Precheck::Pass);
        }
        self.check_origin(method, headers, session.https())?;
        if let Some(token) = self.token_from_headers(headers) {
            return if session.verify(token) {
                Ok(Precheck::Pass)
            } else {
                Err(CsrfRejection::InvalidToken)
            };
        }
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if is_form(content_type) {
            Ok(Precheck::ReadForm)
        } else {
            Err(CsrfRejection::MissingToken)
        }
    }

    /// The token check on a urlencoded body.
    pub(crate) fn check_form(
        &self,
        body: &[u8],
        session: &dyn CsrfSession,
    ) -> Result<(), CsrfRejection> {
        match self.token_from_form(body) {
            Some(token) if session.verify(&token) => Ok(()),
            Some(_) => Err(CsrfRejection::InvalidToken),
            None => Err(CsrfRejection::MissingToken),
        }
    }
}

/// Logs a refused request: the reason, the method and the path, never a
/// token or a cookie.
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) fn log_refusal(reason: CsrfRejection, method: &Method, path: &str) {
    tracing::warn!(
        target: crate::error::LOG_TARGET,
        reason = ?reason,
        %method,
        path,
        "request refused by CSRF protection: {reason}"
    );
}

/// Logs a CSRF middleware placed where no session is: a configuration
/// mistake, answered with a bare 500.
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) fn log_missing_session() {
    tracing::error!(
        target: crate::error::LOG_TARGET,
        "the CSRF middleware found no session of its data type: wrap it inside the session \
         middleware of the same type (in axum, add the CSRF layer before the SessionLayer; in \
         actix-web, wrap CsrfMiddleware before SessionMiddleware)"
    );
}

/// A masked token for `secret`: base64url(pad ‖ pad ⊕ secret).
pub(crate) fn mask(secret: &[u8; CSRF_SECRET_LEN]) -> Result<String, Error> {
    let mut token = Zeroizing::new([0u8; 2 * CSRF_SECRET_LEN]);
    let (pad, masked) = token.split_at_mut(CSRF_SECRET_LEN);
    crate::rng::fill_from_os(pad).map_err(|_| Error::new(ErrorKind::Rng))?;
    for ((m, p), s) in masked.iter_mut().zip(pad.iter()).zip(secret) {
        *m = p ^ s;
    }
    Ok(BASE64.encode(token.as_slice()))
}

/// Whether `token` unmasks to `secret`, in constant time for tokens of the
/// right length.
pub(crate) fn verify(secret: &[u8; CSRF_SECRET_LEN], token: &str) -> bool {
    if token.len() != TOKEN_LEN {
        return false;
    }
    let mut raw = Zeroizing::new([0u8; 2 * CSRF_SECRET_LEN]);
    if BASE64.decode_slice(token, raw.as_mut_slice()) != Ok(2 * CSRF_SECRET_LEN) {
        return false;
    }
    let (pad, masked) = raw.split_at(CSRF_SECRET_LEN);
    let mut unmasked = Zeroizing::new([0u8; CSRF_SECRET_LEN]);
    for ((u, p), m) in unmasked.iter_mut().zip(pad).zip(masked) {
        *u = p ^ m;
    }
    bool::from(unmasked.ct_eq(secret))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const SECRET: [u8; CSRF_SECRET_LEN] = [0x5a; CSRF_SECRET_LEN];

    #[test]
    fn tokens_are_masked_afresh_and_verify() {
        let a = mask(&SECRET).unwrap();
        let b = mask(&SECRET).unwrap();
        assert_eq!(a.len(), TOKEN_LEN);
        assert_ne!(a, b);
        assert!(verify(&SECRET, &a) && verify(&SECRET, &b));
        assert!(!verify(&[0x5b; CSRF_SECRET_LEN], &a), "another session's");
        // The secret never appears in the token.
        let raw = BASE64.decode(&a).unwrap();
        assert!(!raw.windows(CSRF_SECRET_LEN).any(|w| w == SECRET));
    }

    #[test]
    fn altered_tokens_fail() {
        let token = mask(&SECRET).unwrap();
        assert!(!verify(&SECRET, ""));
        assert!(!verify(&SECRET, &token[1..]));
        assert!(!verify(&SECRET, &format!("{token}A")));
        for at in [0, TOKEN_LEN / 2, TOKEN_LEN - 2] {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            assert!(
                !verify(&SECRET, core::str::from_utf8(&bytes).unwrap()),
                "flip at {at}"
            );
        }
        // The unmasked secret itself (a token with an all-zero pad) works
        // only as a properly encoded token, never as raw hex or text.
        assert!(!verify(&SECRET, &"5a".repeat(CSRF_SECRET_LEN)));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn origin_checks_follow_fetch_metadata_then_origin() {
        let csrf = CsrfProtection::new()
            .trusted_origin("https://partner.example")
            .unwrap();
        let host = ("host", "app.example:8443");
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[host], true),
            (&[host, ("sec-fetch-site", "same-origin")], true),
            (&[host, ("sec-fetch-site", "none")], true),
            (&[host, ("sec-fetch-site", "same-site")], false),
            (&[host, ("sec-fetch-site", "cross-site")], false),
            (
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://partner.example"),
                ],
                true,
            ),
            (
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://partner.example:443"),
                ],
                true,
            ),
            (&[host, ("origin", "https://app.example:8443")], true),
            (&[host, ("origin", "https://APP.example:8443")], true),
            (&[host, ("origin", "http://app.example:8443")], false),
            (&[host, ("origin", "https://app.example")], false),
            (&[host, ("origin", "https://evil.example")], false),
            (&[host, ("origin", "null")], false),
            (&[host, ("origin", "https://partner.example")], true),
            (&[("origin", "https://app.example:8443")], false),
        ];
        for (pairs, ok) in cases {
            let headers = headers(pairs);
            assert_eq!(
                csrf.check_origin(&Method::POST, &headers, true).is_ok(),
                *ok,
                "{pairs:?}"
            );
            for method in [Method::PUT, Method::PATCH, Method::DELETE] {
                assert_eq!(
                    csrf.check_origin(&method, &headers, true).is_ok(),
                    *ok,
                    "{method} {pairs:?}"
                );
            }
            for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
                assert!(
                    csrf.check_origin(&method, &headers, true).is_ok(),
                    "{method} is safe"
                );
            }
        }
        let fixed = CsrfProtection::new().origin("https://app.example").unwrap();
        let proxied = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "https://app.example"),
        ]);
        assert!(fixed.check_origin(&Method::POST, &proxied, false).is_ok());
    }

    #[test]
    fn form_fields_are_decoded() {
        let csrf = CsrfProtection::new();
        assert_eq!(
            csrf.token_from_form(b"a=1&csrf_token=x+y%21"),
            Some("x y!".into())
        );
        assert_eq!(csrf.token_from_form(b"csrf_token"), Some(String::new()));
        assert_eq!(csrf.token_from_form(b"csrf_tokenx=1&a=2"), None);
        assert_eq!(csrf.token_from_form(b"csrf_token=%zz"), None);
        assert_eq!(csrf.token_from_form(b"csrf%5Ftoken=t"), Some("t".into()));
        assert_eq!(csrf.token_from_form(b""), None);
    }
}
