//! Errors: one opaque runtime error with a classified kind, and separate
//! configuration errors reported at startup.

use core::fmt;

use crate::keyring::KeyId;

/// Why sealing or opening a session failed.
///
/// To a client every failure to open means the same thing, "no valid
/// session": the kind is for logs and metrics, never for responses.
///
/// ```
/// use sealed_session::{Codec, ErrorKind, Key, KeySpec, Keyring};
///
/// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
/// let codec = Codec::new("session").unwrap();
/// let err = codec.open::<u32>(&keyring, "not a sealed value").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Malformed);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    key_id: Option<KeyId>,
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
    /// The format version byte is not one of [`SUPPORTED_FORMAT_VERSIONS`](crate::SUPPORTED_FORMAT_VERSIONS).
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

    pub(crate) const fn with_key(kind: ErrorKind, key_id: KeyId) -> Self {
        Self {
            kind,
            key_id: Some(key_id),
            value_len: None,
        }
    }

    pub(crate) const fn too_large(key_id: KeyId, value_len: usize) -> Self {
        Self {
            kind: ErrorKind::TooLarge,
            key_id: Some(key_id),
            value_len: Some(value_len),
        }
    }

    /// The classified cause.
    ///
    /// ```
    /// # use sealed_session::{Codec, ErrorKind, Key, KeySpec, Keyring};
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
    /// # use sealed_session::{Codec, ErrorKind, Key, KeySpec, Keyring, SessionMeta, Lifetimes};
    /// let old = Keyring::new(KeySpec::new(7, Key::generate()));
    /// let new = Keyring::new(KeySpec::new(8, Key::generate()));
    /// let codec = Codec::new("session").unwrap();
    /// let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    /// let value = codec.seal(&old, &meta, &1u8).unwrap();
    /// let err = codec.open::<u8>(&new, &value).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnknownKey);
    /// assert_eq!(err.key_id(), Some(7));
    /// ```
    pub const fn key_id(&self) -> Option<KeyId> {
        self.key_id
    }

    /// For [`ErrorKind::TooLarge`] when sealing: how many characters the
    /// sealed value would have had.
    ///
    /// ```
    /// # use sealed_session::{Codec, ErrorKind, Key, KeySpec, Keyring, SessionMeta, Lifetimes};
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
