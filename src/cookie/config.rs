//! Cookie attributes: validated once, then written into `Set-Cookie`
//! header values with exact byte accounting.

use super::name::{has_prefix, requires_http_only};
use crate::error::ConfigError;
use crate::limits::{DEFAULT_COOKIE_NAME, MAX_ATTRIBUTE_VALUE_LEN};

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
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    pub(super) name: String,
    pub(super) path: String,
    pub(super) domain: Option<String>,
    pub(super) secure: bool,
    pub(super) http_only: bool,
    pub(super) same_site: SameSite,
    pub(super) partitioned: bool,
    pub(super) persistent: bool,
}

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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Errors
    ///
    /// The first rule broken, as a [`ConfigError`] whose message says the fix:
    /// an invalid name, path or domain, or an attribute combination browsers
    /// reject (prefixes, `SameSite=None` or `Partitioned` without `Secure`, a
    /// `Domain` without `__Secure-`).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, ConfigError, SameSite};
    /// let err = CookieConfig::new("s").insecure_dev_only().same_site(SameSite::None).validate();
    /// assert_eq!(err, Err(ConfigError::SameSiteNoneWithoutSecure));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        super::name::validate_name(&self.name)?;
        validate_path(&self.path)?;
        if let Some(domain) = &self.domain {
            validate_domain(domain)?;
        }
        let name = self.name.as_str();
        if has_prefix(name, "__Host-") {
            if !self.secure {
                return Err(ConfigError::HostPrefix("must be Secure"));
            }
            if self.domain.is_some() {
                return Err(ConfigError::HostPrefix("cannot have a Domain"));
            }
            if self.path != "/" {
                return Err(ConfigError::HostPrefix("must have Path=/"));
            }
        }
        if has_prefix(name, "__Secure-") && !self.secure {
            return Err(ConfigError::SecurePrefix);
        }
        if requires_http_only(name) && !(self.http_only && self.secure) {
            return Err(ConfigError::HttpPrefix);
        }
        if self.domain.is_some() && !has_prefix(name, "__Secure-") {
            return Err(ConfigError::DomainWithoutSecurePrefix);
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::SameSiteNoneWithoutSecure);
        }
        if self.partitioned && !self.secure {
            return Err(ConfigError::PartitionedWithoutSecure);
        }
        Ok(())
    }

    /// Whether browsers accept this cookie without `Secure`.
    pub(crate) fn allows_plain_http(&self) -> bool {
        self.same_site != SameSite::None && !self.partitioned
    }
}

fn validate_path(path: &str) -> Result<(), ConfigError> {
    if !path.starts_with('/') {
        return Err(ConfigError::Path("it must start with `/`"));
    }
    if path.len() > MAX_ATTRIBUTE_VALUE_LEN {
        return Err(ConfigError::Path("it is longer than 1024 bytes"));
    }
    if !path.bytes().all(|b| b.is_ascii_graphic() && b != b';') {
        return Err(ConfigError::Path(
            "it may only contain visible ASCII characters other than `;`",
        ));
    }
    Ok(())
}

fn validate_domain(domain: &str) -> Result<(), ConfigError> {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    if host.is_empty() {
        return Err(ConfigError::Domain("it is empty"));
    }
    if domain.len() > MAX_ATTRIBUTE_VALUE_LEN {
        return Err(ConfigError::Domain("it is longer than 1024 bytes"));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !host.split('.').all(label_ok) {
        return Err(ConfigError::Domain(
            "it must be a host name such as `example.com` (letters, digits, `-` and dots)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_case_insensitive() {
        for name in ["__host-s", "__HOST-s", "__Host-s"] {
            assert_eq!(
                CookieConfig::new(name).domain("example.com").validate(),
                Err(ConfigError::HostPrefix("cannot have a Domain"))
            );
            assert_eq!(
                CookieConfig::new(name).path("/app").validate(),
                Err(ConfigError::HostPrefix("must have Path=/"))
            );
        }
        assert_eq!(
            CookieConfig::new("__SECURE-s")
                .insecure_dev_only()
                .validate(),
            Err(ConfigError::SecurePrefix)
        );
        assert_eq!(
            CookieConfig::new("__Host-Http-s")
                .http_only(false)
                .validate(),
            Err(ConfigError::HttpPrefix)
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
}
