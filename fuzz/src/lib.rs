//! Fixtures shared by the fuzz targets: the fixed keys, cookie name and
//! clock of the `open` target, a strict reference base64url decoder, a
//! reference decoder for the envelope layout, and reference readers for
//! `Cookie` and forwarded-protocol request headers.
//!
//! The seed corpus under `corpus/` is written by the ignored test at the
//! bottom of this file:
//!
//! ```text
//! cargo test --manifest-path fuzz/Cargo.toml -- --ignored regenerate_seed_corpus
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{COOKIE, FORWARDED};
use http::{HeaderMap, HeaderName, HeaderValue};

use sealed_session::adapter::{Clock, SchemeSource};
use sealed_session::codec::Codec;
use sealed_session::fuzzing::{IncomingCookies, MAX_CANDIDATES};
use sealed_session::{CookieConfig, Key, KeyId, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap, Suite};

/// Cookie name every `open` seed is sealed for.
pub const COOKIE_NAME: &str = "__Host-session";

/// The `open` target's clock: 2023-11-14T22:13:20Z.
pub const NOW_SECS: u64 = 1_700_000_000;

/// One key of each suite, with fixed (public, test-only) key bytes.
pub const FIXED_KEYS: [(KeyId, Suite, [u8; 32]); 3] = [
    (1, Suite::Xaes256Gcm, [0x11; 32]),
    (2, Suite::XChaCha20Poly1305, [0x22; 32]),
    (3, Suite::Aes256Gcm, [0x33; 32]),
];

/// Length of a header: version byte and big-endian key id.
pub const HEADER_LEN: usize = 5;

/// Shortest value the codec looks at: base64 of a header, a 12-byte nonce
/// and a 16-byte tag (the shortest suite), 44 characters.
pub const MIN_VALUE_CHARS: usize = (HEADER_LEN + 12 + 16) * 4 / 3;

/// Latest time the envelope represents: 9999-12-31T23:59:59Z.
pub const MAX_UNIX_SECS: u64 = 253_402_300_799;

/// The envelope's metadata as postcard sees it: session id, issued at,
/// sealed at, absolute expiry, idle expiry, data version.
pub type MetaWire = ([u8; 16], u64, u64, Option<u64>, Option<u64>, u32);

/// The data type the `open` and `envelope` targets decode.
pub type MapData = BTreeMap<String, Vec<u8>>;

/// `UNIX_EPOCH + secs`.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The `open` target's clock as a `SystemTime`.
pub fn now() -> SystemTime {
    at(NOW_SECS)
}

/// A keyring with every fixed key, `primary` first. Seal budgets are
/// unlimited so that long fuzzing runs never exhaust the AES-256-GCM key.
pub fn keyring(primary: KeyId) -> Keyring {
    let spec = |(id, suite, bytes): (KeyId, Suite, [u8; 32])| {
        let key = Key::from_bytes(&bytes).expect("fixed key bytes are valid");
        KeySpec::new(id, key).suite(suite).seal_budget(u64::MAX)
    };
    let mut keys = FIXED_KEYS.to_vec();
    keys.sort_by_key(|&(id, ..)| id != primary);
    let mut keys = keys.into_iter();
    let mut ring = Keyring::new(spec(keys.next().expect("three keys")));
    for entry in keys {
        ring.add_accept_only(spec(entry))
            .expect("fixed key ids are unique");
    }
    ring
}

/// The `open` target's codec: [`COOKIE_NAME`], no context, default limits.
pub fn codec() -> Codec {
    Codec::new(COOKIE_NAME).expect("valid cookie name")
}

/// A clock stopped at `UNIX_EPOCH + .0` seconds.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        at(self.0)
    }
}

/// The `cookie_header` target's session manager: cookie [`COOKIE_NAME`]
/// with default attributes and lifetimes, chunking over up to
/// `max_chunks` cookies (0: off), the fixed keyring with key 1 primary,
/// and the clock at [`NOW_SECS`].
pub fn session_manager(max_chunks: u8) -> SessionManager<SessionMap> {
    session_manager_at(max_chunks, 1, NOW_SECS)
}

/// Like [`session_manager`], with another primary key and clock.
pub fn session_manager_at(max_chunks: u8, primary: KeyId, secs: u64) -> SessionManager<SessionMap> {
    let config = SessionConfig::new(CookieConfig::new(COOKIE_NAME)).chunking(max_chunks);
    SessionManager::new(config, KeyringHandle::new(keyring(primary)))
        .expect("valid session configuration")
        .with_clock(FixedClock(secs))
}

/// The value of one base64url character, `None` for anything else
/// (including `=`).
pub fn base64url_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Strict, deliberately simple base64url decoder: URL-safe alphabet only,
/// no padding, and the unused bits of the last character must be zero (so
/// every byte string has exactly one encoding).
pub fn decode_base64url(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in text {
        acc = (acc << 6) | u32::from(base64url_value(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits (2 or 4) must be zero for a canonical encoding.
    (acc == 0).then_some(out)
}

/// Reads an unsigned LEB128 varint of a `bits`-bit integer (32 or 64)
/// from the front of `input`, accepting only the canonical form: at most
/// `ceil(bits / 7)` bytes, no bits beyond the type, and no zero final byte
/// after the first (no overlong encoding).
fn reference_varint(input: &mut &[u8], bits: u32) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0u32;
    loop {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        if shift >= bits {
            return None;
        }
        let group = u64::from(byte & 0x7f);
        if bits - shift < 7 && group >> (bits - shift) != 0 {
            return None;
        }
        value |= group << shift;
        if byte & 0x80 == 0 {
            return (shift == 0 || byte != 0).then_some(value);
        }
        shift += 7;
    }
}

/// `n` bytes from the front of `input`.
fn reference_take<'a>(input: &mut &'a [u8], n: u64) -> Option<&'a [u8]> {
    let n = usize::try_from(n).ok()?;
    if n > input.len() {
        return None;
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Some(head)
}

/// A time: a u64 varint no later than [`MAX_UNIX_SECS`].
fn reference_time(input: &mut &[u8]) -> Option<u64> {
    reference_varint(input, 64).filter(|t| *t <= MAX_UNIX_SECS)
}

/// Decodes a plaintext envelope whose data is a [`MapData`], following the
/// byte layout of `FORMAT.md` rather than the crate's code (no postcard):
/// `true` when it decodes.
pub fn reference_decode_envelope(plaintext: &[u8]) -> bool {
    let mut input = plaintext;
    let mut envelope = || -> Option<()> {
        let input = &mut input;
        reference_take(input, 16)?; // session id
        let issued = reference_time(input)?; // issued at
        let sealed = reference_time(input)?; // sealed at, never before issued
        if sealed < issued {
            return None;
        }
        for _ in 0..2 {
            // absolute expiry, idle expiry: Option<u64>
            match reference_take(input, 1)? {
                [0] => {}
                [1] => {
                    reference_time(input)?;
                }
                _ => return None,
            }
        }
        reference_varint(input, 32)?; // data version
        let count = reference_varint(input, 64)?;
        let mut previous: Option<&[u8]> = None;
        for _ in 0..count {
            let len = reference_varint(input, 64)?;
            let key = reference_take(input, len)?;
            std::str::from_utf8(key).ok()?;
            // Keys strictly ascending by bytes: sorted and unique.
            if previous.is_some_and(|p| p >= key) {
                return None;
            }
            previous = Some(key);
            let len = reference_varint(input, 64)?;
            reference_take(input, len)?;
        }
        input.is_empty().then_some(())
    };
    envelope().is_some()
}

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

/// Most bytes of `Cookie` fields the session layer reads (64 KiB): the
/// field that goes past it, and every later one, is ignored.
pub const MAX_COOKIE_BYTES: usize = 64 * 1024;

/// Reads the session cookies from `Cookie` field values, following the
/// documented rules rather than the crate's code: fields are read in order
/// until they add up to more than [`MAX_COOKIE_BYTES`]; fields that are not
/// UTF-8 are skipped; each field is a `;`-separated list of `key=value`
/// pairs, split at the first `=` and trimmed, never unquoted or decoded.
/// The values named exactly `name` are the candidates (the first
/// [`MAX_CANDIDATES`]); `name.i` with `i` in canonical decimal below
/// `max_chunks` is chunk `i`, and the chunks form a value only when chunks
/// `0..n` are each present exactly once, nothing else is, and `n >= 2`.
pub fn reference_read_cookies(fields: &[&[u8]], name: &str, max_chunks: u8) -> IncomingCookies {
    let mut budget = MAX_COOKIE_BYTES;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for field in fields {
        let Some(rest) = budget.checked_sub(field.len()) else {
            break;
        };
        budget = rest;
        if let Ok(text) = std::str::from_utf8(field) {
            pairs.extend(text.split(';').filter_map(|pair| pair.split_once('=')).map(
                |(key, value)| {
                    (
                        key.trim_matches([' ', '\t']),
                        value.trim_matches([' ', '\t']),
                    )
                },
            ));
        }
    }

    let own: Vec<&str> = pairs
        .iter()
        .filter(|(key, _)| *key == name)
        .map(|&(_, value)| value)
        .collect();
    let chunk_names: Vec<String> = (0..max_chunks).map(|i| format!("{name}.{i}")).collect();
    // (index, value) of every chunk cookie, in header order.
    let chunks: Vec<(u8, &str)> = pairs
        .iter()
        .filter_map(|&(key, value)| {
            let index = chunk_names.iter().position(|chunk| chunk == key)?;
            Some((u8::try_from(index).expect("at most 255 chunks"), value))
        })
        .collect();
    let mut present: Vec<u8> = chunks.iter().map(|&(i, _)| i).collect();
    present.sort_unstable();
    present.dedup();

    let once_each = present.len() == chunks.len();
    let from_zero = present
        .iter()
        .zip(0u8..)
        .all(|(&i, expected)| i == expected);
    let chunked = (once_each && from_zero && present.len() >= 2).then(|| {
        let mut ordered = chunks.clone();
        ordered.sort_unstable_by_key(|&(i, _)| i);
        let value: String = ordered.iter().map(|&(_, value)| value).collect();
        (
            u8::try_from(ordered.len()).expect("at most 255 chunks"),
            value,
        )
    });

    IncomingCookies {
        values: own
            .iter()
            .take(MAX_CANDIDATES)
            .map(|v| (*v).to_owned())
            .collect(),
        chunked,
        chunk_names: present,
        single_present: !own.is_empty(),
    }
}

/// Forwarded headers whose field lines, joined by one-byte separators, are
/// longer than this are unusable.
pub const MAX_FORWARDED_BYTES: usize = 8 * 1024;

/// The decision of [`ProxyTrust::request_scheme`] for a plain-HTTP request
/// from a trusted peer, following the documented rules rather than the
/// crate's code: `(is_https, source)` from the `Forwarded` and
/// `X-Forwarded-Proto` field lines, in order.
///
/// [`ProxyTrust::request_scheme`]: sealed_session::ProxyTrust::request_scheme
pub fn reference_forwarded_scheme(
    forwarded: &[&[u8]],
    x_forwarded_proto: &[&[u8]],
) -> (bool, SchemeSource) {
    // `None`: absent; `Some(None)`: unusable; `Some(Some(https))`: usable.
    let read = |lines: &[&[u8]], parse: fn(&[&[u8]]) -> Option<bool>| {
        if lines.is_empty() {
            return None;
        }
        let joined = lines.iter().map(|l| l.len()).sum::<usize>() + lines.len() - 1;
        Some(if joined > MAX_FORWARDED_BYTES {
            None
        } else {
            parse(lines)
        })
    };
    match (
        read(forwarded, reference_forwarded),
        read(x_forwarded_proto, reference_x_forwarded_proto),
    ) {
        (Some(None), _) | (_, Some(None)) => (false, SchemeSource::Ambiguous),
        (Some(Some(f)), Some(Some(x))) if f != x => (false, SchemeSource::Ambiguous),
        (Some(Some(f)), _) => (f, SchemeSource::Forwarded),
        (None, Some(Some(x))) => (x, SchemeSource::XForwardedProto),
        (None, None) => (false, SchemeSource::NoHeader),
    }
}

/// `http` or `https`, ignoring ASCII case: whether it is `https`.
fn reference_proto(value: &[u8]) -> Option<bool> {
    let lower = value.to_ascii_lowercase();
    match &lower[..] {
        b"https" => Some(true),
        b"http" => Some(false),
        _ => None,
    }
}

/// Spaces and tabs, the only whitespace a header value holds.
fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// `X-Forwarded-Proto`: every non-empty comma-separated value of every line
/// says the same protocol, and there is at least one.
fn reference_x_forwarded_proto(lines: &[&[u8]]) -> Option<bool> {
    let mut values = lines
        .iter()
        .flat_map(|line| line.split(|&b| b == b','))
        .map(trim_ows)
        .filter(|v| !v.is_empty());
    let first = reference_proto(values.next()?)?;
    values
        .all(|v| reference_proto(v) == Some(first))
        .then_some(first)
}

/// Splits at `separator` outside quoted strings (`"`, with `\` escaping the
/// next byte); `None` when a quoted string is left open.
fn split_outside_quotes(bytes: &[u8], separator: u8) -> Option<Vec<&[u8]>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip to the closing quote.
                i += 1;
                loop {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b if b == separator => {
                parts.push(&bytes[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&bytes[start..]);
    Some(parts)
}

/// RFC 9110 `tchar`.
fn is_token_char(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// A `Forwarded` pair value: a quoted string (RFC 9110 `qdtext` and
/// `quoted-pair`), unescaped, or a non-empty run of bytes that are not
/// spaces, controls or quotes.
fn reference_pair_value(raw: &[u8]) -> Option<Vec<u8>> {
    let Some(quoted) = raw.strip_prefix(b"\"") else {
        let loose = |b: u8| b > b' ' && b != 0x7f && b != b'"';
        return (!raw.is_empty() && raw.iter().all(|&b| loose(b))).then(|| raw.to_vec());
    };
    let visible = |b: u8| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80;
    let mut out = Vec::new();
    let mut bytes = quoted.iter().copied();
    loop {
        match bytes.next()? {
            b'"' => return bytes.next().is_none().then_some(out),
            b'\\' => out.push(bytes.next().filter(|&b| visible(b))?),
            b if visible(b) => out.push(b),
            _ => return None,
        }
    }
}

/// `Forwarded`: the only `proto` of the last non-empty element of the last
/// line, every pair of that element well-formed.
fn reference_forwarded(lines: &[&[u8]]) -> Option<bool> {
    let line = lines.last()?;
    let element = split_outside_quotes(line, b',')?
        .into_iter()
        .map(trim_ows)
        .rfind(|e| !e.is_empty())?;
    let mut protos = Vec::new();
    for pair in split_outside_quotes(element, b';')? {
        let pair = trim_ows(pair);
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (key, raw) = (&pair[..eq], &pair[eq + 1..]);
        if key.is_empty() || !key.iter().all(|&b| is_token_char(b)) {
            return None;
        }
        let value = reference_pair_value(raw)?;
        if key.eq_ignore_ascii_case(b"proto") {
            protos.push(value);
        }
    }
    match &protos[..] {
        [proto] => reference_proto(proto),
        _ => None,
    }
}

/// Whether `c` may appear in a base64 key (either alphabet, or padding).
pub fn is_base64_text_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_' | '=')
}

/// Asserts that `shown` (an error's `Display` and `Debug`) does not echo
/// any run of 16 or more base64 characters from `input`.
///
/// Suite names are removed from `shown` first: they are fixed words of the
/// messages (`xchacha20-poly1305` is itself an 18-character run), and an
/// input naming an unknown suite such as `chacha20-poly1305` would
/// otherwise match them. Every other run of base64 characters in the
/// messages is shorter than 16.
pub fn assert_no_echo(input: &str, shown: &str) {
    let mut shown = shown.to_owned();
    for suite in Suite::ALL {
        shown = shown.replace(suite.name(), " ");
    }
    for run in input.split(|c| !is_base64_text_char(c)) {
        if run.len() >= 16 {
            assert!(
                !shown.contains(run),
                "message echoes input {run:?}: {shown:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_base64url() {
        assert_eq!(decode_base64url(b"").as_deref(), Some(&[][..]));
        assert_eq!(decode_base64url(b"AQ").as_deref(), Some(&[1][..]));
        assert_eq!(decode_base64url(b"AR"), None, "non-zero trailing bits");
        assert_eq!(decode_base64url(b"AQ=="), None, "padding");
        assert_eq!(decode_base64url(b"A"), None);
        assert_eq!(
            decode_base64url(b"-_-_").as_deref(),
            Some(&[0xfb, 0xff, 0xbf][..])
        );
        assert_eq!(decode_base64url(b"+/+/"), None, "standard alphabet");
        assert_eq!(
            decode_base64url(b"AQAAAAEA").as_deref(),
            Some(&[1, 0, 0, 0, 1, 0][..])
        );
    }

    #[test]
    fn fixed_keyring() {
        assert_eq!(keyring(1).key_ids(), vec![1, 2, 3]);
        assert_eq!(keyring(3).key_ids(), vec![3, 1, 2]);
        assert_eq!(keyring(2).suite(2), Some(Suite::XChaCha20Poly1305));
    }

    /// The committed `open` seeds reach the checks they were made for.
    #[test]
    fn open_seeds_reach_their_checks() {
        use sealed_session::ErrorKind;

        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/open");
        let ring = keyring(1);
        let expected = [
            ("seed-xaes-valid", None),
            ("seed-xchacha-valid", None),
            ("seed-aes-valid", None),
            ("seed-empty-map", None),
            ("seed-not-a-map", Some(ErrorKind::PayloadDecode)),
            ("seed-expired-idle", Some(ErrorKind::ExpiredIdle)),
            ("seed-not-yet-valid", Some(ErrorKind::NotYetValid)),
            ("seed-other-name", Some(ErrorKind::AuthenticationFailed)),
            ("seed-unknown-key", Some(ErrorKind::UnknownKey)),
        ];
        for (name, kind) in expected {
            let value = std::fs::read_to_string(dir.join(name)).expect(name);
            let result = codec().open_at::<MapData>(&ring, &value, now());
            assert_eq!(result.err().map(|e| e.kind()), kind, "{name}");
        }
    }

    /// The reference envelope decoder (written from FORMAT.md, without
    /// postcard) and the crate's agree on the seeds, on their non-canonical
    /// variants, and on many random mutations of them.
    #[test]
    fn reference_envelope_decoder_agrees() {
        use sealed_session::fuzzing::decode_envelope;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/envelope");
        let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .expect("corpus")
            .map(|entry| std::fs::read(entry.expect("entry").path()).expect("seed"))
            .collect();
        let full = std::fs::read(dir.join("seed-full")).expect("seed-full");
        assert!(reference_decode_envelope(&full) && decode_envelope(&full));
        // Every varint of the seed made one byte longer, where it ends.
        for end in 17..full.len() {
            if full[end - 1] & 0x80 == 0 {
                let mut longer = full[..end].to_vec();
                *longer.last_mut().expect("byte") |= 0x80;
                longer.push(0);
                longer.extend_from_slice(&full[end..]);
                inputs.push(longer);
            }
        }
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds = inputs.clone();
        for _ in 0..20_000 {
            let mut bytes = seeds[next() as usize % seeds.len()].clone();
            for _ in 0..=(next() % 3) {
                if bytes.is_empty() {
                    break;
                }
                let at = next() as usize % bytes.len();
                match next() % 4 {
                    0 => bytes[at] ^= 1 << (next() % 8),
                    1 => bytes[at] = [0x00, 0x01, 0x02, 0x80, 0xff][next() as usize % 5],
                    2 => {
                        bytes.insert(at, (next() % 256) as u8);
                    }
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            inputs.push(bytes);
        }
        let mut accepted = 0;
        for input in &inputs {
            let crate_says = decode_envelope(input);
            assert_eq!(crate_says, reference_decode_envelope(input), "{input:02x?}");
            accepted += usize::from(crate_says);
        }
        assert!(accepted > 100 && accepted < inputs.len() / 2, "{accepted}");
    }

    /// The committed `cookie_header` seeds reach the checks they were made
    /// for.
    #[test]
    fn cookie_header_seeds_reach_their_checks() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cookie_header");
        for &(name, opens, kind, set_cookies) in seeds::COOKIE_SEEDS {
            let bytes = std::fs::read(dir.join(format!("seed-{name}"))).expect(name);
            let input = cookie_input(&bytes).expect(name);
            let manager = session_manager(input.max_chunks);
            let connection = sealed_session::adapter::Connection::new(None, true);
            let mut session = manager.load(&input.headers, connection);
            assert_eq!(session.get().is_some(), opens, "{name}");
            let rejection = session
                .invalid_cookie()
                .and_then(sealed_session::InvalidCookie::kind);
            assert_eq!(rejection, kind, "{name}");
            let outcome = session.save().expect(name);
            assert_eq!(outcome.set_cookie.len(), set_cookies, "{name}");
        }
    }

    /// The committed `proxy_headers` seeds get the decisions they were
    /// made for, and the reference agrees.
    #[test]
    fn proxy_headers_seeds_reach_their_checks() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/proxy_headers");
        let trust = sealed_session::ProxyTrust::cidrs(["10.0.0.0/8", "fd00::/8"]).expect("ranges");
        for &(name, peer, lines, expected) in seeds::PROXY_SEEDS {
            let bytes = std::fs::read(dir.join(format!("seed-{name}"))).expect(name);
            assert_eq!(bytes, seeds::proxy_input(peer, lines), "{name}");
            let input = proxy_input(&bytes).expect(name);
            let decision = trust.request_scheme(&input.headers, input.peer, false);
            assert_eq!((decision.is_https(), decision.source()), expected, "{name}");
            if input.peer.is_some_and(|p| trust.trusts_peer(p)) {
                let forwarded: Vec<&[u8]> = input.forwarded.iter().map(Vec::as_slice).collect();
                let x: Vec<&[u8]> = input.x_forwarded_proto.iter().map(Vec::as_slice).collect();
                assert_eq!(
                    reference_forwarded_scheme(&forwarded, &x),
                    expected,
                    "{name}"
                );
            }
        }
    }

    /// Writes the seed corpus. Sealed values carry random nonces and
    /// session ids, so each run produces new (equally valid) files.
    #[test]
    #[ignore = "writes fuzz/corpus; run on purpose"]
    fn regenerate_seed_corpus() {
        seeds::write_all();
    }
}

#[cfg(test)]
mod seeds {
    use std::fs;
    use std::path::PathBuf;

    use sealed_session::{ErrorKind, Lifetimes, SessionMeta};
    use serde::Serialize;

    use super::*;

    fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target);
        fs::create_dir_all(&dir).expect("create corpus dir");
        fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
    }

    fn seal<T: Serialize + ?Sized>(ring: &Keyring, name: &str, issued: u64, data: &T) -> String {
        let meta = SessionMeta::new_at(Lifetimes::default(), at(issued)).expect("meta");
        Codec::new(name)
            .expect("name")
            .seal(ring, &meta, data)
            .expect("seal")
    }

    fn map(entries: &[(&str, &[u8])]) -> MapData {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect()
    }

    pub(super) fn write_all() {
        let issued = NOW_SECS - 60;
        let user = map(&[("user", b"alice"), ("csrf", &[7; 16])]);

        // `open` and `header`: valid values for every suite, then values
        // that fail at each later check.
        for (id, suite, _) in FIXED_KEYS {
            let value = seal(&keyring(id), COOKIE_NAME, issued, &user);
            let name = match suite {
                Suite::Xaes256Gcm => "xaes",
                Suite::XChaCha20Poly1305 => "xchacha",
                _ => "aes",
            };
            write("open", &format!("{name}-valid"), &value);
            write("header", &format!("{name}-valid"), &value);
        }
        let ring = keyring(1);
        write(
            "open",
            "empty-map",
            seal(&ring, COOKIE_NAME, issued, &MapData::new()),
        );
        write(
            "open",
            "not-a-map",
            seal(&ring, COOKIE_NAME, issued, &(7u8, "x")),
        );
        write(
            "open",
            "expired-idle",
            seal(&keyring(2), COOKIE_NAME, NOW_SECS - 3600, &user),
        );
        write(
            "open",
            "not-yet-valid",
            seal(&keyring(3), COOKIE_NAME, NOW_SECS + 3600, &user),
        );
        write("open", "other-name", seal(&ring, "other", issued, &user));
        let foreign = Keyring::new(KeySpec::new(9, Key::from_bytes(&[0x99; 32]).expect("key")));
        let unknown = seal(&foreign, COOKIE_NAME, issued, &user);
        write("open", "unknown-key", &unknown);
        write("header", "unknown-key", &unknown);
        write(
            "header",
            "short",
            "AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        write(
            "header",
            "version-2",
            "AgAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );

        // `envelope`: postcard of the metadata followed by a map.
        let envelope = |meta: MetaWire, data: &MapData| {
            postcard::to_allocvec(&(meta, data)).expect("postcard")
        };
        let full: MetaWire = (
            [0xa5; 16],
            issued,
            issued,
            Some(issued + 43_200),
            Some(issued + 1800),
            0,
        );
        write("envelope", "full", envelope(full, &user));
        let bare: MetaWire = ([1; 16], 0, 0, None, None, 3);
        write(
            "envelope",
            "no-expiry-empty-map",
            envelope(bare, &MapData::new()),
        );
        let max: MetaWire = (
            [0; 16],
            MAX_UNIX_SECS,
            MAX_UNIX_SECS,
            Some(MAX_UNIX_SECS),
            None,
            u32::MAX,
        );
        write("envelope", "max-times", envelope(max, &map(&[("", b"")])));
        let mut trailing = envelope(full, &user);
        trailing.push(0);
        write("envelope", "trailing-byte", trailing);

        // `keyring_parse`.
        const K1: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
        const K2: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
        const HEX: &str = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
        write("keyring_parse", "single", format!("1:{K1}"));
        write(
            "keyring_parse",
            "suites",
            format!("2:xchacha20-poly1305:{K1}, 1:aes-256-gcm:{HEX},\n 3:XAES-256-GCM:{K2}"),
        );
        write(
            "keyring_parse",
            "url-safe-unpadded",
            "7:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",
        );
        write("keyring_parse", "hex-key", HEX);
        write("keyring_parse", "duplicate-id", format!("1:{K1},1:{K2}"));
        write("keyring_parse", "short-key", "5:AAAA");
        write(
            "keyring_parse",
            "all-zero",
            "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        write("keyring_parse", "unknown-suite", format!("1:rot13:{K1}"));
        write("keyring_parse", "empty-entry", format!("1:{K1},"));
        write(
            "keyring_parse",
            "64-byte-key",
            format!("4:{}AQ==", "AQEB".repeat(21)),
        );

        // `roundtrip`: unstructured bytes for `arbitrary`, each longer than
        // the smallest `Case` (shorter inputs are rejected unread).
        let mut state: u32 = 0x2545_f491;
        let mut bytes = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect()
        };
        write("roundtrip", "zeros", [0x00; 128]);
        write("roundtrip", "ones", [0xff; 128]);
        write("roundtrip", "random-128", bytes(128));
        write("roundtrip", "random-256", bytes(256));
        write("roundtrip", "random-512", bytes(512));

        cookie_header(&user);
        proxy_headers();
    }

    /// The `Set-Cookie` pairs (`name=value`) of a new session holding `user`
    /// and `blob_len` more bytes, under `max_chunks` and key `primary`.
    fn session_cookies(
        primary: KeyId,
        max_chunks: u8,
        user: &MapData,
        blob_len: usize,
    ) -> Vec<String> {
        let manager = session_manager_at(max_chunks, primary, NOW_SECS - 60);
        let mut session = manager.load(
            &HeaderMap::new(),
            sealed_session::adapter::Connection::new(None, true),
        );
        for (key, value) in user {
            session.insert(key, value).expect("insert");
        }
        session
            .insert("blob", &vec![0x5a_u8; blob_len])
            .expect("insert");
        let outcome = session.save().expect("finish");
        outcome
            .set_cookie
            .iter()
            .map(|header| {
                let text = header.to_str().expect("ASCII");
                text.split(';').next().expect("pair").to_owned()
            })
            .collect()
    }

    /// `cookie_header`: a chunk-limit byte, then `Cookie` fields separated
    /// by `\n`.
    fn cookie_header(user: &MapData) {
        let cookie = |max_chunks: u8, fields: &[&str]| {
            let mut bytes = vec![max_chunks];
            bytes.extend_from_slice(fields.join("\n").as_bytes());
            bytes
        };
        let write = |name: &str, bytes: Vec<u8>| write("cookie_header", name, bytes);
        let issued = NOW_SECS - 60;
        let n = COOKIE_NAME;
        let [xaes, xchacha, aes] =
            FIXED_KEYS.map(|(id, ..)| format!("{n}={}", seal(&keyring(id), n, issued, user)));

        // Valid single cookies of each suite (key 1 is primary; 2 and 3
        // make the session re-seal), among other cookies and fields.
        write("single-xaes", cookie(0, &[&xaes]));
        write("single-xchacha", cookie(0, &[&xchacha]));
        write(
            "single-aes-among-others",
            cookie(0, &[&format!("theme=dark; {aes}; lang=en")]),
        );
        write(
            "fields",
            cookie(0, &["a=1", &format!("{n}=junk"), &format!("b=2; {xaes}")]),
        );
        write(
            "spaces",
            cookie(0, &[&format!("  {}= {} ;", n, &xaes[n.len() + 1..])]),
        );
        write(
            "duplicate-valid-second",
            cookie(0, &[&format!("{xchacha}; {xaes}")]),
        );
        write(
            "duplicates-past-cap",
            cookie(0, &[&format!("{n}=a; {n}=b; {n}=c; {n}=d; {xaes}")]),
        );

        // Refused: quoted, percent-encoded, expired, empty, not UTF-8.
        let value = &xaes[n.len() + 1..];
        write("quoted", cookie(0, &[&format!("{n}=\"{value}\"")]));
        write(
            "percent",
            cookie(
                0,
                &[&format!("{n}=%{:02X}{}", value.as_bytes()[0], &value[1..])],
            ),
        );
        let expired = seal(&keyring(2), n, NOW_SECS - 3600, user);
        write("expired", cookie(0, &[&format!("{n}={expired}")]));
        write("empty-value", cookie(0, &[&format!("{n}=; other=1")]));
        let mut bytes = vec![0];
        bytes.extend_from_slice(b"x=\xff\xfe; y=\x80\n");
        bytes.extend_from_slice(xaes.as_bytes());
        write("not-utf8", bytes);

        // Chunked sets: valid ones of each suite, in and out of order, and
        // sets that must not reassemble.
        let two = session_cookies(1, 4, user, 5000);
        assert_eq!(two.len(), 2, "{two:?}");
        write("chunked-xaes", cookie(4, &[&two.join("; ")]));
        write("chunks-off", cookie(0, &[&two.join("; ")]));
        let three = session_cookies(2, 16, user, 7000);
        assert_eq!(three.len(), 3, "{three:?}");
        write(
            "chunked-xchacha",
            cookie(16, &[&three[2], &format!("{}; {}", three[0], three[1])]),
        );
        let aes_two = session_cookies(3, 4, user, 5000);
        assert_eq!(aes_two.len(), 2, "{aes_two:?}");
        write(
            "chunked-aes-with-single",
            cookie(4, &[&format!("{n}=junk; {}", aes_two[1]), &aes_two[0]]),
        );
        let chunk_value = |pair: &str| pair.split_once('=').expect("pair").1.to_owned();
        let (c0, c1) = (chunk_value(&two[0]), chunk_value(&two[1]));
        write(
            "chunks-gap",
            cookie(4, &[&format!("{n}.0={c0}; {n}.2={c1}")]),
        );
        write(
            "chunks-duplicate",
            cookie(
                4,
                &[&format!("{n}.0={c0}; {n}.1={c1}"), &format!("{n}.1={c1}")],
            ),
        );
        write(
            "chunks-noncanonical",
            cookie(
                4,
                &[&format!(
                    "{n}.00=a; {n}.+1=b; {n}.4=c; {n}.0={c0}; {n}.01={c1}"
                )],
            ),
        );
        write(
            "chunks-stale-with-single",
            cookie(4, &[&format!("{n}.0=x; {n}.1=y; {n}.3=z; {xchacha}")]),
        );
        write("chunk-alone", cookie(4, &[&format!("{n}.1=zz")]));

        // 64 KiB of `Cookie` fields are read, not more: a 64-byte field
        // repeated reaches the limit exactly, and the session cookie after
        // it is ignored; one byte less and it is read.
        let padding = |len: usize| format!("\u{7f}p={}; ", "x".repeat(len - 4));
        assert_eq!(padding(64).len() - 1, 64);
        write("scan-limit-reached", cookie(0, &[&padding(64), &xaes]));
        write("scan-limit-not-reached", cookie(0, &[&padding(63), &xaes]));
    }

    /// `proxy_headers`: a peer-kind byte, 16 address bytes, then lines.
    pub(super) fn proxy_input(peer: &str, lines: &[&[u8]]) -> Vec<u8> {
        let mut bytes = vec![0u8; 17];
        match (!peer.is_empty()).then(|| peer.parse::<IpAddr>().expect("address")) {
            None => {}
            Some(IpAddr::V4(v4)) => {
                bytes[0] = 1;
                bytes[1..5].copy_from_slice(&v4.octets());
            }
            Some(IpAddr::V6(v6)) => {
                bytes[0] = 2;
                bytes[1..].copy_from_slice(&v6.octets());
            }
        }
        bytes.extend_from_slice(&lines.join(&b'\n'));
        bytes
    }

    /// Name, peer (empty: none), lines, and the `(is_https, source)` the
    /// `10.0.0.0/8, fd00::/8` configuration gives over plain HTTP.
    pub(super) type ProxySeed = (
        &'static str,
        &'static str,
        &'static [&'static [u8]],
        (bool, SchemeSource),
    );

    /// The `proxy_headers` seeds.
    pub(super) const PROXY_SEEDS: &[ProxySeed] = &[
        (
            "forwarded-last-element",
            "10.0.0.2",
            &[b"Ffor=1.2.3.4;proto=https, proto=http"],
            (false, SchemeSource::Forwarded),
        ),
        (
            "forwarded-https",
            "10.0.0.2",
            &[b"Ffor=192.0.2.7;proto=https"],
            (true, SchemeSource::Forwarded),
        ),
        (
            "xfp-https",
            "10.1.2.3",
            &[b"Xhttps"],
            (true, SchemeSource::XForwardedProto),
        ),
        (
            "untrusted-peer",
            "203.0.113.5",
            &[b"Xhttps", b"Fproto=https"],
            (false, SchemeSource::NoTrustedProxy),
        ),
        (
            "no-peer",
            "",
            &[b"Xhttps"],
            (false, SchemeSource::NoTrustedProxy),
        ),
        (
            "v6-quoted",
            "fd00::1",
            &[br#"Ffor="[2001:db8::1]:80";proto="https""#],
            (true, SchemeSource::Forwarded),
        ),
        (
            "v4-mapped-appended",
            "::ffff:10.0.0.2",
            &[b"Xhttps, http"],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "agreeing",
            "10.0.0.2",
            &[b"Xhttps", b"XHTTPS", b"Fproto=https"],
            (true, SchemeSource::Forwarded),
        ),
        (
            "disagreeing",
            "10.0.0.2",
            &[b"Xhttp", b"Fproto=https"],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "escaped",
            "10.0.0.2",
            &[br#"Fproto="h\ttps""#],
            (true, SchemeSource::Forwarded),
        ),
        (
            "quote-hides-separators",
            "10.0.0.2",
            &[br#"Ffor="a,b;proto=http";proto=https"#],
            (true, SchemeSource::Forwarded),
        ),
        (
            "open-quote",
            "10.0.0.2",
            &[br#"Fproto=https;for="a,proto=https"#],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "two-protos",
            "10.0.0.2",
            &[b"Fproto=https;proto=https"],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "bare-ipv6-for",
            "10.0.0.2",
            &[b"Ffor=2001:db8::1;proto=https"],
            (true, SchemeSource::Forwarded),
        ),
        (
            "mixed-case",
            "10.0.0.2",
            &[b"FFor=\"_hidden\";PROTO=HTTPS;by=unknown"],
            (true, SchemeSource::Forwarded),
        ),
        // 128 bytes repeated 64 times: exactly the 8 KiB limit.
        (
            "at-length-limit",
            "10.0.0.2",
            &[b"ffor=192.0.2.7;by=10.0.0.1;host=example.com;proto=https, \
                for=198.51.100.17;by=10.0.0.2;proto=https, for=203.0.113.9;proto=https, "],
            (true, SchemeSource::Forwarded),
        ),
        // One byte more per repetition.
        (
            "too-long",
            "10.0.0.2",
            &[b"ffor=192.0.2.7;by=10.0.0.1;host=example.com;proto=https, \
                for=198.51.100.17;by=10.0.0.2;proto=https, for=203.0.113.9;proto=https,  "],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "empty-last-line",
            "10.0.0.2",
            &[b"Fproto=https", b"F"],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "xfp-no-value",
            "10.0.0.2",
            &[b"X , "],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "not-utf8",
            "10.0.0.2",
            &[b"Fproto=\xffhttps", b"X\xfe"],
            (false, SchemeSource::Ambiguous),
        ),
        (
            "http-from-proxy",
            "fd12::7",
            &[b"Fproto=http", b"Xhttp"],
            (false, SchemeSource::Forwarded),
        ),
        (
            "outside-v6-range",
            "fe80::1",
            &[b"Fproto=https"],
            (false, SchemeSource::NoTrustedProxy),
        ),
        (
            "unrelated-headers",
            "10.0.0.2",
            &[b"Sproto=https", b"on"],
            (false, SchemeSource::NoHeader),
        ),
    ];

    /// Name, whether the session opens, why it is refused, and how many
    /// `Set-Cookie` values finishing it untouched gives.
    pub(super) const COOKIE_SEEDS: &[(&str, bool, Option<ErrorKind>, usize)] = &[
        ("single-xaes", true, None, 0),
        ("single-xchacha", true, None, 1),
        ("single-aes-among-others", true, None, 1),
        ("fields", true, None, 0),
        ("spaces", true, None, 0),
        ("duplicate-valid-second", false, None, 1),
        ("duplicates-past-cap", false, Some(ErrorKind::Malformed), 1),
        ("quoted", false, Some(ErrorKind::Malformed), 1),
        ("percent", false, Some(ErrorKind::Malformed), 1),
        ("expired", false, Some(ErrorKind::ExpiredIdle), 1),
        ("empty-value", false, Some(ErrorKind::Malformed), 1),
        ("not-utf8", true, None, 0),
        ("chunked-xaes", true, None, 0),
        ("chunks-off", false, None, 0),
        ("chunked-xchacha", true, None, 3),
        ("chunked-aes-with-single", true, None, 3),
        ("chunks-gap", false, None, 2),
        ("chunks-duplicate", false, None, 2),
        ("chunks-noncanonical", false, None, 1),
        ("chunks-stale-with-single", true, None, 4),
        ("chunk-alone", false, None, 1),
        ("scan-limit-reached", false, None, 0),
        ("scan-limit-not-reached", true, None, 0),
    ];

    fn proxy_headers() {
        for (name, peer, lines, _) in PROXY_SEEDS {
            write("proxy_headers", name, proxy_input(peer, lines));
        }
    }
}
