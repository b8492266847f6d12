//! The value's layout around the AEAD: the header (version, key id), the
//! AAD, and the base64url lengths, all checked before any cryptography.

use base64::Engine as _;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, ErrorKind};
use crate::limits::{MAX_CONTEXT_LEN, MAX_NAME_LEN};
use crate::suite::TAG_LEN;

/// Bytes of the header: version (1) and key id (4, big-endian).
pub(crate) const HEADER_LEN: usize = 5;
/// Base64 characters that decode to exactly the header plus one byte.
pub(super) const HEADER_CHARS: usize = 8;
/// The longest AAD: header, two length-prefixed strings and the parts byte.
pub(crate) const MAX_AAD_LEN: usize = HEADER_LEN + 2 + MAX_NAME_LEN + 2 + MAX_CONTEXT_LEN + 1;

/// Canonical base64url without padding: no `=`, zero trailing bits.
pub(crate) static BASE64: GeneralPurpose = URL_SAFE_NO_PAD;

/// Decodes the version and key id from the first characters, without
/// allocating. Values too short to hold a header, nonce and tag of the
/// shortest suite are rejected here.
pub(super) fn decode_header(encoded: &[u8]) -> Result<[u8; HEADER_LEN], Error> {
    const MIN_ENCODED: usize = (HEADER_LEN + 12 + TAG_LEN) * 4 / 3;
    if encoded.len() < MIN_ENCODED {
        return Err(ErrorKind::Malformed.into());
    }
    let mut out = [0u8; HEADER_CHARS / 4 * 3];
    let prefix = encoded.get(..HEADER_CHARS).ok_or(ErrorKind::Malformed)?;
    match BASE64.decode_slice(prefix, &mut out) {
        Ok(6) => {}
        _ => return Err(ErrorKind::Malformed.into()),
    }
    let [v, a, b, c, d, _] = out;
    Ok([v, a, b, c, d])
}

pub(super) fn aad_tail(name: &[u8], context: &[u8]) -> Box<[u8]> {
    let mut tail = Vec::with_capacity(MAX_AAD_LEN);
    // Both lengths are bounded by 256, so they fit a u16.
    tail.extend_from_slice(&(name.len() as u16).to_be_bytes());
    tail.extend_from_slice(name);
    tail.extend_from_slice(&(context.len() as u16).to_be_bytes());
    tail.extend_from_slice(context);
    tail.into_boxed_slice()
}

/// Length of unpadded base64 for `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> Option<usize> {
    let full = match (n / 3).checked_mul(4) {
        Some(full) => full,
        None => return None,
    };
    // The remainder is 0, 1 or 2 bytes: 0, 2 or 3 characters.
    full.checked_add(match n % 3 {
        0 => 0,
        1 => 2,
        _ => 3,
    })
}

/// Bytes encoded by `n` unpadded base64 characters, or `None` when no byte
/// string encodes to that length.
pub(super) const fn decoded_len(n: usize) -> Option<usize> {
    // n / 4 * 3 + 2 never exceeds n for n >= 3, and is not reached below.
    let full = (n / 4).saturating_mul(3);
    match n % 4 {
        0 => Some(full),
        1 => None,
        2 => full.checked_add(1),
        _ => full.checked_add(2),
    }
}
