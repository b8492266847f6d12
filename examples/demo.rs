//! Seals a session into a cookie value, opens it again, rotates the key and
//! shows the tamper, expiry and rotation checks at work.
//!
//! ```text
//! cargo run --example demo
//! SESSION_KEYS="1:$(openssl rand -base64 32)" cargo run --example demo
//! ```

use std::time::{Duration, SystemTime};

use sealed_session::codec::Codec;
use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct User {
    name: String,
    roles: Vec<String>,
}

fn keyring() -> Result<Keyring, Box<dyn std::error::Error>> {
    if std::env::var_os("SESSION_KEYS").is_some() {
        let keyring = Keyring::from_env("SESSION_KEYS")?;
        println!("keys: SESSION_KEYS ({keyring:?})");
        return Ok(keyring);
    }
    eprintln!(
        "WARNING: SESSION_KEYS is not set; using a freshly generated development key.\n\
         WARNING: sessions sealed with it stop opening when this process exits.\n\
         WARNING: for anything real, set SESSION_KEYS=\"1:$(openssl rand -base64 32)\".\n"
    );
    Ok(Keyring::new(KeySpec::new(1, Key::try_generate()?)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut keyring = keyring()?;
    let codec = Codec::new("__Host-session")?;
    let now = SystemTime::now();

    let user = User {
        name: "alice".into(),
        roles: vec!["reader".into()],
    };
    let meta = SessionMeta::new_at(Lifetimes::default(), now)?;
    let value = codec.seal(&keyring, &meta, &user)?;
    println!("sealed {:?} for {:?}", user.name, meta.session_id());
    println!("Set-Cookie: __Host-session={value}; Path=/; Secure; HttpOnly; SameSite=Lax");
    println!(
        "  ({} characters of a 4096-byte cookie budget)",
        "__Host-session".len() + value.len()
    );

    let opened = codec.open_at::<User>(&keyring, &value, now)?;
    println!(
        "opened: {:?} under key {}, expires at {:?}",
        opened.data,
        opened.key_id,
        opened.meta.expires_at()
    );

    let mut tampered = value.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered)?;
    match codec.open_at::<User>(&keyring, &tampered, now) {
        Ok(_) => return Err("a tampered value opened".into()),
        Err(err) => println!("tampered value rejected: {err}"),
    }

    let later = now + Duration::from_secs(31 * 60);
    match codec.open_at::<User>(&keyring, &value, later) {
        Ok(_) => return Err("an idle session outlived its timeout".into()),
        Err(err) => println!("31 minutes idle: {err}"),
    }

    let next_id = keyring
        .key_ids()
        .into_iter()
        .max()
        .unwrap_or(0)
        .wrapping_add(1);
    keyring.add_accept_only(KeySpec::new(next_id, Key::try_generate()?))?;
    keyring.promote(next_id)?;
    let opened = codec.open_at::<User>(&keyring, &value, now)?;
    println!(
        "after promoting key {next_id}: opened under key {}, needs re-seal: {}",
        opened.key_id, opened.needs_reseal
    );
    let resealed = codec.seal(&keyring, &opened.meta, &opened.data)?;
    let reopened = codec.open_at::<User>(&keyring, &resealed, now)?;
    println!(
        "re-sealed under key {}, same session: {}",
        reopened.key_id,
        reopened.meta == opened.meta
    );
    Ok(())
}
