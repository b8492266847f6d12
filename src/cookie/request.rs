//! Reading the session's cookies from `Cookie` request headers.
//!
//! Tolerant of what clients send (several `Cookie` fields, as HTTP/2 and
//! HTTP/3 split them; spaces; other cookies with junk values), strict about
//! what it returns: only values of the session's own name, never
//! percent-decoded or unquoted, and a chunked value only when exactly the
//! chunks `name.0 … name.(n-1)` are present, once each.

use http::HeaderValue;
#[cfg(test)]
use http::{HeaderMap, header::COOKIE};

use crate::limits::MAX_CHUNKS;

/// How many same-named cookies are tried at most (tossed or stale ones
/// from other paths); the rest are ignored.
pub(crate) const MAX_CANDIDATES: usize = 4;

/// Bytes of `Cookie` headers scanned at most; servers commonly cap the
/// whole header around 8 KiB, so anything beyond is not a browser's.
const MAX_SCANNED: usize = 64 * 1024;

/// The session cookies found in a request. Reading them allocates
/// nothing unless chunks must be reassembled: values stay in the request's
/// header fields, which are reference-counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Incoming {
    /// Values of cookies named exactly like the session, in header order.
    values: [Option<CookieValue>; MAX_CANDIDATES],
    /// The chunks' values reassembled in order, when the set is complete.
    pub(crate) chunked: Option<(u8, String)>,
    /// Chunk names present (`name.i`), complete or not: removed when the
    /// session no longer needs them.
    pub(crate) chunk_names: ChunkSet,
    /// Whether a cookie with the session's own name was present.
    pub(crate) single_present: bool,
}

impl Incoming {
    /// Whether the request carried any cookie of the session.
    pub(crate) fn any(&self) -> bool {
        self.single_present || !self.chunk_names.is_empty()
    }

    /// Values of cookies named exactly like the session, in header order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .map_while(|v| v.as_ref().map(CookieValue::as_str))
    }
}

/// One cookie's value: a range of a `Cookie` field known to be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CookieValue {
    field: HeaderValue,
    start: usize,
    end: usize,
}

impl CookieValue {
    fn as_str(&self) -> &str {
        self.field
            .as_bytes()
            .get(self.start..self.end)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

/// Indices of chunk cookies, below [`MAX_CHUNKS`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkSet(u32);

const _: () = assert!(MAX_CHUNKS <= 32, "a chunk set is a 32-bit mask");

impl ChunkSet {
    /// Chunks `0..count`.
    pub(crate) fn first(count: u8) -> Self {
        Self(
            1u32.checked_shl(u32::from(count))
                .map_or(u32::MAX, |bit| bit.wrapping_sub(1)),
        )
    }

    fn insert(&mut self, index: u8) {
        self.0 |= 1u32.checked_shl(u32::from(index)).unwrap_or(0);
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The indices, ascending.
    pub(crate) fn iter(self) -> impl Iterator<Item = u8> {
        (0..32u8).filter(move |i| self.0 & (1u32 << i) != 0)
    }
}

/// Collects the session's cookies from a request's headers. `max_chunks`
/// is 0 when chunking is off.
#[cfg(test)]
pub(crate) fn read(headers: &HeaderMap, name: &str, max_chunks: u8) -> Incoming {
    read_fields(headers.get_all(COOKIE), name, max_chunks)
}

/// Collects the session's cookies from a request's `Cookie` fields.
/// `max_chunks` is 0 when chunking is off.
pub(crate) fn read_fields<'a>(
    fields: impl IntoIterator<Item = &'a HeaderValue>,
    name: &str,
    max_chunks: u8,
) -> Incoming {
    let mut incoming = Incoming::default();
    let max_chunks = max_chunks.min(MAX_CHUNKS);
    let mut chunks: [Option<&str>; MAX_CHUNKS as usize] = [None; MAX_CHUNKS as usize];
    let mut candidates = 0;
    let mut chunk_conflict = false;
    let mut scanned = 0usize;
    for field in fields {
        scanned = scanned.saturating_add(field.len());
        if scanned > MAX_SCANNED {
            break;
        }
        // Non-UTF-8 bytes belong to some other cookie; ours are base64url.
        let Ok(text) = std::str::from_utf8(field.as_bytes()) else {
            continue;
        };
        let mut pair_start = 0usize;
        for pair in text.split(';') {
            let this_pair = pair_start;
            pair_start = pair_start.saturating_add(pair.len()).saturating_add(1);
            let Some((key, raw)) = pair.split_once('=') else {
                continue;
            };
            // RFC 6265bis trims spaces and tabs only (not Unicode spaces).
            let (key, value) = (trim_ows(key), trim_ows(raw));
            if key == name {
                incoming.single_present = true;
                if let Some(slot) = incoming.values.get_mut(candidates) {
                    let leading = raw
                        .len()
                        .saturating_sub(raw.trim_start_matches([' ', '\t']).len());
                    let start = this_pair
                        .saturating_add(pair.len().saturating_sub(raw.len()))
                        .saturating_add(leading);
                    *slot = Some(CookieValue {
                        field: field.clone(),
                        start,
                        end: start.saturating_add(value.len()),
                    });
                    candidates = candidates.saturating_add(1);
                }
            } else if let Some(index) = chunk_index(key, name, max_chunks) {
                incoming.chunk_names.insert(index);
                match chunks.get_mut(usize::from(index)) {
                    Some(slot @ None) => *slot = Some(value),
                    _ => chunk_conflict = true,
                }
            }
        }
    }
    if !chunk_conflict {
        incoming.chunked = reassemble(chunks.get(..usize::from(max_chunks)).unwrap_or_default());
    }
    incoming
}

/// `name.i` with `i` a canonical decimal below `max_chunks`.
fn chunk_index(key: &str, name: &str, max_chunks: u8) -> Option<u8> {
    let digits = key.strip_prefix(name)?.strip_prefix('.')?;
    if digits.is_empty() || digits.len() > 3 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    digits
        .parse::<u8>()
        .ok()
        .filter(|i| *i < max_chunks && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The concatenation of chunks `0..n`, when they are present with no gap
/// and nothing after the gap; `n` is at least 2 (one chunk is never split).
fn reassemble(chunks: &[Option<&str>]) -> Option<(u8, String)> {
    let count = chunks.iter().take_while(|c| c.is_some()).count();
    if count < 2 || chunks.iter().skip(count).any(Option::is_some) {
        return None;
    }
    let parts = u8::try_from(count).ok()?;
    Some((parts, chunks.iter().flatten().copied().collect()))
}

/// Name of chunk `index` of cookie `name`.
pub(crate) fn chunk_name(name: &str, index: u8) -> String {
    format!("{name}.{index}")
}

fn trim_ows(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(fields: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for f in fields {
            map.append(COOKIE, HeaderValue::from_bytes(f).unwrap());
        }
        map
    }

    #[test]
    fn finds_values_across_fields_and_ignores_others() {
        let map = headers(&[b"a=1; s=first", b"s=second;t=x; s2=no; S=no"]);
        let got = read(&map, "s", 0);
        assert_eq!(got.values().collect::<Vec<_>>(), ["first", "second"]);
        assert!(got.single_present && got.chunked.is_none());
    }

    #[test]
    fn caps_candidates_and_never_decodes() {
        let many = (0..100)
            .map(|i| format!("s=v{i}"))
            .collect::<Vec<_>>()
            .join("; ");
        let got = read(&headers(&[many.as_bytes()]), "s", 0);
        assert_eq!(got.values().count(), MAX_CANDIDATES);
        let got = read(&headers(&[b"s=\"quoted\"; s=%41%42"]), "s", 0);
        assert_eq!(got.values().collect::<Vec<_>>(), ["\"quoted\"", "%41%42"]);
    }

    #[test]
    fn non_utf8_fields_are_skipped() {
        let got = read(&headers(&[b"x=\xff\xfe", b"s=ok"]), "s", 0);
        assert_eq!(got.values().collect::<Vec<_>>(), ["ok"]);
    }

    #[test]
    fn chunks_reassemble_only_when_exact() {
        let ok = read(&headers(&[b"s.1=BB; s.0=AA", b"s.2=CC"]), "s", 4);
        assert_eq!(ok.chunked, Some((3, "AABBCC".to_owned())));
        assert_eq!(ok.chunk_names.iter().collect::<Vec<_>>(), [0, 1, 2]);
        for bad in [
            &b"s.0=AA; s.2=CC"[..],    // gap
            b"s.0=AA; s.1=BB; s.1=XX", // duplicate
            b"s.0=AA",                 // a single chunk
            b"s.1=BB; s.2=CC",         // no first chunk
            b"s.0=AA; s.1=BB; s.3=DD", // something after the gap
        ] {
            let got = read(&headers(&[bad]), "s", 4);
            assert_eq!(got.chunked, None, "{}", String::from_utf8_lossy(bad));
            assert!(got.any());
        }
        // Indices at or past the maximum, non-canonical or foreign names are not chunks.
        let got = read(&headers(&[b"s.4=x; s.01=x; s.+1=x; s.a=x; sx.0=x"]), "s", 4);
        assert!(got.chunk_names.is_empty() && !got.any());
        // Chunking off: chunk names are foreign cookies.
        assert!(!read(&headers(&[b"s.0=AA; s.1=BB"]), "s", 0).any());
    }
}
