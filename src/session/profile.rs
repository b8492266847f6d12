//! Lifetime profiles: how long a session lives and whether its cookie
//! outlives the browser, chosen per session.

use crate::envelope::Lifetimes;

/// A session lifetime profile: its absolute and idle limits, and whether
/// the cookie is persistent (`Max-Age`) or a browser-session cookie (no
/// `Max-Age`, gone when the browser closes; the sealed limits still
/// apply).
///
/// The configuration declares the profiles
/// ([`SessionConfig::profile`](crate::SessionConfig::profile)); a handler
/// picks one for its session, typically at login
/// ([`Session::set_profile`](crate::adapter::Session::set_profile)).
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{Lifetimes, Profile};
///
/// let remember_me = Profile::persistent(Lifetimes::new(Some(Duration::from_secs(30 * 86_400)), None));
/// assert!(remember_me.persistent);
/// let until_closed = Profile::browser_session(Lifetimes::default());
/// assert!(!until_closed.persistent);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The absolute and idle limits, sealed in the value and enforced on
    /// every open.
    pub lifetimes: Lifetimes,
    /// `Max-Age` on the cookie (persistent), or none (a browser-session
    /// cookie).
    pub persistent: bool,
}

impl Profile {
    /// A profile whose cookie carries `Max-Age` up to the session's next
    /// deadline.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, Profile};
    /// assert!(Profile::persistent(Lifetimes::default()).persistent);
    /// ```
    pub const fn persistent(lifetimes: Lifetimes) -> Self {
        Self {
            lifetimes,
            persistent: true,
        }
    }

    /// A profile whose cookie has no `Max-Age`: the browser drops it when
    /// it closes (express's `maxAge: null`).
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, Profile};
    /// assert!(!Profile::browser_session(Lifetimes::default()).persistent);
    /// ```
    pub const fn browser_session(lifetimes: Lifetimes) -> Self {
        Self {
            lifetimes,
            persistent: false,
        }
    }
}

impl Default for Profile {
    /// [`Lifetimes::default`], persistent.
    fn default() -> Self {
        Self::persistent(Lifetimes::default())
    }
}
