//! Counters of legacy cookies migrated and refused, per source.

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{LegacyRejection, LegacySource, REJECTIONS, SOURCES};

/// Outcome slots per source: migrated, then one per rejection reason.
const OUTCOMES: usize = REJECTIONS + 1;

/// Shared by every clone of a manager.
pub(crate) struct Counters([[AtomicU64; OUTCOMES]; SOURCES]);

impl Counters {
    pub(crate) fn new() -> Self {
        Self(std::array::from_fn(|_| {
            std::array::from_fn(|_| AtomicU64::new(0))
        }))
    }

    fn slot(&self, source: LegacySource, outcome: usize) -> Option<&AtomicU64> {
        self.0.get(source.index()).and_then(|row| row.get(outcome))
    }

    pub(crate) fn migrated(&self, source: LegacySource) {
        if let Some(slot) = self.slot(source, 0) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn rejected(&self, source: LegacySource, reason: LegacyRejection) {
        if let Some(slot) = self.slot(source, reason.index().saturating_add(1)) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> LegacyStats {
        LegacyStats(
            self.0
                .each_ref()
                .map(|row| row.each_ref().map(|n| n.load(Ordering::Relaxed))),
        )
    }
}

/// A snapshot of the legacy cookies a manager (and its clones) migrated
/// and refused since it was built, by source and reason.
///
/// ```
/// # use std::time::SystemTime;
/// # use sealed_session::migrate::{LegacyConfig, LegacyCookie, LegacyKey, LegacyRejection, LegacySource};
/// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
/// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// # let legacy = LegacyConfig::new(SystemTime::now())
/// #     .cookie(LegacyCookie::new(LegacySource::CookiePrivate, "user").key(LegacyKey::derive_from(&[1; 32])?));
/// let manager = SessionManager::<String>::new(SessionConfig::new(CookieConfig::default()), keys)?
///     .with_legacy_cookies(legacy, |legacy| legacy.text().map(str::to_owned))?;
/// let stats = manager.legacy_stats();
/// assert_eq!(stats.migrated(), 0);
/// assert_eq!(stats.rejected(), 0);
/// assert_eq!(stats.rejected_for(LegacyRejection::Sunset), 0);
/// assert_eq!(stats.migrated_from(LegacySource::CookiePrivate), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LegacyStats([[u64; OUTCOMES]; SOURCES]);

impl LegacyStats {
    fn count(&self, source: LegacySource, outcome: usize) -> u64 {
        self.0
            .get(source.index())
            .and_then(|row| row.get(outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Sessions migrated from `source`.
    ///
    /// See the example on [`LegacyStats`].
    pub fn migrated_from(&self, source: LegacySource) -> u64 {
        self.count(source, 0)
    }

    /// Legacy cookies from `source` refused for `reason`.
    ///
    /// ```
    /// # use sealed_session::migrate::{LegacyRejection, LegacySource, LegacyStats};
    /// # fn check(stats: LegacyStats) {
    /// let expired = stats.rejected_from(LegacySource::TowerSessionsSigned, LegacyRejection::Expired);
    /// # let _ = expired;
    /// # }
    /// ```
    pub fn rejected_from(&self, source: LegacySource, reason: LegacyRejection) -> u64 {
        self.count(source, reason.index().saturating_add(1))
    }

    /// Sessions migrated, from every source.
    ///
    /// See the example on [`LegacyStats`].
    pub fn migrated(&self) -> u64 {
        LegacySource::ALL
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(self.migrated_from(*s)))
    }

    /// Legacy cookies refused for `reason`, from every source.
    ///
    /// See the example on [`LegacyStats`].
    pub fn rejected_for(&self, reason: LegacyRejection) -> u64 {
        LegacySource::ALL.iter().fold(0u64, |sum, s| {
            sum.saturating_add(self.rejected_from(*s, reason))
        })
    }

    /// Legacy cookies refused, for every reason and source.
    ///
    /// See the example on [`LegacyStats`].
    pub fn rejected(&self) -> u64 {
        LegacyRejection::ALL
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(self.rejected_for(*r)))
    }
}

impl fmt::Debug for LegacyStats {
    /// Only the non-zero counts, labelled `source/outcome`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_map();
        for source in LegacySource::ALL {
            let migrated = self.migrated_from(source);
            if migrated > 0 {
                out.entry(&format_args!("{source}/migrated"), &migrated);
            }
            for reason in LegacyRejection::ALL {
                let n = self.rejected_from(source, reason);
                if n > 0 {
                    out.entry(&format_args!("{source}/{reason}"), &n);
                }
            }
        }
        out.finish()
    }
}
