//! Key ids in sealed values, and the key files the apps re-read.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::check::{Result, ensure, wait_for};
use crate::logs;

/// How long an app may take to notice a new key file.
const RELOAD: Duration = Duration::from_secs(10);

/// The key id in a sealed value's header: the first 8 base64url characters
/// are 6 bytes, of which byte 0 is the format version and bytes 1..5 the key
/// id (big-endian).
pub(crate) fn key_id(value: &str) -> Result<u32> {
    let head = value
        .get(..8)
        .ok_or_else(|| format!("cookie value too short: {} characters", value.len()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|err| format!("cookie value does not start with base64url: {err}"))?;
    ensure!(
        bytes[0] == 1,
        "cookie format version is {}, expected 1",
        bytes[0]
    );
    Ok(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]))
}

/// Replaces a key file in one step (write beside it, then rename), so the
/// app's watcher never reads a half-written file.
pub(crate) fn write_keys(path: &Path, keyring: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{keyring}\n"))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn reload_count(path: &Path) -> Result<usize> {
    Ok(logs::text(path)?
        .lines()
        .filter(|l| l.contains("keys reloaded"))
        .count())
}

/// Writes `keyring` (shown with key names instead of keys) to `file` and
/// waits until every log in `logs` reports one more "keys reloaded" with
/// the expected primary, and none reports "keys not reloaded".
pub(crate) async fn rotate(
    file: &Path,
    keyring: &str,
    shown: &str,
    primary: u32,
    logs: &[&Path],
) -> Result<()> {
    let before: Vec<usize> = logs
        .iter()
        .map(|l| reload_count(l))
        .collect::<Result<_>>()?;
    // The watcher compares modification times; make sure this write gets a
    // different one from the previous write even on a coarse clock.
    tokio::time::sleep(Duration::from_millis(20)).await;
    write_keys(file, keyring)?;
    for (log, before) in logs.iter().zip(before) {
        let wanted = format!("primary={primary} ");
        let line = wait_for(
            &format!("\"keys reloaded\" ({shown}) in {}", log.display()),
            RELOAD,
            || async move {
                let text = logs::text(log)?;
                if let Some(bad) = text.lines().find(|l| l.contains("keys not reloaded")) {
                    return Err(format!("the app refused the key file: {bad}").into());
                }
                let reloads: Vec<&str> = text
                    .lines()
                    .filter(|l| l.contains("keys reloaded"))
                    .collect();
                Ok(reloads.get(before).map(|l| l.to_string()))
            },
        )
        .await?;
        ensure!(
            line.contains(&wanted),
            "after writing {shown}, {} reloaded with another primary: {line}",
            log.display()
        );
    }
    Ok(())
}
