//! Key files that reload themselves: atomic replacement, Kubernetes-style
//! symlink swaps with unchanged modification times, half-written files and
//! deleted files.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sealed_session::{Keyring, KeyringHandle};

const K1: &str = "1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const K2: &str = "2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const TICK: Duration = Duration::from_millis(10);

fn scratch_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sealed-session-watch-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Waits (bounded) until `done` holds; a hang guard, not a timing test.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn write_atomically(path: &Path, text: &str) {
    let next = path.with_extension("new");
    std::fs::write(&next, text).expect("write");
    std::fs::rename(&next, path).expect("rename");
}

#[test]
fn an_atomic_replacement_is_loaded() {
    let dir = scratch_dir();
    let path = dir.join("keys");
    std::fs::write(&path, format!("{K1}\n")).expect("write");
    let handle = KeyringHandle::new(Keyring::from_file(&path).expect("keys"));
    let watcher = handle.watch_file(&path, TICK).expect("watch");
    write_atomically(&path, &format!("{K1}\n{K2}\n"));
    eventually("reload", || handle.current().key_ids() == [1, 2]);
    assert_eq!(handle.current().primary_id(), 1);
    write_atomically(&path, &format!("{K2}\n{K1}\n"));
    eventually("promote", || handle.current().primary_id() == 2);
    assert_eq!(watcher.reloads(), 2);
    assert_eq!(watcher.problem(), None);
}

#[test]
fn a_symlink_swap_with_equal_modification_times_is_loaded() {
    // The layout of a mounted Kubernetes Secret: keys -> ..data/keys,
    // ..data -> a timestamped directory, swapped by one rename.
    let dir = scratch_dir();
    let v1 = dir.join("v1");
    let v2 = dir.join("v2");
    std::fs::create_dir_all(&v1).expect("v1");
    std::fs::create_dir_all(&v2).expect("v2");
    std::fs::write(v1.join("keys"), format!("{K1}\n")).expect("write v1");
    std::fs::write(v2.join("keys"), format!("{K2}\n{K1}\n")).expect("write v2");
    let old_mtime = std::fs::metadata(v1.join("keys"))
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::File::options()
        .write(true)
        .open(v2.join("keys"))
        .and_then(|f| f.set_modified(old_mtime))
        .expect("same mtime");
    std::os::unix::fs::symlink("v1", dir.join("..data")).expect("..data");
    std::os::unix::fs::symlink("..data/keys", dir.join("keys")).expect("keys link");
    let path = dir.join("keys");
    let handle = KeyringHandle::new(Keyring::from_file(&path).expect("keys"));
    let watcher = handle.watch_file(&path, TICK).expect("watch");

    std::os::unix::fs::symlink("v2", dir.join("..data_tmp")).expect("tmp link");
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("swap");
    assert_eq!(
        std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime"),
        old_mtime,
        "the new file carries the old modification time"
    );
    eventually("reload after the swap", || {
        handle.current().primary_id() == 2
    });
    assert_eq!(watcher.reloads(), 1);
}

#[test]
fn a_half_written_file_is_never_loaded_and_a_bad_one_is_reported() {
    let dir = scratch_dir();
    let path = dir.join("keys");
    std::fs::write(&path, format!("{K1}\n")).expect("write");
    let handle = KeyringHandle::new(Keyring::from_file(&path).expect("keys"));
    let watcher = handle.watch_file(&path, TICK).expect("watch");
    // A non-atomic writer that stopped halfway through a key.
    std::fs::write(&path, &format!("{K2}\n{K1}\n")[..20]).expect("truncated write");
    eventually("report", || watcher.problem().is_some());
    let problem = watcher.problem().expect("problem");
    assert!(problem.contains("not reloaded"), "{problem}");
    assert!(!problem.contains(&K2[2..20]), "no key material: {problem}");
    assert_eq!(handle.current().key_ids(), vec![1], "the running keys stay");
    assert_eq!(watcher.reloads(), 0);
    // The writer finishes: loaded, and the problem clears.
    std::fs::write(&path, format!("{K2}\n{K1}\n")).expect("finish");
    eventually("reload", || handle.current().primary_id() == 2);
    eventually("problem cleared", || watcher.problem().is_none());
}

#[test]
fn a_deleted_file_keeps_the_running_keys_until_it_returns() {
    let dir = scratch_dir();
    let path = dir.join("keys");
    std::fs::write(&path, format!("{K1}\n")).expect("write");
    let handle = KeyringHandle::new(Keyring::from_file(&path).expect("keys"));
    let watcher = handle.watch_file(&path, TICK).expect("watch");
    std::fs::remove_file(&path).expect("delete");
    eventually("report", || watcher.problem().is_some());
    assert!(
        watcher
            .problem()
            .expect("problem")
            .contains("cannot be read")
    );
    assert_eq!(handle.current().key_ids(), vec![1]);
    write_atomically(&path, &format!("{K2}\n{K1}\n"));
    eventually("reload", || handle.current().primary_id() == 2);
    assert_eq!(watcher.problem(), None);
    watcher.stop();
    // Stopped: later changes are not picked up.
    write_atomically(&path, &format!("{K1}\n"));
    std::thread::sleep(TICK * 5);
    assert_eq!(handle.current().primary_id(), 2);
}
