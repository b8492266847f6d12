//! Reading the session's cookies from `Cookie` request headers.
//!
//! Tolerant of what clients send (several `Cookie` fields, as HTTP/2 and
//! HTTP/3 split them; spaces; other cookies with junk values), strict about
//! what it returns: only values of the session's own name, never
//! percent-decoded or unquoted, and a chunked value only when exactly the
//! chunks `name.0 … name.(n-1)` are present, once each.

use http::HeaderMap;
use http::header::COOKIE;

/// How many same-named cookies are tried at most (tossed or stale ones
/// from other paths); the rest are ignored.
pub(crate) const MAX_CANDIDATES: usize = 4;

/// Bytes of `Cookie` headers scanned at most; servers commonly cap the
/// whole header around 8 KiB, so anything beyond is not a browser's.
const MAX_SCANNED: usize = 64 * 1024;

/// The session cookies found in a request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Incoming {
    /// Values of cookies named exactly like the session, in header order.
    pub(crate) values: Vec<String>,
    /// The chunks' values reassembled in order, when the set is complete.
    pub(crate) chunked: Option<(u8, String)>,
    /// Chunk names present (`name.i`), complete or not: removed when the
    /// session no longer needs them.
    pub(crate) chunk_names: Vec<u8>,
    /// Whether a cookie with the session's own name was present.
    pub(crate) single_present: bool,
}

impl Incoming {
    /// Whether the request carried any cookie of the session.
    pub(crate) fn any(&self) -> bool {
        self.single_present || !self.chunk_names.is_empty()
    }
}

/// Collects the session's cookies. `max_chunks` is 0 when chunking is off.
pub(crate) fn read(headers: &HeaderMap, name: &str, max_chunks: u8) -> Incoming {
    let mut incoming = Incoming::default();
    let mut chunks: Vec<Option<&str>> = vec![None; usize::from(max_chunks)];
    let mut chunk_conflict = false;
    let mut scanned = 0usize;
    for field in headers.get_all(COOKIE) {
        scanned = scanned.saturating_add(field.len());
        if scanned > MAX_SCANNED {
            break;
        }
        // Non-UTF-8 bytes belong to some other cookie; ours are base64url.
        let Ok(text) = std::str::from_utf8(field.as_bytes()) else {
            continue;
        };
        for pair in text.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            // RFC 6265bis trims spaces and tabs only (not Unicode spaces).
            let (key, value) = (trim_ows(key), trim_ows(value));
            if key == name {
                incoming.single_present = true;
                if incoming.values.len() < MAX_CANDIDATES {
                    incoming.values.push(value.to_owned());
                }
            } else if let Some(index) = chunk_index(key, name, max_chunks) {
                if !incoming.chunk_names.contains(&index) {
                    incoming.chunk_names.push(index);
                }
                match chunks.get_mut(usize::from(index)) {
                    Some(slot @ None) => *slot = Some(value),
                    _ => chunk_conflict = true,
                }
            }
        }
    }
    if !chunk_conflict {
        incoming.chunked = reassemble(&chunks);
    }
    incoming.chunk_names.sort_unstable();
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
        assert_eq!(got.values, vec!["first", "second"]);
        assert!(got.single_present && got.chunked.is_none());
    }

    #[test]
    fn caps_candidates_and_never_decodes() {
        let many = (0..100)
            .map(|i| format!("s=v{i}"))
            .collect::<Vec<_>>()
            .join("; ");
        let got = read(&headers(&[many.as_bytes()]), "s", 0);
        assert_eq!(got.values.len(), MAX_CANDIDATES);
        let got = read(&headers(&[b"s=\"quoted\"; s=%41%42"]), "s", 0);
        assert_eq!(got.values, vec!["\"quoted\"", "%41%42"]);
    }

    #[test]
    fn non_utf8_fields_are_skipped() {
        let got = read(&headers(&[b"x=\xff\xfe", b"s=ok"]), "s", 0);
        assert_eq!(got.values, vec!["ok"]);
    }

    #[test]
    fn chunks_reassemble_only_when_exact() {
        let ok = read(&headers(&[b"s.1=BB; s.0=AA", b"s.2=CC"]), "s", 4);
        assert_eq!(ok.chunked, Some((3, "AABBCC".to_owned())));
        assert_eq!(ok.chunk_names, vec![0, 1, 2]);
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
