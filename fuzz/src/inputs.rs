//! How the `cookie_header` and `proxy_headers` targets read their bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::header::{COOKIE, FORWARDED};
use http::{HeaderMap, HeaderName, HeaderValue};

/// A `cookie_header` input: the chunk limit and the `Cookie` fields.
#[derive(Debug)]
pub struct CookieInput {
    /// `0..=16`, from the first byte.
    pub max_chunks: u8,
    /// Every field value, in order.
    pub headers: HeaderMap,
    /// The same values as bytes.
    pub fields: Vec<Vec<u8>>,
}

/// How many times a `cookie_header` field starting with DEL (which no
/// header value holds) repeats the rest of the field: enough for one
/// 64-byte field to reach [`MAX_COOKIE_BYTES`].
pub const COOKIE_REPEAT: usize = 1024;

/// Splits a `cookie_header` input: the first byte chooses the chunk limit
/// (`% 17`), the rest split at `\n` gives the `Cookie` field values; a
/// field starting with DEL (`\x7f`) is the rest of it repeated
/// [`COOKIE_REPEAT`] times; values `HeaderValue` refuses are dropped.
/// `None` for an empty input.
pub fn cookie_input(data: &[u8]) -> Option<CookieInput> {
    let (&selector, rest) = data.split_first()?;
    let mut input = CookieInput {
        max_chunks: selector % (sealed_session::limits::MAX_CHUNKS + 1),
        headers: HeaderMap::new(),
        fields: Vec::new(),
    };
    for field in rest.split(|&b| b == b'\n') {
        let field = match field.split_first() {
            Some((0x7f, repeated)) => repeated.repeat(COOKIE_REPEAT),
            _ => field.to_vec(),
        };
        if let Ok(value) = HeaderValue::from_bytes(&field) {
            input.headers.append(COOKIE, value);
            input.fields.push(field);
        }
    }
    Some(input)
}

/// How many times a `proxy_headers` line starting with a lower-case `f` or
/// `x` repeats its value.
pub const PROXY_REPEAT: usize = 64;

/// Headers that look relevant but are never read.
const IGNORED_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("x-forwarded-ssl"),
    HeaderName::from_static("front-end-https"),
    HeaderName::from_static("x-forwarded-scheme"),
];

/// A `proxy_headers` input.
#[derive(Debug)]
pub struct ProxyInput {
    /// The connection's peer address.
    pub peer: Option<IpAddr>,
    /// Every header of the request.
    pub headers: HeaderMap,
    /// Only its `Forwarded` and `X-Forwarded-Proto` fields.
    pub relevant: HeaderMap,
    /// The `Forwarded` field values, in order.
    pub forwarded: Vec<Vec<u8>>,
    /// The `X-Forwarded-Proto` field values, in order.
    pub x_forwarded_proto: Vec<Vec<u8>>,
}

/// Splits a `proxy_headers` input: one byte choosing the peer (`% 3`:
/// none, IPv4 from the first 4 of the next 16 bytes, IPv6 from all 16),
/// 16 address bytes, then lines separated by `\n`. A line starting with
/// `F` gives a `Forwarded` value and one starting with `X` an
/// `X-Forwarded-Proto` value (the rest of the line; lower-case `f` and `x`
/// repeat it [`PROXY_REPEAT`] times); any other line is the value of an
/// unrelated header. Values `HeaderValue` refuses are dropped. `None` when
/// the input is shorter than 17 bytes.
pub fn proxy_input(data: &[u8]) -> Option<ProxyInput> {
    let (&kind, rest) = data.split_first()?;
    let (address, lines) = rest.split_first_chunk::<16>()?;
    let peer = match kind % 3 {
        0 => None,
        1 => Some(IpAddr::V4(Ipv4Addr::from(*address.first_chunk::<4>()?))),
        _ => Some(IpAddr::V6(Ipv6Addr::from(*address))),
    };
    let x_forwarded_proto_name = HeaderName::from_static("x-forwarded-proto");
    let mut input = ProxyInput {
        peer,
        headers: HeaderMap::new(),
        relevant: HeaderMap::new(),
        forwarded: Vec::new(),
        x_forwarded_proto: Vec::new(),
    };
    for (i, line) in lines.split(|&b| b == b'\n').enumerate() {
        let Some((&which, value)) = line.split_first() else {
            continue;
        };
        let value = match which {
            b'F' | b'X' => value.to_vec(),
            b'f' | b'x' => value.repeat(PROXY_REPEAT),
            _ => line.to_vec(),
        };
        let Ok(header) = HeaderValue::from_bytes(&value) else {
            continue;
        };
        let (name, list) = match which.to_ascii_uppercase() {
            b'F' => (FORWARDED, &mut input.forwarded),
            b'X' => (x_forwarded_proto_name.clone(), &mut input.x_forwarded_proto),
            _ => {
                let name = IGNORED_HEADERS[i % IGNORED_HEADERS.len()].clone();
                input.headers.append(name, header);
                continue;
            }
        };
        input.headers.append(name.clone(), header.clone());
        input.relevant.append(name, header);
        list.push(value);
    }
    Some(input)
}

/// The `legacy` target's input: the first byte chooses the source
/// (`% 9`, in the order of `LegacySource::ALL`), the rest is the text.
pub fn legacy_input(data: &[u8]) -> Option<(sealed_session::migrate::LegacySource, String)> {
    use sealed_session::migrate::LegacySource;
    let (first, rest) = data.split_first()?;
    let source = LegacySource::ALL[usize::from(*first) % LegacySource::ALL.len()];
    Some((source, String::from_utf8_lossy(rest).into_owned()))
}
