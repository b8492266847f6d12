//! A keyring that can be swapped while the server runs.

use std::sync::{Arc, RwLock};

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
#[derive(Clone, Debug)]
pub struct KeyringHandle(Arc<RwLock<Keyring>>);

impl KeyringHandle {
    /// A handle holding `keyring`.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// assert_eq!(handle.current().primary_id(), 1);
    /// ```
    pub fn new(keyring: Keyring) -> Self {
        Self(Arc::new(RwLock::new(keyring)))
    }

    /// The keyring now in force (a cheap clone).
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, KeyringHandle};
    /// # let handle = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// assert_eq!(handle.current().key_ids(), vec![1]);
    /// ```
    pub fn current(&self) -> Keyring {
        match self.0.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
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
        keyring.inherit_counters(&self.current());
        match self.0.write() {
            Ok(mut ring) => *ring = keyring,
            Err(poisoned) => *poisoned.into_inner() = keyring,
        }
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
        let mut next = self.current();
        change(&mut next)?;
        self.replace(next);
        Ok(())
    }
}
