//! Errors: one opaque runtime error with a classified kind, and separate
//! configuration errors reported at startup.

use core::fmt;

use crate::limits::{BROWSER_COOKIE_LIMIT, MAX_CONTEXT_LEN, MAX_VALUE_LIMIT};

/// The `tracing` target of every event the library emits, for filters
/// such as `RUST_LOG=sealed_session=debug`.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) const LOG_TARGET: &str = "sealed_session";

/// Why sealing or opening a session failed.
///
/// To a client every failure to open means the same thing, "no valid
/// session": the kind is for logs and metrics, never for responses.
///
/// ```
/// use sealed_session::{ErrorKind, Key, KeySpec, Keyring};
/// use sealed_session::codec::Codec;
///
/// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
/// let codec = Codec::new("session").unwrap();
/// let err = codec.open::<u32>(&keyring, "not a sealed value").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Malformed);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    /// A [`KeyId`](crate::KeyId); plain `u32` so this leaf imports no key
    /// module.
    key_id: Option<u32>,
    value_len: Option<usize>,
}

/// The classified cause of an [`Error`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The value is not a well-formed sealed value: bad characters,
    /// non-canonical base64, or too short to hold a header and a tag.
    Malformed,
    /// The value is longer than any value this codec produces, or the
    /// session would seal to a value over the configured limit.
    TooLarge,
    /// The format version byte is not one of [`SUPPORTED_FORMAT_VERSIONS`](crate::codec::SUPPORTED_FORMAT_VERSIONS).
    UnsupportedVersion,
    /// The key id in the header is not in the keyring (retired or foreign).
    UnknownKey,
    /// The AEAD rejected the value: tampered, sealed under another name or
    /// context, or under a different key with the same id.
    AuthenticationFailed,
    /// The idle deadline sealed inside the value has passed.
    ExpiredIdle,
    /// The absolute expiry sealed inside the value has passed.
    ExpiredAbsolute,
    /// The value claims to be issued further in the future than the clock
    /// skew allowance permits.
    NotYetValid,
    /// The authenticated payload does not decode: a different data type or
    /// data version, trailing bytes, a time out of range, or an encoding
    /// that is not the canonical one (see `FORMAT.md`).
    PayloadDecode,
    /// The session data could not be serialized.
    PayloadEncode,
    /// The session data does not come back from its own encoding, checked
    /// when a new session is first sealed: its type needs a self-describing
    /// format (`serde_json::Value`, `#[serde(untagged)]`,
    /// `#[serde(flatten)]`, anything calling `deserialize_any`) or has more
    /// than one encoding per value (`HashMap`, `HashSet`). The data is
    /// postcard-encoded; use concrete types and `BTreeMap` / `BTreeSet`.
    DataRoundTrip,
    /// The primary key has used up its seal budget (AES-256-GCM with random
    /// 96-bit nonces only): promote a fresh key.
    KeyExhausted,
    /// The operating system's random number generator failed.
    Rng,
    /// The clock is before the Unix epoch or beyond the supported range.
    Clock,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            key_id: None,
            value_len: None,
        }
    }

    pub(crate) const fn with_key(kind: ErrorKind, key_id: u32) -> Self {
        Self {
            kind,
            key_id: Some(key_id),
            value_len: None,
        }
    }

    pub(crate) const fn too_large(key_id: u32, value_len: usize) -> Self {
        Self {
            kind: ErrorKind::TooLarge,
            key_id: Some(key_id),
            value_len: Some(value_len),
        }
    }

    /// The classified cause.
    ///
    /// ```
    /// # use sealed_session::{ErrorKind, Key, KeySpec, Keyring};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("session").unwrap();
    /// let err = codec.open::<u32>(&keyring, "").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Malformed);
    /// ```
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The key id read from the value's header, when the failure happened
    /// after the header was read. Key ids are not secret; counting failures
    /// per id tells an operator when a retired key stops being presented.
    ///
    /// ```
    /// # use sealed_session::{ErrorKind, Key, KeySpec, Keyring, SessionMeta, Lifetimes};
    /// # use sealed_session::codec::Codec;
    /// let old = Keyring::new(KeySpec::new(7, Key::generate()));
    /// let new = Keyring::new(KeySpec::new(8, Key::generate()));
    /// let codec = Codec::new("session").unwrap();
    /// let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    /// let value = codec.seal(&old, &meta, &1u8).unwrap();
    /// let err = codec.open::<u8>(&new, &value).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnknownKey);
    /// assert_eq!(err.key_id(), Some(7));
    /// ```
    pub const fn key_id(&self) -> Option<u32> {
        self.key_id
    }

    /// For [`ErrorKind::TooLarge`] when sealing: how many characters the
    /// sealed value would have had.
    ///
    /// ```
    /// # use sealed_session::{ErrorKind, Key, KeySpec, Keyring, SessionMeta, Lifetimes};
    /// # use sealed_session::codec::Codec;
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// let codec = Codec::new("s").unwrap();
    /// let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    /// let err = codec.seal(&keyring, &meta, &"x".repeat(5000)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TooLarge);
    /// assert!(err.value_len().unwrap() > 4095);
    /// ```
    pub const fn value_len(&self) -> Option<usize> {
        self.value_len
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed sealed value",
            Self::TooLarge => "sealed value too large",
            Self::UnsupportedVersion => "unsupported format version",
            Self::UnknownKey => "unknown key id",
            Self::AuthenticationFailed => "authentication failed",
            Self::ExpiredIdle => "session idle timeout passed",
            Self::ExpiredAbsolute => "session absolute lifetime passed",
            Self::NotYetValid => "session issued in the future beyond the allowed clock skew",
            Self::PayloadDecode => "session payload does not decode",
            Self::PayloadEncode => "session payload could not be serialized",
            Self::DataRoundTrip => {
                "session data does not decode from its own encoding (postcard is not \
                 self-describing: no deserialize_any, untagged or flatten; use BTreeMap, not \
                 HashMap)"
            }
            Self::KeyExhausted => {
                "primary key reached its seal budget; promote a new key to primary"
            }
            Self::Rng => "operating system random number generator failed",
            Self::Clock => "system clock outside the supported range",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key_id {
            Some(id) => write!(f, "{} (key id {id})", self.kind),
            None => fmt::Display::fmt(&self.kind, f),
        }
    }
}

impl std::error::Error for Error {}

/// A configuration that cannot work: session, cookie or trusted-proxy
/// settings, reported at startup. Each message says how to fix it.
///
/// ```
/// use sealed_session::{ConfigError, CookieConfig, ProxyTrust};
///
/// let err = CookieConfig::new("__Host-s").path("/app").validate().unwrap_err();
/// assert_eq!(err, ConfigError::HostPrefix("must have Path=/"));
/// let err = ProxyTrust::cidrs(["10.0.0.1/8"]).unwrap_err();
/// assert!(err.to_string().contains("`10.0.0.0/8`"));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The cookie name is empty, too long, or not an HTTP token.
    InvalidCookieName(&'static str),
    /// The context is longer than [`MAX_CONTEXT_LEN`](crate::limits::MAX_CONTEXT_LEN).
    ContextTooLong,
    /// The value limit is outside what the format and browsers allow.
    ValueLimit {
        /// The rejected limit.
        requested: usize,
    },
    /// The clock skew allowance exceeds five minutes.
    ClockSkewTooLarge,
    /// Neither an absolute lifetime nor an idle timeout is set.
    NoLifetime,
    /// A lifetime exceeds 400 days, the browsers' cap.
    LifetimeTooLong,
    /// A lifetime is under one second.
    LifetimeTooShort,
    /// The idle refresh fraction is outside 0.0..=1.0.
    IdleRefresh,
    /// Chunking must allow 2 to 16 cookies.
    Chunks,
    /// [`InsecurePolicy::FollowScheme`](crate::InsecurePolicy::FollowScheme) with a cookie that requires Secure.
    FollowSchemeNotAllowed,
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
    /// An entry is neither an IP address nor a CIDR range with a valid
    /// prefix length.
    InvalidProxyRange {
        /// The rejected entry, as given.
        entry: String,
    },
    /// A range has bits set after its prefix length, so it is unclear
    /// whether the network or the single address was meant.
    ProxyRangeHostBits {
        /// The rejected entry, as given.
        entry: String,
        /// The network the prefix length describes.
        network: String,
        /// The single address.
        address: String,
    },
    /// The list of ranges is empty.
    NoProxyRanges,
    /// A CSRF origin that is not `scheme://host[:port]`.
    CsrfOrigin,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCookieName(reason) => write!(f, "invalid cookie name: {reason}"),
            Self::ContextTooLong => {
                write!(f, "context is longer than {} bytes; use a short label", MAX_CONTEXT_LEN)
            }
            Self::ValueLimit { requested } => write!(
                f,
                "value limit {requested} is outside 64..={} bytes \
                 (a single cookie's value is at most {} minus the name)",
                MAX_VALUE_LIMIT, BROWSER_COOKIE_LIMIT
            ),
            Self::ClockSkewTooLarge => f.write_str(
                "clock skew allowance above 5 minutes; synchronise the servers' clocks (NTP) instead",
            ),
            Self::NoLifetime => f.write_str(
                "sessions need an absolute lifetime, an idle timeout, or both: set \
                 Lifetimes::new(Some(..), Some(..))",
            ),
            Self::LifetimeTooLong => f.write_str(
                "session lifetimes above 400 days are cut by browsers: use at most 400 days",
            ),
            Self::LifetimeTooShort => f.write_str("session lifetimes must be at least one second"),
            Self::IdleRefresh => f.write_str(
                "the idle refresh fraction must be between 0.0 and 1.0 (0.5 re-seals after half \
                 the idle window)",
            ),
            Self::Chunks => {
                f.write_str("chunking takes a maximum of 2 to 16 cookies, or 0 for off")
            }
            Self::CsrfOrigin => f.write_str(
                "a CSRF origin must be `https://host` or `https://host:port` (http also \
                 allowed), without path, query or trailing slash, as browsers send it in Origin",
            ),
            Self::FollowSchemeNotAllowed => f.write_str(
                "InsecurePolicy::FollowScheme drops Secure on plain HTTP, which __Host-/__Secure- \
                 names, SameSite=None and Partitioned forbid: use a plain name in development, \
                 or InsecurePolicy::Send",
            ),
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
            Self::InvalidProxyRange { entry } => write!(
                f,
                "`{entry}` is not a CIDR range: write ranges like `10.0.0.0/8` or `::1/128`, \
                 or a single address like `10.0.0.2`"
            ),
            Self::ProxyRangeHostBits {
                entry,
                network,
                address,
            } => write!(
                f,
                "`{entry}` has bits set after its prefix length: write `{network}` for the \
                 network or `{address}` for the single address"
            ),
            Self::NoProxyRanges => f.write_str(
                "no trusted proxy ranges given: list the proxy's addresses (e.g. `10.0.0.0/8`), \
                 or use ProxyTrust::none() if no proxy is in front of the application",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
