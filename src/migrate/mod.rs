//! Moving users from another session crate's cookie to a sealed one
//! without logging anyone out.
//!
//! During a migration window the [`SessionManager`](crate::SessionManager)
//! also reads the cookie the previous session crate wrote, when the request
//! carries no valid sealed cookie. It opens that value exactly as the peer
//! wrote it (with the `cookie` crate, which the peers use), hands its
//! contents to a mapping the application supplies, and answers the request
//! as that user: the response sets the sealed cookie and removes the
//! legacy one. What does not open, parse or map leaves the request
//! anonymous and removes the legacy cookie; nothing here turns into an
//! error response.
//!
//! | [`LegacySource`] | the peer | its payload, as [`LegacySession`] shows it |
//! |---|---|---|
//! | `CookiePrivate`, `CookieSigned` | `cookie`'s `PrivateJar` / `SignedJar` | [`LegacySession::text`] |
//! | `AxumExtraPrivate`, `AxumExtraSigned` | axum-extra's `PrivateCookieJar` / `SignedCookieJar` | [`LegacySession::text`] |
//! | `RocketPrivate` | Rocket's private cookies | [`LegacySession::text`] |
//! | `ActixSessionPrivate`, `ActixSessionSigned` | actix-session's `CookieSessionStore` | [`LegacySession::get`] by key |
//! | `TowerSessionsPrivate`, `TowerSessionsSigned` | tower-sessions-cookie-store | [`LegacySession::get`] by key, and [`LegacySession::expires_at`] |
//!
//! The guide below (`MIGRATING.md`) walks through each peer: its
//! configuration here, the API it maps to, and the rollout.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacyKey, LegacySource};
//! use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
//!
//! // The 64-byte key the actix-web app used (`Key::from` there).
//! let actix_key = [7u8; 64];
//! let legacy = LegacyConfig::new(SystemTime::now() + Duration::from_secs(30 * 24 * 3600))
//!     .cookie(LegacyCookie::new(LegacySource::ActixSessionPrivate, "id").key(LegacyKey::from_master(&actix_key)?));
//!
//! let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
//! let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::default()), keys)?
//!     .with_legacy_cookies(legacy, |legacy| legacy.to_session_map())?;
//! assert_eq!(manager.legacy_stats().migrated(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
#![doc = include_str!("../../MIGRATING.md")]

mod decode;
mod stats;

use core::fmt;
use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::SessionMap;
use crate::error::ConfigError;

pub(crate) use decode::decode;
pub(crate) use stats::Counters;
pub use stats::LegacyStats;

/// Most legacy cookie names one manager reads.
pub const MAX_LEGACY_COOKIES: usize = 4;

/// Most keys tried on one legacy cookie (the peers' formats carry no key
/// id, so each configured key is one trial).
pub const MAX_LEGACY_KEYS: usize = 4;

/// Longest legacy value opened, in bytes as received; browsers store no
/// longer cookie.
pub const MAX_LEGACY_VALUE_LEN: usize = crate::limits::BROWSER_COOKIE_LIMIT;

/// The session crate that wrote the legacy cookie, and so how it is
/// opened and what it holds.
///
/// ```
/// use sealed_session::migrate::LegacySource;
/// assert_eq!(LegacySource::TowerSessionsSigned.default_cookie_name(), Some("session"));
/// assert_eq!(LegacySource::ActixSessionPrivate.to_string(), "actix-session-private");
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegacySource {
    /// `cookie`'s `PrivateJar` (0.16–0.18), value written as is: the
    /// application's string, encrypted with AES-256-GCM under the cookie
    /// name.
    CookiePrivate,
    /// `cookie`'s `SignedJar`, value written as is: an HMAC-SHA256 tag in
    /// base64, then the application's string in the clear.
    CookieSigned,
    /// axum-extra's `PrivateCookieJar`: a `PrivateJar` value,
    /// percent-encoded on the wire.
    AxumExtraPrivate,
    /// axum-extra's `SignedCookieJar`: a `SignedJar` value, percent-encoded
    /// on the wire.
    AxumExtraSigned,
    /// actix-session's `CookieSessionStore` with
    /// `CookieContentSecurity::Private` (the default): a JSON map in a
    /// `PrivateJar` value, cookie name `id` by default.
    ActixSessionPrivate,
    /// actix-session's `CookieSessionStore` with
    /// `CookieContentSecurity::Signed`.
    ActixSessionSigned,
    /// tower-sessions-cookie-store with `CookieSessionManagerLayer::private`:
    /// a base64url JSON record in a `PrivateJar` value, cookie name
    /// `session` by default.
    TowerSessionsPrivate,
    /// tower-sessions-cookie-store with `CookieSessionManagerLayer::signed`
    /// (its default).
    TowerSessionsSigned,
    /// Rocket's private cookies: a `PrivateJar` value under the key Rocket
    /// makes of its `secret_key` (see [`LegacyKey::rocket`]).
    RocketPrivate,
}

pub(crate) const SOURCES: usize = 9;

/// What a legacy value holds once opened.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PayloadKind {
    Text,
    ActixMap,
    TowerRecord,
}

impl LegacySource {
    /// Every source, in the order of [`LegacyStats`].
    pub const ALL: [Self; SOURCES] = [
        Self::CookiePrivate,
        Self::CookieSigned,
        Self::AxumExtraPrivate,
        Self::AxumExtraSigned,
        Self::ActixSessionPrivate,
        Self::ActixSessionSigned,
        Self::TowerSessionsPrivate,
        Self::TowerSessionsSigned,
        Self::RocketPrivate,
    ];

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// A short stable name, for logs and metrics labels.
    ///
    /// ```
    /// # use sealed_session::migrate::LegacySource;
    /// assert_eq!(LegacySource::RocketPrivate.as_str(), "rocket-private");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CookiePrivate => "cookie-private",
            Self::CookieSigned => "cookie-signed",
            Self::AxumExtraPrivate => "axum-extra-private",
            Self::AxumExtraSigned => "axum-extra-signed",
            Self::ActixSessionPrivate => "actix-session-private",
            Self::ActixSessionSigned => "actix-session-signed",
            Self::TowerSessionsPrivate => "tower-sessions-private",
            Self::TowerSessionsSigned => "tower-sessions-signed",
            Self::RocketPrivate => "rocket-private",
        }
    }

    /// The cookie name the peer uses unless configured otherwise.
    ///
    /// ```
    /// # use sealed_session::migrate::LegacySource;
    /// assert_eq!(LegacySource::ActixSessionSigned.default_cookie_name(), Some("id"));
    /// assert_eq!(LegacySource::CookiePrivate.default_cookie_name(), None);
    /// ```
    pub const fn default_cookie_name(self) -> Option<&'static str> {
        match self {
            Self::ActixSessionPrivate | Self::ActixSessionSigned => Some("id"),
            Self::TowerSessionsPrivate | Self::TowerSessionsSigned => Some("session"),
            _ => None,
        }
    }

    /// Whether the value is encrypted (`PrivateJar`) rather than signed.
    const fn is_private(self) -> bool {
        matches!(
            self,
            Self::CookiePrivate
                | Self::AxumExtraPrivate
                | Self::ActixSessionPrivate
                | Self::TowerSessionsPrivate
                | Self::RocketPrivate
        )
    }

    /// Whether the peer percent-decodes the value it reads (axum-extra,
    /// actix-web and tower-cookies parse request cookies with
    /// `Cookie::parse_encoded`; Rocket's private values are base64, which
    /// percent-decoding leaves alone).
    const fn percent_encoded(self) -> bool {
        !matches!(self, Self::CookiePrivate | Self::CookieSigned)
    }

    const fn payload(self) -> PayloadKind {
        match self {
            Self::ActixSessionPrivate | Self::ActixSessionSigned => PayloadKind::ActixMap,
            Self::TowerSessionsPrivate | Self::TowerSessionsSigned => PayloadKind::TowerRecord,
            _ => PayloadKind::Text,
        }
    }
}

impl fmt::Display for LegacySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key the previous session crate used: the `cookie` crate's 512-bit
/// key (256 bits to sign, 256 to encrypt), made the way the peer made it.
/// `Debug` never shows it.
///
/// ```
/// use sealed_session::migrate::LegacyKey;
/// // `Key::from(&bytes)` in the peer: 64 bytes or more.
/// assert!(LegacyKey::from_master(&[1u8; 64]).is_ok());
/// assert!(LegacyKey::from_master(&[1u8; 32]).is_err());
/// // `Key::derive_from(&bytes)`: HKDF-SHA256 from 32 bytes or more.
/// assert!(LegacyKey::derive_from(&[1u8; 32]).is_ok());
/// assert_eq!(format!("{:?}", LegacyKey::derive_from(&[1u8; 32])?), "LegacyKey(<redacted>)");
/// # Ok::<(), sealed_session::migrate::LegacyConfigError>(())
/// ```
#[derive(Clone)]
pub struct LegacyKey(cookie::Key);

impl LegacyKey {
    /// The key a peer built with `Key::from(bytes)` (cookie, axum-extra,
    /// actix-web, tower-cookies): the first 64 bytes, signing half first.
    ///
    /// # Errors
    ///
    /// [`LegacyConfigError::KeyTooShort`] for fewer than 64 bytes.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyConfigError, LegacyKey};
    /// assert_eq!(LegacyKey::from_master(&[0; 10]).unwrap_err(), LegacyConfigError::KeyTooShort { needed: 64, got: 10 });
    /// ```
    pub fn from_master(bytes: &[u8]) -> Result<Self, LegacyConfigError> {
        cookie::Key::try_from(bytes)
            .map(Self)
            .map_err(|_| LegacyConfigError::KeyTooShort {
                needed: 64,
                got: bytes.len(),
            })
    }

    /// The key a peer built with `Key::derive_from(master)`: both halves
    /// expanded from a master secret of 32 bytes or more with HKDF-SHA256.
    ///
    /// # Errors
    ///
    /// [`LegacyConfigError::KeyTooShort`] for fewer than 32 bytes.
    ///
    /// ```
    /// # use sealed_session::migrate::LegacyKey;
    /// assert!(LegacyKey::derive_from(&[9u8; 31]).is_err());
    /// ```
    pub fn derive_from(master: &[u8]) -> Result<Self, LegacyConfigError> {
        if master.len() < 32 {
            return Err(LegacyConfigError::KeyTooShort {
                needed: 32,
                got: master.len(),
            });
        }
        Ok(Self(cookie::Key::derive_from(master)))
    }

    /// The key Rocket makes of its decoded `secret_key`: a 256-bit secret
    /// is expanded (`derive_from`), a 512-bit one used as is (`from`).
    ///
    /// # Errors
    ///
    /// [`LegacyConfigError::RocketKeyLength`] for any other length, as
    /// Rocket refuses those too.
    ///
    /// ```
    /// # use sealed_session::migrate::LegacyKey;
    /// assert!(LegacyKey::rocket(&[3u8; 32]).is_ok());
    /// assert!(LegacyKey::rocket(&[3u8; 64]).is_ok());
    /// assert!(LegacyKey::rocket(&[3u8; 48]).is_err());
    /// ```
    pub fn rocket(secret: &[u8]) -> Result<Self, LegacyConfigError> {
        match secret.len() {
            32 => Self::derive_from(secret),
            64 => Self::from_master(secret),
            got => Err(LegacyConfigError::RocketKeyLength(got)),
        }
    }

    pub(crate) fn inner(&self) -> &cookie::Key {
        &self.0
    }
}

impl fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LegacyKey(<redacted>)")
    }
}

/// One legacy cookie: its name, the `Path` and `Domain` it was set with
/// (so that its removal matches it), the crate that wrote it and its keys
/// (newest first: teams rotate those too).
///
/// ```
/// use sealed_session::migrate::{LegacyCookie, LegacyKey, LegacySource};
/// let cookie = LegacyCookie::new(LegacySource::TowerSessionsPrivate, "session")
///     .path("/app")
///     .domain("example.com")
///     .key(LegacyKey::from_master(&[1u8; 64])?)
///     .key(LegacyKey::from_master(&[2u8; 64])?);
/// assert_eq!(cookie.name(), "session");
/// # Ok::<(), sealed_session::migrate::LegacyConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct LegacyCookie {
    pub(crate) source: LegacySource,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) keys: Vec<LegacyKey>,
}

impl LegacyCookie {
    /// A cookie `name` written by `source`, with `Path=/`, no `Domain` and
    /// no key yet.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyCookie, LegacySource};
    /// assert_eq!(LegacyCookie::new(LegacySource::CookiePrivate, "user").source(), LegacySource::CookiePrivate);
    /// ```
    pub fn new(source: LegacySource, name: impl Into<String>) -> Self {
        Self {
            source,
            name: name.into(),
            path: "/".to_owned(),
            domain: None,
            keys: Vec::new(),
        }
    }

    /// The `Path` the peer set the cookie with.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyCookie, LegacySource};
    /// let cookie = LegacyCookie::new(LegacySource::CookiePrivate, "user").path("/admin");
    /// # let _ = cookie;
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The `Domain` the peer set the cookie with, if any.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyCookie, LegacySource};
    /// let cookie = LegacyCookie::new(LegacySource::CookiePrivate, "user").domain("example.com");
    /// # let _ = cookie;
    /// ```
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Adds a key the value may be sealed under; each is one trial.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyCookie, LegacyKey, LegacySource};
    /// let cookie = LegacyCookie::new(LegacySource::CookieSigned, "user").key(LegacyKey::derive_from(&[5u8; 32])?);
    /// # let _ = cookie;
    /// # Ok::<(), sealed_session::migrate::LegacyConfigError>(())
    /// ```
    pub fn key(mut self, key: LegacyKey) -> Self {
        self.keys.push(key);
        self
    }

    /// The cookie's name.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyCookie, LegacySource};
    /// assert_eq!(LegacyCookie::new(LegacySource::CookiePrivate, "user").name(), "user");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The crate that wrote it.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyCookie, LegacySource};
    /// assert_eq!(LegacyCookie::new(LegacySource::RocketPrivate, "user").source(), LegacySource::RocketPrivate);
    /// ```
    pub fn source(&self) -> LegacySource {
        self.source
    }

    fn validate(&self) -> Result<(), LegacyConfigError> {
        crate::cookie::name::validate_name(&self.name).map_err(LegacyConfigError::Cookie)?;
        // Path and domain follow the rules of our own cookies; a prefixed
        // name is the one that allows a Domain.
        let mut attributes = crate::CookieConfig::new("__Secure-legacy").path(self.path.clone());
        if let Some(domain) = &self.domain {
            attributes = attributes.domain(domain.clone());
        }
        attributes.validate().map_err(LegacyConfigError::Cookie)?;
        match self.keys.len() {
            0 => Err(LegacyConfigError::NoKey(self.name.clone())),
            n if n > MAX_LEGACY_KEYS => Err(LegacyConfigError::TooManyKeys(self.name.clone())),
            _ => Ok(()),
        }
    }
}

/// Which legacy cookies to read, and until when.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use sealed_session::migrate::{LegacyConfig, LegacyConfigError, LegacyCookie, LegacyKey, LegacySource};
///
/// let sunset = SystemTime::now() + Duration::from_secs(14 * 24 * 3600);
/// let config = LegacyConfig::new(sunset)
///     .cookie(LegacyCookie::new(LegacySource::AxumExtraPrivate, "user").key(LegacyKey::from_master(&[1u8; 64])?));
/// assert!(config.validate("__Host-session").is_ok());
/// assert_eq!(LegacyConfig::new(sunset).validate("__Host-session"), Err(LegacyConfigError::NoCookie));
/// # Ok::<(), LegacyConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct LegacyConfig {
    pub(crate) cookies: Vec<LegacyCookie>,
    pub(crate) sunset: SystemTime,
}

impl LegacyConfig {
    /// Reads legacy cookies until `sunset`; from then on they are only
    /// removed. Keep the window at least as long as the longest legacy
    /// session lives.
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use sealed_session::migrate::LegacyConfig;
    /// assert_eq!(LegacyConfig::new(SystemTime::UNIX_EPOCH).sunset(), SystemTime::UNIX_EPOCH);
    /// ```
    pub fn new(sunset: SystemTime) -> Self {
        Self {
            cookies: Vec::new(),
            sunset,
        }
    }

    /// Adds a legacy cookie. When a request carries several, the first
    /// configured one present is the one opened.
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacySource};
    /// let config = LegacyConfig::new(SystemTime::now()).cookie(LegacyCookie::new(LegacySource::CookiePrivate, "user"));
    /// # let _ = config;
    /// ```
    pub fn cookie(mut self, cookie: LegacyCookie) -> Self {
        self.cookies.push(cookie);
        self
    }

    /// When reading legacy cookies ends.
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use sealed_session::migrate::LegacyConfig;
    /// let now = SystemTime::now();
    /// assert_eq!(LegacyConfig::new(now).sunset(), now);
    /// ```
    pub fn sunset(&self) -> SystemTime {
        self.sunset
    }

    /// Checks the configuration against the sealed cookie's name, as
    /// [`SessionManager::with_legacy_cookies`](crate::SessionManager::with_legacy_cookies)
    /// does.
    ///
    /// # Errors
    ///
    /// The first mistake: no cookie or more than [`MAX_LEGACY_COOKIES`], a
    /// name used twice or equal to (or a chunk of) `sealed_name`, an
    /// invalid name, `Path` or `Domain`, a cookie without a key or with
    /// more than [`MAX_LEGACY_KEYS`].
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use sealed_session::migrate::{LegacyConfig, LegacyConfigError, LegacyCookie, LegacyKey, LegacySource};
    /// let clash = LegacyConfig::new(SystemTime::now())
    ///     .cookie(LegacyCookie::new(LegacySource::CookiePrivate, "s").key(LegacyKey::derive_from(&[1; 32])?));
    /// assert_eq!(clash.validate("s"), Err(LegacyConfigError::NameClash("s".into())));
    /// # Ok::<(), LegacyConfigError>(())
    /// ```
    pub fn validate(&self, sealed_name: &str) -> Result<(), LegacyConfigError> {
        if self.cookies.is_empty() {
            return Err(LegacyConfigError::NoCookie);
        }
        if self.cookies.len() > MAX_LEGACY_COOKIES {
            return Err(LegacyConfigError::TooManyCookies);
        }
        for (i, cookie) in self.cookies.iter().enumerate() {
            cookie.validate()?;
            let name = cookie.name.as_str();
            let chunk_of_ours = name
                .strip_prefix(sealed_name)
                .is_some_and(|rest| rest.starts_with('.'));
            let repeated = self.cookies.iter().take(i).any(|c| c.name == name);
            if name == sealed_name || chunk_of_ours || repeated {
                return Err(LegacyConfigError::NameClash(name.to_owned()));
            }
        }
        Ok(())
    }
}

/// A legacy migration that cannot work as configured, reported at startup.
///
/// ```
/// use sealed_session::migrate::LegacyConfigError;
/// assert!(LegacyConfigError::NoCookie.to_string().contains("no legacy cookie"));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegacyConfigError {
    /// No legacy cookie was configured.
    NoCookie,
    /// More than [`MAX_LEGACY_COOKIES`] legacy cookies.
    TooManyCookies,
    /// The legacy cookie of this name has no key.
    NoKey(String),
    /// The legacy cookie of this name has more than [`MAX_LEGACY_KEYS`] keys.
    TooManyKeys(String),
    /// This legacy name is the sealed cookie's, one of its chunks', or
    /// another legacy cookie's.
    NameClash(String),
    /// The legacy cookie's name, `Path` or `Domain` is invalid.
    Cookie(ConfigError),
    /// The key material is shorter than the peer's key type accepts.
    KeyTooShort {
        /// Bytes the peer requires.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// Rocket's `secret_key` decodes to 32 or 64 bytes, not this many.
    RocketKeyLength(usize),
}

impl fmt::Display for LegacyConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCookie => {
                f.write_str("no legacy cookie configured: add one with LegacyConfig::cookie")
            }
            Self::TooManyCookies => {
                write!(f, "at most {MAX_LEGACY_COOKIES} legacy cookies can be read")
            }
            Self::NoKey(name) => write!(
                f,
                "legacy cookie `{name}` has no key: add the key the previous crate used"
            ),
            Self::TooManyKeys(name) => {
                write!(
                    f,
                    "legacy cookie `{name}` has more than {MAX_LEGACY_KEYS} keys; keep the ones still in use"
                )
            }
            Self::NameClash(name) => write!(
                f,
                "legacy cookie `{name}` clashes with the sealed cookie or another legacy cookie; give the sealed cookie a new name"
            ),
            Self::Cookie(err) => write!(f, "legacy cookie: {err}"),
            Self::KeyTooShort { needed, got } => write!(
                f,
                "legacy key too short: {got} bytes, the previous crate's key needs at least {needed}"
            ),
            Self::RocketKeyLength(got) => write!(
                f,
                "Rocket's secret_key decodes to 32 or 64 bytes, not {got}: decode its base64 first"
            ),
        }
    }
}

impl std::error::Error for LegacyConfigError {}

/// Why a legacy cookie did not become a session; counted by
/// [`LegacyStats`] and logged (the kind only, never a value).
///
/// ```
/// use sealed_session::migrate::LegacyRejection;
/// assert_eq!(LegacyRejection::Unopened.as_str(), "unopened");
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegacyRejection {
    /// No configured key opens it: tampered, truncated, another key, or
    /// not the source's format.
    Unopened,
    /// It opened, but its contents are not what the source writes (or are
    /// hostile: nested too deep).
    Unparsed,
    /// The expiry the source recorded has passed.
    Expired,
    /// The mapping (or the validator) returned no session for it.
    Unmapped,
    /// The mapped session does not fit the sealed cookie.
    TooLarge,
    /// The migration window has ended.
    Sunset,
    /// A valid sealed cookie came with it; the sealed one wins.
    Superseded,
}

pub(crate) const REJECTIONS: usize = 7;

impl LegacyRejection {
    /// Every reason, in the order of [`LegacyStats`].
    pub const ALL: [Self; REJECTIONS] = [
        Self::Unopened,
        Self::Unparsed,
        Self::Expired,
        Self::Unmapped,
        Self::TooLarge,
        Self::Sunset,
        Self::Superseded,
    ];

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// A short stable name, for logs and metrics labels.
    ///
    /// ```
    /// # use sealed_session::migrate::LegacyRejection;
    /// assert_eq!(LegacyRejection::TooLarge.as_str(), "too-large");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unopened => "unopened",
            Self::Unparsed => "unparsed",
            Self::Expired => "expired",
            Self::Unmapped => "unmapped",
            Self::TooLarge => "too-large",
            Self::Sunset => "sunset",
            Self::Superseded => "superseded",
        }
    }
}

impl fmt::Display for LegacyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone)]
pub(crate) enum Payload {
    Text(Zeroizing<String>),
    Map(BTreeMap<String, Value>),
}

/// An opened legacy cookie, handed to the application's mapping.
///
/// String-shaped sources (`cookie`, axum-extra, Rocket) give the string the
/// application stored: [`text`](Self::text). Map-shaped sources
/// (actix-session, tower-sessions) give their key/value data:
/// [`get`](Self::get) decodes one value from its JSON, and
/// [`to_session_map`](Self::to_session_map) converts them all.
///
/// ```
/// use sealed_session::migrate::LegacySession;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct User { id: u64, roles: Vec<String> }
///
/// fn map(legacy: &LegacySession) -> Option<User> {
///     Some(User { id: legacy.get("user_id")?, roles: legacy.get("roles").unwrap_or_default() })
/// }
/// # let _ = map;
/// ```
#[derive(Clone)]
pub struct LegacySession {
    pub(crate) source: LegacySource,
    pub(crate) payload: Payload,
    pub(crate) expires_at: Option<SystemTime>,
}

impl fmt::Debug for LegacySession {
    /// Keys only: the values are the user's session.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("LegacySession");
        out.field("source", &self.source);
        match &self.payload {
            Payload::Text(_) => out.field("text", &"<redacted>"),
            Payload::Map(map) => out.field("keys", &map.keys().collect::<Vec<_>>()),
        };
        out.field("expires_at", &self.expires_at).finish()
    }
}

impl LegacySession {
    /// The crate that wrote the cookie.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// let legacy = LegacySession::from_text(LegacySource::CookiePrivate, "alice");
    /// assert_eq!(legacy.source(), LegacySource::CookiePrivate);
    /// ```
    pub fn source(&self) -> LegacySource {
        self.source
    }

    /// The string the application stored, for string-shaped sources.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// let legacy = LegacySession::from_text(LegacySource::AxumExtraPrivate, "user-42");
    /// assert_eq!(legacy.text(), Some("user-42"));
    /// assert_eq!(legacy.get::<u64>("user_id"), None);
    /// ```
    pub fn text(&self) -> Option<&str> {
        match &self.payload {
            Payload::Text(text) => Some(text),
            Payload::Map(_) => None,
        }
    }

    /// The value under `key` decoded from its JSON as a `V`, for
    /// map-shaped sources; `None` when absent or not a `V`.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// let legacy = LegacySession::from_json_map(LegacySource::TowerSessionsSigned, r#"{"user_id":42,"roles":["admin"]}"#).unwrap();
    /// assert_eq!(legacy.get::<u64>("user_id"), Some(42));
    /// assert_eq!(legacy.get::<Vec<String>>("roles"), Some(vec!["admin".to_owned()]));
    /// assert_eq!(legacy.get::<String>("user_id"), None, "not a string");
    /// ```
    pub fn get<V: DeserializeOwned>(&self, key: &str) -> Option<V> {
        match &self.payload {
            Payload::Map(map) => map.get(key).and_then(|value| V::deserialize(value).ok()),
            Payload::Text(_) => None,
        }
    }

    /// The keys of a map-shaped source's data, in order.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// let legacy = LegacySession::from_json_map(LegacySource::TowerSessionsSigned, r#"{"b":1,"a":2}"#).unwrap();
    /// assert_eq!(legacy.keys().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let map = match &self.payload {
            Payload::Map(map) => Some(map),
            Payload::Text(_) => None,
        };
        map.into_iter()
            .flat_map(|map| map.keys().map(String::as_str))
    }

    /// When the source said the session ends (tower-sessions records
    /// carry it); the migrated session ends no later.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// assert_eq!(LegacySession::from_text(LegacySource::CookiePrivate, "x").expires_at(), None);
    /// ```
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The data of a map-shaped source as a [`SessionMap`]: the built-in
    /// mapping. `None` for string-shaped sources. JSON values become:
    ///
    /// | JSON | read it back with `SessionMap::get::<…>` as |
    /// |---|---|
    /// | string | `String` |
    /// | integer | `i64` (or `i32`, `i16` when it fits): always signed |
    /// | other number | `f64` |
    /// | `true`/`false` | `bool` |
    /// | `null` | `Option<_>` (`None`) |
    /// | array | `Vec<_>` of the converted elements |
    /// | object | `BTreeMap<String, _>` of the converted values |
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// let legacy = LegacySession::from_json_map(
    ///     LegacySource::ActixSessionPrivate,
    ///     r#"{"user_id":42,"roles":["admin","ops"],"name":"Zoë"}"#,
    /// ).unwrap();
    /// let map = legacy.to_session_map().unwrap();
    /// assert_eq!(map.get::<i64>("user_id")?, Some(42));
    /// assert_eq!(map.get::<Vec<String>>("roles")?, Some(vec!["admin".into(), "ops".into()]));
    /// assert_eq!(map.get::<String>("name")?.as_deref(), Some("Zoë"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn to_session_map(&self) -> Option<SessionMap> {
        let Payload::Map(data) = &self.payload else {
            return None;
        };
        let mut map = SessionMap::default();
        for (key, value) in data {
            map.insert(key.clone(), &Converted(value)).ok()?;
        }
        Some(map)
    }

    /// A string-shaped legacy session, as a source hands it over (for
    /// testing a mapping).
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// assert_eq!(LegacySession::from_text(LegacySource::RocketPrivate, "7").text(), Some("7"));
    /// ```
    pub fn from_text(source: LegacySource, text: &str) -> Self {
        Self {
            source,
            payload: Payload::Text(Zeroizing::new(text.to_owned())),
            expires_at: None,
        }
    }

    /// A map-shaped legacy session from a JSON object of values (for
    /// testing a mapping); `None` if `json` is not an object.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacySession, LegacySource};
    /// assert!(LegacySession::from_json_map(LegacySource::ActixSessionSigned, "[1]").is_none());
    /// ```
    pub fn from_json_map(source: LegacySource, json: &str) -> Option<Self> {
        let map = serde_json::from_str(json).ok()?;
        Some(Self {
            source,
            payload: Payload::Map(map),
            expires_at: None,
        })
    }
}

/// A JSON value serialized through serde's data model by kind, so that
/// postcard stores it as the Rust type named in
/// [`LegacySession::to_session_map`].
struct Converted<'a>(&'a Value);

impl Serialize for Converted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => serializer.serialize_i64(i),
                (None, Some(f)) => serializer.serialize_f64(f),
                (None, None) => serializer.serialize_none(),
            },
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Converted(item))?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, &Converted(value))?;
                }
                map.end()
            }
        }
    }
}
