//! What a [`SessionManager`](super::SessionManager) is built from, checked
//! at startup.

use std::time::Duration;

use crate::codec::Codec;
use crate::cookie::CookieConfig;
use crate::cookie::name::requires_secure;
use crate::envelope::{Lifetimes, ProfileId};
use crate::limits::{BROWSER_COOKIE_LIMIT, MAX_CHUNKS, MAX_COOKIE_LIFETIME, MAX_VALUE_LIMIT};
use crate::proxy::ProxyTrust;

use super::Profile;

use crate::error::ConfigError;

/// What to do when a `Secure` cookie would go out on a request judged to
/// be plain HTTP (see [`ProxyTrust`]). Every choice also reports a
/// [`InsecureContext`](super::InsecureContext); none is silent.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InsecurePolicy {
    /// Send the cookie anyway; the browser decides (it keeps `Secure`
    /// cookies from `http://localhost`, drops them elsewhere).
    #[default]
    Send,
    /// Refuse: finishing the session fails with
    /// [`SessionError::InsecureContext`](super::SessionError::InsecureContext).
    Refuse,
    /// Drop `Secure` from cookies sent over plain HTTP (development only;
    /// not allowed with `__Host-`/`__Secure-` names, `SameSite=None` or
    /// `Partitioned`).
    FollowScheme,
}

/// Session configuration: the cookie, lifetimes and policies. Checked once
/// by [`SessionManager::new`](super::SessionManager::new).
///
/// ```
/// use std::time::Duration;
/// use sealed_session::{CookieConfig, Lifetimes, SessionConfig};
///
/// let config = SessionConfig::new(CookieConfig::new("__Host-session"))
///     .lifetimes(Lifetimes::new(Some(Duration::from_secs(8 * 3600)), Some(Duration::from_secs(900))))
///     .idle_refresh_after(0.5)
///     .clock_skew(Duration::from_secs(30));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub(super) cookie: CookieConfig,
    /// The default profile first, then the others by id.
    pub(super) profiles: Vec<(ProfileId, Profile)>,
    pub(super) idle_refresh: f64,
    pub(super) clock_skew: Duration,
    pub(super) context: Vec<u8>,
    pub(super) max_chunks: u8,
    pub(super) data_version: u32,
    pub(super) insecure: InsecurePolicy,
    pub(super) proxy: ProxyTrust,
}

impl SessionConfig {
    /// Defaults: 12 h absolute lifetime, 30 min idle timeout, refresh after
    /// half the idle window, 60 s clock skew, no chunking, data version 0,
    /// [`InsecurePolicy::Send`], no trusted proxy.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// let config = SessionConfig::new(CookieConfig::new("__Host-s"));
    /// assert!(config.validate().is_ok(), "the defaults are valid");
    /// ```
    pub fn new(cookie: CookieConfig) -> Self {
        Self {
            cookie,
            profiles: vec![(ProfileId::DEFAULT, Profile::default())],
            idle_refresh: 0.5,
            clock_skew: Duration::from_secs(60),
            context: Vec::new(),
            max_chunks: 0,
            data_version: 0,
            insecure: InsecurePolicy::Send,
            proxy: ProxyTrust::none(),
        }
    }

    /// Absolute lifetime and idle timeout of the default profile; at least
    /// one, each at most 400 days.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{ConfigError, CookieConfig, Lifetimes, SessionConfig};
    /// let idle_only = Lifetimes::new(None, Some(Duration::from_secs(600)));
    /// assert!(SessionConfig::new(CookieConfig::new("s")).lifetimes(idle_only).validate().is_ok());
    /// let endless = SessionConfig::new(CookieConfig::new("s")).lifetimes(Lifetimes::new(None, None));
    /// assert_eq!(endless.validate(), Err(ConfigError::NoLifetime));
    /// ```
    pub fn lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        if let Some((_, default)) = self.profiles.first_mut() {
            default.lifetimes = lifetimes;
        }
        self
    }

    /// The default profile: what every session lives under unless its
    /// handler picks another. Persistent with [`Lifetimes::default`] unless
    /// set.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, Lifetimes, Profile, SessionConfig};
    /// // Cookies that end with the browser, like express's `maxAge: null`.
    /// let config = SessionConfig::new(CookieConfig::new("__Host-s"))
    ///     .default_profile(Profile::browser_session(Lifetimes::default()));
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn default_profile(self, profile: Profile) -> Self {
        self.profile(ProfileId::DEFAULT, profile)
    }

    /// Declares a lifetime profile a handler may pick for its session (for
    /// example "remember me" at login). The choice is sealed in the cookie
    /// and every open enforces that profile's limits as configured now; a
    /// cookie naming a profile the configuration no longer declares lives
    /// under the default profile's limits. Declaring an id again replaces
    /// it; [`ProfileId::DEFAULT`] replaces the default profile.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sealed_session::{CookieConfig, Lifetimes, Profile, ProfileId, SessionConfig};
    ///
    /// const REMEMBER_ME: ProfileId = ProfileId::new(1);
    /// let config = SessionConfig::new(CookieConfig::new("__Host-s"))
    ///     .default_profile(Profile::browser_session(Lifetimes::default()))
    ///     .profile(REMEMBER_ME, Profile::persistent(Lifetimes::new(
    ///         Some(Duration::from_secs(30 * 86_400)),
    ///         Some(Duration::from_secs(7 * 86_400)),
    ///     )));
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn profile(mut self, id: ProfileId, profile: Profile) -> Self {
        match self.profiles.iter_mut().find(|(known, _)| *known == id) {
            Some((_, existing)) => *existing = profile,
            None => {
                self.profiles.push((id, profile));
                self.profiles.sort_by_key(|(id, _)| *id);
            }
        }
        self
    }

    /// The profile `id` names, or the default one.
    pub(super) fn profile_for(&self, id: ProfileId) -> &Profile {
        const FALLBACK: Profile = Profile::persistent(Lifetimes::new(None, None));
        self.profiles
            .iter()
            .find(|(known, _)| *known == id)
            .or_else(|| self.profiles.first())
            .map_or(&FALLBACK, |(_, profile)| profile)
    }

    /// Whether the configuration declares `id`.
    pub(super) fn declares(&self, id: ProfileId) -> bool {
        self.profiles.iter().any(|(known, _)| *known == id)
    }

    /// Re-seal an unchanged session only once this fraction of the idle
    /// window has passed since its last seal (0.0 = on every request that
    /// reads it, 1.0 = never just for idleness).
    ///
    /// ```
    /// # use sealed_session::{ConfigError, CookieConfig, SessionConfig};
    /// assert!(SessionConfig::new(CookieConfig::new("s")).idle_refresh_after(0.25).validate().is_ok());
    /// let bad = SessionConfig::new(CookieConfig::new("s")).idle_refresh_after(1.5);
    /// assert_eq!(bad.validate(), Err(ConfigError::IdleRefresh));
    /// ```
    pub fn idle_refresh_after(mut self, fraction: f64) -> Self {
        self.idle_refresh = fraction;
        self
    }

    /// How far in the future an issue time may lie (clocks of servers
    /// differ); at most five minutes.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// assert!(SessionConfig::new(CookieConfig::new("s")).clock_skew(Duration::from_secs(10)).validate().is_ok());
    /// let too_lax = SessionConfig::new(CookieConfig::new("s")).clock_skew(Duration::from_secs(600));
    /// assert!(too_lax.validate().is_err());
    /// ```
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Binds cookies to an application or environment label as well as the
    /// name: a value sealed under one context never opens under another.
    ///
    /// Set a distinct context for every [`SessionManager`](super::SessionManager) that shares a
    /// cookie name and keys with another, and in particular for managers
    /// of different data types. The data is postcard-encoded, which is not
    /// self-describing: a `SessionManager<Cart>` may well decode the bytes
    /// of a `SessionManager<Account>` cookie into a `Cart` if nothing else
    /// tells them apart.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
    /// use sealed_session::adapter::Connection;
    ///
    /// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// let accounts = SessionManager::<u64>::new(
    ///     SessionConfig::new(CookieConfig::default()).context(b"accounts"),
    ///     keys.clone(),
    /// )?;
    /// let carts = SessionManager::<u64>::new(
    ///     SessionConfig::new(CookieConfig::default()).context(b"carts"),
    ///     keys,
    /// )?;
    /// let mut session = accounts.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.set(42);
    /// let set_cookie = session.save()?.set_cookie;
    /// let pair = set_cookie[0].to_str()?.split(';').next().unwrap().to_owned();
    /// let mut headers = HeaderMap::new();
    /// headers.insert(http::header::COOKIE, pair.parse()?);
    /// assert_eq!(accounts.load(&headers, Connection::new(None, true)).get(), Some(&42));
    /// assert_eq!(carts.load(&headers, Connection::new(None, true)).get(), None, "other context");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(mut self, context: &[u8]) -> Self {
        self.context = context.to_vec();
        self
    }

    /// Allows a session too large for one cookie to be split over up to
    /// `max` cookies named `name.0 … name.(max-1)` (2..=16). Off by default:
    /// browsers limit cookies per site, and every request carries them all.
    ///
    /// ```
    /// # use sealed_session::{ConfigError, CookieConfig, SessionConfig};
    /// assert!(SessionConfig::new(CookieConfig::new("__Host-s")).chunking(4).validate().is_ok());
    /// let one = SessionConfig::new(CookieConfig::new("__Host-s")).chunking(1);
    /// assert_eq!(one.validate(), Err(ConfigError::Chunks));
    /// ```
    pub fn chunking(mut self, max: u8) -> Self {
        self.max_chunks = max;
        self
    }

    /// The version of the application's data type, sealed with the data.
    /// Sessions sealed with another version go through the migration hook
    /// ([`SessionManager::with_migration`](super::SessionManager::with_migration)) or are dropped.
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, SessionConfig};
    /// assert!(SessionConfig::new(CookieConfig::new("s")).data_version(2).validate().is_ok());
    /// ```
    pub fn data_version(mut self, version: u32) -> Self {
        self.data_version = version;
        self
    }

    /// What to do with a `Secure` cookie on a plain-HTTP request.
    ///
    /// ```
    /// # use sealed_session::{ConfigError, CookieConfig, InsecurePolicy, SessionConfig};
    /// let refuse = SessionConfig::new(CookieConfig::new("__Host-s")).insecure_policy(InsecurePolicy::Refuse);
    /// assert!(refuse.validate().is_ok());
    /// // Dropping Secure is for development names only.
    /// let follow = SessionConfig::new(CookieConfig::new("__Host-s")).insecure_policy(InsecurePolicy::FollowScheme);
    /// assert_eq!(follow.validate(), Err(ConfigError::FollowSchemeNotAllowed));
    /// ```
    pub fn insecure_policy(mut self, policy: InsecurePolicy) -> Self {
        self.insecure = policy;
        self
    }

    /// Which proxies may say, through `Forwarded` or `X-Forwarded-Proto`,
    /// that the client used HTTPS (express's `trust proxy`).
    ///
    /// ```
    /// # use sealed_session::{CookieConfig, ProxyTrust, SessionConfig};
    /// let trust = ProxyTrust::cidrs(["127.0.0.1/32", "10.0.0.0/8"])?;
    /// assert!(SessionConfig::new(CookieConfig::new("__Host-s")).trust_proxies(trust).validate().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trust_proxies(mut self, trust: ProxyTrust) -> Self {
        self.proxy = trust;
        self
    }

    /// Checks the configuration as [`SessionManager::new`](super::SessionManager::new) will, with a
    /// message that says the fix for each mistake.
    ///
    /// # Errors
    ///
    /// The first mistake found: invalid cookie attributes, missing or
    /// out-of-range lifetimes, an idle-refresh fraction outside 0.0..=1.0,
    /// a chunk count of 1 or above 16, a clock skew above five minutes, a
    /// name or context too long, or `FollowScheme` with a name or attribute
    /// that requires `Secure`.
    ///
    /// ```
    /// # use sealed_session::{ConfigError, CookieConfig, SessionConfig};
    /// let err = SessionConfig::new(CookieConfig::new("a b")).validate().unwrap_err();
    /// assert!(err.to_string().contains("cookie name"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.codec().map(drop)
    }

    /// Validates and builds the codec the manager seals with.
    pub(super) fn codec(&self) -> Result<Codec, ConfigError> {
        self.cookie.validate()?;
        for (_, profile) in &self.profiles {
            check_lifetimes(profile.lifetimes)?;
        }
        if !(0.0..=1.0).contains(&self.idle_refresh) {
            return Err(ConfigError::IdleRefresh);
        }
        if self.max_chunks == 1 || self.max_chunks > MAX_CHUNKS {
            return Err(ConfigError::Chunks);
        }
        if self.insecure == InsecurePolicy::FollowScheme {
            // Browsers refuse prefixed names without Secure.
            if requires_secure(self.cookie.name()) || !self.cookie.allows_plain_http() {
                return Err(ConfigError::FollowSchemeNotAllowed);
            }
        }
        let name = self.cookie.name();
        let limit = match self.max_chunks {
            0 => BROWSER_COOKIE_LIMIT.saturating_sub(name.len()),
            n => chunk_len(name, n)
                .saturating_mul(usize::from(n))
                .min(MAX_VALUE_LIMIT),
        };
        Codec::new(name)?
            .with_context(&self.context)?
            .with_clock_skew(self.clock_skew)?
            .with_max_value_len(limit)
    }
}

fn check_lifetimes(Lifetimes { absolute, idle }: Lifetimes) -> Result<(), ConfigError> {
    if absolute.is_none() && idle.is_none() {
        return Err(ConfigError::NoLifetime);
    }
    if absolute
        .into_iter()
        .chain(idle)
        .any(|d| d > MAX_COOKIE_LIFETIME)
    {
        return Err(ConfigError::LifetimeTooLong);
    }
    if absolute
        .into_iter()
        .chain(idle)
        .any(|d| d < Duration::from_secs(1))
    {
        return Err(ConfigError::LifetimeTooShort);
    }
    Ok(())
}

/// Characters of the sealed value each chunk cookie carries.
pub(super) fn chunk_len(name: &str, max_chunks: u8) -> usize {
    // The longest chunk name is `name.15`.
    let suffix = if max_chunks > 10 { 3 } else { 2 };
    BROWSER_COOKIE_LIMIT.saturating_sub(name.len().saturating_add(suffix))
}
