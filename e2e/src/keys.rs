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

fn reload_counts(logs: &[&Path]) -> Result<Vec<usize>> {
    logs.iter().map(|l| reload_count(l)).collect()
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
    let before = reload_counts(logs)?;
    // Keep each write's modification time distinct from the previous one's
    // even on a coarse clock (the watcher compares contents anyway).
    tokio::time::sleep(Duration::from_millis(20)).await;
    write_keys(file, keyring)?;
    wait_reloaded(shown, primary, logs, before).await
}

/// Runs one rotation phase with the `sealed-session` command (`add --id N`,
/// `promote N` or `retire N`) on `file`, checks what it reports (the new
/// primary, no key material), then waits as [`rotate`] does until every
/// log in `logs` shows the reload. Returns the key list the command
/// printed, e.g. `2 primary, 1 accept-only`.
pub(crate) async fn rotate_with_cli(
    cli: &Path,
    file: &Path,
    phase: &[&str],
    primary: u32,
    logs: &[&Path],
) -> Result<String> {
    let before = reload_counts(logs)?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let command = format!("sealed-session rotate --file KEYS {}", phase.join(" "));
    let output = tokio::process::Command::new(cli)
        .args(["--json", "rotate", "--file"])
        .arg(file)
        .args(phase)
        .output()
        .await
        .map_err(|err| format!("{command}: cannot run {}: {err}", cli.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    ensure!(
        output.status.success(),
        "{command} failed ({}): {stdout} {stderr}",
        output.status
    );
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .map_err(|err| format!("{command} printed no JSON ({err}): {stdout}"))?;
    ensure!(
        report["primary"].as_u64() == Some(u64::from(primary)),
        "{command} reports primary {}, expected {primary}",
        report["primary"]
    );
    let text = std::fs::read_to_string(file)?;
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let key = line.rsplit(':').next().unwrap_or_default().trim();
        ensure!(
            key.len() < 40 || !(stdout.contains(key) || stderr.contains(key)),
            "{command} printed key material"
        );
    }
    let keys: Vec<String> = report["keys"]
        .as_array()
        .ok_or_else(|| format!("{command}: no key list in {stdout}"))?
        .iter()
        .map(|k| format!("{} {}", k["id"], k["role"].as_str().unwrap_or("?")))
        .collect();
    let shown = keys.join(", ");
    wait_reloaded(&format!("{command} -> {shown}"), primary, logs, before).await?;
    Ok(shown)
}

/// Waits until every log in `logs` has one more "keys reloaded" line than
/// `before` says, with the expected primary, and none reports
/// "keys not reloaded".
async fn wait_reloaded(
    shown: &str,
    primary: u32,
    logs: &[&Path],
    before: Vec<usize>,
) -> Result<()> {
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
            "after {shown}, {} reloaded with another primary: {line}",
            log.display()
        );
    }
    Ok(())
}
