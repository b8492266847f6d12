//! Writes the `legacy` fuzz target's seeds: cookies the peers mint under
//! the target's fixed key, one per source, as `fuzz/corpus/legacy/seed-*`
//! (first byte: the source's index in `LegacySource::ALL`, then the value
//! as a browser sends it back).
//!
//! ```text
//! cargo test -p sealed-session-interop --test fuzz_seeds -- --ignored
//! ```

use std::path::PathBuf;

use sealed_session::migrate::LegacySource;
use sealed_session_interop::*;

/// The `legacy` target's key bytes (`LEGACY_MASTER` in `fuzz/src/fixtures.rs`).
const LEGACY_MASTER: [u8; 64] = [0x4c; 64];

fn write(source: LegacySource, tag: &str, value: &str) {
    let index = LegacySource::ALL
        .iter()
        .position(|s| *s == source)
        .expect("listed");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/legacy");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    let mut bytes = vec![u8::try_from(index).expect("small")];
    bytes.extend_from_slice(value.as_bytes());
    std::fs::write(dir.join(format!("seed-{source}{tag}")), bytes).expect("write seed");
}

#[ignore = "writes the fuzz corpus"]
#[actix_web::test]
async fn regenerate_legacy_fuzz_seeds() {
    let key = cookie::Key::from(&LEGACY_MASTER);
    let json = user_json();
    write(
        LegacySource::CookiePrivate,
        "",
        mint_cookie_jar(&key, "user", &json, true, false).value(),
    );
    write(
        LegacySource::CookieSigned,
        "",
        mint_cookie_jar(&key, "user", "42", false, false).value(),
    );
    write(
        LegacySource::RocketPrivate,
        "",
        mint_cookie_jar(&key, "user", &json, true, true).value(),
    );

    let axum_key = axum_extra::extract::cookie::Key::from(&LEGACY_MASTER);
    write(
        LegacySource::AxumExtraPrivate,
        "",
        mint_axum_extra(&axum_key, "user", &json, true).value(),
    );
    write(
        LegacySource::AxumExtraSigned,
        "",
        mint_axum_extra(&axum_key, "user", &json, false).value(),
    );

    let actix_key = actix_web::cookie::Key::from(&LEGACY_MASTER);
    write(
        LegacySource::ActixSessionPrivate,
        "",
        mint_actix_session(&actix_key, true).await.value(),
    );
    write(
        LegacySource::ActixSessionSigned,
        "",
        mint_actix_session(&actix_key, false).await.value(),
    );
    let versioned =
        serde_json::json!({"v": 1, "state": {"user_id": USER_ID, "roles": ROLES, "name": NAME}});
    write(
        LegacySource::ActixSessionPrivate,
        "-versioned",
        mint_cookie_jar(&key, "id", &versioned.to_string(), true, true).value(),
    );

    let tower_key = tower_sessions_cookie_store::Key::from(&LEGACY_MASTER);
    let config = tower_sessions_cookie_store::CookieSessionConfig::default;
    write(
        LegacySource::TowerSessionsPrivate,
        "",
        mint_tower_sessions(&tower_key, true, config())
            .await
            .value(),
    );
    write(
        LegacySource::TowerSessionsSigned,
        "",
        mint_tower_sessions(&tower_key, false, config())
            .await
            .value(),
    );
}
