//! Opening one legacy value exactly as its peer wrote it: pure functions
//! over attacker input, bounded before any crypto, never a panic.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{
    LegacyCookie, LegacyRejection, LegacySession, MAX_LEGACY_VALUE_LEN, Payload, PayloadKind,
};

/// Opens `value`, the legacy cookie's value as received, with each of the
/// cookie's keys in turn, and parses what the source stores in it.
/// Records whose expiry has passed at `now` are refused.
pub(crate) fn decode(
    cookie: &LegacyCookie,
    value: &str,
    now: SystemTime,
) -> Result<LegacySession, LegacyRejection> {
    if value.is_empty() || value.len() > MAX_LEGACY_VALUE_LEN {
        return Err(LegacyRejection::Unopened);
    }
    let source = cookie.source;
    let decoded;
    let value = if source.percent_encoded() && value.contains('%') {
        decoded = percent_decode(value).ok_or(LegacyRejection::Unopened)?;
        decoded.as_str()
    } else {
        value
    };
    let opened = open(cookie, value).ok_or(LegacyRejection::Unopened)?;
    let (payload, expires_at) = match source.payload() {
        PayloadKind::Text => (Payload::Text(opened), None),
        PayloadKind::ActixMap => (Payload::Map(actix_state(&opened)?), None),
        PayloadKind::TowerRecord => {
            let (data, expiry) = tower_record(&opened)?;
            if expiry <= now {
                return Err(LegacyRejection::Expired);
            }
            (Payload::Map(data), Some(expiry))
        }
    };
    Ok(LegacySession {
        source,
        payload,
        expires_at,
    })
}

/// The `cookie` crate's own opening, one trial per key.
fn open(cookie: &LegacyCookie, value: &str) -> Option<Zeroizing<String>> {
    let jar = cookie::CookieJar::new();
    cookie.keys.iter().find_map(|key| {
        let candidate = cookie::Cookie::new(cookie.name.clone(), value.to_owned());
        let opened = if cookie.source.is_private() {
            jar.private(key.inner()).decrypt(candidate)
        } else {
            jar.signed(key.inner()).verify(candidate)
        };
        opened.map(|c| Zeroizing::new(c.value().to_owned()))
    })
}

/// `%XX` decoding as `cookie`'s `parse_encoded` does it: a `%` not
/// followed by two hex digits stays as it is; the result must be UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i.saturating_add(1)), hex(i.saturating_add(2))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi.saturating_mul(16).saturating_add(lo)).ok()?);
                i = i.saturating_add(3);
            }
            _ => {
                out.push(b);
                i = i.saturating_add(1);
            }
        }
    }
    String::from_utf8(out).ok()
}

/// actix-session's state: `{"v":1,"state":{…}}` (values as JSON), or the
/// older map whose values are JSON text, or a bare map of values.
fn actix_state(text: &str) -> Result<BTreeMap<String, Value>, LegacyRejection> {
    let Ok(Value::Object(mut outer)) = serde_json::from_str::<Value>(text) else {
        return Err(LegacyRejection::Unparsed);
    };
    if matches!(outer.get("state"), Some(Value::Object(_)))
        && let Some(Value::Number(version)) = outer.get("v")
    {
        if version.as_u64() != Some(1) {
            return Err(LegacyRejection::Unparsed);
        }
        return match outer.remove("state") {
            Some(Value::Object(state)) => Ok(into_btree(state)),
            _ => Err(LegacyRejection::Unparsed),
        };
    }
    if outer.values().all(Value::is_string) {
        return outer
            .into_iter()
            .map(|(key, value)| match value {
                Value::String(json) => serde_json::from_str(&json)
                    .map(|value| (key, value))
                    .map_err(|_| LegacyRejection::Unparsed),
                _ => Err(LegacyRejection::Unparsed),
            })
            .collect();
    }
    Ok(into_btree(outer))
}

fn into_btree(map: Map<String, Value>) -> BTreeMap<String, Value> {
    map.into_iter().collect()
}

/// tower-sessions-cookie-store's record: base64url (no padding) of
/// `{"v":1,"record":{"id":…,"data":{…},"expiry_date":…}}`.
fn tower_record(text: &str) -> Result<(BTreeMap<String, Value>, SystemTime), LegacyRejection> {
    let json = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| LegacyRejection::Unparsed)?,
    );
    let Ok(Value::Object(mut envelope)) = serde_json::from_slice::<Value>(&json) else {
        return Err(LegacyRejection::Unparsed);
    };
    if envelope.get("v").and_then(Value::as_u64) != Some(1) {
        return Err(LegacyRejection::Unparsed);
    }
    let Some(Value::Object(mut record)) = envelope.remove("record") else {
        return Err(LegacyRejection::Unparsed);
    };
    let data = match record.remove("data") {
        Some(Value::Object(data)) => into_btree(data),
        _ => return Err(LegacyRejection::Unparsed),
    };
    let expiry = record
        .get("expiry_date")
        .and_then(offset_date_time)
        .ok_or(LegacyRejection::Unparsed)?;
    Ok((data, expiry))
}

/// A `time::OffsetDateTime` as its serde support writes it: the tuple
/// `[year, ordinal, hour, minute, second, nanosecond, offset h, m, s]`, or
/// with `serde-human-readable` the text `2026-11-27 17:00:00.0 +00:00:00`.
fn offset_date_time(value: &Value) -> Option<SystemTime> {
    let at = match value {
        Value::Array(parts) => {
            let mut n = parts.iter().map(Value::as_i64);
            let mut next = || n.next().flatten();
            let year = i32::try_from(next()?).ok()?;
            let ordinal = u16::try_from(next()?).ok()?;
            let (h, m, s) = (next()?, next()?, next()?);
            let nanos = u32::try_from(next()?).ok()?;
            let offset = (next()?, next()?, next()?);
            if parts.len() != 9 {
                return None;
            }
            let date = time::Date::from_ordinal_date(year, ordinal).ok()?;
            let time = time::Time::from_hms_nano(small(h)?, small(m)?, small(s)?, nanos).ok()?;
            date.with_time(time).assume_offset(utc_offset(offset)?)
        }
        Value::String(text) => human_readable(text)?,
        _ => return None,
    };
    let secs = at.unix_timestamp();
    u64::try_from(secs)
        .ok()
        .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
}

fn small(n: i64) -> Option<u8> {
    u8::try_from(n).ok()
}

fn utc_offset((h, m, s): (i64, i64, i64)) -> Option<time::UtcOffset> {
    let signed = |n: i64| i8::try_from(n).ok();
    time::UtcOffset::from_hms(signed(h)?, signed(m)?, signed(s)?).ok()
}

/// `YYYY-MM-DD HH:MM:SS[.fraction] ±HH:MM:SS`.
fn human_readable(text: &str) -> Option<time::OffsetDateTime> {
    let mut parts = text.split(' ');
    let (date, clock, offset) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let number = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut ymd = date.split('-');
    let year = i32::try_from(number(ymd.next()?)?).ok()?;
    let month = time::Month::try_from(small(number(ymd.next()?)?)?).ok()?;
    let day = small(number(ymd.next()?)?)?;
    let (whole, _fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = whole.split(':');
    let (h, m, s) = (
        small(number(hms.next()?)?)?,
        small(number(hms.next()?)?)?,
        small(number(hms.next()?)?)?,
    );
    let (sign, offset) = match offset.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let mut ohms = offset.split(':');
    let mut signed = || number(ohms.next()?).map(|n| n.saturating_mul(sign));
    let offset = (signed()?, signed()?, signed()?);
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let time = time::Time::from_hms(h, m, s).ok()?;
    Some(date.with_time(time).assume_offset(utc_offset(offset)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_matches_the_peers() {
        assert_eq!(percent_decode("a%2Bb%3D%3D").as_deref(), Some("a+b=="));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%FF"), None, "not UTF-8");
    }

    #[test]
    fn both_time_encodings_read() {
        let tuple = serde_json::json!([2026, 331, 17, 0, 0, 0, 0, 0, 0]);
        let text = serde_json::json!("2026-11-27 17:00:00.0 +00:00:00");
        let shifted = serde_json::json!("2026-11-27 18:00:00.5 +01:00:00");
        let expected = UNIX_EPOCH + Duration::from_secs(1_795_798_800);
        assert_eq!(offset_date_time(&tuple), Some(expected));
        assert_eq!(offset_date_time(&text), Some(expected));
        assert_eq!(offset_date_time(&shifted), Some(expected));
        for bad in [
            serde_json::json!([2026, 400, 0, 0, 0, 0, 0, 0, 0]),
            serde_json::json!([2026, 1, 0, 0, 0, 0, 0, 0]),
            serde_json::json!([2026, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            serde_json::json!("2026-13-01 00:00:00.0 +00:00:00"),
            serde_json::json!("2026-11-27T17:00:00Z"),
            serde_json::json!(1_795_798_800),
        ] {
            assert_eq!(offset_date_time(&bad), None, "{bad}");
        }
    }

    #[test]
    fn actix_state_shapes() {
        let old = actix_state(r#"{"n":"42","s":"\"x\""}"#).unwrap();
        assert_eq!(old["n"], serde_json::json!(42));
        assert_eq!(old["s"], serde_json::json!("x"));
        let new = actix_state(r#"{"v":1,"state":{"n":42}}"#).unwrap();
        assert_eq!(new["n"], serde_json::json!(42));
        assert!(actix_state(r#"{"v":2,"state":{"n":42}}"#).is_err());
        assert!(actix_state(r#"{"n":"not json"}"#).is_err());
        assert!(actix_state("[]").is_err());
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(actix_state(&format!(r#"{{"d":{deep}}}"#)).is_err());
    }
}
