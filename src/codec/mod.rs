//! Wire format v1: sealing and opening cookie values.
//!
//! ```text
//! value  = base64url-no-pad( header ‖ nonce ‖ ciphertext ‖ tag )
//! header = version: u8 (= 1) ‖ key_id: u32 big-endian
//! nonce  = 24 random bytes (XAES-256-GCM, XChaCha20-Poly1305)
//!        | 12 random bytes (AES-256-GCM), the length set by the key's suite
//! tag    = 16 bytes
//! AAD    = header ‖ u16be(len name) ‖ name ‖ u16be(len context) ‖ context ‖ parts: u8
//! ```
//!
//! `parts` is 0 for a value carried in one cookie and `n` for a value split
//! over `n` cookies. The plaintext is the envelope described in
//! [`SessionMeta`].
//!
//! Opening checks, in order, stopping at the first failure: length cap,
//! base64 of the header, version, key id (one lookup, no trial
//! decryption), total length, base64 of the whole, AEAD, canonical
//! metadata, sealed times, data decode. Everything before the AEAD is free
//! of crypto, and nothing is allocated before the key id is known.
//!
//! `FORMAT.md` at the repository root specifies all of it byte by byte,
//! with the error kind of each check.
//!
//! Base64 uses the general-purpose engine of the `base64` crate, built
//! without its SIMD engines: no `unsafe` code touches attacker bytes.
//! `SECURITY.md` has the measurements behind the choice.

pub(crate) mod envelope;
#[cfg(test)]
mod vectors;
mod wire;

use core::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use self::envelope::{SessionMeta, unix_secs};
pub(crate) use self::wire::BASE64;
use self::wire::{HEADER_LEN, MAX_AAD_LEN, aad_tail, decode_header, decoded_len, encoded_len};
use crate::error::{ConfigError, Error, ErrorKind};
use crate::keyring::{KeyEntry, KeyId, Keyring};
use crate::limits::{BROWSER_COOKIE_LIMIT, MAX_CONTEXT_LEN, MAX_VALUE_LIMIT};
use crate::rng::{OsRandom, RandomSource};
use crate::suite::{Suite, TAG_LEN};

/// Format version 1.
pub const FORMAT_V1: u8 = 1;

/// Every format version this release opens.
pub const SUPPORTED_FORMAT_VERSIONS: &[u8] = &[FORMAT_V1];

const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// What the first characters of a value say, read without a key by
/// [`peek`]: for operators and tools, never for deciding whether to trust
/// a value (only opening authenticates anything).
///
/// ```
/// use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta, Suite};
/// use sealed_session::codec::{self, Codec};
///
/// let keyring = Keyring::new(KeySpec::new(7, Key::generate()));
/// let value = Codec::new("s")?.seal(&keyring, &SessionMeta::new(Lifetimes::default())?, &())?;
/// let header = codec::peek(&value)?;
/// assert_eq!((header.version, header.key_id), (1, 7));
/// assert!(header.is_supported_version());
/// assert_eq!(header.value_len, value.len());
/// // The envelope of an empty session, sealed under the default suite.
/// assert!(header.plaintext_len(Suite::Xaes256Gcm).is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueHeader {
    /// The format version byte.
    pub version: u8,
    /// The key id: the key that sealed the value, if it is one of ours.
    pub key_id: KeyId,
    /// Characters of the value.
    pub value_len: usize,
    /// Bytes the value decodes to: header, nonce, ciphertext and tag.
    pub decoded_len: usize,
}

impl ValueHeader {
    /// Whether this release opens the value's format version.
    ///
    /// ```
    /// # use sealed_session::codec;
    /// let header = codec::peek("AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")?;
    /// assert!(header.is_supported_version());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn is_supported_version(&self) -> bool {
        SUPPORTED_FORMAT_VERSIONS.contains(&self.version)
    }

    /// The length of the sealed plaintext (envelope and data) if the key
    /// uses `suite`; `None` when the value is too short for that suite.
    ///
    /// ```
    /// # use sealed_session::{codec, Suite};
    /// let header = codec::peek("AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")?;
    /// assert_eq!(header.decoded_len, 51);
    /// assert_eq!(header.plaintext_len(Suite::Aes256Gcm), Some(51 - 5 - 12 - 16));
    /// assert_eq!(header.plaintext_len(Suite::Xaes256Gcm), Some(51 - 5 - 24 - 16));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn plaintext_len(&self, suite: Suite) -> Option<usize> {
        self.decoded_len
            .checked_sub(suite.body_offset())?
            .checked_sub(TAG_LEN)
    }
}

/// Reads a value's format version and key id, and checks its length and
/// base64url, without any key: what an operator can learn of a cookie
/// before opening it. Nothing here is authenticated.
///
/// # Errors
///
/// `ErrorKind::TooLarge` past [`MAX_VALUE_LIMIT`] characters,
/// `ErrorKind::Malformed` if the value is not canonical unpadded base64url
/// or is too short to hold a header, a nonce and a tag.
///
/// ```
/// use sealed_session::{ErrorKind, codec};
/// assert_eq!(codec::peek("not a sealed value").unwrap_err().kind(), ErrorKind::Malformed);
/// let header = codec::peek("AgAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")?;
/// assert_eq!(header.version, 2);
/// assert!(!header.is_supported_version());
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub fn peek(value: &str) -> Result<ValueHeader, Error> {
    let encoded = value.as_bytes();
    if encoded.len() > MAX_VALUE_LIMIT {
        return Err(ErrorKind::TooLarge.into());
    }
    let [version, id @ ..] = decode_header(encoded)?;
    let decoded_len = decoded_len(encoded.len()).ok_or(ErrorKind::Malformed)?;
    let mut buf = Zeroizing::new(vec![0u8; decoded_len.saturating_add(2)]);
    let written = BASE64
        .decode_slice(encoded, &mut buf[..])
        .map_err(|_| ErrorKind::Malformed)?;
    if written != decoded_len {
        return Err(ErrorKind::Malformed.into());
    }
    Ok(ValueHeader {
        version,
        key_id: KeyId::from_be_bytes(id),
        value_len: encoded.len(),
        decoded_len,
    })
}

/// Seals and opens values bound to one cookie name (and optional context).
///
/// A value sealed for one name does not open under another: the name, the
/// context, the version and the key id are all authenticated.
///
/// ```
/// use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
/// use sealed_session::codec::Codec;
///
/// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
/// let codec = Codec::new("__Host-session")?;
/// let meta = SessionMeta::new(Lifetimes::default())?;
/// let value = codec.seal(&keyring, &meta, &("alice", 42u32))?;
///
/// let opened = codec.open::<(String, u32)>(&keyring, &value)?;
/// assert_eq!(opened.data, ("alice".to_owned(), 42));
/// assert_eq!(opened.meta.session_id(), meta.session_id());
/// assert!(!opened.needs_reseal);
///
/// let other = Codec::new("other")?;
/// assert!(other.open::<(String, u32)>(&keyring, &value).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Codec {
    /// `u16be(len name) ‖ name ‖ u16be(len context) ‖ context`.
    aad_tail: Box<[u8]>,
    name: Box<[u8]>,
    max_value_len: usize,
    clock_skew: u64,
    /// Size of the last plaintext, so buffers rarely grow.
    size_hint: AtomicUsize,
}

/// An opened value: the data, its metadata, and which key opened it.
#[non_exhaustive]
pub struct Opened<T> {
    /// The application's data.
    pub data: T,
    /// The sealed metadata.
    pub meta: SessionMeta,
    /// The id of the key that opened the value.
    pub key_id: KeyId,
    /// The key is no longer the primary: seal the session again (keeping
    /// its metadata) so the client moves to the current key.
    pub needs_reseal: bool,
}

impl<T> fmt::Debug for Opened<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("data", &"<redacted>")
            .field("meta", &self.meta)
            .field("key_id", &self.key_id)
            .field("needs_reseal", &self.needs_reseal)
            .finish()
    }
}

/// An opened value whose data is not decoded yet: for migrations between
/// data versions, or to decode only when the data is used.
///
/// The plaintext is zeroized when this is dropped.
///
/// ```
/// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
/// # use sealed_session::codec::Codec;
/// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
/// # let codec = Codec::new("s")?;
/// let meta = SessionMeta::new(Lifetimes::default())?.with_data_version(1);
/// let value = codec.seal(&keyring, &meta, &5u16)?;
/// let raw = codec.open_raw(&keyring, &value)?;
/// assert_eq!(raw.meta().data_version(), 1);
/// assert_eq!(raw.decode::<u16>()?, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OpenedRaw {
    meta: SessionMeta,
    key_id: KeyId,
    needs_reseal: bool,
    plaintext: Zeroizing<Vec<u8>>,
    data: core::ops::Range<usize>,
}

/// An opened value whose plaintext is borrowed: see
/// [`Codec::open_parts_with`].
pub(crate) struct OpenedRef<'a> {
    pub(crate) meta: SessionMeta,
    pub(crate) needs_reseal: bool,
    pub(crate) data: &'a [u8],
}

/// What [`Codec::open_into`] found in its buffer.
struct Decrypted {
    meta: SessionMeta,
    needs_reseal: bool,
    /// Where the data's bytes are.
    data: core::ops::Range<usize>,
    /// How much of the buffer holds the decoded value.
    end: usize,
}

/// Decoded bytes opened on the stack (values up to 1 362 characters, the
/// sessions most applications keep); larger values go to the heap.
/// Kept small because the whole buffer is zeroed before use.
const STACK_PLAINTEXT: usize = 1024;

impl OpenedRaw {
    /// The sealed metadata.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let raw = codec.open_raw(&keyring, &codec.seal(&keyring, &meta, &())?)?;
    /// assert_eq!(raw.meta(), &meta);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    /// The id of the key that opened the value.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(4, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let raw = codec.open_raw(&keyring, &codec.seal(&keyring, &meta, &())?)?;
    /// assert_eq!(raw.key_id(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Whether the opening key is no longer the primary.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let mut keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let value = codec.seal(&keyring, &meta, &())?;
    /// keyring.add_accept_only(KeySpec::new(2, Key::generate()))?;
    /// keyring.promote(2)?;
    /// assert!(codec.open_raw(&keyring, &value)?.needs_reseal());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn needs_reseal(&self) -> bool {
        self.needs_reseal
    }

    /// The postcard bytes of the application's data, for a migration hook
    /// that decodes an older type.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let raw = codec.open_raw(&keyring, &codec.seal(&keyring, &meta, &7u8)?)?;
    /// assert_eq!(raw.data_bytes(), &[7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_bytes(&self) -> &[u8] {
        self.plaintext.get(self.data.clone()).unwrap_or_default()
    }

    /// Decodes the data as `T`. Every byte must be used, and the bytes must
    /// be the one encoding of the decoded value: it is encoded again and
    /// compared (no overlong integers, map keys sorted and unique). `T`'s
    /// encoding must therefore depend on its value only: a `HashMap` or
    /// `HashSet` with more than one entry (whose order varies between
    /// instances) does not decode; use `BTreeMap` or `BTreeSet`.
    ///
    /// # Errors
    ///
    /// `ErrorKind::PayloadDecode` if the data is not the one encoding of a `T`
    /// (see `FORMAT.md`).
    ///
    /// ```
    /// # use sealed_session::{ErrorKind, Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let raw = codec.open_raw(&keyring, &codec.seal(&keyring, &meta, &(1u8, 2u8))?)?;
    /// assert_eq!(raw.decode::<u8>().unwrap_err().kind(), ErrorKind::PayloadDecode);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode<T: Serialize + DeserializeOwned>(&self) -> Result<T, Error> {
        envelope::decode_canonical(self.data_bytes())
            .map_err(|kind| Error::with_key(kind, self.key_id))
    }

    /// Decodes the data and returns it with the metadata.
    ///
    /// # Errors
    ///
    /// As [`OpenedRaw::decode`].
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let raw = codec.open_raw(&keyring, &codec.seal(&keyring, &meta, &true)?)?;
    /// assert!(raw.into_opened::<bool>()?.data);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_opened<T: Serialize + DeserializeOwned>(self) -> Result<Opened<T>, Error> {
        let data = self.decode()?;
        Ok(Opened {
            data,
            meta: self.meta,
            key_id: self.key_id,
            needs_reseal: self.needs_reseal,
        })
    }
}

impl fmt::Debug for OpenedRaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedRaw")
            .field("meta", &self.meta)
            .field("key_id", &self.key_id)
            .field("needs_reseal", &self.needs_reseal)
            .finish_non_exhaustive()
    }
}

impl Codec {
    /// A codec for values of the cookie `name`, with no context, a value
    /// limit of one browser cookie, and 60 seconds of clock skew allowance.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidCookieName`]
    /// if `name` is empty, longer than 256 bytes or not an HTTP token.
    ///
    /// ```
    /// use sealed_session::ConfigError;
    /// use sealed_session::codec::Codec;
    /// assert!(Codec::new("__Host-session").is_ok());
    /// assert!(matches!(Codec::new("a b"), Err(ConfigError::InvalidCookieName(_))));
    /// ```
    pub fn new(name: &str) -> Result<Self, ConfigError> {
        crate::cookie::name::validate_name(name)?;
        let mut codec = Self {
            aad_tail: Box::default(),
            name: name.as_bytes().into(),
            max_value_len: BROWSER_COOKIE_LIMIT.saturating_sub(name.len()),
            clock_skew: DEFAULT_CLOCK_SKEW.as_secs(),
            size_hint: AtomicUsize::new(0),
        };
        codec.aad_tail = aad_tail(name.as_bytes(), b"");
        Ok(codec)
    }

    /// Binds values to an application or purpose label as well as the
    /// name, e.g. to keep staging cookies from opening in production when
    /// keys are (wrongly) shared.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ContextTooLong`] past
    /// 256 bytes.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let app1 = Codec::new("s")?.with_context(b"app1")?;
    /// let app2 = Codec::new("s")?.with_context(b"app2")?;
    /// let value = app1.seal(&keyring, &meta, &1u8)?;
    /// assert!(app2.open::<u8>(&keyring, &value).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_context(mut self, context: &[u8]) -> Result<Self, ConfigError> {
        if context.len() > MAX_CONTEXT_LEN {
            return Err(ConfigError::ContextTooLong);
        }
        self.aad_tail = aad_tail(&self.name, context);
        Ok(self)
    }

    /// Sets the longest value this codec seals or opens (for values split
    /// over several cookies). Longer input is rejected before decoding.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ValueLimit`] outside what
    /// the format and browsers allow.
    ///
    /// ```
    /// # use sealed_session::codec::Codec;
    /// let codec = Codec::new("s")?.with_max_value_len(8000)?;
    /// assert_eq!(codec.max_value_len(), 8000);
    /// assert!(Codec::new("s")?.with_max_value_len(1 << 20).is_err());
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn with_max_value_len(mut self, limit: usize) -> Result<Self, ConfigError> {
        if !(64..=MAX_VALUE_LIMIT).contains(&limit) {
            return Err(ConfigError::ValueLimit { requested: limit });
        }
        self.max_value_len = limit;
        Ok(self)
    }

    /// Sets how far in the future an issue time may lie (servers' clocks
    /// differ slightly); at most five minutes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ClockSkewTooLarge`]
    /// above five minutes.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::codec::Codec;
    /// let codec = Codec::new("s")?.with_clock_skew(Duration::from_secs(5))?;
    /// assert!(Codec::new("s")?.with_clock_skew(Duration::from_secs(301)).is_err());
    /// # let _ = codec;
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn with_clock_skew(mut self, skew: Duration) -> Result<Self, ConfigError> {
        if skew > MAX_CLOCK_SKEW {
            return Err(ConfigError::ClockSkewTooLarge);
        }
        self.clock_skew = skew.as_secs();
        Ok(self)
    }

    /// The longest value this codec seals or opens.
    ///
    /// ```
    /// # use sealed_session::codec::Codec;
    /// assert_eq!(Codec::new("session")?.max_value_len(), 4096 - 7);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn max_value_len(&self) -> usize {
        self.max_value_len
    }

    /// Seals `data` with `meta` under the keyring's primary key.
    ///
    /// The nonce is drawn from the operating system inside this call; there
    /// is no way to pass one.
    ///
    /// # Errors
    ///
    /// `ErrorKind::TooLarge` past the value limit (with
    /// [`Error::value_len`](crate::Error::value_len)),
    /// `ErrorKind::PayloadEncode` if `data` cannot be serialized,
    /// `ErrorKind::KeyExhausted` if the primary's seal budget is spent,
    /// `ErrorKind::Rng` if the operating system cannot provide a nonce.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// let meta = SessionMeta::new(Lifetimes::default())?;
    /// let a = codec.seal(&keyring, &meta, "same data")?;
    /// let b = codec.seal(&keyring, &meta, "same data")?;
    /// assert_ne!(a, b);
    /// assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seal<T: Serialize + ?Sized>(
        &self,
        keyring: &Keyring,
        meta: &SessionMeta,
        data: &T,
    ) -> Result<String, Error> {
        self.seal_with(&mut OsRandom, keyring, meta, data, |_| Ok(()), |_| 0)
    }

    /// Seals for a value split over `parts(len)` cookies (0 for one
    /// cookie), where `len` is the sealed value's length; the count is
    /// authenticated.
    pub(crate) fn seal_split<T: Serialize + ?Sized>(
        &self,
        keyring: &Keyring,
        meta: &SessionMeta,
        data: &T,
        check: impl FnOnce(&[u8]) -> Result<(), ErrorKind>,
        parts: impl FnOnce(usize) -> u8,
    ) -> Result<(String, u8), Error> {
        let mut chosen = 0;
        let value = self.seal_with(&mut OsRandom, keyring, meta, data, check, |len| {
            chosen = parts(len);
            chosen
        })?;
        Ok((value, chosen))
    }

    /// Seals `data`; `check` sees the encoded plaintext envelope before any
    /// seal budget or randomness is spent on it.
    pub(crate) fn seal_with<T: Serialize + ?Sized>(
        &self,
        rng: &mut impl RandomSource,
        keyring: &Keyring,
        meta: &SessionMeta,
        data: &T,
        check: impl FnOnce(&[u8]) -> Result<(), ErrorKind>,
        parts: impl FnOnce(usize) -> u8,
    ) -> Result<String, Error> {
        let entry = keyring.primary_entry();
        let fail = |kind| Error::with_key(kind, entry.id);
        let body_start = entry.suite.body_offset();
        let hint = self.size_hint.load(Ordering::Relaxed).max(64);
        let mut buf = Vec::with_capacity(body_start.saturating_add(hint).saturating_add(TAG_LEN));
        buf.push(FORMAT_V1);
        buf.extend_from_slice(&entry.id.to_be_bytes());
        buf.resize(body_start, 0);
        let mut buf = envelope::encode_into(buf, meta, data)?;
        check(buf.get(body_start..).unwrap_or_default()).map_err(fail)?;
        self.size_hint
            .store(buf.len().saturating_sub(body_start), Ordering::Relaxed);

        let value_len = sealed_len(body_start, buf.len().saturating_sub(body_start));
        if value_len > self.max_value_len {
            return Err(Error::too_large(entry.id, value_len));
        }
        let parts = parts(value_len);
        if !entry.reserve_seal() {
            return Err(fail(ErrorKind::KeyExhausted));
        }
        let (head, body) = buf
            .split_at_mut_checked(body_start)
            .ok_or(fail(ErrorKind::PayloadEncode))?;
        let (header, nonce) = head
            .split_at_mut_checked(HEADER_LEN)
            .ok_or(fail(ErrorKind::PayloadEncode))?;
        rng.fill(nonce).map_err(|_| fail(ErrorKind::Rng))?;
        let mut aad = [0u8; MAX_AAD_LEN];
        let aad = self.aad(&mut aad, header, parts);
        let tag = entry
            .cipher
            .seal_in_place(nonce, aad, body)
            .map_err(|_| fail(ErrorKind::TooLarge))?;
        buf.extend_from_slice(&tag);
        Ok(BASE64.encode(&*buf))
    }

    /// Whether a plaintext envelope of `plaintext_len` bytes, sealed under
    /// the keyring's primary key, fits this codec's value limit.
    #[cfg(feature = "migrate")]
    pub(crate) fn fits(&self, keyring: &Keyring, plaintext_len: usize) -> bool {
        let body_start = keyring.primary_entry().suite.body_offset();
        sealed_len(body_start, plaintext_len) <= self.max_value_len
    }

    /// Opens a value sealed by [`Codec::seal`], checking its times against
    /// the system clock.
    ///
    /// # Errors
    ///
    /// Every failure to open, classified by [`ErrorKind`] in
    /// the order of `FORMAT.md` § 11; to a client they all mean "no session".
    ///
    /// ```
    /// # use sealed_session::{ErrorKind, Key, KeySpec, Keyring};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// let err = codec.open::<u8>(&keyring, "AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open<T: Serialize + DeserializeOwned>(
        &self,
        keyring: &Keyring,
        value: &str,
    ) -> Result<Opened<T>, Error> {
        self.open_at(keyring, value, SystemTime::now())
    }

    /// Opens a value, checking its times against `now`.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{ErrorKind, Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let meta = SessionMeta::new_at(Lifetimes::default(), t0)?;
    /// let value = codec.seal(&keyring, &meta, &1u8)?;
    /// assert!(codec.open_at::<u8>(&keyring, &value, t0 + Duration::from_secs(60)).is_ok());
    /// let late = codec.open_at::<u8>(&keyring, &value, t0 + Duration::from_secs(1800));
    /// assert_eq!(late.unwrap_err().kind(), ErrorKind::ExpiredIdle);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_at<T: Serialize + DeserializeOwned>(
        &self,
        keyring: &Keyring,
        value: &str,
        now: SystemTime,
    ) -> Result<Opened<T>, Error> {
        self.open_raw_at(keyring, value, now)?.into_opened()
    }

    /// Opens a value without decoding its data, checking its times against
    /// the system clock.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`], except the data's own decoding, which
    /// [`OpenedRaw::decode`] does.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// # let meta = SessionMeta::new(Lifetimes::default())?;
    /// let raw = codec.open_raw(&keyring, &codec.seal(&keyring, &meta, &[1u8, 2, 3])?)?;
    /// assert_eq!(raw.decode::<[u8; 3]>()?, [1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw(&self, keyring: &Keyring, value: &str) -> Result<OpenedRaw, Error> {
        self.open_raw_at(keyring, value, SystemTime::now())
    }

    /// Opens a value without decoding its data, checking its times against
    /// `now`.
    ///
    /// # Errors
    ///
    /// As [`Codec::open_raw`].
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{ErrorKind, Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// # let codec = Codec::new("s")?;
    /// let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let value = codec.seal(&keyring, &SessionMeta::new_at(Default::default(), t0)?, &())?;
    /// let early = codec.open_raw_at(&keyring, &value, t0 - Duration::from_secs(600));
    /// assert_eq!(early.unwrap_err().kind(), ErrorKind::NotYetValid);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_at(
        &self,
        keyring: &Keyring,
        value: &str,
        now: SystemTime,
    ) -> Result<OpenedRaw, Error> {
        self.open_capped(keyring, value, now, 0, self.max_value_len)
    }

    /// Opens a value read from the session's cookies, without decoding its
    /// data: one value for a session in one cookie, or the values of the
    /// chunk cookies `name.0`, `name.1`, … in order for a session split
    /// over several (the chunk count is authenticated).
    ///
    /// # Errors
    ///
    /// `ErrorKind::Malformed` for no values, `ErrorKind::TooLarge` for more
    /// than [`MAX_CHUNKS`](crate::limits::MAX_CHUNKS) or past the value
    /// limit, then as [`Codec::open_raw`].
    ///
    /// ```
    /// # use std::time::SystemTime;
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
    /// # use sealed_session::codec::Codec;
    /// # let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// let codec = Codec::new("s")?;
    /// let value = codec.seal(&keyring, &SessionMeta::new(Lifetimes::default())?, &7u8)?;
    /// let raw = codec.open_chunks_raw_at(&keyring, &[&value], SystemTime::now())?;
    /// assert_eq!(raw.decode::<u8>()?, 7);
    /// // Split by hand, it is not what was sealed (a count of 0 is authenticated).
    /// let (a, b) = value.split_at(40);
    /// assert!(codec.open_chunks_raw_at(&keyring, &[a, b], SystemTime::now()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_chunks_raw_at(
        &self,
        keyring: &Keyring,
        chunks: &[&str],
        now: SystemTime,
    ) -> Result<OpenedRaw, Error> {
        match chunks {
            [] => Err(ErrorKind::Malformed.into()),
            [value] => self.open_parts(keyring, value, now, 0),
            many => {
                let parts = u8::try_from(many.len())
                    .ok()
                    .filter(|n| *n <= crate::limits::MAX_CHUNKS)
                    .ok_or(ErrorKind::TooLarge)?;
                self.open_parts(keyring, &many.concat(), now, parts)
            }
        }
    }

    /// Opens a value read from cookies. `parts` is 0 for a value carried
    /// in one cookie, which is capped at one browser cookie (4096 minus
    /// the name) whatever the codec's limit, or the number of chunk
    /// cookies a value was reassembled from, capped at the codec's limit.
    pub(crate) fn open_parts(
        &self,
        keyring: &Keyring,
        value: &str,
        now: SystemTime,
        parts: u8,
    ) -> Result<OpenedRaw, Error> {
        self.open_capped(keyring, value, now, parts, self.cap_for(parts))
    }

    /// The longest value accepted from cookies: for `parts` 0 (one cookie)
    /// one browser cookie under this codec's name, else the codec's limit.
    fn cap_for(&self, parts: u8) -> usize {
        match parts {
            0 => self
                .max_value_len
                .min(BROWSER_COOKIE_LIMIT.saturating_sub(self.name.len())),
            _ => self.max_value_len,
        }
    }

    fn open_capped(
        &self,
        keyring: &Keyring,
        value: &str,
        now: SystemTime,
        parts: u8,
        cap: usize,
    ) -> Result<OpenedRaw, Error> {
        let (entry, decoded_len) = self.check_value(keyring, value, cap)?;
        let key_id = entry.id;
        let mut buf = Zeroizing::new(vec![0u8; decoded_len]);
        let opened = self.open_into(keyring, entry, value, now, parts, &mut buf)?;
        buf.truncate(opened.end);
        Ok(OpenedRaw {
            meta: opened.meta,
            key_id,
            needs_reseal: opened.needs_reseal,
            plaintext: buf,
            data: opened.data,
        })
    }

    /// Opens a value read from cookies (as [`Codec::open_parts`]) into a
    /// buffer on the stack when it fits one cookie, and hands `use_it` the
    /// metadata and the data's bytes; the plaintext is zeroized before
    /// returning. Opening a session this way allocates nothing.
    pub(crate) fn open_parts_with<R>(
        &self,
        keyring: &Keyring,
        value: &str,
        now: SystemTime,
        parts: u8,
        use_it: impl FnOnce(OpenedRef<'_>) -> R,
    ) -> Result<R, Error> {
        let (entry, decoded_len) = self.check_value(keyring, value, self.cap_for(parts))?;
        // Both zeroized when dropped, whether the value opened or not: a
        // failed open may leave a decrypted plaintext behind.
        let mut stack = Zeroizing::new([0u8; STACK_PLAINTEXT]);
        let mut heap = Zeroizing::new(Vec::new());
        let buf = match stack.get_mut(..decoded_len) {
            Some(buf) => buf,
            None => {
                heap.resize(decoded_len, 0);
                &mut heap[..]
            }
        };
        let opened = self.open_into(keyring, entry, value, now, parts, buf)?;
        Ok(use_it(OpenedRef {
            meta: opened.meta,
            needs_reseal: opened.needs_reseal,
            data: buf.get(opened.data).unwrap_or_default(),
        }))
    }

    /// The checks before decoding: size, header, version, key. Returns the
    /// key and a length the decoded value fits in.
    fn check_value<'k>(
        &self,
        keyring: &'k Keyring,
        value: &str,
        cap: usize,
    ) -> Result<(&'k KeyEntry, usize), Error> {
        let encoded = value.as_bytes();
        if encoded.len() > cap {
            return Err(ErrorKind::TooLarge.into());
        }
        let header = decode_header(encoded)?;
        let [version, id @ ..] = header;
        if version != FORMAT_V1 {
            return Err(ErrorKind::UnsupportedVersion.into());
        }
        let key_id = KeyId::from_be_bytes(id);
        let Some(entry) = keyring.entry(key_id) else {
            return Err(Error::with_key(ErrorKind::UnknownKey, key_id));
        };
        let malformed = || Error::with_key(ErrorKind::Malformed, key_id);
        let decoded_len = decoded_len(encoded.len()).ok_or_else(malformed)?;
        if decoded_len < entry.suite.body_offset().saturating_add(TAG_LEN) {
            return Err(malformed());
        }
        // base64's decoder wants room for a padded last group.
        Ok((entry, decoded_len.saturating_add(2)))
    }

    /// Decodes, authenticates and checks a value that passed
    /// [`Codec::check_value`], in `buf`.
    fn open_into(
        &self,
        keyring: &Keyring,
        entry: &KeyEntry,
        value: &str,
        now: SystemTime,
        parts: u8,
        buf: &mut [u8],
    ) -> Result<Decrypted, Error> {
        let key_id = entry.id;
        let fail = |kind| Error::with_key(kind, key_id);
        let malformed = || fail(ErrorKind::Malformed);
        let body_start = entry.suite.body_offset();
        let written = BASE64
            .decode_slice(value.as_bytes(), &mut *buf)
            .map_err(|_| malformed())?;
        let buf = buf.get_mut(..written).ok_or_else(malformed)?;
        let (head, rest) = buf.split_at_mut_checked(body_start).ok_or_else(malformed)?;
        let (header, nonce) = head.split_at_checked(HEADER_LEN).ok_or_else(malformed)?;
        let body_len = rest.len().checked_sub(TAG_LEN).ok_or_else(malformed)?;
        let (body, tag) = rest.split_at_mut_checked(body_len).ok_or_else(malformed)?;
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().map_err(|_| malformed())?;
        let mut aad = [0u8; MAX_AAD_LEN];
        let aad = self.aad(&mut aad, header, parts);
        if entry.cipher.open_in_place(nonce, aad, body, tag).is_err() {
            entry.count_auth_failure();
            return Err(fail(ErrorKind::AuthenticationFailed));
        }

        let (meta, data) = envelope::decode_meta(body).map_err(fail)?;
        // The data is the tail of the body, which ends where the tag starts.
        let data_end = body_start.saturating_add(body_len);
        let data = data_end.saturating_sub(data.len())..data_end;
        let now = unix_secs(now).map_err(|e| fail(e.kind()))?;
        meta.check_times(now, self.clock_skew).map_err(fail)?;
        Ok(Decrypted {
            meta,
            needs_reseal: key_id != keyring.primary_id(),
            data,
            end: written,
        })
    }

    /// Writes `header ‖ aad_tail ‖ parts` into `out`. The tail is bounded
    /// so that the whole fits `MAX_AAD_LEN`.
    pub(crate) fn aad<'a>(
        &self,
        out: &'a mut [u8; MAX_AAD_LEN],
        header: &[u8],
        parts: u8,
    ) -> &'a [u8] {
        let mut len = 0usize;
        for piece in [header, &self.aad_tail, &[parts]] {
            let end = len.saturating_add(piece.len());
            let Some(slot) = out.get_mut(len..end) else {
                break;
            };
            slot.copy_from_slice(piece);
            len = end;
        }
        out.get(..len).unwrap_or_default()
    }
}

impl Clone for Codec {
    fn clone(&self) -> Self {
        Self {
            aad_tail: self.aad_tail.clone(),
            name: self.name.clone(),
            max_value_len: self.max_value_len,
            clock_skew: self.clock_skew,
            size_hint: AtomicUsize::new(self.size_hint.load(Ordering::Relaxed)),
        }
    }
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("max_value_len", &self.max_value_len)
            .field("clock_skew", &self.clock_skew)
            .finish_non_exhaustive()
    }
}

/// Characters of a sealed value: header and nonce (`body_start` bytes),
/// the plaintext, the tag, in unpadded base64.
fn sealed_len(body_start: usize, plaintext_len: usize) -> usize {
    body_start
        .checked_add(plaintext_len)
        .and_then(|n| n.checked_add(TAG_LEN))
        .and_then(encoded_len)
        .unwrap_or(usize::MAX)
}

/// Seals `plaintext` as given, bypassing the envelope encoder, under the
/// primary key with a fixed nonce: for vectors and tests of what the
/// decoder refuses after authentication.
#[cfg(test)]
pub(crate) fn seal_plaintext(
    codec: &Codec,
    keyring: &Keyring,
    nonce: &[u8],
    plaintext: &[u8],
    parts: u8,
) -> String {
    let entry = keyring.primary_entry();
    let mut header = vec![FORMAT_V1];
    header.extend_from_slice(&entry.id.to_be_bytes());
    let mut body = plaintext.to_vec();
    let mut aad = [0u8; MAX_AAD_LEN];
    let aad = codec.aad(&mut aad, &header, parts);
    let tag = entry.cipher.seal_in_place(nonce, aad, &mut body).unwrap();
    let mut value = header;
    value.extend_from_slice(nonce);
    value.extend_from_slice(&body);
    value.extend_from_slice(&tag);
    BASE64.encode(value)
}

#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_decode_header(encoded: &[u8]) -> Option<(u8, KeyId)> {
    decode_header(encoded)
        .ok()
        .map(|[v, id @ ..]| (v, KeyId::from_be_bytes(id)))
}

#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_decode_envelope(plaintext: &[u8]) -> bool {
    envelope::decode_meta(plaintext)
        .and_then(|(_, payload)| crate::session::fuzz_decode_payload(payload))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Lifetimes;
    use crate::key::Key;
    use crate::keyring::KeySpec;
    use crate::rng::testing::FailingRng;
    use crate::suite::Suite;
    use std::time::UNIX_EPOCH;

    #[test]
    fn length_arithmetic() {
        for n in 0..200 {
            let encoded = BASE64.encode(vec![0xa5; n]);
            assert_eq!(Some(encoded.len()), encoded_len(n));
            assert_eq!(decoded_len(encoded.len()), Some(n));
        }
        assert_eq!(decoded_len(5), None);
    }

    #[test]
    fn rng_failure_is_an_error() {
        let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
        let codec = Codec::new("s").unwrap();
        let meta = SessionMeta::new(Lifetimes::default()).unwrap();
        let err = codec
            .seal_with(&mut FailingRng, &keyring, &meta, &1u8, |_| Ok(()), |_| 0)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rng);
    }

    #[test]
    fn parts_are_authenticated() {
        let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
        let codec = Codec::new("s").unwrap();
        let meta = SessionMeta::new(Lifetimes::default()).unwrap();
        let value = codec
            .seal_with(&mut OsRandom, &keyring, &meta, &1u8, |_| Ok(()), |_| 2)
            .unwrap();
        let now = SystemTime::now();
        assert!(codec.open_parts(&keyring, &value, now, 2).is_ok());
        for parts in [0, 1, 3] {
            let err = codec.open_parts(&keyring, &value, now, parts).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
        }
    }

    #[test]
    fn aad_encoding_is_injective() {
        let a = Codec::new("ab").unwrap().with_context(b"c").unwrap();
        let b = Codec::new("a").unwrap().with_context(b"bc").unwrap();
        let (mut x, mut y) = ([0; MAX_AAD_LEN], [0; MAX_AAD_LEN]);
        assert_ne!(
            a.aad(&mut x, &[1, 0, 0, 0, 1], 0),
            b.aad(&mut y, &[1, 0, 0, 0, 1], 0)
        );
    }

    /// One key lookup by id and at most one AEAD open per value, however
    /// many keys the keyring holds; none for values rejected earlier.
    #[test]
    fn at_most_one_aead_open_per_value() {
        use crate::suite::testing::count_opens;
        let mut keyring = Keyring::new(KeySpec::new(1, Key::generate()));
        for id in 2..=5 {
            keyring
                .add_accept_only(KeySpec::new(id, Key::generate()))
                .unwrap();
        }
        let codec = Codec::new("s").unwrap();
        let meta = SessionMeta::new(Lifetimes::default()).unwrap();
        let now = SystemTime::now();
        for primary in 1..=5 {
            keyring.promote(primary).unwrap();
            let value = codec.seal(&keyring, &meta, &"data").unwrap();
            keyring.promote(1).unwrap();
            let opens =
                count_opens(|| assert!(codec.open_at::<String>(&keyring, &value, now).is_ok()));
            assert_eq!(opens, 1);
            let mut tampered = value.clone().into_bytes();
            // A character inside the tag: all six of its bits count, so the
            // value stays canonical base64 and reaches the AEAD.
            let inner = tampered.len() - 5;
            tampered[inner] = if tampered[inner] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).unwrap();
            let opens =
                count_opens(|| assert!(codec.open_at::<String>(&keyring, &tampered, now).is_err()));
            assert_eq!(opens, 1);
        }
        let foreign = Keyring::new(KeySpec::new(99, Key::generate()));
        let unknown = codec.seal(&foreign, &meta, &"data").unwrap();
        for value in [
            unknown.as_str(),
            "",
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            &"A".repeat(5000),
        ] {
            let opens =
                count_opens(|| assert!(codec.open_at::<String>(&keyring, value, now).is_err()));
            assert_eq!(opens, 0);
        }
    }

    /// Authentic plaintexts that decode only leniently (an overlong
    /// varint, a bad Option tag, a duplicate map key) do not open.
    #[test]
    fn authentic_non_canonical_plaintexts_are_payload_errors() {
        use std::collections::BTreeMap;
        let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
        let codec = Codec::new("s").unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let meta = SessionMeta::new_at(Lifetimes::default(), now).unwrap();
        let data: BTreeMap<String, Vec<u8>> = [("a".into(), vec![1])].into();
        let canonical = envelope::encode_into(Vec::new(), &meta, &data).unwrap();
        let seal = |plaintext: &[u8]| seal_plaintext(&codec, &keyring, &[7; 24], plaintext, 0);
        type Map = BTreeMap<String, Vec<u8>>;
        let opened = codec
            .open_at::<Map>(&keyring, &seal(&canonical), now)
            .unwrap();
        assert_eq!(opened.data, data);

        // issued_at ends at byte 20; its last byte gains a continuation bit
        // and a zero byte follows.
        let mut overlong_meta = canonical.to_vec();
        overlong_meta[20] |= 0x80;
        overlong_meta.insert(21, 0);
        let mut bad_tag = canonical.to_vec();
        bad_tag[21] = 2;
        // The map's count (1) is the byte after data_version.
        let data_at = canonical.len() - 5;
        assert_eq!(&canonical[data_at..], &[1, 1, b'a', 1, 1]);
        let mut overlong_data = canonical.to_vec();
        overlong_data[data_at] = 0x81;
        overlong_data.insert(data_at + 1, 0);
        let mut duplicate = canonical.to_vec();
        duplicate[data_at] = 2;
        duplicate.extend_from_slice(&[1, b'a', 1, 2]);
        for (what, plaintext, raw_opens) in [
            ("overlong issued_at", overlong_meta, false),
            ("option tag 2", bad_tag, false),
            ("overlong map count", overlong_data, true),
            ("duplicate key", duplicate, true),
        ] {
            let value = seal(&plaintext);
            let err = codec.open_at::<Map>(&keyring, &value, now).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PayloadDecode, "{what}");
            assert_eq!(err.key_id(), Some(1));
            // The metadata is checked when opening; the data when decoded.
            assert_eq!(
                codec.open_raw_at(&keyring, &value, now).is_ok(),
                raw_opens,
                "{what}"
            );
        }
    }

    /// A value in one cookie is capped at one browser cookie whatever the
    /// codec's limit; a reassembled chunk set may use the whole limit.
    #[test]
    fn single_cookies_are_capped_at_one_cookie_whatever_the_limit() {
        let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
        let codec = Codec::new("name")
            .unwrap()
            .with_max_value_len(12_000)
            .unwrap();
        let meta = SessionMeta::new(Lifetimes::default()).unwrap();
        let now = SystemTime::now();
        let data = "d".repeat(6000);
        let single = codec.seal(&keyring, &meta, &data).unwrap();
        assert!(single.len() > 4096);
        // The public API opens what this codec seals.
        assert!(codec.open_raw_at(&keyring, &single, now).is_ok());
        // From a single cookie: too large, before anything is decoded.
        let err = codec.open_parts(&keyring, &single, now, 0).unwrap_err();
        assert_eq!((err.kind(), err.key_id()), (ErrorKind::TooLarge, None));
        let chunked = codec
            .seal_with(&mut OsRandom, &keyring, &meta, &data, |_| Ok(()), |_| 3)
            .unwrap();
        assert!(codec.open_parts(&keyring, &chunked, now, 3).is_ok());
        // Exactly 4096 - len(name) characters still pass the cap.
        let fitting = "A".repeat(4096 - 4);
        let err = codec.open_parts(&keyring, &fitting, now, 0).unwrap_err();
        assert_ne!(err.kind(), ErrorKind::TooLarge);
        let err = codec
            .open_parts(&keyring, &format!("{fitting}A"), now, 0)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
    }

    #[test]
    fn seal_budget_refuses_past_the_limit() {
        let keyring = Keyring::new(
            KeySpec::new(1, Key::generate())
                .suite(Suite::Aes256Gcm)
                .seal_budget(3),
        );
        let codec = Codec::new("s").unwrap();
        let meta = SessionMeta::new(Lifetimes::default()).unwrap();
        for _ in 0..3 {
            codec.seal(&keyring, &meta, &()).unwrap();
        }
        let err = codec.seal(&keyring, &meta, &()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeyExhausted);
        assert_eq!(err.key_id(), Some(1));
    }
}
