//! `keygen` and `keys check`.

use std::path::Path;

use base64ct::Encoding as _;
use sealed_session::{Key, KeyId, Keyring, Suite};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::Outcome;
use crate::output::{Failure, emit, emit_json, warn};

/// A fresh key and its entry in the key-file format. The entry holds the
/// key in base64, zeroized when dropped.
pub(crate) struct NewKey {
    pub(crate) key: Key,
    pub(crate) entry: Zeroizing<String>,
}

/// 32 bytes from the operating system, checked by the library as any key
/// (length, not all zero), and written `id[:suite]:base64` (the suite only
/// when one was asked for).
pub(crate) fn generate(id: KeyId, suite: Option<Suite>) -> Result<NewKey, Failure> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..]).map_err(|err| {
        Failure::io(format!(
            "the operating system's random number generator failed: {err}"
        ))
    })?;
    let key = Key::from_bytes(&bytes[..]).map_err(|err| Failure::key(&err))?;
    let encoded = Zeroizing::new(base64ct::Base64::encode_string(&bytes[..]));
    let entry = Zeroizing::new(match suite {
        Some(suite) => format!("{id}:{}:{}", suite.name(), encoded.as_str()),
        None => format!("{id}:{}", encoded.as_str()),
    });
    Ok(NewKey { key, entry })
}

pub(crate) fn keygen(id: KeyId, suite: Option<Suite>, json: bool) -> Outcome {
    let new = generate(id, suite)?;
    let suite_name = suite.unwrap_or_default().name();
    if json {
        emit_json(&json!({
            "ok": true,
            "id": id,
            "suite": suite_name,
            "fingerprint": new.key.fingerprint().to_string(),
            "entry": new.entry.as_str(),
        }));
    } else {
        // Only the entry on stdout, so `keygen >> keys` appends a line.
        emit(&new.entry);
        warn(&format!(
            "key {id} ({suite_name}, fingerprint {}): keep it secret; \
             add it to a key file with `sealed-session rotate --file PATH add` instead \
             when instances are already running",
            new.key.fingerprint()
        ));
    }
    Ok(())
}

/// Each key's id, suite, role and fingerprint, primary first.
pub(crate) fn describe(keyring: &Keyring) -> Vec<Value> {
    keyring
        .metrics()
        .iter()
        .map(|key| {
            json!({
                "id": key.key_id,
                "suite": key.suite.name(),
                "role": if key.primary { "primary" } else { "accept-only" },
                "fingerprint": key.fingerprint.to_string(),
                "seal_budget": key.seal_budget,
            })
        })
        .collect()
}

/// The same as a table.
pub(crate) fn table(keyring: &Keyring) -> String {
    let mut lines = vec![format!(
        "  {:<10}  {:<18}  {:<11}  {}",
        "id", "suite", "role", "fingerprint"
    )];
    for key in keyring.metrics() {
        lines.push(format!(
            "  {:<10}  {:<18}  {:<11}  {}",
            key.key_id,
            key.suite.name(),
            if key.primary {
                "primary"
            } else {
                "accept-only"
            },
            key.fingerprint
        ));
    }
    lines.join("\n")
}

pub(crate) fn check(env: Option<&str>, file: Option<&Path>, json: bool) -> Outcome {
    let (source, loaded) = match (env, file) {
        (Some(var), _) => (format!("${var}"), Keyring::from_env(var)),
        (None, Some(path)) => (path.display().to_string(), Keyring::from_file(path)),
        (None, None) => return Err(Failure::invalid("give --env VAR or --file PATH")),
    };
    let keyring = loaded.map_err(|err| Failure::key(&err))?;
    let mut warnings = Vec::new();
    if let Some(path) = file {
        warnings.extend(permission_warning(path));
    }
    if json {
        emit_json(&json!({
            "ok": true,
            "source": source,
            "primary": keyring.primary_id(),
            "keys": describe(&keyring),
            "warnings": warnings,
        }));
    } else {
        let count = keyring.key_ids().len();
        emit(&format!(
            "{source}: valid, {count} key{}, primary {}",
            if count == 1 { "" } else { "s" },
            keyring.primary_id()
        ));
        emit(&table(&keyring));
        for warning in &warnings {
            warn(&format!("warning: {warning}"));
        }
    }
    Ok(())
}

/// A key file others than its owner can read is worth a warning.
#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o007 != 0).then(|| {
        format!(
            "{} has mode {:o}: other users can read it; `chmod 600` it (or 640 for a group the app runs in)",
            path.display(),
            mode & 0o777
        )
    })
}

#[cfg(not(unix))]
fn permission_warning(_: &Path) -> Option<String> {
    None
}
