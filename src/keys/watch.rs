//! Key files that reload themselves: [`KeyringHandle::watch_file`].
//!
//! A background thread re-reads the key file on every tick and swaps the
//! keyring when the file's content has changed and stayed the same for two
//! ticks in a row (a half-written file is never loaded). It compares
//! content, not modification times: a Kubernetes Secret update swaps a
//! `..data` symlink to a new directory whose file may carry the same
//! modification time as the old one. A file that is missing or does not
//! parse is reported once per distinct problem, and the running keys stay.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::keyring::Keyring;
use crate::keyring_handle::KeyringHandle;

/// Watches a key file for a [`KeyringHandle`]; stops when dropped or
/// [`stop`](Self::stop)ped. Made by [`KeyringHandle::watch_file`].
pub struct KeyFileWatcher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    status: Arc<Status>,
}

#[derive(Default)]
struct Status {
    reloads: AtomicU64,
    problem: Mutex<Option<String>>,
}

impl core::fmt::Debug for KeyFileWatcher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyFileWatcher")
            .field("reloads", &self.reloads())
            .field("problem", &self.problem())
            .finish_non_exhaustive()
    }
}

impl KeyFileWatcher {
    /// How many times the keyring was replaced from the file.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let dir = std::env::temp_dir().join(format!("keys-doc-reloads-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("keys");
    /// # std::fs::write(&path, "1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n")?;
    /// let handle = KeyringHandle::new(Keyring::from_file(&path)?);
    /// let watcher = handle.watch_file(&path, Duration::from_secs(1))?;
    /// assert_eq!(watcher.reloads(), 0, "nothing changed yet");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reloads(&self) -> u64 {
        self.status.reloads.load(Ordering::Relaxed)
    }

    /// The problem that stops the current file from being loaded (missing,
    /// unreadable, or not a valid keyring), in the library's words; `None`
    /// once the file loads again. Never contains key material.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let watcher = handle.watch_file("/nonexistent/keys", Duration::from_millis(10))?;
    /// while watcher.problem().is_none() {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// assert!(watcher.problem().unwrap().contains("/nonexistent/keys"));
    /// assert_eq!(handle.current().primary_id(), 1, "the running keys stay");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn problem(&self) -> Option<String> {
        self.status
            .problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops watching and waits for the thread to end.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// handle.watch_file("keys.txt", Duration::from_secs(1))?.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        // Dropping the sender wakes the thread at once.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for KeyFileWatcher {
    fn drop(&mut self) {
        self.halt();
    }
}

impl KeyringHandle {
    /// Keeps this handle in step with the key file at `path`, checking it
    /// every `interval` on a background thread (see the rotation procedure
    /// in SECURITY.md for how to change a shared key file safely).
    ///
    /// The file is re-read on every tick and compared by content: a new
    /// version is loaded once it has stayed the same for two ticks, so
    /// replace key files atomically (write a new file, then rename it over
    /// the old one, as Kubernetes does for Secrets). Keys with the same id
    /// and suite keep their counters and seal budget across reloads. A
    /// missing or invalid file is reported once (through `tracing` when
    /// that feature is on, and by [`KeyFileWatcher::problem`]) and the
    /// running keys stay in force.
    ///
    /// # Errors
    ///
    /// When the operating system cannot start the thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sealed_session::{Keyring, KeyringHandle};
    ///
    /// # let dir = std::env::temp_dir().join(format!("keys-doc-watch-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("session-keys");
    /// std::fs::write(&path, "1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n")?;
    /// let handle = KeyringHandle::new(Keyring::from_file(&path)?);
    /// let watcher = handle.watch_file(&path, Duration::from_millis(10))?;
    ///
    /// // A rotation's first phase, written atomically.
    /// let next = dir.join("session-keys.new");
    /// std::fs::write(&next, "1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n\
    ///                        2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")?;
    /// std::fs::rename(&next, &path)?;
    /// while watcher.reloads() == 0 {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// assert_eq!(handle.current().key_ids(), vec![1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch_file(
        &self,
        path: impl AsRef<Path>,
        interval: Duration,
    ) -> std::io::Result<KeyFileWatcher> {
        let path = path.as_ref().to_path_buf();
        let (stop, stopped) = mpsc::channel::<()>();
        let status = Arc::new(Status::default());
        let mut watch = Watch {
            path,
            handle: self.clone(),
            status: Arc::clone(&status),
            applied: None,
            pending: None,
            reported: None,
        };
        // What is in force now counts as applied: an unchanged file is
        // never reloaded.
        watch.applied = watch.read().ok();
        let thread = std::thread::Builder::new()
            .name("sealed-session-keys".to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    watch.tick();
                }
            })?;
        Ok(KeyFileWatcher {
            stop: Some(stop),
            thread: Some(thread),
            status,
        })
    }
}

type Content = Zeroizing<Vec<u8>>;

struct Watch {
    path: PathBuf,
    handle: KeyringHandle,
    status: Arc<Status>,
    /// The content the keyring in force was loaded from.
    applied: Option<Content>,
    /// A new content seen on the previous tick, waiting to be stable.
    pending: Option<Content>,
    /// The last problem reported, so each is reported once.
    reported: Option<String>,
}

impl Watch {
    fn read(&self) -> std::io::Result<Content> {
        std::fs::read(&self.path).map(Zeroizing::new)
    }

    fn tick(&mut self) {
        let content = match self.read() {
            Ok(content) => content,
            Err(err) => {
                let problem = format!(
                    "keys not reloaded: {} cannot be read ({}); keeping the running keys",
                    self.path.display(),
                    err.kind()
                );
                self.pending = None;
                self.report(problem);
                return;
            }
        };
        if self.applied.as_ref() == Some(&content) {
            self.pending = None;
            self.clear();
            return;
        }
        if self.pending.as_ref() != Some(&content) {
            // Changed since the last tick: possibly still being written.
            self.pending = Some(content);
            return;
        }
        self.pending = None;
        let parsed = core::str::from_utf8(&content)
            .map_err(|_| "it is not UTF-8 text".to_owned())
            .and_then(|text| text.parse::<Keyring>().map_err(|err| err.to_string()));
        match parsed {
            Ok(keyring) => {
                #[cfg(feature = "tracing")]
                tracing::info!(
                    target: crate::error::LOG_TARGET,
                    file = %self.path.display(),
                    primary = keyring.primary_id(),
                    ids = ?keyring.key_ids(),
                    "keys reloaded"
                );
                self.handle.replace(keyring);
                self.applied = Some(content);
                self.status.reloads.fetch_add(1, Ordering::Relaxed);
                self.clear();
            }
            Err(err) => {
                let problem = format!(
                    "keys not reloaded from {} (keeping the running keys): {err}",
                    self.path.display()
                );
                self.report(problem);
            }
        }
    }

    fn report(&mut self, problem: String) {
        if self.reported.as_ref() == Some(&problem) {
            return;
        }
        #[cfg(feature = "tracing")]
        tracing::error!(target: crate::error::LOG_TARGET, "{problem}");
        *self
            .status
            .problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(problem.clone());
        self.reported = Some(problem);
    }

    fn clear(&mut self) {
        if self.reported.take().is_none() {
            return;
        }
        *self
            .status
            .problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }
}
