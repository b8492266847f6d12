//! `rotate --file PATH add | promote ID | retire ID`: one rotation phase,
//! checked with the library's own rules, written atomically.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sealed_session::{KeyError, KeyId, KeySpec, Keyring};
use serde_json::json;
use zeroize::Zeroizing;

use crate::keys::{describe, generate, table};
use crate::output::{Failure, emit, emit_json};
use crate::{Outcome, RotatePhase};

/// A line of the key file: kept as written, or one key entry.
enum Line {
    Other(String),
    Entry { id: KeyId, text: Zeroizing<String> },
}

/// Splits a key file into lines and entries, following the library's
/// syntax (`Keyring::from_str`): blank and `#` lines are kept, entries are
/// separated by commas or line breaks. Entries end up one per line. Only
/// called on text the library has accepted.
fn lines_of(text: &str) -> Result<Vec<Line>, Failure> {
    let mut lines = Vec::new();
    for raw in text.lines() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            lines.push(Line::Other(raw.to_owned()));
            continue;
        }
        let trimmed = trimmed.strip_suffix(',').unwrap_or(trimmed);
        for entry in trimmed.split(',') {
            let entry = entry.trim();
            let id = entry
                .split(':')
                .next()
                .and_then(|id| id.trim().parse::<KeyId>().ok())
                .ok_or_else(|| Failure::invalid("the key file changed while it was read"))?;
            lines.push(Line::Entry {
                id,
                text: Zeroizing::new(entry.to_owned()),
            });
        }
    }
    Ok(lines)
}

fn render(lines: &[Line]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for line in lines {
        match line {
            Line::Other(text) => out.push_str(text),
            Line::Entry { text, .. } => out.push_str(text),
        }
        out.push('\n');
    }
    out
}

fn entry_position(lines: &[Line], wanted: KeyId) -> Option<usize> {
    lines
        .iter()
        .position(|line| matches!(line, Line::Entry { id, .. } if *id == wanted))
}

/// The library's refusal of a rotation step, in words for operators.
fn refusal(err: &KeyError) -> Failure {
    match err {
        KeyError::RetirePrimary(id) => Failure::refused(format!(
            "key {id} is the primary: promote another key first (and let every instance reload), \
             then retire {id}"
        )),
        other => Failure::refused(other.to_string()),
    }
}

pub(crate) fn run(file: &Path, phase: RotatePhase, json: bool) -> Outcome {
    // Follow symbolic links: replace the file they point to.
    let target = fs::canonicalize(file)
        .map_err(|err| Failure::io(format!("cannot open {}: {}", file.display(), err.kind())))?;
    // Held until the new file is in place: a concurrent rotation waits,
    // then reads what this one wrote.
    let (_lock, text) = lock_and_read(&target)
        .map_err(|err| Failure::io(format!("cannot read {}: {}", file.display(), err.kind())))?;
    let mut keyring: Keyring = text.parse().map_err(|err: KeyError| {
        Failure::invalid(format!(
            "{} is not a valid key file, so it was left alone: {err}",
            file.display()
        ))
    })?;
    let mut lines = lines_of(&text)?;
    let listed: Vec<KeyId> = lines
        .iter()
        .filter_map(|line| match line {
            Line::Entry { id, .. } => Some(*id),
            Line::Other(_) => None,
        })
        .collect();
    if listed != keyring.key_ids() {
        return Err(Failure::invalid(format!(
            "{} could not be split into entries the way the library reads it; left alone",
            file.display()
        )));
    }
    let shown = file.display();
    let (action, key_id, next) = match phase {
        RotatePhase::Add { id, suite } => {
            let id = match id {
                Some(id) => id,
                None => keyring
                    .key_ids()
                    .into_iter()
                    .max()
                    .and_then(|max| max.checked_add(1))
                    .ok_or_else(|| {
                        Failure::refused("the highest key id is taken: pass --id with a free one")
                    })?,
            };
            let new = generate(id, suite)?;
            let spec = KeySpec::new(id, new.key).suite(suite.unwrap_or_default());
            keyring.add_accept_only(spec).map_err(|err| refusal(&err))?;
            let after = lines
                .iter()
                .rposition(|line| matches!(line, Line::Entry { .. }))
                .map_or(lines.len(), |last| last.saturating_add(1));
            lines.insert(
                after,
                Line::Entry {
                    id,
                    text: new.entry,
                },
            );
            (
                "add",
                id,
                format!(
                    "key {id} opens but does not seal yet. Before the next phase, EVERY instance \
                     must have reloaded this file (each logs `keys reloaded`, or restart it); \
                     then run `sealed-session rotate --file {shown} promote {id}`. Promoting \
                     earlier logs out users whose requests reach an instance without key {id}."
                ),
            )
        }
        RotatePhase::Promote { id } => {
            let old = keyring.primary_id();
            if old == id {
                return Err(Failure::refused(format!(
                    "key {id} is already the primary: nothing to do"
                )));
            }
            keyring.promote(id).map_err(|err| refusal(&err))?;
            let from =
                entry_position(&lines, id).ok_or_else(|| refusal(&KeyError::UnknownKeyId(id)))?;
            let line = lines.remove(from);
            let to = entry_position(&lines, old).unwrap_or(0);
            lines.insert(to, line);
            (
                "promote",
                id,
                format!(
                    "key {id} seals once an instance reloads this file; key {old} still opens. \
                     Before the next phase, EVERY instance must have reloaded this file, and \
                     the absolute session lifetime (12 h by default) must have passed since, \
                     so that no valid cookie is sealed under key {old}; then run \
                     `sealed-session rotate --file {shown} retire {old}`."
                ),
            )
        }
        RotatePhase::Retire { id } => {
            keyring.retire(id).map_err(|err| refusal(&err))?;
            let at =
                entry_position(&lines, id).ok_or_else(|| refusal(&KeyError::UnknownKeyId(id)))?;
            lines.remove(at);
            (
                "retire",
                id,
                format!(
                    "key {id} no longer opens anything once an instance reloads this file. The \
                     rotation is complete when EVERY instance has reloaded it; remove key {id} \
                     from any other copy (backups, secret stores) too."
                ),
            )
        }
    };
    let rendered = render(&lines);
    // What is written must read back as exactly the keyring the library's
    // rules produced.
    let check: Keyring = rendered.parse().map_err(|err: KeyError| {
        Failure::invalid(format!(
            "the new key file would not parse ({err}); left alone"
        ))
    })?;
    if check.key_ids() != keyring.key_ids() {
        return Err(Failure::invalid(
            "the new key file would not hold the expected keys; left alone",
        ));
    }
    replace(&target, rendered.as_bytes())?;
    if json {
        emit_json(&json!({
            "ok": true,
            "action": action,
            "file": file.display().to_string(),
            "key_id": key_id,
            "primary": check.primary_id(),
            "keys": describe(&check),
            "next": next,
        }));
    } else {
        emit(&format!("{action} {key_id}: wrote {shown}"));
        emit(&table(&check));
        emit(&format!("next: {next}"));
    }
    Ok(())
}

/// Opens `target`, takes an exclusive advisory lock on it and reads it.
/// A rotation replaces the file, so a lock taken on a file that has been
/// replaced meanwhile protects nothing: then it starts again with the new
/// file. The lock is released when the returned file is closed.
fn lock_and_read(target: &Path) -> std::io::Result<(fs::File, Zeroizing<String>)> {
    loop {
        let mut file = fs::File::open(target)?;
        file.lock()?;
        if same_file(&file, target)? {
            let mut text = Zeroizing::new(String::new());
            std::io::Read::read_to_string(&mut file, &mut text)?;
            return Ok((file, text));
        }
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt as _;
    let (open, now) = (file.metadata()?, fs::metadata(path)?);
    Ok((open.dev(), open.ino()) == (now.dev(), now.ino()))
}

#[cfg(not(unix))]
fn same_file(_: &fs::File, _: &Path) -> std::io::Result<bool> {
    Ok(true)
}

/// Writes `bytes` beside `target` and renames it over `target`, with the
/// old file's permissions (and owner, where allowed), flushed to disk
/// before the rename, so a reader sees the old file or the new one.
fn replace(target: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let io = |what: &str, err: std::io::Error| {
        Failure::io(format!(
            "cannot {what} {}: {}",
            target.display(),
            err.kind()
        ))
    };
    let dir: PathBuf = target
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let metadata = fs::metadata(target).map_err(|err| io("read the permissions of", err))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".sealed-session-keys.")
        .tempfile_in(&dir)
        .map_err(|err| io("create a temporary file beside", err))?;
    keep_owner(temp.path(), &metadata).map_err(|err| io("give the new file the owner of", err))?;
    fs::set_permissions(temp.path(), metadata.permissions())
        .map_err(|err| io("give the new file the permissions of", err))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|err| io("write the new version of", err))?;
    temp.persist(target)
        .map_err(|err| io("rename the new file over", err.error))?;
    // The rename itself reaches the disk with the directory.
    if let Ok(dir) = fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn keep_owner(path: &Path, metadata: &fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let created = fs::metadata(path)?;
    if (created.uid(), created.gid()) == (metadata.uid(), metadata.gid()) {
        return Ok(());
    }
    std::os::unix::fs::chown(path, Some(metadata.uid()), Some(metadata.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_: &Path, _: &fs::Metadata) -> std::io::Result<()> {
    Ok(())
}
