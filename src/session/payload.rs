//! What the session layer seals as the envelope's data: its own state
//! (CSRF secret, flash messages) and the application's data, which an
//! anonymous session does not have.
//!
//! ```text
//! payload = postcard(csrf_secret: Option<[u8; 32]>, flash: Vec<FlashMessage>, data: Option<T>)
//! ```

use serde::{Deserialize, Serialize};

pub(crate) use crate::csrf::CSRF_SECRET_LEN;
use crate::envelope::{decode_canonical, encodes_to};
use crate::error::ErrorKind;

use super::flash::FlashMessage;

/// The payload as it is sealed; field order is part of the format.
#[derive(Serialize)]
pub(super) struct PayloadRef<'a, T> {
    pub(super) csrf_secret: Option<&'a [u8; CSRF_SECRET_LEN]>,
    pub(super) flash: &'a [FlashMessage],
    pub(super) data: Option<&'a T>,
}

/// The session layer's part of the payload, before the data.
#[derive(Serialize, Deserialize)]
struct Head {
    csrf_secret: Option<[u8; CSRF_SECRET_LEN]>,
    flash: Vec<FlashMessage>,
}

/// A decoded payload whose data is still bytes (or absent).
pub(super) struct SplitPayload<'a> {
    pub(super) csrf_secret: Option<[u8; CSRF_SECRET_LEN]>,
    pub(super) flash: Vec<FlashMessage>,
    pub(super) data: Option<&'a [u8]>,
}

/// Splits a payload into the session layer's fields, canonically encoded,
/// and the data's bytes (`None` for an anonymous session).
pub(super) fn split(bytes: &[u8]) -> Result<SplitPayload<'_>, ErrorKind> {
    let (head, rest) =
        postcard::take_from_bytes::<Head>(bytes).map_err(|_| ErrorKind::PayloadDecode)?;
    let used = bytes
        .get(..bytes.len().saturating_sub(rest.len()))
        .ok_or(ErrorKind::PayloadDecode)?;
    if !encodes_to(&head, used) {
        return Err(ErrorKind::PayloadDecode);
    }
    let data = match rest.split_first() {
        Some((0, [])) => None,
        Some((1, data)) => Some(data),
        _ => return Err(ErrorKind::PayloadDecode),
    };
    Ok(SplitPayload {
        csrf_secret: head.csrf_secret,
        flash: head.flash,
        data,
    })
}

/// What the session manager seals after the metadata, decoded: for tools
/// that inspect a session cookie (an opened
/// [`OpenedRaw`](crate::codec::OpenedRaw)'s
/// [`data_bytes`](crate::codec::OpenedRaw::data_bytes)). The CSRF secret is
/// reported as present or not, never returned.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::COOKIE};
/// use sealed_session::adapter::{Connection, SessionPayload};
/// use sealed_session::codec::Codec;
/// use sealed_session::flash::Level;
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
///
/// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
/// let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::new("s")), KeyringHandle::new(keyring.clone()))?;
/// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
/// session.set(7);
/// session.push_flash(Level::Info, "hello");
/// let set_cookie = session.save()?.set_cookie;
/// let value = set_cookie[0].to_str()?.split(';').next().unwrap().strip_prefix("s=").unwrap().to_owned();
///
/// let raw = Codec::new("s")?.open_raw(&keyring, &value)?;
/// let payload = SessionPayload::<u32>::decode(raw.data_bytes())?;
/// assert_eq!(payload.data, Some(7));
/// assert_eq!(payload.flash.len(), 1);
/// assert!(!payload.has_csrf_secret);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPayload<T> {
    /// Whether the session holds a CSRF secret (a token was issued).
    pub has_csrf_secret: bool,
    /// The flash messages waiting to be read, oldest first.
    pub flash: Vec<FlashMessage>,
    /// The application's data; `None` for an anonymous session.
    pub data: Option<T>,
}

impl<T: Serialize + for<'de> Deserialize<'de>> SessionPayload<T> {
    /// Decodes a payload as the session manager does, canonically.
    ///
    /// # Errors
    ///
    /// `ErrorKind::PayloadDecode` when the bytes are not a session payload
    /// with data of type `T` (see the example on [`SessionPayload`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, crate::Error> {
        let (split, data) = decode::<T>(bytes).map_err(crate::Error::new)?;
        Ok(Self {
            has_csrf_secret: split.csrf_secret.is_some(),
            flash: split.flash,
            data,
        })
    }
}

/// Decodes a whole payload with data of type `T`, as [`split`] then the
/// data canonically.
pub(super) fn decode<T: Serialize + for<'de> Deserialize<'de>>(
    bytes: &[u8],
) -> Result<(SplitPayload<'_>, Option<T>), ErrorKind> {
    let split = split(bytes)?;
    let data = split.data.map(decode_canonical::<T>).transpose()?;
    Ok((split, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::Level;

    fn encode<T: Serialize>(payload: &PayloadRef<'_, T>) -> Vec<u8> {
        postcard::to_allocvec(payload).unwrap()
    }

    #[test]
    fn payloads_round_trip_and_reject_every_other_encoding() {
        let secret = [7u8; CSRF_SECRET_LEN];
        let flash = [FlashMessage::new(Level::Error, "é")];
        let bytes = encode(&PayloadRef {
            csrf_secret: Some(&secret),
            flash: &flash,
            data: Some(&5u32),
        });
        let (split, data) = decode::<u32>(&bytes).unwrap();
        assert_eq!(
            (split.csrf_secret, split.flash, data),
            (Some(secret), flash.to_vec(), Some(5))
        );

        let anonymous = encode::<u32>(&PayloadRef {
            csrf_secret: None,
            flash: &[],
            data: None,
        });
        assert_eq!(anonymous, [0, 0, 0]);
        assert!(decode::<u32>(&anonymous).unwrap().1.is_none());

        for bad in [
            &[0, 0][..],         // truncated
            &[0, 0, 2],          // option tag out of range
            &[0, 0, 0, 0],       // trailing byte after None
            &[0, 0x80, 0, 0],    // overlong count
            &[0, 1, 5, 0, 0],    // level out of range
            &[0, 0, 1, 0x85, 0], // overlong data
        ] {
            assert_eq!(
                decode::<u32>(bad).err(),
                Some(ErrorKind::PayloadDecode),
                "{bad:?}"
            );
        }
        for cut in 0..bytes.len() {
            assert!(decode::<u32>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
