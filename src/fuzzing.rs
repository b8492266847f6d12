//! Entry points for fuzz targets into decoders that are not public API.
//! Not covered by semver.

/// Decodes the base64 header of a sealed value: `(version, key id)`.
pub fn decode_header(value: &[u8]) -> Option<(u8, crate::KeyId)> {
    crate::codec::fuzz_decode_header(value)
}

/// Decodes a plaintext envelope whose payload is the session layer's
/// around a string-keyed map.
pub fn decode_envelope(plaintext: &[u8]) -> bool {
    crate::codec::fuzz_decode_envelope(plaintext)
}

/// Most same-named cookies the session layer tries.
pub const MAX_CANDIDATES: usize = crate::cookie_header::MAX_CANDIDATES;

/// The session cookies found in a request's `Cookie` headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncomingCookies {
    /// Values of cookies named exactly like the session, in header order.
    pub values: Vec<String>,
    /// The reassembled chunks and their count, when the set is complete.
    pub chunked: Option<(u8, String)>,
    /// Indices of the chunk cookies present, sorted.
    pub chunk_names: Vec<u8>,
    /// Whether a cookie with the session's own name was present.
    pub single_present: bool,
}

/// Reads the session cookies `name` (and chunks `name.0..`) from the
/// `Cookie` headers, as [`SessionManager::load`](crate::SessionManager::load) does.
pub fn read_cookies(headers: &http::HeaderMap, name: &str, max_chunks: u8) -> IncomingCookies {
    let cookies = headers.get_all(http::header::COOKIE);
    let incoming = crate::cookie_header::read_fields(&cookies, name, max_chunks);
    IncomingCookies {
        values: incoming.values().map(str::to_owned).collect(),
        chunked: incoming.chunked,
        chunk_names: incoming.chunk_names.iter().collect(),
        single_present: incoming.single_present,
    }
}

/// Opens a legacy cookie's value as the session layer does before mapping
/// it (features `fuzzing` and `migrate`).
///
/// # Errors
///
/// Why the value does not become a legacy session.
#[cfg(feature = "migrate")]
pub fn decode_legacy(
    cookie: &crate::migrate::LegacyCookie,
    value: &str,
    now: std::time::SystemTime,
) -> Result<crate::migrate::LegacySession, crate::migrate::LegacyRejection> {
    crate::migrate::decode(cookie, value, now)
}
