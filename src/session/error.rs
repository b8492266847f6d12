//! What can go wrong, for the application and for the logs.

use core::fmt;

use crate::cookie::CookieTooLarge;
use crate::error::{Error, ErrorKind};
use crate::proxy::SchemeDecision;

/// The session could not be written into the response.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// The session is too large for the cookie (or all its chunks).
    TooLarge(CookieTooLarge),
    /// A `Secure` cookie met a plain-HTTP request under
    /// [`InsecurePolicy::Refuse`](super::InsecurePolicy::Refuse).
    InsecureContext(InsecureContext),
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
pub struct InsecureContext {
    /// Why the request counted as plain HTTP.
    pub decision: SchemeDecision,
    /// The likely fix, in words.
    pub hint: &'static str,
}

impl fmt::Display for InsecureContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hint)
    }
}

/// Why an incoming cookie did not become the session.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidCookie {
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

impl InvalidCookie {
    /// The codec's classification, when the codec refused the cookie.
    ///
    /// ```
    /// # use sealed_session::InvalidCookie;
    /// assert_eq!(InvalidCookie::RevokedByTime.kind(), None);
    /// ```
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Invalid(err) => Some(err.kind()),
            _ => None,
        }
    }
}
