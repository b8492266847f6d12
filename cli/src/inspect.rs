//! `inspect`: a cookie from stdin, described without keys, or opened with
//! them.

use std::io::Read as _;
use std::time::{SystemTime, UNIX_EPOCH};

use sealed_session::adapter::SessionPayload;
use sealed_session::codec::{self, Codec, OpenedRaw};
use sealed_session::limits::{
    BROWSER_COOKIE_LIMIT, DEFAULT_COOKIE_NAME, MAX_CHUNKS, MAX_VALUE_LIMIT,
};
use sealed_session::{Keyring, SessionMap, Suite};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::output::{Failure, Kind, emit, emit_json, warn};
use crate::{InspectArgs, Outcome};

/// More than any `Cookie` header a server accepts.
const MAX_INPUT: usize = 256 * 1024;

/// One session value found in the input: a single cookie, or a complete
/// set of chunk cookies.
struct Candidate {
    name: String,
    chunks: Vec<String>,
}

impl Candidate {
    fn value(&self) -> String {
        self.chunks.concat()
    }
}

pub(crate) fn run(args: &InspectArgs, json: bool) -> Outcome {
    let keyring = match (&args.keys_env, &args.keys_file) {
        (Some(var), _) => Some(Keyring::from_env(var).map_err(|err| Failure::key(&err))?),
        (None, Some(path)) => Some(Keyring::from_file(path).map_err(|err| Failure::key(&err))?),
        (None, None) => None,
    };
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|err| Failure::io(format!("cannot read stdin: {}", err.kind())))?;
    if input.len() > MAX_INPUT {
        return Err(Failure::invalid(format!(
            "stdin holds more than {MAX_INPUT} bytes: not a cookie"
        )));
    }
    let text = std::str::from_utf8(&input)
        .map_err(|_| Failure::invalid("stdin is not UTF-8 text: not a cookie"))?;
    let (candidates, notes) = candidates(text, args.name.as_deref())?;
    if keyring.is_some() {
        warn(
            "warning: this output shows what the session holds (its data and metadata): \
             treat it as sensitive, as you would the cookie itself",
        );
    }
    let mut reports = Vec::new();
    let mut good = false;
    for candidate in &candidates {
        let (report, ok) = match &keyring {
            None => peek_report(candidate),
            Some(keyring) => open_report(candidate, keyring, args.context.as_deref()),
        };
        good |= ok;
        reports.push(report);
    }
    if json {
        emit_json(&json!({
            "ok": good,
            "opened_with_keys": keyring.is_some(),
            "cookies": reports,
            "notes": notes,
        }));
    } else {
        for report in &reports {
            emit(&text_of(report));
        }
        for note in &notes {
            emit(&format!("note: {note}"));
        }
    }
    if good {
        Ok(())
    } else {
        if !json {
            warn(if keyring.is_some() {
                "no session cookie in the input opened with these keys"
            } else {
                "nothing in the input looks like a sealed session cookie"
            });
        }
        Err(Failure::reported(Kind::Invalid))
    }
}

/// The session values in the input, and notes on what was skipped. A
/// bare value is taken as is; a header line (`Cookie:` optional) is split
/// into cookies, and chunks `name.0 … name.(n-1)` are joined when the set
/// is complete.
fn candidates(text: &str, name: Option<&str>) -> Result<(Vec<Candidate>, Vec<String>), Failure> {
    let mut text = text.trim();
    if text
        .get(..7)
        .is_some_and(|head| head.eq_ignore_ascii_case("cookie:"))
    {
        text = text.get(7..).unwrap_or_default().trim();
    }
    if text.is_empty() {
        return Err(Failure::invalid(
            "stdin is empty: pipe a cookie value or a `Cookie:` header line into it",
        ));
    }
    // Sealed values are base64url without padding: never `=` or `;`.
    if !text.contains('=') && !text.contains(';') {
        let name = name.unwrap_or(DEFAULT_COOKIE_NAME).to_owned();
        return Ok((
            vec![Candidate {
                name,
                chunks: vec![text.to_owned()],
            }],
            Vec::new(),
        ));
    }
    let pairs: Vec<(&str, &str)> = text
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim_matches([' ', '\t']), v.trim_matches([' ', '\t'])))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let mut found = Vec::new();
    let mut notes = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for (key, _) in &pairs {
        let base = chunk_of(key).map_or(*key, |(base, _)| base);
        if name.is_none_or(|wanted| wanted == base) && !names.contains(&base) {
            names.push(base);
        }
    }
    for base in names {
        for (key, value) in &pairs {
            if *key == base {
                found.push(Candidate {
                    name: base.to_owned(),
                    chunks: vec![(*value).to_owned()],
                });
            }
        }
        let mut chunks: Vec<Option<&str>> = vec![None; usize::from(MAX_CHUNKS)];
        let mut any = false;
        for (key, value) in &pairs {
            if let Some((b, index)) = chunk_of(key)
                && b == base
            {
                any = true;
                if let Some(slot) = chunks.get_mut(index) {
                    *slot = Some(value);
                }
            }
        }
        if any {
            let count = chunks.iter().take_while(|c| c.is_some()).count();
            if count >= 2 && chunks.iter().skip(count).all(Option::is_none) {
                found.push(Candidate {
                    name: base.to_owned(),
                    chunks: chunks.iter().flatten().map(|c| (*c).to_owned()).collect(),
                });
            } else {
                notes.push(format!(
                    "{base}: an incomplete set of chunk cookies ({base}.0 to {base}.N-1 must all be present, N at least 2): skipped"
                ));
            }
        }
    }
    if found.is_empty() {
        let wanted = name.map_or_else(String::new, |n| format!(" named {n}"));
        return Err(Failure::invalid(format!("no cookie{wanted} in the input")));
    }
    Ok((found, notes))
}

/// `base.i` with `i` a canonical decimal below the chunk limit.
fn chunk_of(key: &str) -> Option<(&str, usize)> {
    let (base, digits) = key.rsplit_once('.')?;
    let canonical = !digits.is_empty()
        && digits.len() <= 2
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    let index: usize = digits.parse().ok().filter(|_| canonical)?;
    (index < usize::from(MAX_CHUNKS) && !base.is_empty()).then_some((base, index))
}

fn base_report(candidate: &Candidate) -> Map<String, Value> {
    let mut report = Map::new();
    report.insert("name".into(), json!(candidate.name));
    report.insert(
        "chunks".into(),
        json!(if candidate.chunks.len() > 1 {
            candidate.chunks.len()
        } else {
            0
        }),
    );
    report.insert("value_len".into(), json!(candidate.value().len()));
    report
}

/// What the value says without a key.
fn peek_report(candidate: &Candidate) -> (Value, bool) {
    let mut report = base_report(candidate);
    let value = candidate.value();
    let single_cap = BROWSER_COOKIE_LIMIT.saturating_sub(candidate.name.len());
    match codec::peek(&value) {
        Err(err) => {
            report.insert("could_be_ours".into(), json!(false));
            report.insert("reason".into(), json!(format!("{:?}: {err}", err.kind())));
            (Value::Object(report), false)
        }
        Ok(header) => {
            report.insert("format_version".into(), json!(header.version));
            report.insert(
                "supported_version".into(),
                json!(header.is_supported_version()),
            );
            report.insert("key_id".into(), json!(header.key_id));
            report.insert("decoded_len".into(), json!(header.decoded_len));
            let plaintext: Map<String, Value> = Suite::ALL
                .iter()
                .map(|suite| (suite.name().to_owned(), json!(header.plaintext_len(*suite))))
                .collect();
            report.insert("plaintext_len_by_suite".into(), Value::Object(plaintext));
            let fits = candidate.chunks.len() > 1 || value.len() <= single_cap;
            let ours = header.is_supported_version()
                && fits
                && Suite::ALL
                    .iter()
                    .any(|s| header.plaintext_len(*s).is_some());
            report.insert("could_be_ours".into(), json!(ours));
            if !ours {
                let reason = if !header.is_supported_version() {
                    format!(
                        "format version {} is not one this release opens",
                        header.version
                    )
                } else if !fits {
                    format!(
                        "longer than one cookie can be ({single_cap} characters under this name)"
                    )
                } else {
                    "too short for any suite's nonce and tag".to_owned()
                };
                report.insert("reason".into(), json!(reason));
            }
            (Value::Object(report), ours)
        }
    }
}

/// Opens the value with the keys, as the application would (name and
/// context authenticated, times checked against now).
fn open_report(candidate: &Candidate, keyring: &Keyring, context: Option<&str>) -> (Value, bool) {
    let mut report = base_report(candidate);
    let codec = Codec::new(&candidate.name)
        .and_then(|c| match context {
            Some(context) => c.with_context(context.as_bytes()),
            None => Ok(c),
        })
        .and_then(|c| c.with_max_value_len(MAX_VALUE_LIMIT));
    let codec = match codec {
        Ok(codec) => codec,
        Err(err) => {
            report.insert("opened".into(), json!(false));
            report.insert(
                "reason".into(),
                json!(format!("cannot use this name or context: {err}")),
            );
            return (Value::Object(report), false);
        }
    };
    if let Ok(header) = codec::peek(&candidate.value()) {
        report.insert("key_id".into(), json!(header.key_id));
    }
    let chunks: Vec<&str> = candidate.chunks.iter().map(String::as_str).collect();
    match codec.open_chunks_raw_at(keyring, &chunks, SystemTime::now()) {
        Err(err) => {
            report.insert("opened".into(), json!(false));
            report.insert("rejected".into(), json!(format!("{:?}", err.kind())));
            report.insert("reason".into(), json!(err.to_string()));
            (Value::Object(report), false)
        }
        Ok(raw) => {
            report.insert("opened".into(), json!(true));
            report.insert("metadata".into(), metadata(&raw, keyring));
            report.insert("data".into(), data(&raw));
            (Value::Object(report), true)
        }
    }
}

fn metadata(raw: &OpenedRaw, keyring: &Keyring) -> Value {
    let meta = raw.meta();
    let id = meta.session_id().as_bytes();
    let prefix: String = id.iter().take(4).map(|b| format!("{b:02x}")).collect();
    json!({
        "session_id_prefix": prefix,
        "issued_at": time(Some(meta.issued_at())),
        "sealed_at": time(Some(meta.sealed_at())),
        "absolute_expiry": time(meta.absolute_expiry()),
        "idle_expiry": time(meta.idle_expiry()),
        "key_id": raw.key_id(),
        "suite": keyring.suite(raw.key_id()).map(Suite::name),
        "needs_reseal": raw.needs_reseal(),
        "data_version": meta.data_version(),
        "profile": meta.profile().get(),
    })
}

/// The session payload: whether it holds a CSRF secret (never the
/// secret), its flash messages, and a `SessionMap` as a JSON object
/// (strings as strings, other values as the hex of their encoding);
/// otherwise the payload's length and hex.
fn data(raw: &OpenedRaw) -> Value {
    if let Ok(payload) = SessionPayload::<SessionMap>::decode(raw.data_bytes()) {
        let flash: Vec<Value> = payload
            .flash
            .iter()
            .map(|m| json!({ "level": m.level.as_str(), "text": m.text }))
            .collect();
        let data = match &payload.data {
            None => Value::Null,
            Some(map) => {
                let entries: Map<String, Value> = map
                    .iter()
                    .map(|(key, bytes)| {
                        let value = match map.get::<String>(key) {
                            Ok(Some(text)) => json!(text),
                            _ => json!({ "encoded_hex": hex(bytes) }),
                        };
                        (key.to_owned(), value)
                    })
                    .collect();
                Value::Object(entries)
            }
        };
        return json!({
            "type": "SessionMap",
            "entries": data,
            "flash": flash,
            "csrf_secret": payload.has_csrf_secret,
        });
    }
    let bytes = raw.data_bytes();
    json!({ "type": "unknown", "len": bytes.len(), "hex": hex(bytes) })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since the epoch and RFC 3339 UTC.
fn time(at: Option<SystemTime>) -> Value {
    let Some(at) = at else {
        return Value::Null;
    };
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let text = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    json!({ "unix": secs, "utc": text })
}

/// The report as indented `key: value` lines.
fn text_of(report: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, report, 0);
    out
}

fn write_value(out: &mut String, value: &Value, depth: usize) {
    let pad = "  ".repeat(depth);
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries
                .sort_by_key(|(key, _)| ORDER.iter().position(|k| k == key).unwrap_or(ORDER.len()));
            for (key, value) in entries {
                match value {
                    Value::Object(inner) if is_time(inner) => {
                        let utc = inner.get("utc").and_then(Value::as_str).unwrap_or("?");
                        out.push_str(&format!("{pad}{key}: {utc}\n"));
                    }
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write_value(out, value, depth.saturating_add(1));
                    }
                    other => out.push_str(&format!("{pad}{key}: {}\n", scalar(other))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// The order of fields in text output; others follow in name order.
const ORDER: &[&str] = &[
    "name",
    "chunks",
    "value_len",
    "could_be_ours",
    "opened",
    "rejected",
    "reason",
    "format_version",
    "supported_version",
    "key_id",
    "decoded_len",
    "plaintext_len_by_suite",
    "metadata",
    "session_id_prefix",
    "issued_at",
    "sealed_at",
    "idle_expiry",
    "absolute_expiry",
    "suite",
    "needs_reseal",
    "data_version",
    "profile",
    "data",
    "type",
    "len",
    "csrf_secret",
    "flash",
    "entries",
];

fn is_time(map: &Map<String, Value>) -> bool {
    map.len() == 2 && map.contains_key("unix") && map.contains_key("utc")
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "none".to_owned(),
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        other => other.to_string(),
    }
}
