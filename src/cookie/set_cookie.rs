//! Rendering `Set-Cookie` values: exact size accounting, validated input,
//! never an empty header.

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderValue;

use crate::limits::{BROWSER_COOKIE_LIMIT, MAX_COOKIE_LIFETIME};

use crate::error::ConfigError;

use super::CookieConfig;

/// Name and value together exceed what browsers store; the cookie would be
/// dropped silently if it were sent.
///
/// ```
/// use sealed_session::CookieConfig;
/// use sealed_session::adapter::SetCookieError;
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
/// use sealed_session::CookieConfig;
/// use sealed_session::adapter::SetCookieError;
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
    Config(ConfigError),
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
    /// ```
    pub fn into_header(self) -> HeaderValue {
        self.header
    }

    /// Bytes of the name and value, the part browsers limit to 4096.
    ///
    /// ```
    /// # use sealed_session::CookieConfig;
    /// assert_eq!(CookieConfig::new("ab").set_cookie("xyz", None)?.name_value_len(), 5);
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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

impl CookieConfig {
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
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
    /// # Ok::<(), sealed_session::adapter::SetCookieError>(())
    /// ```
    pub fn removal(&self, name: &str) -> Result<HeaderValue, SetCookieError> {
        self.validate().map_err(SetCookieError::Config)?;
        super::name::validate_name(name).map_err(SetCookieError::Config)?;
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
        .min(crate::limits::MAX_UNIX_SECS);
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
