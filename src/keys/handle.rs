//! A keyring that can be swapped while the server runs.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::{ArcSwap, Guard};

use crate::keyring::Keyring;

/// A keyring that can be replaced while the server runs: the next request
/// uses the new one.
///
/// ```
/// use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
///
/// let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// handle.update(|ring| {
///     ring.add_accept_only(KeySpec::new(2, Key::generate()))?;
///     ring.promote(2)
/// })?;
/// assert_eq!(handle.current().primary_id(), 2);
/// # Ok::<(), sealed_session::KeyError>(())
/// ```
///
/// Reading the keyring writes no memory shared between threads (no lock,
/// no reference count), so every request can read it on any number of
/// cores without contending; replacing it is the slow path.
#[derive(Clone, Debug)]
pub struct KeyringHandle(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    current: ArcSwap<Keyring>,
    /// Serializes replacements, so that counters are inherited from the
    /// keyring actually replaced and concurrent updates are not lost.
    writer: Mutex<()>,
}

impl KeyringHandle {
    /// A handle holding `keyring`.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// assert_eq!(handle.current().primary_id(), 1);
    /// ```
    pub fn new(keyring: Keyring) -> Self {
        Self(Arc::new(Shared {
            current: ArcSwap::from_pointee(keyring),
            writer: Mutex::new(()),
        }))
    }

    /// The keyring now in force (a cheap clone).
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// assert_eq!(handle.current().key_ids(), vec![1]);
    /// ```
    pub fn current(&self) -> Keyring {
        Keyring::clone(&self.0.current.load())
    }

    /// The keyring now in force, borrowed for the duration of one seal or
    /// open: unlike [`KeyringHandle::current`], no reference count moves.
    pub(crate) fn load(&self) -> Guard<Arc<Keyring>> {
        self.0.current.load()
    }

    /// Replaces the keyring. Keys with the same id and suite keep their
    /// counters (seals against the AES-GCM budget, authentication failures), so
    /// re-reading a key file does not reset the budget.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// handle.replace(Keyring::new(KeySpec::new(5, Key::generate())));
    /// assert_eq!(handle.current().primary_id(), 5);
    /// ```
    pub fn replace(&self, keyring: Keyring) {
        let _writer = self.0.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.store(keyring);
    }

    /// Installs `keyring`, inheriting the counters of the one in force;
    /// the caller holds the writer lock.
    fn store(&self, keyring: Keyring) {
        keyring.inherit_counters(&self.0.current.load());
        self.0.current.store(Arc::new(keyring));
    }

    /// Changes the keyring in place; on error nothing changes.
    ///
    /// # Errors
    ///
    /// Whatever `change` returns; the keyring in force is then unchanged.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// assert!(handle.update(|ring| ring.retire(1)).is_err());
    /// assert_eq!(handle.current().key_ids(), vec![1]);
    /// ```
    pub fn update<E>(&self, change: impl FnOnce(&mut Keyring) -> Result<(), E>) -> Result<(), E> {
        let _writer = self.0.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = self.current();
        change(&mut next)?;
        self.store(next);
        Ok(())
    }
}
