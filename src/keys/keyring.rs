//! Keys with ids: one primary that seals, any number that only open.

use core::fmt;
use core::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::key::{Key, KeyError, KeyFingerprint};
use crate::limits::DEFAULT_AES_GCM_SEAL_BUDGET;
use crate::suite::{Cipher, Suite};
use crate::telemetry::KeyTelemetry;

/// A key's id, written in every sealed value's header (not secret).
pub type KeyId = u32;

/// A key together with its id, suite and seal budget, ready to join a
/// [`Keyring`].
///
/// ```
/// use sealed_session::{Key, KeySpec, Keyring, Suite};
/// let spec = KeySpec::new(3, Key::generate()).suite(Suite::Aes256Gcm).seal_budget(1_000_000);
/// let keyring = Keyring::new(spec);
/// assert_eq!(keyring.suite(3), Some(Suite::Aes256Gcm));
/// assert_eq!(keyring.seal_budget(3), Some(1_000_000));
/// ```
#[derive(Debug)]
pub struct KeySpec {
    id: KeyId,
    key: Key,
    suite: Suite,
    seal_budget: Option<u64>,
}

impl KeySpec {
    /// A key with the default suite ([`Suite::Xaes256Gcm`]).
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Suite};
    /// let spec = KeySpec::new(1, Key::generate());
    /// assert_eq!(Keyring::new(spec).suite(1), Some(Suite::Xaes256Gcm));
    /// ```
    pub fn new(id: KeyId, key: Key) -> Self {
        Self {
            id,
            key,
            suite: Suite::default(),
            seal_budget: None,
        }
    }

    /// Uses another cipher suite with this key.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Suite};
    /// let spec = KeySpec::new(1, Key::generate()).suite(Suite::XChaCha20Poly1305);
    /// assert_eq!(Keyring::new(spec).suite(1), Some(Suite::XChaCha20Poly1305));
    /// ```
    pub fn suite(mut self, suite: Suite) -> Self {
        self.suite = suite;
        self
    }

    /// Caps how many values this process may seal with the key; past it,
    /// sealing fails with [`ErrorKind::KeyExhausted`](crate::ErrorKind::KeyExhausted).
    /// [`Suite::Aes256Gcm`] keys default to [`DEFAULT_AES_GCM_SEAL_BUDGET`];
    /// the 192-bit-nonce suites default to no cap.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Suite};
    /// // A fleet of 64 servers sharing the key: 2^32 / 64 each.
    /// let spec = KeySpec::new(1, Key::generate()).suite(Suite::Aes256Gcm).seal_budget(1 << 26);
    /// assert_eq!(sealed_session::Keyring::new(spec).seal_budget(1), Some(1 << 26));
    /// ```
    pub fn seal_budget(mut self, seals: u64) -> Self {
        self.seal_budget = Some(seals);
        self
    }

    fn into_entry(self) -> Arc<KeyEntry> {
        let budget = self.seal_budget.or(match self.suite {
            Suite::Aes256Gcm => Some(DEFAULT_AES_GCM_SEAL_BUDGET),
            Suite::Xaes256Gcm | Suite::XChaCha20Poly1305 => None,
        });
        Arc::new(KeyEntry {
            id: self.id,
            suite: self.suite,
            cipher: Cipher::new(self.suite, &self.key),
            fingerprint: self.key.fingerprint(),
            telemetry: KeyTelemetry::new(self.id),
            seals: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            seal_budget: budget,
        })
        // `self.key` is dropped, and zeroized, here: only the cipher remains.
    }
}

/// One key's cipher, built once; shared between keyring versions so that
/// counters survive rotation.
///
/// Successful opens are deliberately not counted: a request that only
/// reads its session writes no shared memory (no contended cache line
/// across cores). Seals and authentication failures are counted.
pub(crate) struct KeyEntry {
    pub(crate) id: KeyId,
    pub(crate) suite: Suite,
    pub(crate) cipher: Cipher,
    fingerprint: KeyFingerprint,
    telemetry: KeyTelemetry,
    seals: AtomicU64,
    auth_failures: AtomicU64,
    seal_budget: Option<u64>,
}

impl KeyEntry {
    pub(crate) fn count_auth_failure(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
        self.telemetry.auth_failure();
    }

    /// Whether `key` is this entry's key. The key bytes are gone, so the
    /// comparison goes through the cipher: `key` in this entry's suite
    /// must give the same probe tag, compared in constant time.
    fn holds(&self, key: &Key) -> Choice {
        let other = Cipher::new(self.suite, key);
        match (self.cipher.probe(), other.probe()) {
            (Ok(mine), Ok(theirs)) => mine.ct_eq(&*theirs),
            _ => Choice::from(0),
        }
    }

    /// Counts one seal; `false` once the budget is spent. Warns once as
    /// the count reaches half and nine tenths of the budget, so operators
    /// rotate before sealing stops.
    pub(crate) fn reserve_seal(&self) -> bool {
        let before = self.seals.fetch_add(1, Ordering::Relaxed);
        self.telemetry
            .sealed(before.saturating_add(1), self.seal_budget);
        let Some(budget) = self.seal_budget else {
            return true;
        };
        #[cfg(feature = "tracing")]
        {
            let count = before.saturating_add(1);
            for percent in [50u64, 90] {
                let mark = budget.saturating_mul(percent).div_ceil(100).max(1);
                if count == mark {
                    tracing::warn!(
                        target: crate::error::LOG_TARGET,
                        key_id = self.id,
                        seals = count,
                        budget,
                        "AES-256-GCM key has used {percent} % of its seal budget: promote a new \
                         key before it runs out (sealing with it stops at 100 %)"
                    );
                }
            }
        }
        before < budget
    }
}

/// One key's counters in this process, from [`Keyring::metrics`]: they
/// start at zero when the key joins a keyring and survive rotation and
/// reloads of the key file.
///
/// ```
/// # use sealed_session::{Key, KeySpec, Keyring};
/// let keyring = Keyring::new(KeySpec::new(7, Key::generate()));
/// let key = &keyring.metrics()[0];
/// assert_eq!((key.key_id, key.seals, key.auth_failures, key.seal_budget), (7, 0, 0, None));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct KeyMetrics {
    /// The key's id.
    pub key_id: KeyId,
    /// The suite the key is used with.
    pub suite: Suite,
    /// Whether the key is the primary (the one that seals).
    pub primary: bool,
    /// The key's non-secret fingerprint.
    pub fingerprint: KeyFingerprint,
    /// Values sealed with the key (or attempted past its budget).
    pub seals: u64,
    /// Values naming the key that failed authentication.
    pub auth_failures: u64,
    /// The key's seal budget in this process, if it has one (AES-256-GCM).
    pub seal_budget: Option<u64>,
}

impl KeyMetrics {
    /// The share of the seal budget used, from 0 to 1 (above 1 once
    /// sealing attempts went past it); `None` without a budget.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Suite};
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()).suite(Suite::Aes256Gcm));
    /// assert_eq!(keyring.metrics()[0].seal_budget_used(), Some(0.0));
    /// ```
    #[allow(
        clippy::cast_precision_loss,
        reason = "a ratio for dashboards; counts stay far below 2^53"
    )]
    pub fn seal_budget_used(&self) -> Option<f64> {
        self.seal_budget
            .filter(|budget| *budget > 0)
            .map(|budget| self.seals as f64 / budget as f64)
    }
}

/// A set of keys: exactly one primary, which seals, and any number of
/// accept-only keys, which open values sealed before a rotation.
///
/// Cloning is cheap (a reference count). Rotation methods change this
/// handle only; hand the new keyring to the session layer to make it live.
///
/// Rotating keys without logging anyone out takes three phases across a
/// fleet (add, promote, retire); the README's "Rotating keys across a
/// running fleet" has the procedure. In code:
///
/// ```
/// use sealed_session::{Key, KeySpec, Keyring};
///
/// let mut keyring = Keyring::new(KeySpec::new(1, Key::generate()));
/// keyring.add_accept_only(KeySpec::new(2, Key::generate()))?;
/// keyring.promote(2)?;
/// keyring.retire(1)?;
/// assert_eq!(keyring.primary_id(), 2);
/// assert_eq!(keyring.key_ids(), vec![2]);
/// # Ok::<(), sealed_session::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    primary: Arc<KeyEntry>,
    /// Accept-only keys, most recently demoted first.
    others: Vec<Arc<KeyEntry>>,
}

/// Where a key id sits in a keyring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Primary,
    Other(usize),
}

impl Keyring {
    /// A keyring whose only key is the primary.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// assert_eq!(keyring.primary_id(), 1);
    /// ```
    pub fn new(primary: KeySpec) -> Self {
        Self {
            inner: Arc::new(Inner {
                primary: primary.into_entry(),
                others: Vec::new(),
            }),
        }
    }

    /// Adds a key that opens values but does not seal them (step 1 of a
    /// rotation). Its id must be new, and so must its key bytes: the same
    /// key under two ids (in any suites) is refused, compared in constant
    /// time.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateKeyId`] for an id already in the keyring,
    /// [`KeyError::DuplicateKey`] for key bytes already there under another
    /// id.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Suite};
    /// # use sealed_session::KeyError;
    /// let key = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    /// let mut keyring = Keyring::new(KeySpec::new(1, key.parse()?));
    /// keyring.add_accept_only(KeySpec::new(2, Key::generate()))?;
    /// assert_eq!(keyring.primary_id(), 1);
    /// let again = keyring.add_accept_only(KeySpec::new(2, Key::generate()));
    /// assert_eq!(again.unwrap_err(), KeyError::DuplicateKeyId(2));
    /// let same_key = keyring.add_accept_only(KeySpec::new(3, key.parse()?).suite(Suite::Aes256Gcm));
    /// assert_eq!(same_key.unwrap_err(), KeyError::DuplicateKey { id: 3, existing: 1 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_accept_only(&mut self, spec: KeySpec) -> Result<(), KeyError> {
        if self.contains(spec.id) {
            return Err(KeyError::DuplicateKeyId(spec.id));
        }
        // Every key is compared, without early exit.
        let mut same = Choice::from(0);
        let mut existing: KeyId = 0;
        for entry in self.entries() {
            let hit = entry.holds(&spec.key);
            existing.conditional_assign(&entry.id, hit);
            same |= hit;
        }
        if bool::from(same) {
            return Err(KeyError::DuplicateKey {
                id: spec.id,
                existing,
            });
        }
        Arc::make_mut(&mut self.inner)
            .others
            .push(spec.into_entry());
        Ok(())
    }

    /// Makes a key already in the keyring the primary; the previous primary
    /// becomes accept-only (step 2 of a rotation).
    ///
    /// # Errors
    ///
    /// [`KeyError::UnknownKeyId`] if no key has that id.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// # use sealed_session::KeyError;
    /// let mut keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// assert_eq!(keyring.promote(2).unwrap_err(), KeyError::UnknownKeyId(2));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn promote(&mut self, id: KeyId) -> Result<(), KeyError> {
        match self.position(id).ok_or(KeyError::UnknownKeyId(id))? {
            Slot::Primary => {}
            Slot::Other(index) => {
                let inner = Arc::make_mut(&mut self.inner);
                let promoted = inner.others.remove(index);
                let demoted = core::mem::replace(&mut inner.primary, promoted);
                inner.others.insert(0, demoted);
            }
        }
        Ok(())
    }

    /// Removes an accept-only key: values sealed under it stop opening
    /// (step 3 of a rotation, after the absolute session lifetime).
    ///
    /// # Errors
    ///
    /// [`KeyError::UnknownKeyId`] if no key has that id,
    /// [`KeyError::RetirePrimary`] for the primary (promote another key
    /// first).
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// # use sealed_session::KeyError;
    /// let mut keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// assert_eq!(keyring.retire(1).unwrap_err(), KeyError::RetirePrimary(1));
    /// ```
    pub fn retire(&mut self, id: KeyId) -> Result<(), KeyError> {
        match self.position(id) {
            None => Err(KeyError::UnknownKeyId(id)),
            Some(Slot::Primary) => Err(KeyError::RetirePrimary(id)),
            Some(Slot::Other(index)) => {
                Arc::make_mut(&mut self.inner).others.remove(index);
                Ok(())
            }
        }
    }

    /// The id of the key that seals.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// let keyring = Keyring::new(KeySpec::new(9, Key::generate()));
    /// assert_eq!(keyring.primary_id(), 9);
    /// ```
    pub fn primary_id(&self) -> KeyId {
        self.inner.primary.id
    }

    /// Every key id, primary first.
    ///
    /// ```
    /// # use sealed_session::Keyring;
    /// let keyring: Keyring = "2:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=,1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=".parse()?;
    /// assert_eq!(keyring.key_ids(), vec![2, 1]);
    /// # Ok::<(), sealed_session::KeyError>(())
    /// ```
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.entries().map(|e| e.id).collect()
    }

    /// Whether a key with this id is in the keyring.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// assert!(keyring.contains(1) && !keyring.contains(2));
    /// ```
    pub fn contains(&self, id: KeyId) -> bool {
        self.position(id).is_some()
    }

    /// The suite a key is used with.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Suite};
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// assert_eq!(keyring.suite(1), Some(Suite::Xaes256Gcm));
    /// ```
    pub fn suite(&self, id: KeyId) -> Option<Suite> {
        self.entry(id).map(|e| e.suite)
    }

    /// How many values this process has sealed with a key (or tried to,
    /// once its budget was spent); counted since the key joined a keyring.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// assert_eq!(keyring.seal_count(1), Some(0));
    /// ```
    pub fn seal_count(&self, id: KeyId) -> Option<u64> {
        self.entry(id).map(|e| e.seals.load(Ordering::Relaxed))
    }

    /// The seal budget of a key in this process (`None`: unlimited, as for
    /// the nonce-misuse-safe suites). With [`Keyring::seal_count`] it gives
    /// the share used; a `tracing` warning marks 50 % and 90 %.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Suite};
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()).suite(Suite::Aes256Gcm).seal_budget(1000));
    /// assert_eq!(keyring.seal_budget(1), Some(1000));
    /// let default = Keyring::new(KeySpec::new(2, Key::generate()));
    /// assert_eq!(default.seal_budget(2), None);
    /// ```
    pub fn seal_budget(&self, id: KeyId) -> Option<u64> {
        self.entry(id).and_then(|e| e.seal_budget)
    }

    /// How many values naming this key failed authentication in this
    /// process: forgeries, tampering, or a different key under a reused id.
    /// A rising count is worth an alert.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    /// assert_eq!(keyring.auth_failure_count(1), Some(0));
    /// ```
    pub fn auth_failure_count(&self, id: KeyId) -> Option<u64> {
        self.entry(id)
            .map(|e| e.auth_failures.load(Ordering::Relaxed))
    }

    /// A key's non-secret fingerprint (see [`Key::fingerprint`]), to tell
    /// which key an id holds without showing the key.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring};
    /// let key = Key::generate();
    /// let expected = key.fingerprint();
    /// let keyring = Keyring::new(KeySpec::new(1, key));
    /// assert_eq!(keyring.fingerprint(1), Some(expected));
    /// assert_eq!(keyring.fingerprint(2), None);
    /// ```
    pub fn fingerprint(&self, id: KeyId) -> Option<KeyFingerprint> {
        self.entry(id).map(|e| e.fingerprint)
    }

    /// A snapshot of every key's counters in this process, primary first.
    ///
    /// ```
    /// # use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta, Suite};
    /// # use sealed_session::codec::Codec;
    /// let keyring = Keyring::new(KeySpec::new(1, Key::generate()).suite(Suite::Aes256Gcm).seal_budget(100));
    /// let codec = Codec::new("s")?;
    /// codec.seal(&keyring, &SessionMeta::new(Lifetimes::default())?, &())?;
    /// let keys = keyring.metrics();
    /// assert_eq!((keys[0].key_id, keys[0].primary, keys[0].seals), (1, true, 1));
    /// assert_eq!(keys[0].seal_budget_used(), Some(0.01));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> Vec<KeyMetrics> {
        let primary = self.primary_id();
        self.entries()
            .map(|e| KeyMetrics {
                key_id: e.id,
                suite: e.suite,
                primary: e.id == primary,
                fingerprint: e.fingerprint,
                seals: e.seals.load(Ordering::Relaxed),
                auth_failures: e.auth_failures.load(Ordering::Relaxed),
                seal_budget: e.seal_budget,
            })
            .collect()
    }

    /// Reads a keyring from an environment variable holding a keyring
    /// string (see [`Keyring::from_str`]). Only reads the environment.
    ///
    /// # Errors
    ///
    /// [`KeyError::Env`] if the variable is unset or not UTF-8, then as
    /// [`Keyring::from_str`](std::str::FromStr::from_str).
    ///
    /// ```
    /// # use sealed_session::Keyring;
    /// # use sealed_session::KeyError;
    /// let err = Keyring::from_env("SEALED_SESSION_DOC_UNSET").unwrap_err();
    /// assert!(matches!(err, KeyError::Env { .. }));
    /// ```
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let text = zeroize::Zeroizing::new(std::env::var(var).map_err(|_| KeyError::Env {
            var: var.to_owned(),
        })?);
        text.parse()
    }

    /// Reads a keyring string from a file, e.g. a mounted secret: one
    /// entry per line (or comma-separated), primary first, `#` comment
    /// lines and blank lines allowed (see [`Keyring::from_str`]). The file
    /// must be UTF-8.
    ///
    /// # Errors
    ///
    /// [`KeyError::Io`] if the file cannot be read, then as
    /// [`Keyring::from_str`](std::str::FromStr::from_str).
    ///
    /// ```
    /// # use sealed_session::Keyring;
    /// # use sealed_session::KeyError;
    /// let path = std::env::temp_dir().join(format!("sealed-session-doc-{}", std::process::id()));
    /// std::fs::write(&path, "# session keys, primary first\n\
    ///                        2:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n\
    ///                        1:aes-256-gcm:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n")?;
    /// let keyring = Keyring::from_file(&path)?;
    /// # std::fs::remove_file(&path)?;
    /// assert_eq!(keyring.key_ids(), vec![2, 1]);
    ///
    /// let err = Keyring::from_file("/nonexistent/keys").unwrap_err();
    /// assert!(matches!(err, KeyError::Io { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text =
            zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|err| KeyError::Io {
                path: path.display().to_string(),
                message: err.kind().to_string(),
            })?);
        text.parse()
    }

    pub(crate) fn primary_entry(&self) -> &KeyEntry {
        &self.inner.primary
    }

    /// Every key, primary first.
    fn entries(&self) -> impl Iterator<Item = &KeyEntry> {
        core::iter::once(&*self.inner.primary).chain(self.inner.others.iter().map(|e| &**e))
    }

    /// One pass over every key, without early exit, comparing ids in
    /// constant time: the lookup is the same work whatever the id.
    fn position(&self, id: KeyId) -> Option<Slot> {
        let primary = self.inner.primary.id.ct_eq(&id);
        let mut found = primary;
        let mut index = 0u64;
        for (i, entry) in (0u64..).zip(&self.inner.others) {
            let hit = entry.id.ct_eq(&id);
            index.conditional_assign(&i, hit);
            found |= hit;
        }
        if bool::from(primary) {
            Some(Slot::Primary)
        } else if bool::from(found) {
            usize::try_from(index).ok().map(Slot::Other)
        } else {
            None
        }
    }

    /// Carries the counters of `previous` over to keys of the same id and
    /// suite, so a keyring parsed again (a reloaded key file) keeps counting
    /// its AES-GCM seal budget instead of starting from zero. Ids are never
    /// reused for another key, so the same id means the same key; if one
    /// were, the budget would only be over-counted.
    pub(crate) fn inherit_counters(&self, previous: &Keyring) {
        for id in self.key_ids() {
            let (Some(new), Some(old)) = (self.entry(id), previous.entry(id)) else {
                continue;
            };
            if new.suite != old.suite || std::ptr::eq(new, old) {
                continue;
            }
            for (to, from) in [
                (&new.seals, &old.seals),
                (&new.auth_failures, &old.auth_failures),
            ] {
                to.fetch_max(from.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn entry(&self, id: KeyId) -> Option<&KeyEntry> {
        match self.position(id)? {
            Slot::Primary => Some(&self.inner.primary),
            Slot::Other(index) => self.inner.others.get(index).map(|e| &**e),
        }
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_struct("Keyring");
        list.field("primary", &self.primary_id());
        let keys: Vec<_> = self.entries().map(|e| (e.id, e.suite.name())).collect();
        list.field("keys", &keys).finish()
    }
}

/// Parses a keyring string: `id:key` or `id:suite:key` entries, the
/// primary first, e.g. `SESSION_KEYS="2:<base64>,1:<base64>"`.
///
/// - Entries are separated by commas or line breaks (`\n` or `\r\n`); a
///   comma at the end of a line continues onto the next one. Lines that
///   are blank or whose first non-blank character is `#` are skipped, so a
///   key file can carry comments. Blanks around entries and fields are
///   ignored; an empty entry (`1:k,,2:k`, or a trailing comma at the end)
///   is an error.
/// - `id` is a key id in decimal, 0 to 4294967295, without a sign or
///   leading zeros (`0` itself is fine; `+1` and `01` are not).
/// - `suite` is one of `xaes-256-gcm` (the default when omitted),
///   `xchacha20-poly1305` or `aes-256-gcm`, in any letter case.
/// - `key` is 32 bytes in base64 or hex, as for [`Key::from_str`](Key).
/// - Ids must be unique, and so must keys (see
///   [`Keyring::add_accept_only`]).
///
/// Errors name the entry by its position (1-based, counting entries only)
/// and never show key material.
///
/// ```
/// use sealed_session::{Keyring, Suite};
/// use sealed_session::KeyError;
///
/// let keyring: Keyring = "2:xchacha20-poly1305:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=,\
///                         1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=".parse()?;
/// assert_eq!(keyring.primary_id(), 2);
/// assert_eq!(keyring.suite(2), Some(Suite::XChaCha20Poly1305));
///
/// // A key file: one entry per line, comments allowed.
/// let file = [
///     "# promoted 2026-03-01",
///     "2:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
///     "",
///     "# retire after 2026-03-02",
///     "1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
/// ]
/// .join("\n");
/// assert_eq!(file.parse::<Keyring>()?.key_ids(), vec![2, 1]);
///
/// let err = "1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=,2:c2hvcnQ=".parse::<Keyring>().unwrap_err();
/// assert!(err.to_string().starts_with("keyring entry 2 (key id 2): key must be exactly 32 bytes"));
/// # Ok::<(), KeyError>(())
/// ```
impl FromStr for Keyring {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .peekable();
        let mut keyring: Option<Keyring> = None;
        let mut entry = 0usize;
        while let Some(line) = lines.next() {
            // A comma ending a line that another follows is a continuation.
            let line = match (lines.peek(), line.strip_suffix(',')) {
                (Some(_), Some(continued)) => continued,
                _ => line,
            };
            for raw in line.split(',') {
                entry = entry.saturating_add(1);
                let spec = parse_entry(entry, raw.trim())?;
                match &mut keyring {
                    None => keyring = Some(Keyring::new(spec)),
                    Some(ring) => ring.add_accept_only(spec)?,
                }
            }
        }
        keyring.ok_or(KeyError::EmptyKeyring)
    }
}

fn parse_entry(entry: usize, raw: &str) -> Result<KeySpec, KeyError> {
    let syntax = |reason| KeyError::Syntax { entry, reason };
    if raw.is_empty() {
        return Err(if entry == 1 {
            KeyError::EmptyKeyring
        } else {
            syntax("the entry is empty")
        });
    }
    let mut parts = raw.splitn(3, ':');
    let id_text = parts.next().unwrap_or_default();
    let (suite, key_text) = match (parts.next(), parts.next()) {
        (Some(key), None) => (Suite::default(), key),
        (Some(suite), Some(key)) => (
            suite.trim().parse().map_err(|_| {
                syntax("unknown suite (xaes-256-gcm, xchacha20-poly1305, aes-256-gcm)")
            })?,
            key,
        ),
        (None, _) => return Err(syntax("missing `id:` before the key")),
    };
    let id = parse_id(id_text.trim()).ok_or_else(|| {
        syntax(
            "the id is not a number from 0 to 4294967295 in decimal digits, \
             without a sign or leading zeros",
        )
    })?;
    let key = key_text.parse::<Key>().map_err(|source| KeyError::Entry {
        entry,
        id,
        source: Box::new(source),
    })?;
    Ok(KeySpec::new(id, key).suite(suite))
}

/// A key id in canonical decimal: digits only, no leading zero (but `0`).
fn parse_id(text: &str) -> Option<KeyId> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let canonical = text == "0" || !text.starts_with('0');
    if digits && canonical {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use base64ct::Encoding as _;

    use super::*;

    const K1: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    const K2: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

    #[test]
    fn rotation_states() {
        let mut ring = Keyring::new(KeySpec::new(1, K1.parse().unwrap()));
        assert_eq!(
            ring.add_accept_only(KeySpec::new(1, K2.parse().unwrap())),
            Err(KeyError::DuplicateKeyId(1))
        );
        ring.add_accept_only(KeySpec::new(2, K2.parse().unwrap()))
            .unwrap();
        let before = ring.clone();
        ring.promote(2).unwrap();
        assert_eq!(ring.key_ids(), vec![2, 1]);
        assert_eq!(before.key_ids(), vec![1, 2], "clones are unaffected");
        assert_eq!(ring.retire(2), Err(KeyError::RetirePrimary(2)));
        assert_eq!(ring.retire(3), Err(KeyError::UnknownKeyId(3)));
        ring.retire(1).unwrap();
        assert_eq!(ring.key_ids(), vec![2]);
        ring.promote(2).unwrap();
        assert_eq!(ring.primary_id(), 2);
    }

    #[test]
    fn parse_reports_the_bad_entry_without_key_material() {
        let cases: &[(&str, &str)] = &[
            ("", "keyring is empty"),
            (" , ", "keyring is empty"),
            (&format!("1:{K1},"), "entry 2: the entry is empty"),
            (&format!("1:{K1},{K2}"), "entry 2: missing `id:`"),
            (&format!("x:{K1}"), "entry 1: the id is not a number"),
            (&format!("1:rot13:{K1}"), "entry 1: unknown suite"),
            (&format!("1:{K1},1:{K2}"), "key id 1 appears twice"),
            ("5:AAAA", "entry 1 (key id 5): key must be exactly 32 bytes"),
            (&format!("1:{K1},2:{}", &K2[..40]), "entry 2 (key id 2)"),
        ];
        for (text, expected) in cases {
            let err = text.parse::<Keyring>().unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(expected), "{text:?}: {shown}");
            assert!(
                !shown.contains(&K1[..20]) && !shown.contains(&K2[..20]),
                "{shown}"
            );
        }
    }

    #[test]
    fn parse_suites_and_whitespace() {
        let ring: Keyring = format!(" 7:aes-256-gcm:{K1} ,\n 3:{K2} ").parse().unwrap();
        assert_eq!(ring.key_ids(), vec![7, 3]);
        assert_eq!(ring.suite(7), Some(Suite::Aes256Gcm));
        assert_eq!(ring.suite(3), Some(Suite::Xaes256Gcm));
        let shown = format!("{ring:?}");
        assert_eq!(
            shown,
            r#"Keyring { primary: 7, keys: [(7, "aes-256-gcm"), (3, "xaes-256-gcm")] }"#
        );
    }

    #[test]
    fn entries_on_separate_lines_with_comments() {
        for text in [
            format!("1:{K1}\n2:{K2}"),
            format!("1:{K1}\r\n2:{K2}\r\n"),
            format!("# primary\n1:{K1}\n\n   # old key, retire in May\n2:{K2}\n"),
            format!("1:{K1},\n2:{K2}"),
            format!("  1:{K1} ,  \n\t2:{K2}\t"),
            format!("1:{K1},2:{K2}\n# end"),
        ] {
            let ring: Keyring = text.parse().unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(ring.key_ids(), vec![1, 2], "{text:?}");
        }
        let ring: Keyring = format!("1:aes-256-gcm:{K1}\n2:xchacha20-poly1305:{K2}")
            .parse()
            .unwrap();
        assert_eq!(ring.suite(1), Some(Suite::Aes256Gcm));
        assert_eq!(ring.suite(2), Some(Suite::XChaCha20Poly1305));
        for (text, expected) in [
            (format!("1:{K1},\n,2:{K2}"), "entry 2: the entry is empty"),
            (format!("1:{K1}\n2:{K2},"), "entry 3: the entry is empty"),
            (format!("1:{K1}\n2:{K2} # old"), "entry 2 (key id 2)"),
            ("# only a comment\n\n".to_owned(), "keyring is empty"),
        ] {
            let err = text.parse::<Keyring>().unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(
                !err.contains(&K1[..20]) && !err.contains(&K2[..20]),
                "{err}"
            );
        }
    }

    #[test]
    fn key_ids_are_canonical_decimal() {
        for id in ["0", "1", "42", "4294967295"] {
            let ring: Keyring = format!("{id}:{K1}").parse().unwrap();
            assert_eq!(ring.primary_id().to_string(), id);
        }
        for id in ["+1", "01", "00", "-1", "1_0", "0x1", "１", "4294967296", ""] {
            let err = format!("{id}:{K1}").parse::<Keyring>().unwrap_err();
            assert!(
                matches!(err, KeyError::Syntax { entry: 1, .. }),
                "{id:?}: {err}"
            );
            assert!(err.to_string().contains("leading zeros"), "{id:?}: {err}");
        }
    }

    #[test]
    fn the_same_key_under_two_ids_is_refused() {
        for first in Suite::ALL {
            for second in Suite::ALL {
                let text = format!("1:{first}:{K1},7:{second}:{K1}");
                let err = text.parse::<Keyring>().unwrap_err();
                assert_eq!(err, KeyError::DuplicateKey { id: 7, existing: 1 });
                let shown = format!("{err} {err:?}");
                assert!(shown.contains("openssl rand -base64 32"), "{shown}");
                assert!(!shown.contains(&K1[..20]), "{shown}");

                let mut ring = Keyring::new(KeySpec::new(1, K2.parse().unwrap()).suite(first));
                ring.add_accept_only(KeySpec::new(2, K1.parse().unwrap()).suite(second))
                    .unwrap();
                let again = ring.add_accept_only(KeySpec::new(3, K1.parse().unwrap()));
                assert_eq!(again, Err(KeyError::DuplicateKey { id: 3, existing: 2 }));
                let again = ring.add_accept_only(KeySpec::new(4, K2.parse().unwrap()));
                assert_eq!(again, Err(KeyError::DuplicateKey { id: 4, existing: 1 }));
                assert_eq!(ring.key_ids(), vec![1, 2]);
            }
        }
        // The same key in hex and in base64 is the same key.
        let hex = "ab".repeat(32);
        let b64 = base64ct::Base64::encode_string(&[0xab; 32]);
        let err = format!("1:{hex}\n2:{b64}").parse::<Keyring>().unwrap_err();
        assert_eq!(err, KeyError::DuplicateKey { id: 2, existing: 1 });
        // Through a handle's update too.
        let handle = crate::KeyringHandle::new(format!("1:{K1}").parse().unwrap());
        let err = handle
            .update(|ring| ring.add_accept_only(KeySpec::new(2, K1.parse().unwrap())))
            .unwrap_err();
        assert_eq!(err, KeyError::DuplicateKey { id: 2, existing: 1 });
        assert_eq!(handle.current().key_ids(), vec![1]);
    }

    #[test]
    fn budgets() {
        let ring = Keyring::new(KeySpec::new(1, K1.parse().unwrap()).suite(Suite::Aes256Gcm));
        assert_eq!(
            ring.primary_entry().seal_budget,
            Some(DEFAULT_AES_GCM_SEAL_BUDGET)
        );
        let ring = Keyring::new(KeySpec::new(1, K1.parse().unwrap()));
        assert_eq!(ring.primary_entry().seal_budget, None);
        let ring = Keyring::new(KeySpec::new(1, K1.parse().unwrap()).seal_budget(2));
        assert!(ring.primary_entry().reserve_seal());
        assert!(ring.primary_entry().reserve_seal());
        assert!(!ring.primary_entry().reserve_seal());
        assert_eq!(ring.seal_count(1), Some(3));
    }

    #[test]
    fn a_reloaded_keyring_keeps_counting_the_seal_budget() {
        let text = format!("1:aes-256-gcm:{K1},2:{K2}");
        let handle = crate::KeyringHandle::new(text.parse().unwrap());
        let spent = handle.current();
        for _ in 0..5 {
            assert!(spent.primary_entry().reserve_seal());
        }
        spent.entry(2).unwrap().count_auth_failure();
        // The key file is read again: same ids, fresh counters.
        handle.replace(text.parse().unwrap());
        assert_eq!(handle.current().seal_count(1), Some(5));
        assert_eq!(handle.current().auth_failure_count(2), Some(1));
        // Another suite under a reused id does not inherit.
        handle.replace(format!("1:{K1}").parse().unwrap());
        assert_eq!(handle.current().seal_count(1), Some(0));
    }
}
