//! Legacy cookies (feature `migrate`): arbitrary values of every source
//! against a fixed legacy key at a fixed time, then arbitrary payloads
//! sealed under that key the way the peers seal them, so that the payload
//! parsers behind the crypto are reached too. Never panics; only what the
//! key sealed opens; what opens has the source's shape.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session::fuzzing::decode_legacy;
use sealed_session::migrate::{LegacyRejection, LegacySession, LegacySource};
use sealed_session_fuzz::{LEGACY_MASTER, legacy_cookie, legacy_input, now};

fn check_shape(source: LegacySource, session: &LegacySession) {
    let _ = format!("{session:?}");
    let map_shaped = matches!(
        source,
        LegacySource::ActixSessionPrivate
            | LegacySource::ActixSessionSigned
            | LegacySource::TowerSessionsPrivate
            | LegacySource::TowerSessionsSigned
    );
    assert_eq!(session.text().is_none(), map_shaped);
    assert!(session.to_session_map().is_some() || !map_shaped);
    let tower = matches!(
        source,
        LegacySource::TowerSessionsPrivate | LegacySource::TowerSessionsSigned
    );
    assert_eq!(session.expires_at().is_some(), tower);
    assert!(session.expires_at().is_none_or(|t| t > now()));
    for key in session.keys() {
        let _ = session.get::<String>(key);
        let _ = session.get::<i64>(key);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((source, text)) = legacy_input(data) else {
        return;
    };
    let cookie = legacy_cookie(source);

    // The text as the cookie value the browser sent.
    match decode_legacy(&cookie, &text, now()) {
        Ok(session) => check_shape(source, &session),
        Err(reason) => {
            let _ = format!("{reason} {reason:?}");
        }
    }

    // The text as the payload the peer sealed, as its jar writes it.
    let key = cookie::Key::from(&LEGACY_MASTER);
    let mut jar = cookie::CookieJar::new();
    let plain = cookie::Cookie::new(cookie.name().to_owned(), text.clone());
    let private = matches!(
        source,
        LegacySource::CookiePrivate
            | LegacySource::AxumExtraPrivate
            | LegacySource::ActixSessionPrivate
            | LegacySource::TowerSessionsPrivate
            | LegacySource::RocketPrivate
    );
    if private {
        jar.private_mut(&key).add(plain);
    } else {
        jar.signed_mut(&key).add(plain);
    }
    let sealed = jar.get(cookie.name()).expect("added").value().to_owned();
    let percent_decoded = !matches!(source, LegacySource::CookiePrivate | LegacySource::CookieSigned);
    if sealed.len() > 4096 || (percent_decoded && sealed.contains('%')) {
        return;
    }
    match decode_legacy(&cookie, &sealed, now()) {
        Ok(session) => {
            check_shape(source, &session);
            if let Some(opened) = session.text() {
                assert_eq!(opened, text);
            }
        }
        Err(reason) => assert!(
            matches!(reason, LegacyRejection::Unparsed | LegacyRejection::Expired),
            "{source}: a value the key sealed is {reason}"
        ),
    }
});
