//! Cipher suites. The suite belongs to the key, never to the cookie: a
//! value's header names a key id, and the key decides the algorithm.

use core::fmt;
use core::str::FromStr;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;
use xaes_256_gcm::Xaes256Gcm;
use zeroize::Zeroizing;

use crate::key::{Key, KeyError};

/// Length of every suite's authentication tag (never truncated).
pub(crate) const TAG_LEN: usize = 16;

/// An AEAD algorithm a key is used with.
///
/// | suite | nonce | random nonces per key (collision ≤ 2⁻³²) |
/// |---|---|---|
/// | [`Xaes256Gcm`](Suite::Xaes256Gcm) (default) | 192-bit | ≈ 2⁸⁰ |
/// | [`XChaCha20Poly1305`](Suite::XChaCha20Poly1305) | 192-bit | ≈ 2⁸⁰ |
/// | [`Aes256Gcm`](Suite::Aes256Gcm) | 96-bit | 2³² (NIST), enforced by a seal budget |
///
/// ```
/// use sealed_session::Suite;
/// assert_eq!(Suite::default(), Suite::Xaes256Gcm);
/// assert_eq!("xchacha20-poly1305".parse::<Suite>(), Ok(Suite::XChaCha20Poly1305));
/// assert_eq!(Suite::Aes256Gcm.to_string(), "aes-256-gcm");
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Suite {
    /// XAES-256-GCM (C2SP): AES-256-GCM under a key derived per message
    /// from the first half of a random 192-bit nonce. Safe with random
    /// nonces without a practical limit, and runs on AES hardware.
    #[default]
    Xaes256Gcm,
    /// XChaCha20-Poly1305 with a random 192-bit nonce.
    XChaCha20Poly1305,
    /// AES-256-GCM with a random 96-bit nonce. Keys carry a seal budget;
    /// see [`KeySpec::seal_budget`](crate::KeySpec::seal_budget).
    Aes256Gcm,
}

impl Suite {
    /// Every suite, in a fixed order.
    pub const ALL: [Suite; 3] = [Self::Xaes256Gcm, Self::XChaCha20Poly1305, Self::Aes256Gcm];

    /// Nonce length in bytes.
    ///
    /// ```
    /// # use sealed_session::Suite;
    /// assert_eq!(Suite::Aes256Gcm.nonce_len(), 12);
    /// ```
    pub const fn nonce_len(self) -> usize {
        match self {
            Self::Xaes256Gcm | Self::XChaCha20Poly1305 => 24,
            Self::Aes256Gcm => 12,
        }
    }

    /// Where the ciphertext starts in a sealed value: the 5-byte header and
    /// the nonce come first.
    pub(crate) const fn body_offset(self) -> usize {
        match self {
            Self::Xaes256Gcm | Self::XChaCha20Poly1305 => 5 + 24,
            Self::Aes256Gcm => 5 + 12,
        }
    }

    /// The name used in keyring strings (`id:suite:key`).
    ///
    /// ```
    /// # use sealed_session::Suite;
    /// assert_eq!(Suite::Xaes256Gcm.name(), "xaes-256-gcm");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Self::Xaes256Gcm => "xaes-256-gcm",
            Self::XChaCha20Poly1305 => "xchacha20-poly1305",
            Self::Aes256Gcm => "aes-256-gcm",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Suite {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        Self::ALL
            .into_iter()
            .find(|suite| suite.name().eq_ignore_ascii_case(text))
            .ok_or(KeyError::UnknownSuite)
    }
}

/// The AEAD failed (bad tag, or a length it cannot process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AeadError;

/// A cipher object, built once per key.
pub(crate) enum Cipher {
    Xaes(Box<Xaes256Gcm>),
    XChaCha(Box<XChaCha20Poly1305>),
    Aes(Box<Aes256Gcm>),
}

impl Cipher {
    pub(crate) fn new(suite: Suite, key: &Key) -> Self {
        let bytes = key.as_bytes().into();
        match suite {
            Suite::Xaes256Gcm => Self::Xaes(Box::new(Xaes256Gcm::new(bytes))),
            Suite::XChaCha20Poly1305 => Self::XChaCha(Box::new(XChaCha20Poly1305::new(bytes))),
            Suite::Aes256Gcm => Self::Aes(Box::new(Aes256Gcm::new(bytes))),
        }
    }

    /// Encrypts `buf` in place and returns the tag. `nonce` must have the
    /// suite's nonce length.
    pub(crate) fn seal_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], AeadError> {
        let tag = match self {
            Self::Xaes(c) => c
                .encrypt_inout_detached(nonce_of(nonce)?, aad, buf.into())
                .map(|t| t.0),
            Self::XChaCha(c) => c
                .encrypt_inout_detached(nonce_of(nonce)?, aad, buf.into())
                .map(|t| t.0),
            Self::Aes(c) => c
                .encrypt_inout_detached(nonce_of(nonce)?, aad, buf.into())
                .map(|t| t.0),
        };
        tag.map_err(|_| AeadError)
    }

    /// A tag that depends only on this cipher's key: two ciphers of the
    /// same suite give equal probes exactly when their keys are equal
    /// (but for a 2⁻¹²⁸ chance). It seals an empty message under a zero
    /// nonce and an AAD no sealed value has (a value's AAD starts with its
    /// version byte, never 0), and never leaves the process.
    pub(crate) fn probe(&self) -> Result<Zeroizing<[u8; TAG_LEN]>, AeadError> {
        const PROBE_AAD: &[u8] = b"\x00sealed-session key equality probe";
        let nonce = [0u8; 24];
        let nonce_len = match self {
            Self::Xaes(_) | Self::XChaCha(_) => 24,
            Self::Aes(_) => 12,
        };
        let nonce = nonce.get(..nonce_len).ok_or(AeadError)?;
        self.seal_in_place(nonce, PROBE_AAD, &mut [])
            .map(Zeroizing::new)
    }

    /// Verifies `tag` and decrypts `buf` in place. On failure `buf` is left
    /// as ciphertext; the AEAD compares tags in constant time.
    pub(crate) fn open_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        #[cfg(test)]
        testing::OPENS.with(|n| n.set(n.get() + 1));
        let tag = (*tag).into();
        match self {
            Self::Xaes(c) => c.decrypt_inout_detached(nonce_of(nonce)?, aad, buf.into(), &tag),
            Self::XChaCha(c) => c.decrypt_inout_detached(nonce_of(nonce)?, aad, buf.into(), &tag),
            Self::Aes(c) => c.decrypt_inout_detached(nonce_of(nonce)?, aad, buf.into(), &tag),
        }
        .map_err(|_| AeadError)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use std::cell::Cell;

    thread_local! {
        /// AEAD opens attempted on this thread.
        pub(crate) static OPENS: Cell<usize> = const { Cell::new(0) };
    }

    /// How many AEAD opens `f` attempted.
    pub(crate) fn count_opens(f: impl FnOnce()) -> usize {
        let before = OPENS.with(Cell::get);
        f();
        OPENS.with(Cell::get) - before
    }
}

fn nonce_of<'a, N>(bytes: &'a [u8]) -> Result<&'a N, AeadError>
where
    &'a N: TryFrom<&'a [u8]>,
{
    bytes.try_into().map_err(|_| AeadError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphers_zeroize_on_drop() {
        fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        assert_zeroize_on_drop::<Aes256Gcm>();
        assert_zeroize_on_drop::<Xaes256Gcm>();
        assert_zeroize_on_drop::<XChaCha20Poly1305>();
    }

    #[test]
    fn suite_names_round_trip() {
        for suite in Suite::ALL {
            assert_eq!(suite.name().parse::<Suite>(), Ok(suite));
            assert_eq!(suite.name().to_uppercase().parse::<Suite>(), Ok(suite));
        }
        assert_eq!("aes-128-gcm".parse::<Suite>(), Err(KeyError::UnknownSuite));
    }

    /// AEAD_XChaCha20_Poly1305 known answer from draft-irtf-cfrg-xchacha
    /// (appendix A.3.1, nonce byte 11 corrected to 0x4b), through our wrapper.
    #[test]
    fn xchacha_known_answer() {
        let key_bytes: Vec<u8> = (0x80..=0x9f).collect();
        let key = Key::from_bytes(&key_bytes).unwrap();
        let cipher = Cipher::new(Suite::XChaCha20Poly1305, &key);
        let nonce: Vec<u8> = (0x40..=0x57).collect();
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut buf = plaintext.to_vec();
        let tag = cipher.seal_in_place(&nonce, &aad, &mut buf).unwrap();
        assert_eq!(tag.to_vec(), hex("c0875924c1c7987947deafd8780acf49"));
        assert_eq!(buf[..16].to_vec(), hex("bd6d179d3e83d43b9576579493c0e939"));
        cipher.open_in_place(&nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(&buf[..], &plaintext[..]);
    }

    /// XAES-256-GCM known answer from the C2SP specification.
    #[test]
    fn xaes_known_answer() {
        let key = Key::from_bytes(&[0x01; 32]).unwrap();
        let cipher = Cipher::new(Suite::Xaes256Gcm, &key);
        let nonce = b"ABCDEFGHIJKLMNOPQRSTUVWX";
        let mut buf = b"XAES-256-GCM".to_vec();
        let tag = cipher.seal_in_place(nonce, b"", &mut buf).unwrap();
        let mut sealed = buf.clone();
        sealed.extend_from_slice(&tag);
        assert_eq!(
            sealed,
            hex("ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271")
        );
        let mut key2 = [0u8; 32];
        key2.copy_from_slice(&hex(
            "0303030303030303030303030303030303030303030303030303030303030303",
        ));
        let cipher2 = Cipher::new(Suite::Xaes256Gcm, &Key::from_bytes(&key2).unwrap());
        let mut buf = b"XAES-256-GCM".to_vec();
        let tag = cipher2
            .seal_in_place(nonce, b"c2sp.org/XAES-256-GCM", &mut buf)
            .unwrap();
        buf.extend_from_slice(&tag);
        assert_eq!(
            buf,
            hex("986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d")
        );
    }

    #[test]
    fn wrong_nonce_length_is_an_error_not_a_panic() {
        let key = Key::from_bytes(&[0x02; 32]).unwrap();
        for suite in Suite::ALL {
            let cipher = Cipher::new(suite, &key);
            let mut buf = [0u8; 4];
            assert_eq!(cipher.seal_in_place(&[0; 5], b"", &mut buf), Err(AeadError));
            assert_eq!(
                cipher.open_in_place(&[0; 5], b"", &mut buf, &[0; TAG_LEN]),
                Err(AeadError)
            );
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
