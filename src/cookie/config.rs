//! Cookie attributes: validated once, then written into `Set-Cookie`
//! header values with exact byte accounting.

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderValue;

use crate::codec::{BROWSER_COOKIE_LIMIT, CodecError};

/// Browsers cap cookie lifetimes at 400 days (RFC 6265bis).
pub const MAX_COOKIE_LIFETIME: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// Browsers ignore `Path` and `Domain` values longer than this.
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 1024;

/// The `SameSite` attribute. Always written explicitly.
///
/// ```
/// use sealed_session::SameSite;
/// assert_eq!(SameSite::default(), SameSite::Lax);
/// assert_eq!(SameSite::Strict.as_str(), "Strict");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Sent only on same-site requests. The strongest choice when the site
    /// is never entered through cross-site links that need the session.
    Strict,
    /// Also sent on cross-site top-level GET navigations.
    #[default]
    Lax,
    /// Sent on every request, including cross-site subresources; requires
    /// `Secure`.
    None,
}

impl SameSite {
    /// The attribute value.
    ///
    /// ```
    /// # use sealed_session::SameSite;
    /// assert_eq!(SameSite::None.as_str(), "None");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// The session cookie's name and attributes.
///
/// The defaults are the safe ones: `Secure`, `HttpOnly`, `SameSite=Lax`,
/// `Path=/`, no `Domain`. A `__Host-` name (recommended) forbids `Domain`
/// and requires `Path=/`; a `__Secure-` name requires `Secure`. Mistakes
/// are reported by [`CookieConfig::validate`], which the session layer runs
/// at startup.
///
/// ```
/// use sealed_session::{CookieConfig, SameSite};
///
/// let cookie = CookieConfig::new("__Host-session").same_site(SameSite::Strict);
/// cookie.validate()?;
///
/// let bad = CookieConfig::new("__Host-session").domain("example.com");
/// let err = bad.validate().unwrap_err();
/// assert!(err.to_string().contains("__Secure-"));
/// # Ok::<(), sealed_session::CookieConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    name: String,
    path: String,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    partitioned: bool,
    persistent: bool,
}

/// A cookie configuration that browsers would reject or that weakens the
/// session. Each message says how to fix it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CookieConfigError {
    /// The name is not a valid cookie name.
    Name(CodecError),
    /// A `__Host-` name with a `Domain`, a `Path` other than `/`, or
    /// without `Secure`.
    HostPrefix(&'static str),
    /// A `__Secure-` name without `Secure`.
    SecurePrefix,
    /// An `__Http-` or `__Host-Http-` name without `Secure` and `HttpOnly`.
    HttpPrefix,
    /// `SameSite=None` without `Secure`.
    SameSiteNoneWithoutSecure,
    /// `Partitioned` without `Secure`.
    PartitionedWithoutSecure,
    /// A `Domain` with a name that has no `__Secure-` prefix.
    DomainWithoutSecurePrefix,
    /// The path is empty, does not start with `/`, is too long, or has a
    /// character a cookie attribute cannot carry.
    Path(&'static str),
    /// The domain is empty, too long, or not a host name.
    Domain(&'static str),
}

impl fmt::Display for CookieConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(err) => fmt::Display::fmt(err, f),
            Self::HostPrefix(what) => write!(
                f,
                "a `__Host-` cookie {what}; browsers reject it. Keep Secure and Path=/ \
                 without Domain, or rename the cookie with the `__Secure-` prefix to share it \
                 with a Domain"
            ),
            Self::SecurePrefix => {
                f.write_str("a `__Secure-` cookie must be Secure; browsers reject it otherwise")
            }
            Self::HttpPrefix => f.write_str(
                "an `__Http-` or `__Host-Http-` cookie must be Secure and HttpOnly; keep both on",
            ),
            Self::SameSiteNoneWithoutSecure => f.write_str(
                "SameSite=None requires Secure; browsers reject it otherwise. Keep Secure on, \
                 or use SameSite=Lax",
            ),
            Self::PartitionedWithoutSecure => {
                f.write_str("Partitioned requires Secure; browsers reject it otherwise")
            }
            Self::DomainWithoutSecurePrefix => f.write_str(
                "a cookie with a Domain is shared with every subdomain, and any of them can \
                 plant its own cookie of that name, prefix or not; leave Domain unset and use \
                 `__Host-`, or, when subdomains must share the session, name it with the \
                 `__Secure-` prefix (e.g. `__Secure-session`), which at least requires Secure",
            ),
            Self::Path(why) => write!(f, "invalid cookie path: {why}"),
            Self::Domain(why) => write!(f, "invalid cookie domain: {why}"),
        }
    }
}

impl std::error::Error for CookieConfigError {}

/// Name and value together exceed what browsers store; the cookie would be
/// dropped silently if it were sent.
///
/// ```
/// use sealed_session::{CookieConfig, SetCookieError};
/// let cookie = CookieConfig::new("s");
/// let SetCookieError::TooLarge(err) = cookie.set_cookie(&"A".repeat(4096), None).unwrap_err() else {
///     unreachable!()
/// };
/// assert_eq!((err.name, err.value, err.limit), (1, 4096, 4096));
/// assert!(err.to_string().contains("4097 bytes"));
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieTooLarge {
    /// Bytes of the cookie name.
    pub name: usize,
    /// Bytes of the sealed value.
    pub value: usize,
    /// Bytes of the attributes after the value (`; Path=/; Secure; …`).
    pub attributes: usize,
    /// The browsers' limit for name and value together.
    pub limit: usize,
}

impl fmt::Display for CookieTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "session cookie too large: name and value are {} bytes ({} name + {} value, plus {} \
             bytes of attributes) over the {}-byte browser limit; store less in the session \
             or enable chunking",
            self.name.saturating_add(self.value),
            self.name,
            self.value,
            self.attributes,
            self.limit
        )
    }
}

impl std::error::Error for CookieTooLarge {}

/// Why [`CookieConfig::set_cookie`] could not build a `Set-Cookie` value.
/// Never a silently empty header.
///
/// ```
/// use sealed_session::{CookieConfig, SetCookieError};
/// let cookie = CookieConfig::new("s");
/// assert_eq!(cookie.set_cookie("a;b", None).unwrap_err(), SetCookieError::Value);
/// assert_eq!(cookie.set_cookie("a\r\nSet-Cookie: x=y", None).unwrap_err(), SetCookieError::Value);
/// assert!(matches!(
///     CookieConfig::new("a b").set_cookie("v", None),
///     Err(SetCookieError::Config(_))
/// ));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetCookieError {
    /// Name and value exceed what browsers store.
    TooLarge(CookieTooLarge),
    /// The configuration is invalid (see [`CookieConfig::validate`]).
    Config(CookieConfigError),
    /// The value holds a character outside the cookie-octets of RFC 6265
    /// (controls, space, `"`, `,`, `;`, `\\` or non-ASCII).
    Value,
}

impl fmt::Display for SetCookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(err) => fmt::Display::fmt(err, f),
            Self::Config(err) => fmt::Display::fmt(err, f),
            Self::Value => f.write_str(
                "a cookie value may only hold visible ASCII other than `\"`, `,`, `;` and `\\`; \
                 encode the value (e.g. base64url) first",
            ),
        }
    }
}

impl std::error::Error for SetCookieError {}

impl From<CookieTooLarge> for SetCookieError {
    fn from(err: CookieTooLarge) -> Self {
        Self::TooLarge(err)
    }
}

/// Whether `value` holds only RFC 6265 cookie-octets.
fn is_cookie_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E))
}

/// A `Set-Cookie` header value with its size accounted for.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::CookieConfig;
///
/// let set = CookieConfig::new("__Host-s").set_cookie("v", Some(Duration::from_secs(60)))?;
/// assert!(set.header().to_str()?.starts_with("__Host-s=v; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60; Expires="));
/// assert_eq!(set.name_value_len(), "__Host-s".len() + 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SetCookie {
    header: HeaderValue,
    name_value_len: usize,
}

impl SetCookie {
    /// The header value.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// let set = CookieConfig::new("s").set_cookie("v", None)?;
    /// assert_eq!(set.header(), "s=v; Path=/; Secure; HttpOnly; SameSite=Lax");
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn header(&self) -> &HeaderValue {
        &self.header
    }

    /// Consumes this, giving the header value.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// let value = CookieConfig::new("s").set_cookie("v", None)?.into_header();
    /// assert_eq!(value.len(), "s=v; Path=/; Secure; HttpOnly; SameSite=Lax".len());
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn into_header(self) -> HeaderValue {
        self.header
    }

    /// Bytes of the name and value, the part browsers limit to 4096.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// assert_eq!(CookieConfig::new("ab").set_cookie("xyz", None)?.name_value_len(), 5);
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn name_value_len(&self) -> usize {
        self.name_value_len
    }
}

impl fmt::Debug for SetCookie {
    /// The value is a bearer credential: only its size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetCookie")
            .field("header", &"<redacted>")
            .field("name_value_len", &self.name_value_len)
            .finish()
    }
}

/// The default session cookie name. The `__Host-` prefix makes browsers
/// refuse the cookie unless it is `Secure`, has `Path=/` and no `Domain`,
/// so a sibling subdomain cannot plant or shadow it.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";

impl Default for CookieConfig {
    /// [`DEFAULT_COOKIE_NAME`] with the safe defaults.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// let cookie = CookieConfig::default();
    /// assert_eq!(cookie.name(), "__Host-session");
    /// assert!(cookie.is_secure());
    /// ```
    fn default() -> Self {
        Self::new(DEFAULT_COOKIE_NAME)
    }
}

impl CookieConfig {
    /// A cookie with this name and the safe defaults.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// let cookie = CookieConfig::new("__Host-session");
    /// assert_eq!(cookie.name(), "__Host-session");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            partitioned: false,
            persistent: true,
        }
    }

    /// Sets `Path`. Not a security boundary: other paths on the same host
    /// can still read and set the cookie.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// assert!(CookieConfig::new("s").path("/app").validate().is_ok());
    /// assert!(CookieConfig::new("__Host-s").path("/app").validate().is_err());
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets `Domain`, sharing the cookie with subdomains. Requires a
    /// `__Secure-` name. No prefix stops a sibling subdomain from planting
    /// its own cookie of the same name (with a longer `Path`, browsers send
    /// it first): when more than one distinct valid session cookie arrives,
    /// the session layer rejects them all rather than pick one.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// assert!(CookieConfig::new("__Secure-s").domain("example.com").validate().is_ok());
    /// assert!(CookieConfig::new("s").domain("example.com").validate().is_err());
    /// ```
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets `SameSite`.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SameSite};
    /// let set = CookieConfig::new("s").same_site(SameSite::Strict).set_cookie("v", None)?;
    /// assert!(set.header().to_str().unwrap().ends_with("SameSite=Strict"));
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Adds `Partitioned` (CHIPS), for a session used inside third-party
    /// iframes; usually with `SameSite=None`. Requires `Secure`.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SameSite};
    /// let cookie = CookieConfig::new("__Host-s").same_site(SameSite::None).partitioned(true);
    /// assert!(cookie.set_cookie("v", None)?.header().to_str().unwrap().ends_with("; Partitioned"));
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// Turns `HttpOnly` off, letting page scripts read the sealed value.
    /// There is rarely a reason to.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// let set = CookieConfig::new("s").http_only(false).set_cookie("v", None)?;
    /// assert!(!set.header().to_str().unwrap().contains("HttpOnly"));
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Emits no `Max-Age`/`Expires`: the browser forgets the cookie when
    /// it closes. The sealed expiry still applies.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::CookieConfig;
    /// let set = CookieConfig::new("s").browser_session_only().set_cookie("v", Some(Duration::from_secs(9)))?;
    /// assert!(!set.header().to_str().unwrap().contains("Max-Age"));
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn browser_session_only(mut self) -> Self {
        self.persistent = false;
        self
    }

    /// Drops `Secure`, for plain-HTTP development on a host other than
    /// `localhost` (browsers already accept `Secure` cookies from
    /// `http://localhost`). Never use it in production: the cookie then
    /// travels in clear text. Prefixed names refuse it.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// let set = CookieConfig::new("dev").insecure_dev_only().set_cookie("v", None)?;
    /// assert!(!set.header().to_str().unwrap().contains("Secure"));
    /// assert!(CookieConfig::new("__Host-s").insecure_dev_only().validate().is_err());
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn insecure_dev_only(mut self) -> Self {
        self.secure = false;
        self
    }

    /// The cookie's name.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// assert_eq!(CookieConfig::new("s").name(), "s");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the cookie carries `Secure`.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// assert!(CookieConfig::new("s").is_secure());
    /// ```
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Checks the rules browsers enforce and the ones this library adds.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, CookieConfigError, SameSite};
    /// let err = CookieConfig::new("s").insecure_dev_only().same_site(SameSite::None).validate();
    /// assert_eq!(err, Err(CookieConfigError::SameSiteNoneWithoutSecure));
    /// ```
    pub fn validate(&self) -> Result<(), CookieConfigError> {
        crate::codec::validate_name(&self.name).map_err(CookieConfigError::Name)?;
        validate_path(&self.path)?;
        if let Some(domain) = &self.domain {
            validate_domain(domain)?;
        }
        let lower = self.name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            if !self.secure {
                return Err(CookieConfigError::HostPrefix("must be Secure"));
            }
            if self.domain.is_some() {
                return Err(CookieConfigError::HostPrefix("cannot have a Domain"));
            }
            if self.path != "/" {
                return Err(CookieConfigError::HostPrefix("must have Path=/"));
            }
        }
        if lower.starts_with("__secure-") && !self.secure {
            return Err(CookieConfigError::SecurePrefix);
        }
        if (lower.starts_with("__http-") || lower.starts_with("__host-http-"))
            && !(self.http_only && self.secure)
        {
            return Err(CookieConfigError::HttpPrefix);
        }
        if self.domain.is_some() && !lower.starts_with("__secure-") {
            return Err(CookieConfigError::DomainWithoutSecurePrefix);
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(CookieConfigError::SameSiteNoneWithoutSecure);
        }
        if self.partitioned && !self.secure {
            return Err(CookieConfigError::PartitionedWithoutSecure);
        }
        Ok(())
    }

    /// The `Set-Cookie` value for `value`, living `max_age` (capped at 400
    /// days; `None` makes a browser-session cookie).
    ///
    /// # Errors
    ///
    /// As [`CookieConfig::set_cookie_at`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::CookieConfig;
    /// let set = CookieConfig::new("s").set_cookie("v", Some(Duration::from_secs(1000 * 86400)))?;
    /// assert!(set.header().to_str().unwrap().contains("; Max-Age=34560000;"));
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn set_cookie(
        &self,
        value: &str,
        max_age: Option<Duration>,
    ) -> Result<SetCookie, SetCookieError> {
        self.set_cookie_at(value, max_age, SystemTime::now())
    }

    /// Like [`CookieConfig::set_cookie`], computing `Expires` from `now`.
    ///
    /// # Errors
    ///
    /// [`SetCookieError::Config`] when the configuration does not
    /// validate, [`SetCookieError::Value`] for a value with a character
    /// cookies cannot carry, [`SetCookieError::TooLarge`] past 4096 bytes.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::CookieConfig;
    /// let set = CookieConfig::new("s").set_cookie_at("v", Some(Duration::from_secs(60)), UNIX_EPOCH)?;
    /// assert!(set.header().to_str().unwrap().ends_with("Max-Age=60; Expires=Thu, 01 Jan 1970 00:01:00 GMT"));
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn set_cookie_at(
        &self,
        value: &str,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<SetCookie, SetCookieError> {
        self.validate().map_err(SetCookieError::Config)?;
        if !is_cookie_value(value) {
            return Err(SetCookieError::Value);
        }
        self.set_cookie_named(&self.name, value, max_age, now)
    }

    /// The `Set-Cookie` value that deletes the cookie `name` as set with
    /// this configuration: same `Path`, `Domain` and prefix-required
    /// attributes, an empty value, `Max-Age=0` and a past `Expires`.
    ///
    /// # Errors
    ///
    /// [`SetCookieError::Config`] when the configuration or `name` is
    /// invalid.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// let cookie = CookieConfig::new("__Host-s");
    /// assert_eq!(
    ///     cookie.removal(cookie.name())?,
    ///     "__Host-s=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    /// );
    /// assert!(cookie.removal("bad name").is_err());
    /// # Ok::<(), sealed_session::SetCookieError>(())
    /// ```
    pub fn removal(&self, name: &str) -> Result<HeaderValue, SetCookieError> {
        self.validate().map_err(SetCookieError::Config)?;
        crate::codec::validate_name(name)
            .map_err(|err| SetCookieError::Config(CookieConfigError::Name(err)))?;
        self.removal_header(name)
    }

    /// [`CookieConfig::removal`] for a validated configuration and name.
    pub(crate) fn removal_header(&self, name: &str) -> Result<HeaderValue, SetCookieError> {
        self.render(name, "", Some(Duration::ZERO), UNIX_EPOCH)
            .map(SetCookie::into_header)
    }

    /// Like [`CookieConfig::set_cookie_at`] under another name (a chunk),
    /// for a validated configuration, name and value.
    pub(crate) fn set_cookie_named(
        &self,
        name: &str,
        value: &str,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<SetCookie, SetCookieError> {
        self.render(name, value, max_age.filter(|_| self.persistent), now)
    }

    /// Whether browsers accept this cookie without `Secure`.
    pub(crate) fn allows_plain_http(&self) -> bool {
        self.same_site != SameSite::None && !self.partitioned
    }

    fn render(
        &self,
        name: &str,
        value: &str,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<SetCookie, SetCookieError> {
        use fmt::Write as _;
        let mut out =
            String::with_capacity(name.len().saturating_add(value.len()).saturating_add(160));
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        let name_value_len = name.len().saturating_add(value.len());
        let attributes_start = out.len();
        out.push_str("; Path=");
        out.push_str(&self.path);
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if self.secure {
            out.push_str("; Secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        out.push_str("; SameSite=");
        out.push_str(self.same_site.as_str());
        if self.partitioned {
            out.push_str("; Partitioned");
        }
        if let Some(max_age) = max_age {
            let max_age = max_age.min(MAX_COOKIE_LIFETIME);
            let expires = if max_age.is_zero() {
                UNIX_EPOCH
            } else {
                now.checked_add(max_age).unwrap_or(now)
            };
            let _ = write!(out, "; Max-Age={}; Expires=", max_age.as_secs());
            push_imf_fixdate(&mut out, expires);
        }
        if name_value_len > BROWSER_COOKIE_LIMIT {
            return Err(SetCookieError::TooLarge(CookieTooLarge {
                name: name.len(),
                value: value.len(),
                attributes: out.len().saturating_sub(attributes_start),
                limit: BROWSER_COOKIE_LIMIT,
            }));
        }
        // Name, value and attributes were validated to be visible ASCII;
        // should that ever not hold, the caller gets an error, never an
        // empty header.
        let mut header = HeaderValue::try_from(out).map_err(|_| SetCookieError::Value)?;
        // A bearer credential: keep it out of HTTP/2 and HTTP/3 header
        // compression tables, and out of `Debug`.
        header.set_sensitive(true);
        Ok(SetCookie {
            header,
            name_value_len,
        })
    }
}

fn validate_path(path: &str) -> Result<(), CookieConfigError> {
    if !path.starts_with('/') {
        return Err(CookieConfigError::Path("it must start with `/`"));
    }
    if path.len() > MAX_ATTRIBUTE_VALUE_LEN {
        return Err(CookieConfigError::Path("it is longer than 1024 bytes"));
    }
    if !path.bytes().all(|b| b.is_ascii_graphic() && b != b';') {
        return Err(CookieConfigError::Path(
            "it may only contain visible ASCII characters other than `;`",
        ));
    }
    Ok(())
}

fn validate_domain(domain: &str) -> Result<(), CookieConfigError> {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    if host.is_empty() {
        return Err(CookieConfigError::Domain("it is empty"));
    }
    if domain.len() > MAX_ATTRIBUTE_VALUE_LEN {
        return Err(CookieConfigError::Domain("it is longer than 1024 bytes"));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !host.split('.').all(label_ok) {
        return Err(CookieConfigError::Domain(
            "it must be a host name such as `example.com` (letters, digits, `-` and dots)",
        ));
    }
    Ok(())
}

/// Appends `time` as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn push_imf_fixdate(out: &mut String, time: SystemTime) {
    use fmt::Write as _;
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(crate::envelope::MAX_UNIX_SECS);
    let at = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let day = DAYS
        .get(usize::from(at.weekday().number_days_from_monday()))
        .copied()
        .unwrap_or("Mon");
    let month = MONTHS
        .get(usize::from(u8::from(at.month())).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    let _ = write!(
        out,
        "{day}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        at.day(),
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imf_fixdate() {
        let mut s = String::new();
        push_imf_fixdate(&mut s, UNIX_EPOCH + Duration::from_secs(784_111_777));
        assert_eq!(s, "Sun, 06 Nov 1994 08:49:37 GMT");
        s.clear();
        push_imf_fixdate(&mut s, UNIX_EPOCH + Duration::from_secs(253_402_300_799));
        assert_eq!(s, "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn prefixes_are_case_insensitive() {
        for name in ["__host-s", "__HOST-s", "__Host-s"] {
            assert_eq!(
                CookieConfig::new(name).domain("example.com").validate(),
                Err(CookieConfigError::HostPrefix("cannot have a Domain"))
            );
            assert_eq!(
                CookieConfig::new(name).path("/app").validate(),
                Err(CookieConfigError::HostPrefix("must have Path=/"))
            );
        }
        assert_eq!(
            CookieConfig::new("__SECURE-s")
                .insecure_dev_only()
                .validate(),
            Err(CookieConfigError::SecurePrefix)
        );
        assert_eq!(
            CookieConfig::new("__Host-Http-s")
                .http_only(false)
                .validate(),
            Err(CookieConfigError::HttpPrefix)
        );
    }

    #[test]
    fn invalid_combinations() {
        let cases = [
            (CookieConfig::new("a b"), "invalid cookie name"),
            (CookieConfig::new(""), "invalid cookie name"),
            (CookieConfig::new("a;b"), "invalid cookie name"),
            (CookieConfig::new("a=b"), "invalid cookie name"),
            (CookieConfig::new("s").path("app"), "start with `/`"),
            (
                CookieConfig::new("s").path(format!("/{}", "a".repeat(1024))),
                "1024",
            ),
            (CookieConfig::new("s").path("/a;b"), "other than `;`"),
            (
                CookieConfig::new("__Secure-s").domain(format!("{}.example.com", "a".repeat(1013))),
                "1024",
            ),
            (
                CookieConfig::new("__Secure-s").domain("exa mple.com"),
                "host name",
            ),
            (CookieConfig::new("__Secure-s").domain("."), "empty"),
            (CookieConfig::new("s").domain("example.com"), "__Secure-"),
            (
                CookieConfig::new("s")
                    .insecure_dev_only()
                    .same_site(SameSite::None),
                "SameSite=None",
            ),
            (
                CookieConfig::new("s").insecure_dev_only().partitioned(true),
                "Partitioned",
            ),
            (
                CookieConfig::new("__Host-s").insecure_dev_only(),
                "must be Secure",
            ),
            (
                CookieConfig::new("__Http-s").http_only(false),
                "Secure and HttpOnly",
            ),
            (
                CookieConfig::new("__Host-Http-s").http_only(false),
                "Secure and HttpOnly",
            ),
            (
                CookieConfig::new("__Http-s").insecure_dev_only(),
                "Secure and HttpOnly",
            ),
        ];
        for (config, expected) in cases {
            let err = config.validate().expect_err(expected);
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn size_limit_is_exact() {
        let cookie = CookieConfig::new("__Host-s");
        let fits = "v".repeat(4096 - 8);
        assert_eq!(
            cookie.set_cookie(&fits, None).unwrap().name_value_len(),
            4096
        );
        let Err(SetCookieError::TooLarge(err)) = cookie.set_cookie(&format!("{fits}v"), None)
        else {
            panic!("over the limit")
        };
        assert_eq!((err.name, err.value), (8, 4089));
        assert_eq!(
            err.attributes,
            "; Path=/; Secure; HttpOnly; SameSite=Lax".len()
        );
    }

    #[test]
    fn set_cookie_refuses_what_a_header_cannot_carry() {
        let cookie = CookieConfig::new("s");
        for value in [
            "a;b", "a b", "a\r\nx", "a\nx", "\"q\"", "a,b", "a\\b", "é", "\0",
        ] {
            assert_eq!(
                cookie.set_cookie(value, None).unwrap_err(),
                SetCookieError::Value,
                "{value:?}"
            );
        }
        assert!(
            cookie.set_cookie("", None).is_ok(),
            "an empty value is valid"
        );
        assert!(
            cookie
                .set_cookie("AZaz09-_.~!#$%&'()*+/:<=>?@[]^`{|}", None)
                .is_ok()
        );
        // An invalid configuration is an error, never an empty header.
        for config in [
            CookieConfig::new("a b"),
            CookieConfig::new("s").path("/a\r\nb"),
            CookieConfig::new("s").path("/a;b"),
            CookieConfig::new("__Host-s").path("/app"),
        ] {
            assert!(matches!(
                config.set_cookie("v", None),
                Err(SetCookieError::Config(_))
            ));
            assert!(matches!(
                config.removal("s"),
                Err(SetCookieError::Config(_))
            ));
        }
        assert!(cookie.removal("a\r\nb").is_err());
    }

    #[test]
    fn set_cookie_values_are_sensitive_and_redacted() {
        let set = CookieConfig::new("s")
            .set_cookie("secret-value", None)
            .unwrap();
        assert!(set.header().is_sensitive());
        assert!(!format!("{set:?}").contains("secret-value"));
        assert!(CookieConfig::new("s").removal("s").unwrap().is_sensitive());
    }
}
