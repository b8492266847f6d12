//! Counters for dashboards and alerts: a snapshot API, and with the
//! `metrics` cargo feature the same events reported through the
//! [`metrics`](https://docs.rs/metrics) crate's facade, so any exporter
//! (Prometheus, StatsD, OpenTelemetry, …) can publish them.
//!
//! # Snapshot
//!
//! [`SessionManager::metrics`](crate::SessionManager::metrics) returns a
//! [`SessionMetrics`]: sessions created, re-sealed and destroyed, refused
//! cookies by [`RejectionKind`], refreshes skipped, and per key (from
//! [`Keyring::metrics`](crate::Keyring::metrics)) the seals, the
//! authentication failures and the share of an AES-256-GCM seal budget
//! used. Counters are per process and start at zero with it.
//!
//! ```
//! use http::HeaderMap;
//! use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
//! use sealed_session::adapter::Connection;
//! use sealed_session::metrics::RejectionKind;
//!
//! let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
//! let manager = SessionManager::<u32>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)?;
//! let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
//! session.set(7);
//! session.save()?;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert(http::header::COOKIE, "__Host-s=forged".parse()?);
//! assert!(manager.load(&headers, Connection::new(None, true)).get().is_none());
//!
//! let metrics = manager.metrics();
//! assert_eq!(metrics.created, 1);
//! assert_eq!(metrics.rejected(RejectionKind::Malformed), 1);
//! assert_eq!(metrics.keys[0].seals, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is not counted
//!
//! A request that only reads a valid session writes no shared counter (no
//! cache line bounces between cores on the hot path): successful opens are
//! not counted. Everything that seals, deletes or refuses a cookie is.
//!
//! # The `metrics` feature
//!
//! With the feature on, every counted event also goes to the `metrics`
//! facade; without an installed recorder that costs next to nothing.
//! Names and labels:
//!
//! | name | type | labels |
//! |---|---|---|
//! | `sealed_session_sessions_created_total` | counter | |
//! | `sealed_session_sessions_resealed_total` | counter | |
//! | `sealed_session_sessions_destroyed_total` | counter | |
//! | `sealed_session_refreshes_skipped_total` | counter | |
//! | `sealed_session_cookies_rejected_total` | counter | `kind` ([`RejectionKind::as_str`]) |
//! | `sealed_session_key_seals_total` | counter | `key_id` |
//! | `sealed_session_key_auth_failures_total` | counter | `key_id` |
//! | `sealed_session_key_seal_budget_used_ratio` | gauge, 0 to 1 | `key_id` (keys with a budget) |
//!
//! Call [`describe`] once after installing a recorder to give exporters
//! the help texts. Alert on a rising `sealed_session_key_auth_failures_total`
//! (forgeries, or a key reused under an id) and on the budget ratio
//! passing 0.5.
//!
//! With `metrics-exporter-prometheus`, for example (in a server, install
//! the recorder once with `install_recorder()` and serve
//! `handle.render()` at `/metrics`, as the axum example does):
//!
//! ```
//! # #[cfg(feature = "metrics")]
//! # {
//! use metrics_exporter_prometheus::PrometheusBuilder;
//! use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
//! use sealed_session::codec::Codec;
//!
//! let recorder = PrometheusBuilder::new().build_recorder();
//! let handle = recorder.handle();
//! metrics::with_local_recorder(&recorder, || {
//!     sealed_session::metrics::describe();
//!     let keyring = Keyring::new(KeySpec::new(4, Key::generate()));
//!     let codec = Codec::new("s").unwrap();
//!     codec.seal(&keyring, &SessionMeta::new(Lifetimes::default()).unwrap(), &()).unwrap();
//! });
//! let page = handle.render();
//! assert!(page.contains("sealed_session_key_seals_total{key_id=\"4\"} 1"));
//! # }
//! ```

use core::fmt;

use crate::ErrorKind;
pub use crate::keyring::KeyMetrics;
use crate::session::InvalidCookie;

/// What [`SessionManager::metrics`](crate::SessionManager::metrics)
/// returns: this manager's (and its clones') counters, and the keys' of
/// the keyring in force.
///
/// ```
/// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<u8>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
/// let metrics = manager.metrics();
/// assert_eq!((metrics.created, metrics.resealed, metrics.destroyed), (0, 0, 0));
/// assert_eq!(metrics.rejections.len(), sealed_session::metrics::RejectionKind::ALL.len());
/// # Ok::<(), sealed_session::ConfigError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionMetrics {
    /// New sessions sealed (a login, a regenerated session).
    pub created: u64,
    /// Existing sessions sealed again: changed data, `touch`, the idle
    /// refresh, a cookie under an old key or an old data version.
    pub resealed: u64,
    /// Sessions destroyed and their cookies deleted.
    pub destroyed: u64,
    /// Refreshes the handler did not ask for that could not be sealed (see
    /// [`SessionManager::skipped_refreshes`](crate::SessionManager::skipped_refreshes)).
    pub skipped_refreshes: u64,
    /// Refused cookies by kind, every kind listed, in
    /// [`RejectionKind::ALL`] order.
    pub rejections: Vec<(RejectionKind, u64)>,
    /// Every key of the keyring in force, primary first.
    pub keys: Vec<KeyMetrics>,
}

impl SessionMetrics {
    /// How many cookies were refused for this reason.
    ///
    /// ```
    /// # use sealed_session::metrics::{RejectionKind, SessionMetrics};
    /// assert_eq!(SessionMetrics::default().rejected(RejectionKind::UnknownKey), 0);
    /// ```
    pub fn rejected(&self, kind: RejectionKind) -> u64 {
        self.rejections
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

/// Why a cookie sent with a request did not become its session, as
/// counted: the codec's [`ErrorKind`] of an
/// [`InvalidCookie::Invalid`], or the other [`InvalidCookie`] variants.
///
/// ```
/// use sealed_session::InvalidCookie;
/// use sealed_session::metrics::RejectionKind;
/// assert_eq!(RejectionKind::of(&InvalidCookie::RevokedByTime), RejectionKind::RevokedByTime);
/// assert_eq!(RejectionKind::UnknownKey.as_str(), "unknown_key");
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectionKind {
    /// Not a sealed value ([`ErrorKind::Malformed`]).
    Malformed,
    /// Longer than any value this manager seals.
    TooLarge,
    /// A format version this release does not open.
    UnsupportedVersion,
    /// A key id not in the keyring (retired or foreign).
    UnknownKey,
    /// Tampered, forged, or sealed for another name or context.
    AuthenticationFailed,
    /// The idle deadline passed.
    ExpiredIdle,
    /// The absolute lifetime passed.
    ExpiredAbsolute,
    /// Issued in the future beyond the clock skew allowance.
    NotYetValid,
    /// Authentic, but the data does not decode as the session type.
    PayloadDecode,
    /// Another data version, and no migration accepted it.
    DataVersion,
    /// Issued before the manager's not-before time.
    RevokedByTime,
    /// Refused by the validation hook.
    RevokedByValidator,
    /// More than one distinct valid cookie of the session's name.
    Ambiguous,
    /// Anything else (a clock out of range).
    Other,
}

impl RejectionKind {
    /// Every kind, in a stable order.
    ///
    /// ```
    /// # use sealed_session::metrics::RejectionKind;
    /// assert_eq!(RejectionKind::ALL[0], RejectionKind::Malformed);
    /// assert!(RejectionKind::ALL.contains(&RejectionKind::Other));
    /// ```
    pub const ALL: [RejectionKind; 14] = [
        Self::Malformed,
        Self::TooLarge,
        Self::UnsupportedVersion,
        Self::UnknownKey,
        Self::AuthenticationFailed,
        Self::ExpiredIdle,
        Self::ExpiredAbsolute,
        Self::NotYetValid,
        Self::PayloadDecode,
        Self::DataVersion,
        Self::RevokedByTime,
        Self::RevokedByValidator,
        Self::Ambiguous,
        Self::Other,
    ];

    /// The kind of a refused cookie.
    ///
    /// ```
    /// # use sealed_session::InvalidCookie;
    /// # use sealed_session::metrics::RejectionKind;
    /// assert_eq!(RejectionKind::of(&InvalidCookie::Ambiguous), RejectionKind::Ambiguous);
    /// ```
    pub fn of(rejection: &InvalidCookie) -> Self {
        match rejection {
            InvalidCookie::Invalid(err) => match err.kind() {
                ErrorKind::Malformed => Self::Malformed,
                ErrorKind::TooLarge => Self::TooLarge,
                ErrorKind::UnsupportedVersion => Self::UnsupportedVersion,
                ErrorKind::UnknownKey => Self::UnknownKey,
                ErrorKind::AuthenticationFailed => Self::AuthenticationFailed,
                ErrorKind::ExpiredIdle => Self::ExpiredIdle,
                ErrorKind::ExpiredAbsolute => Self::ExpiredAbsolute,
                ErrorKind::NotYetValid => Self::NotYetValid,
                ErrorKind::PayloadDecode => Self::PayloadDecode,
                _ => Self::Other,
            },
            InvalidCookie::DataVersion(_) => Self::DataVersion,
            InvalidCookie::RevokedByTime => Self::RevokedByTime,
            InvalidCookie::RevokedByValidator => Self::RevokedByValidator,
            InvalidCookie::Ambiguous => Self::Ambiguous,
        }
    }

    /// The label value: the variant's name in snake case.
    ///
    /// ```
    /// # use sealed_session::metrics::RejectionKind;
    /// assert_eq!(RejectionKind::AuthenticationFailed.as_str(), "authentication_failed");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::UnsupportedVersion => "unsupported_version",
            Self::UnknownKey => "unknown_key",
            Self::AuthenticationFailed => "authentication_failed",
            Self::ExpiredIdle => "expired_idle",
            Self::ExpiredAbsolute => "expired_absolute",
            Self::NotYetValid => "not_yet_valid",
            Self::PayloadDecode => "payload_decode",
            Self::DataVersion => "data_version",
            Self::RevokedByTime => "revoked_by_time",
            Self::RevokedByValidator => "revoked_by_validator",
            Self::Ambiguous => "ambiguous",
            Self::Other => "other",
        }
    }

    pub(crate) fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or_default()
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Registers the help text and unit of every metric with the installed
/// `metrics` recorder; call it once, after installing one.
///
/// ```
/// sealed_session::metrics::describe(); // without a recorder: nothing happens
/// ```
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe() {
    use crate::telemetry::names;
    use ::metrics::{Unit, describe_counter, describe_gauge};
    describe_counter!(
        names::CREATED,
        Unit::Count,
        "New sessions sealed (logins, regenerated sessions)."
    );
    describe_counter!(
        names::RESEALED,
        Unit::Count,
        "Existing sessions sealed again (changed, touched, refreshed, old key)."
    );
    describe_counter!(
        names::DESTROYED,
        Unit::Count,
        "Sessions destroyed and their cookies deleted."
    );
    describe_counter!(
        names::SKIPPED,
        Unit::Count,
        "Refreshes that could not be sealed and were skipped."
    );
    describe_counter!(
        names::REJECTED,
        Unit::Count,
        "Session cookies refused, by kind."
    );
    describe_counter!(names::KEY_SEALS, Unit::Count, "Values sealed per key id.");
    describe_counter!(
        names::KEY_AUTH_FAILURES,
        Unit::Count,
        "Values naming a key id that failed authentication."
    );
    describe_gauge!(
        names::KEY_BUDGET,
        "Share of the key's AES-256-GCM seal budget used in this process (0 to 1)."
    );
}
