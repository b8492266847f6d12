//! What can go wrong, for the application and for the logs.

use core::fmt;

use crate::codec::CodecError;
use crate::cookie::{CookieConfigError, CookieTooLarge};
use crate::error::{Error, ErrorKind};
use crate::proxy::SchemeDecision;

/// A session configuration that cannot work. Each message says how to fix
/// it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The cookie attributes are invalid.
    Cookie(CookieConfigError),
    /// The name, context or clock skew is invalid.
    Codec(CodecError),
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
    /// [`InsecurePolicy::FollowScheme`] with a cookie that requires Secure.
    FollowSchemeNotAllowed,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cookie(err) => fmt::Display::fmt(err, f),
            Self::Codec(err) => fmt::Display::fmt(err, f),
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
            Self::FollowSchemeNotAllowed => f.write_str(
                "InsecurePolicy::FollowScheme drops Secure on plain HTTP, which __Host-/__Secure- \
                 names, SameSite=None and Partitioned forbid: use a plain name in development, \
                 or InsecurePolicy::Send",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<CookieConfigError> for ConfigError {
    fn from(err: CookieConfigError) -> Self {
        Self::Cookie(err)
    }
}

impl From<CodecError> for ConfigError {
    fn from(err: CodecError) -> Self {
        Self::Codec(err)
    }
}

/// The session could not be written into the response.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// The session is too large for the cookie (or all its chunks).
    TooLarge(CookieTooLarge),
    /// A `Secure` cookie met a plain-HTTP request under
    /// [`InsecurePolicy::Refuse`].
    InsecureContext(Diagnostic),
    /// Sealing failed (randomness, clock, serialization, seal budget).
    Seal(Error),
    /// A panic interrupted a change to the session (the handle's lock is
    /// poisoned), so it is not saved: sealing half-changed data could
    /// persist a broken session.
    Poisoned,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(err) => fmt::Display::fmt(err, f),
            Self::InsecureContext(diag) => write!(f, "refused to send a Secure cookie: {diag}"),
            Self::Seal(err) => write!(f, "cannot seal the session: {err}"),
            Self::Poisoned => {
                f.write_str("a panic interrupted a change to the session; it is not saved")
            }
        }
    }
}

impl std::error::Error for SessionError {}

/// A deployment problem noticed while serving a request: reported with the
/// outcome, and through `tracing` once per process when that feature is
/// on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Why the request counted as plain HTTP.
    pub decision: SchemeDecision,
    /// The likely fix, in words.
    pub hint: &'static str,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hint)
    }
}

/// Why an incoming cookie did not become the session.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The codec refused it (malformed, unknown key, tampered, expired…).
    Invalid(Error),
    /// It was sealed with another data version and no migration accepted it.
    DataVersion(u32),
    /// It was issued before the manager's not-before time.
    RevokedByTime,
    /// The validation hook refused it.
    RevokedByValidator,
    /// More than one distinct cookie of the session's name authenticated,
    /// as when a sibling subdomain plants its own valid cookie next to the
    /// user's; all are refused rather than one picked.
    Ambiguous,
}

impl Rejection {
    /// The codec's classification, when the codec refused the cookie.
    ///
    /// ```
    /// # use sealed_session::Rejection;
    /// assert_eq!(Rejection::RevokedByTime.kind(), None);
    /// ```
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Invalid(err) => Some(err.kind()),
            _ => None,
        }
    }
}
