//! Reference decoders written from `FORMAT.md` and the RFCs rather than
//! from the crate's code: base64url, the envelope, the `Cookie` header
//! reader and the forwarded-protocol headers.

use sealed_session::adapter::SchemeSource;
use sealed_session::fuzzing::{IncomingCookies, MAX_CANDIDATES};

use crate::fixtures::*;

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

/// Decodes a plaintext envelope whose payload is the session layer's
/// around a [`MapData`], following the byte layout of `FORMAT.md` rather
/// than the crate's code (no postcard): `true` when it decodes.
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
        reference_take(input, 1)?; // profile: any byte
        match reference_take(input, 1)? {
            // CSRF secret: Option<[u8; 32]>
            [0] => {}
            [1] => {
                reference_take(input, 32)?;
            }
            _ => return None,
        }
        for _ in 0..reference_varint(input, 64)? {
            // Flash message: level 0..=4, text.
            if reference_varint(input, 32)? > 4 {
                return None;
            }
            let len = reference_varint(input, 64)?;
            std::str::from_utf8(reference_take(input, len)?).ok()?;
        }
        match reference_take(input, 1)? {
            // Data: None ends the plaintext; Some is followed by the map.
            [0] => return input.is_empty().then_some(()),
            [1] => {}
            _ => return None,
        }
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
