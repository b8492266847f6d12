//! Key material: exactly 32 random bytes, never printed, zeroized on drop.

use core::fmt;
use core::str::FromStr;

use base64ct::Encoding as _;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::keyring::KeyId;
use crate::limits::KEY_LEN;
use crate::rng;

/// Longest textual key accepted: 32 bytes are 44 base64 or 64 hex
/// characters; longer input is refused before any decoding work.
const MAX_TEXT_LEN: usize = 256;

/// A 256-bit secret key.
///
/// Keys are full-entropy random bytes: generate them with [`Key::generate`]
/// or `openssl rand -base64 32`. There is deliberately no way to build one
/// from a passphrase. `Debug` prints no key material, equality is constant
/// time, and the bytes are zeroized when the key is dropped.
///
/// ```
/// use sealed_session::Key;
///
/// // What `openssl rand -base64 32` prints:
/// let key: Key = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=".parse().unwrap();
/// assert_eq!(format!("{key:?}"), "Key(<redacted>)");
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Key {
    bytes: Box<[u8; KEY_LEN]>,
}

/// Why key material, a keyring or a key file could not be used, or a
/// keyring change was refused. Messages name the offending entry or id and
/// never echo key material.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The text is neither base64 (standard or URL-safe, padded or not) nor
    /// 64 hexadecimal digits.
    InvalidEncoding,
    /// The material decoded to the wrong number of bytes.
    WrongLength {
        /// How many bytes the input decoded to.
        found: usize,
    },
    /// Every byte is zero: a placeholder, not a key.
    AllZero,
    /// The operating system's random number generator failed.
    Rng,
    /// A keyring needs at least one key.
    EmptyKeyring,
    /// Two keys share an id; ids must be unique and never reused.
    DuplicateKeyId(KeyId),
    /// The same key bytes appear under two ids (in the same or different
    /// suites). Every id needs a key of its own: one key in two suites
    /// weakens both (XAES-256-GCM's first derivation block is AES-256-GCM's
    /// GHASH key under the same key).
    DuplicateKey {
        /// The id of the key being added.
        id: KeyId,
        /// The id already holding the same key bytes.
        existing: KeyId,
    },
    /// No key with this id is in the keyring.
    UnknownKeyId(KeyId),
    /// The primary key cannot be retired.
    RetirePrimary(KeyId),
    /// An entry of a keyring string is not `id:key` or `id:suite:key`.
    Syntax {
        /// 1-based position of the entry.
        entry: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An entry's key material is invalid.
    Entry {
        /// 1-based position of the entry.
        entry: usize,
        /// The entry's key id.
        id: KeyId,
        /// What is wrong with the key.
        source: Box<KeyError>,
    },
    /// The text is not the name of a [`Suite`](crate::Suite): expected
    /// `xaes-256-gcm`, `xchacha20-poly1305` or `aes-256-gcm`.
    UnknownSuite,
    /// The environment variable is not set, or not UTF-8.
    Env {
        /// The variable's name.
        var: String,
    },
    /// The key file could not be read.
    Io {
        /// The file's path.
        path: String,
        /// The operating system's message.
        message: String,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HOW: &str = "generate one with `openssl rand -base64 32`";
        match self {
            Self::InvalidEncoding => write!(
                f,
                "key is neither base64 (44 characters, as printed by `openssl rand -base64 32`) \
                 nor hex (64 characters, as printed by `openssl rand -hex 32`)"
            ),
            Self::WrongLength { found } => {
                write!(
                    f,
                    "key must be exactly {KEY_LEN} bytes, but it decodes to {found} bytes"
                )?;
                match *found {
                    64 => write!(
                        f,
                        " (a 64-byte key, as the `cookie` crate and actix-session use, is two \
                         keys in one; sealed-session takes a single 32-byte key: {HOW})"
                    ),
                    16 | 24 => write!(f, " (AES-128/192 keys are not accepted: {HOW})"),
                    _ => write!(f, "; {HOW}"),
                }
            }
            Self::AllZero => write!(f, "key is all zero bytes, a placeholder: {HOW}"),
            Self::Rng => write!(f, "the operating system's random number generator failed"),
            Self::EmptyKeyring => f.write_str(
                "the keyring is empty: give at least one key, e.g. SESSION_KEYS=\"1:<base64>\" \
                 with a key from `openssl rand -base64 32`",
            ),
            Self::DuplicateKeyId(id) => write!(
                f,
                "key id {id} appears twice: every key needs its own id, never reused"
            ),
            Self::DuplicateKey { id, existing } => write!(
                f,
                "key id {id} holds the same key as key id {existing}: every id needs a key of \
                 its own, also to change a key's suite; generate a new key with \
                 `openssl rand -base64 32`"
            ),
            Self::UnknownKeyId(id) => write!(f, "no key with id {id} in the keyring"),
            Self::RetirePrimary(id) => write!(
                f,
                "key {id} is the primary and cannot be retired: promote another key first"
            ),
            Self::Syntax { entry, reason } => write!(
                f,
                "keyring entry {entry}: {reason}; expected `id:key` or `id:suite:key`, \
                 entries separated by commas or line breaks, primary first"
            ),
            Self::Entry { entry, id, source } => {
                write!(f, "keyring entry {entry} (key id {id}): {source}")
            }
            Self::Env { var } => write!(
                f,
                "environment variable {var} is not set (or not UTF-8): set it to \
                 \"1:<base64 key>\", with a key from `openssl rand -base64 32`"
            ),
            Self::Io { path, message } => write!(f, "cannot read key file {path}: {message}"),
            Self::UnknownSuite => f.write_str(
                "unknown cipher suite; expected xaes-256-gcm, xchacha20-poly1305 or aes-256-gcm",
            ),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Entry { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

impl Key {
    /// Generates a fresh key from the operating system's CSPRNG.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide random bytes; use
    /// [`Key::try_generate`] to handle that as an error.
    ///
    /// ```
    /// use sealed_session::Key;
    /// assert_ne!(Key::generate(), Key::generate());
    /// ```
    #[allow(
        clippy::panic,
        reason = "documented; `try_generate` is the fallible twin"
    )]
    pub fn generate() -> Self {
        match Self::try_generate() {
            Ok(key) => key,
            Err(err) => panic!("sealed-session: {err}"),
        }
    }

    /// Generates a fresh key from the operating system's CSPRNG, or reports
    /// that it failed.
    ///
    /// # Errors
    ///
    /// [`KeyError::Rng`] if the operating system's random number generator
    /// fails.
    ///
    /// ```
    /// use sealed_session::Key;
    /// let key = Key::try_generate().expect("OS random number generator");
    /// assert_ne!(key, Key::try_generate().expect("OS random number generator"));
    /// ```
    pub fn try_generate() -> Result<Self, KeyError> {
        let mut bytes = Box::new([0u8; KEY_LEN]);
        rng::fill_from_os(&mut bytes[..]).map_err(|_| KeyError::Rng)?;
        Self::from_boxed(bytes)
    }

    /// Takes exactly 32 bytes of key material.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongLength`] unless exactly 32 bytes, [`KeyError::AllZero`]
    /// for a placeholder of zeros.
    ///
    /// ```
    /// use sealed_session::{Key, KeyError};
    /// assert!(Key::from_bytes(&[7; 32]).is_ok());
    /// assert_eq!(Key::from_bytes(&[7; 31]).unwrap_err(), KeyError::WrongLength { found: 31 });
    /// assert_eq!(Key::from_bytes(&[0; 32]).unwrap_err(), KeyError::AllZero);
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: &[u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| KeyError::WrongLength { found: bytes.len() })?;
        Self::from_boxed(Box::new(*array))
    }

    /// Parses base64: the standard or URL-safe alphabet, with or without
    /// padding, surrounding whitespace ignored. This is what
    /// `openssl rand -base64 32` prints.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidEncoding`] for text that is not base64, then as
    /// [`Key::from_bytes`].
    ///
    /// ```
    /// use sealed_session::Key;
    /// let key = Key::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
    /// assert_eq!(key, Key::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA").unwrap());
    /// ```
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let text = bounded(text)?;
        let mut buf = Zeroizing::new([0u8; MAX_TEXT_LEN]);
        let url_safe = text.bytes().any(|b| b == b'-' || b == b'_');
        let padded = text.ends_with('=');
        let decoded = match (url_safe, padded) {
            (false, true) => base64ct::Base64::decode(text, &mut buf[..]),
            (false, false) => base64ct::Base64Unpadded::decode(text, &mut buf[..]),
            (true, true) => base64ct::Base64Url::decode(text, &mut buf[..]),
            (true, false) => base64ct::Base64UrlUnpadded::decode(text, &mut buf[..]),
        }
        .map_err(|_| KeyError::InvalidEncoding)?;
        Self::from_bytes(decoded)
    }

    /// Parses 64 hexadecimal digits (either case), as printed by
    /// `openssl rand -hex 32`.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidEncoding`] for text that is not 64 hex digits, then
    /// as [`Key::from_bytes`].
    ///
    /// ```
    /// use sealed_session::Key;
    /// let hex = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    /// assert!(Key::from_hex(hex).is_ok());
    /// ```
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = bounded(text)?;
        let mut buf = Zeroizing::new([0u8; MAX_TEXT_LEN / 2]);
        let decoded =
            base16ct::mixed::decode(text, &mut buf[..]).map_err(|_| KeyError::InvalidEncoding)?;
        Self::from_bytes(decoded)
    }

    fn from_boxed(bytes: Box<[u8; KEY_LEN]>) -> Result<Self, KeyError> {
        let key = Self { bytes };
        if bool::from(key.bytes[..].ct_eq(&[0u8; KEY_LEN])) {
            return Err(KeyError::AllZero);
        }
        Ok(key)
    }

    /// A short, non-secret name for this key, to tell keys apart in logs,
    /// dashboards and `sealed-session keys check` without showing them.
    ///
    /// It is the first 8 bytes of HKDF-SHA-256 over the key (salt
    /// `sealed-session key fingerprint v1`, empty info): learning it reveals
    /// nothing usable about the key, and the same key has the same
    /// fingerprint in every suite and under every id.
    ///
    /// ```
    /// use sealed_session::Key;
    /// let key: Key = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=".parse()?;
    /// assert_eq!(key.fingerprint().to_string(), "7db4a176d09f7133");
    /// assert_ne!(Key::generate().fingerprint(), key.fingerprint());
    /// # Ok::<(), sealed_session::KeyError>(())
    /// ```
    pub fn fingerprint(&self) -> KeyFingerprint {
        KeyFingerprint::of(&self.bytes[..])
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

/// A key's fingerprint: 8 bytes derived one-way from the key, shown as 16
/// lowercase hex digits. Not secret. Made by [`Key::fingerprint`] and
/// [`Keyring::fingerprint`](crate::Keyring::fingerprint).
///
/// ```
/// use sealed_session::{Key, KeySpec, Keyring};
/// let key: Key = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=".parse()?;
/// let fingerprint = key.fingerprint();
/// let keyring = Keyring::new(KeySpec::new(1, key));
/// assert_eq!(keyring.fingerprint(1), Some(fingerprint));
/// assert_eq!(format!("{fingerprint}").len(), 16);
/// # Ok::<(), sealed_session::KeyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyFingerprint([u8; 8]);

impl KeyFingerprint {
    const SALT: &'static [u8] = b"sealed-session key fingerprint v1";

    fn of(key: &[u8]) -> Self {
        let mut out = [0u8; 8];
        // 8 bytes are far below HKDF-SHA-256's 8160-byte output limit.
        let _ = hkdf::Hkdf::<sha2::Sha256>::new(Some(Self::SALT), key).expand(&[], &mut out);
        Self(out)
    }

    /// The fingerprint's bytes.
    ///
    /// ```
    /// # use sealed_session::Key;
    /// assert_eq!(Key::generate().fingerprint().as_bytes().len(), 8);
    /// ```
    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFingerprint({self})")
    }
}

fn bounded(text: &str) -> Result<&str, KeyError> {
    let text = text.trim();
    if text.len() > MAX_TEXT_LEN {
        return Err(KeyError::InvalidEncoding);
    }
    Ok(text)
}

/// Parses hex when the text is exactly 64 hexadecimal digits, base64
/// otherwise.
///
/// ```
/// use sealed_session::Key;
/// let from_hex: Key = "00".repeat(31).chars().chain("01".chars()).collect::<String>().parse().unwrap();
/// let from_b64: Key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=".parse().unwrap();
/// assert_eq!(from_hex, from_b64);
/// ```
impl FromStr for Key {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim();
        if trimmed.len() == 2 * KEY_LEN && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
            Self::from_hex(trimmed)
        } else {
            Self::from_base64(trimmed)
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.bytes[..].ct_eq(&other.bytes[..]).into()
    }
}

impl Eq for Key {}

#[cfg(test)]
mod tests {
    use super::*;

    const B64: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

    #[test]
    fn debug_is_redacted() {
        let key = Key::from_base64(B64).unwrap();
        let shown = format!("{key:?} {key:#?}");
        assert_eq!(format!("{key:?}"), "Key(<redacted>)");
        assert!(!shown.contains(B64.trim_end_matches('=')));
        assert!(!shown.to_lowercase().contains("abcdef"));
    }

    #[test]
    fn accepts_every_base64_flavour_and_hex() {
        let reference = Key::from_base64(B64).unwrap();
        let url = B64.replace('+', "-").replace('/', "_");
        for text in [
            B64,
            B64.trim_end_matches('='),
            &url,
            url.trim_end_matches('='),
            " q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
        ] {
            assert_eq!(Key::from_str(text).unwrap(), reference, "{text:?}");
        }
        let hex = "abcdef1234567890abcdef1234567890abcdef1234567890abcdef1234567890";
        assert_eq!(
            Key::from_str(hex).unwrap(),
            Key::from_str(&hex.to_uppercase()).unwrap()
        );
    }

    #[test]
    fn wrong_lengths_explain_themselves() {
        let b64_of = |n: usize| base64ct::Base64::encode_string(&vec![1u8; n]);
        for n in [0, 16, 31, 33, 48, 64] {
            let err = Key::from_str(&b64_of(n)).unwrap_err();
            assert_eq!(err, KeyError::WrongLength { found: n });
            let msg = err.to_string();
            assert!(msg.contains("openssl rand -base64 32"), "{msg}");
        }
        let msg = Key::from_str(&b64_of(64)).unwrap_err().to_string();
        assert!(msg.contains("two keys in one"), "{msg}");
    }

    #[test]
    fn errors_never_echo_input() {
        let secretish = "c2VjcmV0LXNlY3JldC1zZWNyZXQ$";
        for err in [
            Key::from_str(secretish).unwrap_err(),
            Key::from_str(&"A".repeat(1000)).unwrap_err(),
            Key::from_hex("zz".repeat(32).as_str()).unwrap_err(),
        ] {
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("c2VjcmV0"), "{shown}");
            assert!(!shown.contains("AAAA"), "{shown}");
            assert!(!shown.contains("zz"), "{shown}");
        }
    }

    #[test]
    fn rejects_zero_and_garbage() {
        assert_eq!(Key::from_bytes(&[0; 32]).unwrap_err(), KeyError::AllZero);
        assert_eq!(
            Key::from_str("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap_err(),
            KeyError::AllZero
        );
        assert_eq!(
            Key::from_str("not a key at all!").unwrap_err(),
            KeyError::InvalidEncoding
        );
        assert_eq!(
            Key::from_str("").unwrap_err(),
            KeyError::WrongLength { found: 0 }
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(Key::generate(), Key::try_generate().unwrap());
    }

    #[test]
    fn key_zeroizes() {
        fn assert_zeroize_on_drop<T: ZeroizeOnDrop>() {}
        assert_zeroize_on_drop::<Key>();
        let mut key = Key::from_base64(B64).unwrap();
        key.zeroize();
        assert_eq!(*key.as_bytes(), [0u8; KEY_LEN]);
    }
}
