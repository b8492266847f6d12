//! Reports counted events through the `metrics` facade when that feature
//! is on; every function is a no-op otherwise. Called only where a seal,
//! a deletion, a refusal or a failure already happens, never on a
//! successful read.

use crate::keyring::KeyId;
use crate::metrics::RejectionKind;

#[cfg(feature = "metrics")]
pub(crate) mod names {
    pub(crate) const CREATED: &str = "sealed_session_sessions_created_total";
    pub(crate) const RESEALED: &str = "sealed_session_sessions_resealed_total";
    pub(crate) const DESTROYED: &str = "sealed_session_sessions_destroyed_total";
    pub(crate) const SKIPPED: &str = "sealed_session_refreshes_skipped_total";
    pub(crate) const REJECTED: &str = "sealed_session_cookies_rejected_total";
    pub(crate) const KEY_SEALS: &str = "sealed_session_key_seals_total";
    pub(crate) const KEY_AUTH_FAILURES: &str = "sealed_session_key_auth_failures_total";
    pub(crate) const KEY_BUDGET: &str = "sealed_session_key_seal_budget_used_ratio";
}

#[cfg(feature = "metrics")]
fn count(name: &'static str) {
    ::metrics::counter!(name).increment(1);
}

pub(crate) fn session_created() {
    #[cfg(feature = "metrics")]
    count(names::CREATED);
}

pub(crate) fn session_resealed() {
    #[cfg(feature = "metrics")]
    count(names::RESEALED);
}

pub(crate) fn session_destroyed() {
    #[cfg(feature = "metrics")]
    count(names::DESTROYED);
}

pub(crate) fn refresh_skipped() {
    #[cfg(feature = "metrics")]
    count(names::SKIPPED);
}

pub(crate) fn cookie_rejected(kind: RejectionKind) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(names::REJECTED, "kind" => kind.as_str()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// One seal with key `id`, which has now sealed `seals` values.
pub(crate) fn key_sealed(id: KeyId, seals: u64, budget: Option<u64>) {
    #[cfg(feature = "metrics")]
    {
        let key_id = id.to_string();
        ::metrics::counter!(names::KEY_SEALS, "key_id" => key_id.clone()).increment(1);
        if let Some(budget) = budget.filter(|b| *b > 0) {
            #[allow(
                clippy::cast_precision_loss,
                reason = "a ratio for dashboards; counts stay far below 2^53"
            )]
            let ratio = seals as f64 / budget as f64;
            ::metrics::gauge!(names::KEY_BUDGET, "key_id" => key_id).set(ratio);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (id, seals, budget);
}

pub(crate) fn key_auth_failure(id: KeyId) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(names::KEY_AUTH_FAILURES, "key_id" => id.to_string()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = id;
}
