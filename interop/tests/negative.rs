//! Legacy cookies that must not become a session: each leaves the request
//! anonymous (never an error response), removes the legacy cookie and is
//! counted by reason.

use std::time::{Duration, SystemTime};

use sealed_session::adapter::Clock;
use sealed_session::migrate::{
    LegacyConfig, LegacyCookie, LegacyKey, LegacyRejection, LegacySource,
};
use sealed_session::{SessionManager, SessionMap};
use sealed_session_interop::*;

fn window() -> SystemTime {
    SystemTime::now() + Duration::from_secs(30 * 24 * 3600)
}

fn cookie_private(name: &str, key: &cookie::Key) -> LegacyConfig {
    LegacyConfig::new(window()).cookie(
        LegacyCookie::new(LegacySource::CookiePrivate, name)
            .key(LegacyKey::from_master(key.master()).unwrap()),
    )
}

fn actix_private(key: &cookie::Key) -> LegacyConfig {
    LegacyConfig::new(window()).cookie(
        LegacyCookie::new(LegacySource::ActixSessionPrivate, "id")
            .key(LegacyKey::from_master(key.master()).unwrap()),
    )
}

/// Anonymous, legacy removed, no sealed cookie, counted once for `reason`.
fn check_refused<T>(
    exchange: &Exchange,
    manager: &SessionManager<T>,
    name: &str,
    reason: LegacyRejection,
) {
    assert_eq!(exchange.status, 200, "never an error response");
    assert_eq!(exchange.body, "anonymous");
    assert_eq!(
        exchange.set_cookie,
        vec![removal(name)],
        "only the legacy cookie's removal"
    );
    let stats = manager.legacy_stats();
    assert_eq!(stats.migrated(), 0, "{stats:?}");
    assert_eq!(stats.rejected(), 1, "{stats:?}");
    assert_eq!(stats.rejected_for(reason), 1, "{stats:?}");
}

fn replace_char(value: &str, at: usize) -> String {
    let mut bytes = value.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[actix_web::test]
async fn wrong_key() {
    let key = actix_web::cookie::Key::generate();
    let minted = mint_actix_session(&key, true).await;
    let manager = map_manager(actix_private(&cookie::Key::generate()));
    let exchange = actix_map(&manager, minted.pair()).await;
    check_refused(&exchange, &manager, "id", LegacyRejection::Unopened);
}

#[actix_web::test]
async fn tampered_private_and_signed() {
    let key = cookie::Key::generate();
    let private = mint_cookie_jar(&key, "user", &user_json(), true, false);
    let tampered = format!("user={}", replace_char(private.value(), 20));
    let manager = user_manager(cookie_private("user", &key), map_text);
    check_refused(
        &axum_user(&manager, &tampered).await,
        &manager,
        "user",
        LegacyRejection::Unopened,
    );

    // A signed value is readable; changing the user id breaks its tag.
    let signed = mint_cookie_jar(&key, "user", &user_json(), false, false);
    let forged = signed.pair().replace("\"id\":42", "\"id\":43");
    assert_ne!(forged, signed.pair());
    let manager = user_manager(
        LegacyConfig::new(window()).cookie(
            LegacyCookie::new(LegacySource::CookieSigned, "user")
                .key(LegacyKey::from_master(key.master()).unwrap()),
        ),
        map_text,
    );
    check_refused(
        &axum_user(&manager, &forged).await,
        &manager,
        "user",
        LegacyRejection::Unopened,
    );
}

#[actix_web::test]
async fn truncated() {
    let key = cookie::Key::generate();
    let minted = mint_cookie_jar(&key, "user", &user_json(), true, false);
    let value = minted.value();
    for cut in [value.len() - 4, 16, 1] {
        let manager = user_manager(cookie_private("user", &key), map_text);
        let exchange = axum_user(&manager, &format!("user={}", &value[..cut])).await;
        check_refused(&exchange, &manager, "user", LegacyRejection::Unopened);
    }
    // The signed jar's 44-character tag, cut inside a multi-byte character.
    let manager = user_manager(
        LegacyConfig::new(window()).cookie(
            LegacyCookie::new(LegacySource::CookieSigned, "user")
                .key(LegacyKey::from_master(key.master()).unwrap()),
        ),
        map_text,
    );
    let exchange = axum_user(
        &manager,
        "user=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAé",
    )
    .await;
    check_refused(&exchange, &manager, "user", LegacyRejection::Unopened);
}

struct Later(Duration);

impl Clock for Later {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.0
    }
}

#[actix_web::test]
async fn expired_record() {
    use tower_sessions_cookie_store::{CookieSessionConfig, Expiry};
    let key = tower_sessions_cookie_store::Key::generate();
    let config = CookieSessionConfig::default()
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(5)));
    let minted = mint_tower_sessions(&key, true, config).await;
    let manager = map_manager(
        LegacyConfig::new(window()).cookie(
            LegacyCookie::new(LegacySource::TowerSessionsPrivate, "session")
                .key(LegacyKey::from_master(key.master()).unwrap()),
        ),
    )
    .with_clock(Later(Duration::from_secs(3600)));
    let exchange = axum_map(&manager, minted.pair()).await;
    check_refused(&exchange, &manager, "session", LegacyRejection::Expired);
}

#[actix_web::test]
async fn after_sunset() {
    let key = cookie::Key::generate();
    let minted = mint_cookie_jar(&key, "user", &user_json(), true, false);
    let ended = LegacyConfig::new(SystemTime::now() - Duration::from_secs(1)).cookie(
        LegacyCookie::new(LegacySource::CookiePrivate, "user")
            .key(LegacyKey::from_master(key.master()).unwrap()),
    );
    let manager = user_manager(ended, map_text);
    check_refused(
        &axum_user(&manager, minted.pair()).await,
        &manager,
        "user",
        LegacyRejection::Sunset,
    );

    // The same window, still open, until the clock passes it.
    let manager = user_manager(cookie_private("user", &key), map_text)
        .with_clock(Later(Duration::from_secs(31 * 24 * 3600)));
    check_refused(
        &axum_user(&manager, minted.pair()).await,
        &manager,
        "user",
        LegacyRejection::Sunset,
    );
}

#[actix_web::test]
async fn a_valid_sealed_cookie_wins_over_legacy() {
    let key = cookie::Key::generate();
    let manager = user_manager(cookie_private("user", &key), map_text);
    let alice = mint_cookie_jar(&key, "user", &user_json(), true, false);
    let sealed = axum_user(&manager, alice.pair()).await.sealed_pair();

    // Someone else's legacy cookie beside the sealed one, before and after it.
    let other = User {
        id: 7,
        roles: vec![],
        name: "mallory".into(),
    };
    let mallory = mint_cookie_jar(
        &key,
        "user",
        &serde_json::to_string(&other).unwrap(),
        true,
        false,
    );
    for cookies in [
        format!("{}; {sealed}", mallory.pair()),
        format!("{sealed}; {}", mallory.pair()),
    ] {
        let exchange = axum_user(&manager, &cookies).await;
        assert_eq!(exchange.status, 200);
        assert_eq!(
            exchange.body,
            User::expected().line(),
            "the sealed session, not the legacy one"
        );
        assert_eq!(
            exchange.set_cookie,
            vec![removal("user")],
            "legacy removed, sealed untouched"
        );
    }
    let stats = manager.legacy_stats();
    assert_eq!(
        (
            stats.migrated(),
            stats.rejected_for(LegacyRejection::Superseded)
        ),
        (1, 2)
    );
}

#[actix_web::test]
async fn one_legacy_value_opened_per_request() {
    let key = cookie::Key::generate();
    let good = mint_cookie_jar(&key, "user", &user_json(), true, false);
    let bad = replace_char(good.value(), 20);
    // Same name twice: only the first value is opened, even though the
    // second would open.
    let manager = user_manager(cookie_private("user", &key), map_text);
    let exchange = axum_user(&manager, &format!("user={bad}; {}", good.pair())).await;
    check_refused(&exchange, &manager, "user", LegacyRejection::Unopened);

    // Two configured legacy cookies: only the first configured one present
    // is opened; both are removed.
    let actix_key = actix_web::cookie::Key::generate();
    let actix = mint_actix_session(&actix_key, true).await;
    let config = LegacyConfig::new(window())
        .cookie(
            LegacyCookie::new(LegacySource::CookiePrivate, "user")
                .key(LegacyKey::from_master(key.master()).unwrap()),
        )
        .cookie(
            LegacyCookie::new(LegacySource::ActixSessionPrivate, "id")
                .key(LegacyKey::from_master(actix_key.master()).unwrap()),
        );
    let manager = user_manager(config, map_fields);
    let exchange = axum_user(&manager, &format!("{}; user={bad}", actix.pair())).await;
    assert_eq!(
        (exchange.status, exchange.body.as_str()),
        (200, "anonymous")
    );
    assert_eq!(exchange.set_cookie, vec![removal("user"), removal("id")]);
    let stats = manager.legacy_stats();
    assert_eq!((stats.migrated(), stats.rejected()), (0, 1), "{stats:?}");
}

#[actix_web::test]
async fn mapping_refuses_or_outgrows_the_cookie() {
    let key = cookie::Key::generate();
    let minted = mint_cookie_jar(&key, "user", &user_json(), true, false);
    let manager = user_manager(cookie_private("user", &key), |_| None);
    check_refused(
        &axum_user(&manager, minted.pair()).await,
        &manager,
        "user",
        LegacyRejection::Unmapped,
    );

    let manager = user_manager(cookie_private("user", &key), |legacy| {
        let mut user = map_text(legacy)?;
        user.roles = vec!["r".repeat(100); 100];
        Some(user)
    });
    check_refused(
        &axum_user(&manager, minted.pair()).await,
        &manager,
        "user",
        LegacyRejection::TooLarge,
    );
}

/// actix-session's layout in the PrivateJar its store writes.
fn actix_cookie(key: &cookie::Key, json: &str) -> String {
    mint_cookie_jar(key, "id", json, true, true)
        .pair()
        .to_owned()
}

#[actix_web::test]
async fn hostile_legacy_json() {
    let key = cookie::Key::generate();
    let deep = format!("{}{}", "[".repeat(1400), "]".repeat(1400));
    for json in [
        // Nested past the JSON parser's limit, as a value and as JSON text.
        format!(r#"{{"v":1,"state":{{"d":{deep}}}}}"#),
        serde_json::json!({ "d": deep }).to_string(),
        // Not the store's layout.
        r#"{"v":2,"state":{"user_id":42}}"#.to_owned(),
        "[1,2,3]".to_owned(),
        "\u{0}".to_owned(),
    ] {
        let manager = map_manager(actix_private(&key));
        let exchange = actix_map(&manager, &actix_cookie(&key, &json)).await;
        check_refused(&exchange, &manager, "id", LegacyRejection::Unparsed);
    }

    // Deep, but within the parser's limit: it migrates, or is refused as
    // too large; nothing else.
    let nested = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let json = format!(r#"{{"v":1,"state":{{"user_id":42,"d":{nested}}}}}"#);
    let manager = map_manager(actix_private(&key));
    let exchange = actix_map(&manager, &actix_cookie(&key, &json)).await;
    assert_eq!(exchange.status, 200);
    assert_eq!(manager.legacy_stats().migrated(), 1);

    // Keys filling the whole cookie (about 3 KB of JSON in 4 KB of cookie).
    let keys: serde_json::Map<String, serde_json::Value> = (0..250)
        .map(|i| (format!("k{i:04}"), serde_json::Value::from(i)))
        .collect();
    let json = serde_json::Value::Object(keys).to_string();
    assert!(json.len() > 2700, "{}", json.len());
    let cookie = actix_cookie(&key, &json);
    assert!(cookie.len() <= 4096, "{}", cookie.len());
    let manager: SessionManager<SessionMap> = map_manager(actix_private(&key));
    let exchange = actix_map(&manager, &cookie).await;
    assert_eq!(exchange.status, 200);
    let stats = manager.legacy_stats();
    assert_eq!(
        stats.migrated() + stats.rejected_for(LegacyRejection::TooLarge),
        1,
        "{stats:?}"
    );
}
