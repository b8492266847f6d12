//! Reading `Forwarded` (RFC 7239) and `X-Forwarded-Proto`: strict, and
//! bounded in size.

use std::borrow::Cow;

use crate::cookie::name::is_token_char;
use http::HeaderMap;
use http::header::{FORWARDED, GetAll, HeaderName, HeaderValue};

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// A forwarded header whose field lines add up to more than this many bytes
/// is unusable.
const MAX_FORWARDED_LEN: usize = 8 * 1024;

/// The protocol in the request's `Forwarded` header, if it has one.
pub(super) fn forwarded(headers: &HeaderMap) -> Option<Result<Proto, Unusable>> {
    read_header(headers, &FORWARDED, forwarded_proto)
}

/// The protocol in the request's `X-Forwarded-Proto` header, if it has
/// one.
pub(super) fn x_forwarded_proto(headers: &HeaderMap) -> Option<Result<Proto, Unusable>> {
    read_header(headers, &X_FORWARDED_PROTO, x_forwarded_proto_lines)
}

/// The protocol a proxy reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Proto {
    Http,
    Https,
}

impl Proto {
    fn parse(value: &[u8]) -> Result<Self, Unusable> {
        if value.eq_ignore_ascii_case(b"https") {
            Ok(Self::Https)
        } else if value.eq_ignore_ascii_case(b"http") {
            Ok(Self::Http)
        } else {
            Err(Unusable)
        }
    }

    pub(super) fn is_https(self) -> bool {
        self == Self::Https
    }
}

/// A forwarded header is present but gives no trustworthy answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Unusable;

/// `None` if the header is absent; otherwise `parse` over its field lines,
/// unless they are too long.
fn read_header(
    headers: &HeaderMap,
    name: &HeaderName,
    parse: fn(GetAll<'_, HeaderValue>) -> Result<Proto, Unusable>,
) -> Option<Result<Proto, Unusable>> {
    let lines = headers.get_all(name);
    let mut total = 0_usize;
    let mut present = false;
    for line in &lines {
        present = true;
        // One byte per line for the separator, so that many empty lines
        // count too.
        total = total.saturating_add(line.len()).saturating_add(1);
        if total > MAX_FORWARDED_LEN.saturating_add(1) {
            return Some(Err(Unusable));
        }
    }
    present.then(|| parse(lines))
}

/// `X-Forwarded-Proto`: every value of every line must agree.
fn x_forwarded_proto_lines(lines: GetAll<'_, HeaderValue>) -> Result<Proto, Unusable> {
    let mut agreed = None;
    for line in lines {
        for value in line.as_bytes().split(|&b| b == b',') {
            let value = value.trim_ascii();
            if value.is_empty() {
                continue;
            }
            let proto = Proto::parse(value)?;
            match agreed {
                None => agreed = Some(proto),
                Some(seen) if seen == proto => {}
                Some(_) => return Err(Unusable),
            }
        }
    }
    agreed.ok_or(Unusable)
}

/// `Forwarded`: the `proto` of the last element of the last line.
fn forwarded_proto(lines: GetAll<'_, HeaderValue>) -> Result<Proto, Unusable> {
    let line = lines.iter().next_back().ok_or(Unusable)?;
    let mut last = None;
    for element in Unquoted::new(line.as_bytes(), b',') {
        let element = element?.trim_ascii();
        if !element.is_empty() {
            last = Some(element);
        }
    }
    element_proto(last.ok_or(Unusable)?)
}

/// The single `proto` of one `Forwarded` element; every pair must be
/// well-formed.
fn element_proto(element: &[u8]) -> Result<Proto, Unusable> {
    let mut proto = None;
    for pair in Unquoted::new(element, b';') {
        let pair = pair?.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|&b| b == b'=').ok_or(Unusable)?;
        let key = pair.get(..eq).ok_or(Unusable)?;
        let raw = pair.get(eq.saturating_add(1)..).ok_or(Unusable)?;
        if key.is_empty() || !key.iter().copied().all(is_token_char) {
            return Err(Unusable);
        }
        let value = pair_value(raw)?;
        if key.eq_ignore_ascii_case(b"proto") {
            if proto.is_some() {
                return Err(Unusable);
            }
            proto = Some(Proto::parse(&value)?);
        }
    }
    proto.ok_or(Unusable)
}

/// The value of a pair: a quoted string, unescaped, or a loosely checked
/// token.
fn pair_value(raw: &[u8]) -> Result<Cow<'_, [u8]>, Unusable> {
    match raw.split_first() {
        None => Err(Unusable),
        Some((b'"', rest)) => unquote(rest),
        Some(_) => {
            let loose = |b: u8| b > b' ' && b != 0x7f && b != b'"';
            if raw.iter().copied().all(loose) {
                Ok(Cow::Borrowed(raw))
            } else {
                Err(Unusable)
            }
        }
    }
}

/// The content of a quoted string whose opening quote is already consumed;
/// the closing quote must be the last byte.
fn unquote(rest: &[u8]) -> Result<Cow<'_, [u8]>, Unusable> {
    let (&closing, inner) = rest.split_last().ok_or(Unusable)?;
    if closing != b'"' {
        return Err(Unusable);
    }
    let qdtext = |b: u8| b == b'\t' || (b >= b' ' && b != b'"' && b != b'\\' && b != 0x7f);
    let quotable = |b: u8| b == b'\t' || (b >= b' ' && b != 0x7f);
    if !inner.contains(&b'\\') {
        return if inner.iter().copied().all(qdtext) {
            Ok(Cow::Borrowed(inner))
        } else {
            Err(Unusable)
        };
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter().copied();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            match bytes.next() {
                Some(escaped) if quotable(escaped) => out.push(escaped),
                _ => return Err(Unusable),
            }
        } else if qdtext(b) {
            out.push(b);
        } else {
            return Err(Unusable);
        }
    }
    Ok(Cow::Owned(out))
}

/// Splits at a separator byte outside quoted strings. A quoted string left
/// open yields `Err(Unusable)` as the last item.
struct Unquoted<'a> {
    rest: Option<&'a [u8]>,
    separator: u8,
}

impl<'a> Unquoted<'a> {
    fn new(bytes: &'a [u8], separator: u8) -> Self {
        Self {
            rest: Some(bytes),
            separator,
        }
    }
}

impl<'a> Iterator for Unquoted<'a> {
    type Item = Result<&'a [u8], Unusable>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.rest.take()?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in bytes.iter().enumerate() {
            if quoted {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    quoted = false;
                }
            } else if b == b'"' {
                quoted = true;
            } else if b == self.separator {
                let part = bytes.get(..i);
                self.rest = bytes.get(i.saturating_add(1)..);
                return Some(part.ok_or(Unusable));
            }
        }
        Some(if quoted { Err(Unusable) } else { Ok(bytes) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(line: &str, separator: u8) -> Vec<Result<&[u8], Unusable>> {
        Unquoted::new(line.as_bytes(), separator).collect()
    }

    #[test]
    fn splitting_respects_quotes_and_escapes() {
        assert_eq!(
            elements(r#"a="x,y", b"#, b','),
            vec![Ok(&br#"a="x,y""#[..]), Ok(&b" b"[..])]
        );
        assert_eq!(
            elements(r#"a="x\",y",b"#, b','),
            vec![Ok(&br#"a="x\",y""#[..]), Ok(&b"b"[..])]
        );
        assert_eq!(
            elements(r#"a,b="open,c"#, b','),
            vec![Ok(&b"a"[..]), Err(Unusable)]
        );
        assert_eq!(elements("", b','), vec![Ok(&b""[..])]);
        assert_eq!(elements("a,", b','), vec![Ok(&b"a"[..]), Ok(&b""[..])]);
    }

    #[test]
    fn element_parsing() {
        let proto = |e: &str| element_proto(e.as_bytes());
        assert_eq!(proto("proto=https"), Ok(Proto::Https));
        assert_eq!(proto("PROTO=HTTP"), Ok(Proto::Http));
        assert_eq!(
            proto(r#"for="[2001:db8::1]:80";proto="https""#),
            Ok(Proto::Https)
        );
        assert_eq!(proto(r#"proto="ht\tps""#), Ok(Proto::Https));
        assert_eq!(proto("for=2001:db8::1;proto=https"), Ok(Proto::Https));
        assert_eq!(proto(";;proto=https;"), Ok(Proto::Https));
        assert_eq!(proto("proto=https;proto=https"), Err(Unusable));
        assert_eq!(proto("for=1.2.3.4"), Err(Unusable));
        assert_eq!(proto("proto=wss"), Err(Unusable));
        assert_eq!(proto("proto="), Err(Unusable));
        assert_eq!(proto("=https"), Err(Unusable));
        assert_eq!(proto("proto"), Err(Unusable));
        assert_eq!(proto(r#"proto="https"x"#), Err(Unusable));
        assert_eq!(proto(r#"proto=ht"tps""#), Err(Unusable));
        assert_eq!(proto(r#"proto="https\"#), Err(Unusable));
        assert_eq!(proto("pro to=https"), Err(Unusable));
        assert_eq!(proto("proto=https;for=a b"), Err(Unusable));
    }
}
