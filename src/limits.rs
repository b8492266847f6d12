//! Sizes, lifetimes and counts the library enforces, and its defaults: a
//! leaf every layer may use.

use std::time::Duration;

/// What browsers store at most for a cookie's name and value together
/// (RFC 6265bis).
pub const BROWSER_COOKIE_LIMIT: usize = 4096;

/// Latest time the format represents: 9999-12-31T23:59:59Z.
pub(crate) const MAX_UNIX_SECS: u64 = 253_402_300_799;

/// Longest cookie name a codec accepts.
pub const MAX_NAME_LEN: usize = 256;

/// Longest context a codec accepts.
pub const MAX_CONTEXT_LEN: usize = 256;

/// Largest value limit a codec accepts (sixteen full cookies).
pub const MAX_VALUE_LIMIT: usize = 16 * BROWSER_COOKIE_LIMIT;

/// Browsers cap cookie lifetimes at 400 days (RFC 6265bis).
pub const MAX_COOKIE_LIFETIME: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// Browsers ignore `Path` and `Domain` values longer than this.
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 1024;

/// Most cookies one session may be split over.
pub const MAX_CHUNKS: u8 = 16;

/// Length of a [`Key`](crate::Key) in bytes.
pub const KEY_LEN: usize = 32;

/// Default seal budget of an AES-256-GCM key, per process.
///
/// NIST SP 800-38D allows 2³² random-nonce seals per key across every
/// server that shares it. 2²⁸ per process leaves room for 16 processes;
/// lower it with [`KeySpec::seal_budget`](crate::KeySpec::seal_budget) for
/// larger fleets.
pub const DEFAULT_AES_GCM_SEAL_BUDGET: u64 = 1 << 28;

/// The default session cookie name. The `__Host-` prefix makes browsers
/// refuse the cookie unless it is `Secure`, has `Path=/` and no `Domain`,
/// so a sibling subdomain cannot plant or shadow it.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";
