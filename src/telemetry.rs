//! Reports counted events through the `metrics` facade when that feature
//! is on; every function is a no-op otherwise. Called only where a seal,
//! a deletion, a refusal or a failure already happens, never on a
//! successful read. A leaf: the keyring and the session layer both call it,
//! and it knows neither.

/// A key id (`crate::KeyId`), plain so that this leaf imports no layer.
type KeyId = u32;

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

/// A refused cookie; `kind` is the label value
/// (`RejectionKind::as_str`).
pub(crate) fn cookie_rejected(kind: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(names::REJECTED, "kind" => kind).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// One key's metric keys (`key_id` label), built once when the key joins a
/// keyring, so that counting a seal allocates nothing.
pub(crate) struct KeyTelemetry {
    #[cfg(feature = "metrics")]
    seals: ::metrics::Key,
    #[cfg(feature = "metrics")]
    auth_failures: ::metrics::Key,
    #[cfg(feature = "metrics")]
    budget: ::metrics::Key,
}

#[cfg(feature = "metrics")]
static METADATA: ::metrics::Metadata<'static> = ::metrics::Metadata::new(
    "sealed_session",
    ::metrics::Level::INFO,
    Some(module_path!()),
);

impl KeyTelemetry {
    pub(crate) fn new(id: KeyId) -> Self {
        #[cfg(feature = "metrics")]
        {
            let key = |name: &'static str| {
                ::metrics::Key::from_parts(
                    name,
                    vec![::metrics::Label::new("key_id", id.to_string())],
                )
            };
            Self {
                seals: key(names::KEY_SEALS),
                auth_failures: key(names::KEY_AUTH_FAILURES),
                budget: key(names::KEY_BUDGET),
            }
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = id;
            Self {}
        }
    }

    /// One seal; the key has now sealed `seals` values.
    pub(crate) fn sealed(&self, seals: u64, budget: Option<u64>) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|recorder| {
            recorder
                .register_counter(&self.seals, &METADATA)
                .increment(1);
            if let Some(budget) = budget.filter(|b| *b > 0) {
                #[allow(
                    clippy::cast_precision_loss,
                    reason = "a ratio for dashboards; counts stay far below 2^53"
                )]
                let ratio = seals as f64 / budget as f64;
                recorder.register_gauge(&self.budget, &METADATA).set(ratio);
            }
        });
        #[cfg(not(feature = "metrics"))]
        let _ = (seals, budget);
    }

    pub(crate) fn auth_failure(&self) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|recorder| {
            recorder
                .register_counter(&self.auth_failures, &METADATA)
                .increment(1);
        });
    }
}
