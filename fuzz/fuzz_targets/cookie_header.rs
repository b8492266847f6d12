//! Reading the session cookie from arbitrary `Cookie` headers, then the
//! whole session load path on them. The first input byte chooses the
//! chunk limit (0..=16); the rest, split at `\n`, gives the `Cookie` field
//! values (a field starting with DEL is the rest of it repeated 1024
//! times, to reach the 64 KiB limit; values `HeaderValue` refuses are
//! dropped): see `sealed_session_fuzz::cookie_input`.
//!
//! The cookies found agree with a reference reader written from the
//! documented rules. A session loaded from the headers (under the fixed
//! keyring and clock) opens exactly when the codec opens one of the
//! candidates; a refused one is answered with removal cookies only, one
//! per cookie of the session the request carried; an opened one is left
//! alone or re-sealed into cookies that open to the same data.

#![no_main]

use std::sync::LazyLock;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sealed_session::adapter::Connection;
use sealed_session::codec::Codec;
use sealed_session::fuzzing::{IncomingCookies, MAX_CANDIDATES, read_cookies};
use sealed_session::limits::MAX_CHUNKS;
use sealed_session::{CookieConfig, Keyring, SessionManager, SessionMap};
use sealed_session_fuzz::{
    COOKIE_NAME, cookie_input, now, reference_read_cookies, session_manager,
};

/// One manager per chunk limit; none for 1, which is not a valid setting.
static MANAGERS: LazyLock<Vec<Option<SessionManager<SessionMap>>>> = LazyLock::new(|| {
    (0..=MAX_CHUNKS)
        .map(|n| (n != 1).then(|| session_manager(n)))
        .collect()
});
static KEYRING: LazyLock<Keyring> = LazyLock::new(|| sealed_session_fuzz::keyring(1));
static CODEC: LazyLock<Codec> = LazyLock::new(sealed_session_fuzz::codec);
static COOKIE_CONFIG: LazyLock<CookieConfig> = LazyLock::new(|| CookieConfig::new(COOKIE_NAME));

fn chunk_name(index: u8) -> String {
    format!("{COOKIE_NAME}.{index}")
}

/// What holds for any headers, whatever the reference says.
fn check_shape(got: &IncomingCookies, max_chunks: u8) {
    assert!(got.values.len() <= MAX_CANDIDATES, "{got:?}");
    assert_eq!(got.single_present, !got.values.is_empty());
    for value in &got.values {
        assert!(!value.contains(';'), "{value:?}");
        assert_eq!(value.trim_matches([' ', '\t']), value);
    }
    assert!(got.chunk_names.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    assert!(got.chunk_names.iter().all(|&i| i < max_chunks), "{got:?}");
    if let Some((parts, value)) = &got.chunked {
        assert!((2..=max_chunks).contains(parts), "{got:?}");
        assert_eq!(got.chunk_names, (0..*parts).collect::<Vec<_>>());
        assert!(!value.contains(';'), "{value:?}");
    }
}

/// What the session manager seals (FORMAT.md §6.3): CSRF secret, flash
/// messages (level index, text), data.
type Payload = (Option<[u8; 32]>, Vec<(u32, String)>, Option<SessionMap>);

/// A payload with nothing to keep: the manager removes its cookie.
fn is_empty(payload: &Payload) -> bool {
    payload.0.is_none() && payload.1.is_empty() && payload.2.is_none()
}

fn check_session(manager: &SessionManager<SessionMap>, headers: &HeaderMap, got: &IncomingCookies) {
    let mut session = manager.load(headers, Connection::new(None, true));
    let data = session.get().cloned();
    let opened = session.meta().is_some();
    let rejected = session.invalid_cookie().is_some();
    let candidates = got.values.len() + usize::from(got.chunked.is_some());

    // Every candidate is tried (single values first, in order). One that
    // the codec opens (with the current data version) is the session; two
    // different values that both open are refused together, as a planted
    // cookie next to the user's would be. A single cookie is capped at one
    // browser cookie whatever the chunk limit, as the codec's default
    // limit is.
    let mut singles: Vec<(&str, Payload)> = Vec::new();
    for value in &got.values {
        if singles.iter().any(|(seen, _)| *seen == value.as_str()) {
            continue;
        }
        if let Some(opened) = CODEC
            .open_at::<Payload>(&KEYRING, value, now())
            .ok()
            .filter(|opened| opened.meta.data_version() == 0)
        {
            singles.push((value, opened.data));
        }
    }
    let mut kept = None;
    match (singles.len(), got.chunked.is_some()) {
        (0, false) => assert!(!opened, "nothing opens"),
        (1, false) => {
            assert!(opened, "session and codec disagree");
            assert_eq!(
                data.as_ref(),
                singles[0].1.2.as_ref(),
                "session and codec disagree"
            );
            kept = Some(&singles[0].1);
        }
        (1, true) if opened => {
            assert_eq!(
                data.as_ref(),
                singles[0].1.2.as_ref(),
                "a chunk set next to a valid single cookie: that one or none"
            );
            kept = Some(&singles[0].1);
        }
        (1, true) | (0, true) => {}
        _ => assert!(!opened, "two different valid cookies are both refused"),
    }
    assert_eq!(rejected, !opened && candidates > 0, "{got:?}");

    let outcome = session.save().expect("finish");
    assert!(outcome.insecure_context.is_none(), "the connection is TLS");

    // Refused, partial, absent, or opened with nothing left to keep.
    let removed_whole = !opened || kept.is_some_and(is_empty);
    if removed_whole {
        // Refused, partial or absent: delete what was sent, nothing else.
        let mut expected = Vec::new();
        if got.single_present {
            expected.push(COOKIE_CONFIG.removal(COOKIE_NAME).expect("valid name"));
        }
        for &index in &got.chunk_names {
            expected.push(
                COOKIE_CONFIG
                    .removal(&chunk_name(index))
                    .expect("valid name"),
            );
        }
        assert_eq!(outcome.set_cookie, expected, "{got:?}");
        return;
    }
    if outcome.set_cookie.is_empty() {
        return;
    }

    // Re-sealed (old key): new cookies, then removals of what they do not
    // overwrite.
    let mut pairs = Vec::new();
    let mut sealed = Vec::new();
    let mut removed = Vec::new();
    for header in &outcome.set_cookie {
        let text = header.to_str().expect("Set-Cookie is ASCII");
        let pair = text.split(';').next().expect("a first pair");
        let (name, value) = pair.split_once('=').expect("name=value");
        if value.is_empty() {
            assert_eq!(header, COOKIE_CONFIG.removal(name).expect("valid name"));
            removed.push(name.to_owned());
        } else {
            assert!(removed.is_empty(), "removals come last");
            sealed.push(name.to_owned());
            pairs.push(pair.to_owned());
        }
    }
    let parts = if sealed == [COOKIE_NAME] {
        0
    } else {
        let parts = u8::try_from(sealed.len()).expect("few chunks");
        assert_eq!(sealed, (0..parts).map(chunk_name).collect::<Vec<_>>());
        parts
    };
    let mut expected = Vec::new();
    if parts != 0 && got.single_present {
        expected.push(COOKIE_NAME.to_owned());
    }
    expected.extend(
        got.chunk_names
            .iter()
            .filter(|&&i| i >= parts)
            .map(|&i| chunk_name(i)),
    );
    assert_eq!(removed, expected);

    // The new cookies bring the same session back, and need no re-seal.
    let mut again = HeaderMap::new();
    let pairs = HeaderValue::from_str(&pairs.join("; ")).expect("cookie pairs");
    again.append(COOKIE, pairs);
    let mut reloaded = manager.load(&again, Connection::new(None, true));
    assert_eq!(reloaded.get(), data.as_ref());
    assert!(reloaded.meta().is_some(), "the re-sealed session opens");
    let outcome = reloaded.save().expect("finish");
    assert!(outcome.set_cookie.is_empty(), "{:?}", outcome.set_cookie);
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = cookie_input(data) else {
        return;
    };
    let max_chunks = input.max_chunks;
    let fields: Vec<&[u8]> = input.fields.iter().map(Vec::as_slice).collect();

    let got = read_cookies(&input.headers, COOKIE_NAME, max_chunks);
    check_shape(&got, max_chunks);
    assert_eq!(
        got,
        reference_read_cookies(&fields, COOKIE_NAME, max_chunks),
        "max_chunks {max_chunks}, fields {:?}",
        fields
            .iter()
            .map(|f| String::from_utf8_lossy(f))
            .collect::<Vec<_>>()
    );

    if let Some(manager) = &MANAGERS[usize::from(max_chunks)] {
        check_session(manager, &input.headers, &got);
    }
});
