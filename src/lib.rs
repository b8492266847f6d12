//! Web sessions whose whole state lives in an encrypted, authenticated
//! cookie: no server-side store, any replica serves any request.
//!
//! The core is framework-free and does no I/O:
//!
//! - [`Key`] and [`Keyring`]: 256-bit keys with ids, one primary that seals
//!   and any number that only open, so keys rotate without logging anyone
//!   out;
//! - [`Codec`](codec::Codec): the versioned wire format. The header (format version, key
//!   id), the cookie name and an optional context are authenticated; the
//!   key id selects exactly one key, and the key (never the cookie) decides
//!   the cipher [`Suite`];
//! - [`SessionMeta`]: a random 128-bit session id and absolute and idle
//!   expiry, sealed with the data and enforced on every open.
//!
//! # Quick start
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use sealed_session::{Keyring, Lifetimes, SessionMeta};
//! use sealed_session::codec::Codec;
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct User { name: String, admin: bool }
//!
//! // In production: Keyring::from_env("SESSION_KEYS"), with keys from
//! // `openssl rand -base64 32`.
//! let keyring: Keyring = "1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=".parse()?;
//! let codec = Codec::new("__Host-session")?;
//!
//! let meta = SessionMeta::new(Lifetimes::default())?;
//! let cookie_value = codec.seal(&keyring, &meta, &User { name: "alice".into(), admin: false })?;
//!
//! let opened = codec.open::<User>(&keyring, &cookie_value)?;
//! assert_eq!(opened.data.name, "alice");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! On top of it, [`SessionManager`] runs the session lifecycle over the
//! `http` crate's types, and adapters behind cargo features plug it into
//! frameworks. The session layer also gives every adapter:
//!
//! - per-session lifetime [`Profile`]s ("remember me" at login, with
//!   [`Session::set_profile`](adapter::Session::set_profile)), sealed so
//!   refreshes keep them, and the session id for logs;
//! - [`flash`] messages that survive exactly one redirect;
//! - [`csrf`] protection: an origin check and a session-bound, masked
//!   token, with `CsrfLayer` / `CsrfMiddleware` and a `CsrfToken`
//!   extractor in the adapters.
//!
//! # Cargo features
//!
//! - `tower`: [`tower::SessionLayer`], a middleware for axum, hyper, tonic
//!   and anything tower;
//! - `axum`: `tower`, plus [`SessionHandle`] and
//!   [`CsrfToken`](csrf::CsrfToken) as axum extractors and the CSRF layer
//!   `tower::CsrfLayer`;
//! - `actix-web`: [`actix::SessionMiddleware`] and
//!   [`actix::CsrfMiddleware`], plus [`SessionHandle`] and
//!   [`CsrfToken`](csrf::CsrfToken) as actix-web extractors;
//! - `migrate`: [`migrate`], reading the cookies of the session crate an
//!   application used before (cookie-rs jars, axum-extra, actix-session,
//!   tower-sessions, Rocket) and re-sealing them, so that switching logs
//!   nobody out; brings in the `cookie` crate and `serde_json`;
//! - `tracing`: events for deployment problems, rejected cookies (kind and
//!   key id only) and unsaved sessions; enabled by both adapters;
//! - `metrics`: the counters of [`SessionManager::metrics`] reported
//!   through the `metrics` crate's facade as well, for any exporter
//!   (names and labels in [`metrics`]).
//!
//! None is on by default.
//!
//! # With axum or actix-web
//!
//! A whole login app for each framework (login, regenerate, dashboard,
//! logout, behind a trusted proxy) is in the README, whose examples are
//! compiled with the crate's tests; the [`tower`] and [`actix`] module docs
//! show the smallest working setup of each adapter, run as tests too.
//!
//! # Handling a session that cannot be saved
//!
//! A session too large for its cookie, or a `Secure` cookie refused on
//! plain HTTP, is a [`SessionError`]. A handler sees it by calling
//! [`SessionHandle::save`]; one that does not gets a bare `500` and the
//! reason in the log.
//!
//! ```
//! # #[cfg(feature = "axum")]
//! # {
//! use sealed_session::{SessionError, SessionHandle};
//!
//! fn remember(session: &SessionHandle<Vec<String>>, item: String) -> Result<(), SessionError> {
//!     session.update(|items| items.push(item));
//!     match session.save() {
//!         Err(SessionError::TooLarge(_)) => {
//!             session.update(|items| { items.remove(0); }); // forget the oldest
//!             session.save() // `?` on this in an axum or actix handler is a bare 500
//!         }
//!         other => other,
//!     }
//! }
//! # }
//! ```
//!
//! # Session data
//!
//! The data is encoded with postcard, which is compact and not
//! self-describing: types that need `deserialize_any`
//! (`serde_json::Value`, `#[serde(untagged)]`, `#[serde(flatten)]`) do not
//! round-trip, and a value must have one encoding (`BTreeMap`, not
//! `HashMap`). A new session whose data does not come back from its own
//! encoding fails at its first seal with
//! [`ErrorKind::DataRoundTrip`], so the mistake shows at login rather than
//! as lost sessions later. Managers of different data types that share a
//! cookie name and keys must use distinct
//! [`SessionConfig::context`]s.
//!
//! Concurrent requests of one client each start from the cookie they were
//! sent, and each response replaces the cookie whole: the last response the
//! browser receives wins. Keep data that concurrent requests update in a
//! database keyed by the user.
//!
//! # Errors
//!
//! Opening fails with one [`Error`] type whose [`ErrorKind`] says why
//! (malformed, unknown key, authentication failed, expired, …). Treat every
//! kind the same way towards the client — no session — and keep the kind
//! for logs and metrics. Configuration mistakes are separate types
//! ([`ConfigError`], [`KeyError`]) meant to stop startup.
//!
//! # Security
//!
//! See `SECURITY.md` for the threat model, the wire format, the suite
//! decision and the rotation procedure. In short: no `unsafe`, no crypto of
//! our own (RustCrypto's audited AEAD crates), random nonces only,
//! zeroized keys and plaintext, and a limit on what a stateless session can
//! do: a copied cookie stays valid until it expires unless the application
//! checks a revocation value it keeps.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Library code handles attacker input: no reachable panics, no unchecked
// arithmetic or indexing. Tests may assert freely.
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod codec;
mod cookie;
pub mod csrf;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(any(feature = "tower", feature = "actix-web"))]
mod handle;
pub mod keys;
pub mod limits;
pub mod metrics;
#[cfg(feature = "migrate")]
#[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
pub mod migrate;
mod proxy;
mod session;
mod telemetry;

// Short paths for the modules every layer names.
use codec::envelope;
use cookie::request as cookie_header;
use keys::handle as keyring_handle;
use keys::{key, keyring, rng, suite};

#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub mod actix;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

pub use cookie::{CookieConfig, SameSite};
pub use envelope::{Lifetimes, ProfileId, SessionId, SessionMeta};
pub use error::{ConfigError, Error, ErrorKind};
#[cfg(any(feature = "tower", feature = "actix-web"))]
pub use handle::SessionHandle;
pub use key::{Key, KeyError};
pub use keyring::{KeyId, KeySpec, Keyring};
pub use keyring_handle::KeyringHandle;
pub use proxy::ProxyTrust;
pub use session::{
    InsecurePolicy, InvalidCookie, Profile, SessionConfig, SessionError, SessionManager, SessionMap,
};

/// Flash messages: one-shot notices that survive exactly one redirect
/// ([`Session::push_flash`](adapter::Session::push_flash),
/// [`Session::take_flash`](adapter::Session::take_flash)).
pub mod flash {
    pub use crate::session::flash::{FlashMessage, Level};
}
pub use suite::Suite;

/// For framework adapters and custom integrations: the session of one
/// request, the connection it came on, and what saving it produces.
/// Applications using the built-in adapters rarely need these.
pub mod adapter {
    pub use crate::cookie::{CookieTooLarge, SetCookie, SetCookieError};
    #[cfg(any(feature = "tower", feature = "actix-web"))]
    pub use crate::handle::MissingSession;
    pub use crate::proxy::{SchemeDecision, SchemeSource};
    pub use crate::session::{
        Clock, Connection, InsecureContext, ResponseCookies, Session, SessionPayload, SystemClock,
    };
}

// The README's examples compile and run as doctests.
#[cfg(all(doctest, feature = "axum", feature = "actix-web"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
