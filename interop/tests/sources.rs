//! Each peer mints a logged-in cookie with its own code; one request
//! through a sealed-session adapter migrates it: the handler sees the
//! user, the response sets the sealed cookie and removes the legacy one
//! with matching attributes, and the next request works on the sealed
//! cookie alone.

use std::time::{Duration, SystemTime};

use sealed_session::SessionManager;
use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacyKey, LegacySource};
use sealed_session_interop::*;

fn window() -> SystemTime {
    SystemTime::now() + Duration::from_secs(30 * 24 * 3600)
}

fn legacy(source: LegacySource, name: &str, key: LegacyKey) -> LegacyConfig {
    LegacyConfig::new(window()).cookie(LegacyCookie::new(source, name).key(key))
}

/// The first request migrates, the second runs on the sealed cookie only.
fn check_migrated(first: &Exchange, second: &Exchange, legacy_name: &str, expected_removal: &str) {
    let line = User::expected().line();
    assert_eq!(first.status, 200);
    assert_eq!(first.body, line, "the handler sees the legacy user");
    let sealed = first.cookie(SEALED).expect("sealed cookie set");
    assert!(
        sealed.contains("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{sealed}"
    );
    assert!(!sealed.contains("Domain="), "{sealed}");
    assert_eq!(
        first.cookie(legacy_name),
        Some(expected_removal),
        "legacy cookie removed"
    );
    assert_eq!(first.set_cookie.len(), 2, "{:?}", first.set_cookie);
    assert_eq!(second.status, 200);
    assert_eq!(
        second.body, line,
        "the sealed cookie alone carries the session"
    );
    assert!(
        second.set_cookie.is_empty(),
        "nothing left to change: {:?}",
        second.set_cookie
    );
}

/// The first request through `$send` migrates the legacy cookie, the
/// second runs on the sealed cookie alone (see `check_migrated`); the
/// first exchange is the value.
/// The manager counted exactly one session migrated from `source`.
fn assert_migrated_once<T>(manager: &SessionManager<T>, source: LegacySource) {
    assert_eq!(
        manager.legacy_stats().migrated_from(source),
        1,
        "{source:?}"
    );
}

macro_rules! migrates {
    ($send:ident, $manager:expr, $pair:expr, $legacy:expr) => {{
        let first = $send($manager, $pair).await;
        let second = $send($manager, &first.sealed_pair()).await;
        check_migrated(&first, &second, $legacy, &removal($legacy));
        first
    }};
}

#[actix_web::test]
async fn cookie_rs_private_jar_with_rotated_keys() {
    let old = cookie::Key::generate();
    let current = cookie::Key::generate();
    let minted = mint_cookie_jar(&old, "user", &user_json(), true, false);
    assert_eq!(minted.attribute("Path"), Some("/"));
    let config = LegacyConfig::new(window()).cookie(
        LegacyCookie::new(LegacySource::CookiePrivate, "user")
            .key(LegacyKey::from_master(current.master()).unwrap())
            .key(LegacyKey::from_master(old.master()).unwrap()),
    );
    let manager = user_manager(config, map_text);
    migrates!(axum_user, &manager, minted.pair(), "user");
    assert_migrated_once(&manager, LegacySource::CookiePrivate);
}

#[actix_web::test]
async fn cookie_rs_signed_jar() {
    let master = [0x5a; 48];
    let key = cookie::Key::derive_from(&master);
    let minted = mint_cookie_jar(&key, "user", &user_json(), false, false);
    let manager = user_manager(
        legacy(
            LegacySource::CookieSigned,
            "user",
            LegacyKey::derive_from(&master).unwrap(),
        ),
        map_text,
    );
    migrates!(axum_user, &manager, minted.pair(), "user");
    assert_migrated_once(&manager, LegacySource::CookieSigned);
}

#[actix_web::test]
async fn axum_extra_private_cookie_jar() {
    let key = axum_extra::extract::cookie::Key::generate();
    let minted = mint_axum_extra(&key, "user", &user_json(), true);
    let manager = user_manager(
        legacy(
            LegacySource::AxumExtraPrivate,
            "user",
            LegacyKey::from_master(key.master()).unwrap(),
        ),
        map_text,
    );
    migrates!(axum_user, &manager, minted.pair(), "user");
    assert_migrated_once(&manager, LegacySource::AxumExtraPrivate);
}

#[actix_web::test]
async fn axum_extra_signed_cookie_jar_percent_encoded() {
    let key = axum_extra::extract::cookie::Key::generate();
    let minted = mint_axum_extra(&key, "user", &user_json(), false);
    assert!(
        minted.value().contains('%'),
        "axum-extra percent-encodes: {}",
        minted.value()
    );
    let manager = user_manager(
        legacy(
            LegacySource::AxumExtraSigned,
            "user",
            LegacyKey::from_master(key.master()).unwrap(),
        ),
        map_text,
    );
    migrates!(axum_user, &manager, minted.pair(), "user");
}

#[actix_web::test]
async fn actix_session_private_through_actix() {
    let key = actix_web::cookie::Key::generate();
    let minted = mint_actix_session(&key, true).await;
    assert_eq!(minted.attribute("Path"), Some("/"));
    let manager = map_manager(legacy(
        LegacySource::ActixSessionPrivate,
        "id",
        LegacyKey::from_master(key.master()).unwrap(),
    ));
    migrates!(actix_map, &manager, minted.pair(), "id");
    assert_migrated_once(&manager, LegacySource::ActixSessionPrivate);
}

#[actix_web::test]
async fn actix_session_signed_through_axum_typed() {
    let key = actix_web::cookie::Key::generate();
    let minted = mint_actix_session(&key, false).await;
    let manager = user_manager(
        legacy(
            LegacySource::ActixSessionSigned,
            "id",
            LegacyKey::from_master(key.master()).unwrap(),
        ),
        map_fields,
    );
    migrates!(axum_user, &manager, minted.pair(), "id");
}

#[actix_web::test]
async fn actix_session_versioned_state() {
    // The `{"v":1,"state":{…}}` layout of newer actix-session releases, in
    // the same PrivateJar the store writes through actix-web's `cookie`.
    let key = actix_web::cookie::Key::generate();
    let state =
        serde_json::json!({"v": 1, "state": {"user_id": USER_ID, "roles": ROLES, "name": NAME}});
    let minted = mint_cookie_jar(
        &cookie::Key::from(key.master()),
        "id",
        &state.to_string(),
        true,
        true,
    );
    let manager = map_manager(legacy(
        LegacySource::ActixSessionPrivate,
        "id",
        LegacyKey::from_master(key.master()).unwrap(),
    ));
    migrates!(actix_map, &manager, minted.pair(), "id");
}

#[actix_web::test]
async fn tower_sessions_private_with_domain() {
    use tower_sessions_cookie_store::CookieSessionConfig;
    let key = tower_sessions_cookie_store::Key::generate();
    let config = CookieSessionConfig::default().with_domain("example.com");
    let minted = mint_tower_sessions(&key, true, config).await;
    assert_eq!(minted.attribute("Domain"), Some("example.com"));
    let manager = map_manager(
        LegacyConfig::new(window()).cookie(
            LegacyCookie::new(LegacySource::TowerSessionsPrivate, "session")
                .domain("example.com")
                .key(LegacyKey::from_master(key.master()).unwrap()),
        ),
    );
    let first = axum_map(&manager, minted.pair()).await;
    let second = axum_map(&manager, &first.sealed_pair()).await;
    let expected = "session=; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax; Max-Age=0; \
                    Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    check_migrated(&first, &second, "session", expected);
    assert_migrated_once(&manager, LegacySource::TowerSessionsPrivate);
}

#[actix_web::test]
async fn tower_sessions_signed_keeps_the_earlier_expiry() {
    use tower_sessions_cookie_store::{CookieSessionConfig, Expiry};
    let key = tower_sessions_cookie_store::Key::generate();
    let config = CookieSessionConfig::default()
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(10)));
    let minted = mint_tower_sessions(&key, false, config).await;
    let manager = user_manager(
        legacy(
            LegacySource::TowerSessionsSigned,
            "session",
            LegacyKey::from_master(key.master()).unwrap(),
        ),
        map_fields,
    );
    let first = migrates!(axum_user, &manager, minted.pair(), "session");
    // Ten minutes left in the record, against twelve hours here.
    let sealed = first.cookie(SEALED).unwrap();
    let max_age: u64 = sealed
        .split("; ")
        .find_map(|a| a.strip_prefix("Max-Age="))
        .and_then(|v| v.parse().ok())
        .expect("Max-Age");
    assert!((595..=600).contains(&max_age), "{sealed}");
}

#[actix_web::test]
async fn rocket_private_cookies_256_and_512_bit_secrets() {
    for secret in [vec![0x11u8; 32], vec![0x22u8; 64]] {
        // Rocket: 256-bit secret_key → Key::derive_from, 512-bit → Key::from.
        let key = if secret.len() == 32 {
            cookie::Key::derive_from(&secret)
        } else {
            cookie::Key::from(&secret)
        };
        for encoded in [false, true] {
            let minted = mint_cookie_jar(&key, "user_id", &user_json(), true, encoded);
            let manager = user_manager(
                legacy(
                    LegacySource::RocketPrivate,
                    "user_id",
                    LegacyKey::rocket(&secret).unwrap(),
                ),
                map_text,
            );
            migrates!(axum_user, &manager, minted.pair(), "user_id");
            assert_migrated_once(&manager, LegacySource::RocketPrivate);
        }
    }
}
