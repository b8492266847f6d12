//! The sealed envelope: session metadata followed by the application's
//! data, encoded with postcard.
//!
//! ```text
//! plaintext = postcard(session_id: [u8; 16], issued_at: u64, sealed_at: u64,
//!                      absolute_expiry: Option<u64>, idle_expiry: Option<u64>,
//!                      data_version: u32, profile: u8)
//!           ‖ postcard(data)
//! ```
//!
//! Times are whole seconds since the Unix epoch. Decoding is strict and
//! canonical: the data must consume the plaintext exactly, and every part
//! must be the one encoding of the value decoded from it (no overlong
//! varints, keys of a map sorted and unique), checked by encoding the
//! decoded value again and comparing byte for byte. `FORMAT.md` at the
//! repository root specifies the bytes.

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};
use crate::limits::MAX_UNIX_SECS;
use crate::rng::{OsRandom, RandomSource};

/// A 128-bit random session identifier, fresh for every new or
/// regenerated session and kept across re-seals.
///
/// `Debug` shows only the first four bytes, enough to correlate log lines.
///
/// ```
/// use sealed_session::{Lifetimes, SessionMeta};
/// let a = SessionMeta::new(Lifetimes::default()).unwrap();
/// let b = SessionMeta::new(Lifetimes::default()).unwrap();
/// assert_ne!(a.session_id(), b.session_id());
/// assert_eq!(a.session_id().as_bytes().len(), 16);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// The id's bytes.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    /// assert_eq!(meta.session_id().as_bytes().len(), 16);
    /// ```
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub(crate) fn generate(rng: &mut impl RandomSource) -> Result<Self, Error> {
        let mut id = [0u8; 16];
        rng.fill(&mut id).map_err(|_| Error::new(ErrorKind::Rng))?;
        Ok(Self(id))
    }
}

/// The whole id as 32 lowercase hex digits, for logs that follow a
/// session.
///
/// ```
/// # use sealed_session::{Lifetimes, SessionMeta};
/// let meta = SessionMeta::new(Lifetimes::default())?;
/// assert_eq!(meta.session_id().to_string().len(), 32);
/// # Ok::<(), sealed_session::Error>(())
/// ```
impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, ..] = self.0;
        write!(f, "SessionId({a:02x}{b:02x}{c:02x}{d:02x}…)")
    }
}

/// Which lifetime profile a session lives under: the default (0) or one
/// the configuration declares, such as "remember me". Sealed in every
/// value (one byte), so refreshes keep the choice.
///
/// ```
/// use sealed_session::ProfileId;
/// const REMEMBER_ME: ProfileId = ProfileId::new(1);
/// assert_eq!(REMEMBER_ME.get(), 1);
/// assert_eq!(ProfileId::default(), ProfileId::DEFAULT);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileId(pub(crate) u8);

impl ProfileId {
    /// The default profile, used unless a handler picks another.
    pub const DEFAULT: Self = Self(0);

    /// A profile id.
    ///
    /// ```
    /// # use sealed_session::ProfileId;
    /// assert_ne!(ProfileId::new(2), ProfileId::DEFAULT);
    /// ```
    pub const fn new(id: u8) -> Self {
        Self(id)
    }

    /// The id's number.
    ///
    /// ```
    /// # use sealed_session::ProfileId;
    /// assert_eq!(ProfileId::new(7).get(), 7);
    /// ```
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// How long sessions live. Both limits are sealed inside the value and
/// enforced on every open, whatever the browser does with the cookie.
///
/// The defaults are the ASVS level 2 row: 12 hours absolute, 30 minutes
/// idle.
///
/// ```
/// use std::time::Duration;
/// use sealed_session::Lifetimes;
///
/// let lifetimes = Lifetimes::default();
/// assert_eq!(lifetimes.absolute, Some(Duration::from_secs(12 * 3600)));
/// assert_eq!(lifetimes.idle, Some(Duration::from_secs(30 * 60)));
/// let remember_me = Lifetimes::new(Some(Duration::from_secs(30 * 86400)), None);
/// assert_eq!(remember_me.idle, None);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    /// Time from issue (login) after which the session ends, refreshed or
    /// not.
    pub absolute: Option<Duration>,
    /// Time without a re-seal after which the session ends.
    pub idle: Option<Duration>,
}

impl Lifetimes {
    /// Both limits, each optional.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sealed_session::Lifetimes;
    /// let l = Lifetimes::new(None, Some(Duration::from_secs(600)));
    /// assert_eq!(l.absolute, None);
    /// ```
    pub const fn new(absolute: Option<Duration>, idle: Option<Duration>) -> Self {
        Self { absolute, idle }
    }
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self::new(
            Some(Duration::from_secs(12 * 60 * 60)),
            Some(Duration::from_secs(30 * 60)),
        )
    }
}

/// The metadata sealed alongside the data: who the session is and when it
/// ends.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sealed_session::{Lifetimes, SessionMeta};
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let meta = SessionMeta::new_at(Lifetimes::default(), now)?;
/// assert_eq!(meta.issued_at(), now);
/// assert_eq!(meta.expires_at(), Some(now + Duration::from_secs(1800)));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SessionMeta {
    pub(crate) session_id: SessionId,
    pub(crate) issued_at: u64,
    pub(crate) sealed_at: u64,
    pub(crate) absolute_expiry: Option<u64>,
    pub(crate) idle_expiry: Option<u64>,
    pub(crate) data_version: u32,
    pub(crate) profile: ProfileId,
}

/// The wire layout of [`SessionMeta`]; field order is part of the format.
#[derive(Serialize, Deserialize)]
struct MetaWire {
    session_id: [u8; 16],
    issued_at: u64,
    sealed_at: u64,
    absolute_expiry: Option<u64>,
    idle_expiry: Option<u64>,
    data_version: u32,
    profile: u8,
}

impl SessionMeta {
    /// A new session issued now, with a fresh random id.
    ///
    /// # Errors
    ///
    /// `ErrorKind::Rng` if the operating system cannot provide the session id;
    /// `ErrorKind::Clock` if the clock is outside 1970..=9999 or a deadline
    /// would pass 9999-12-31.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let meta = SessionMeta::new(Lifetimes::default())?;
    /// assert_eq!(meta.data_version(), 0);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn new(lifetimes: Lifetimes) -> Result<Self, Error> {
        Self::new_at(lifetimes, SystemTime::now())
    }

    /// A new session issued at `now`.
    ///
    /// # Errors
    ///
    /// As [`SessionMeta::new`], for the given time.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{ErrorKind, Lifetimes, SessionMeta};
    /// let before_epoch = UNIX_EPOCH - Duration::from_secs(1);
    /// let err = SessionMeta::new_at(Lifetimes::default(), before_epoch).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Clock);
    /// ```
    pub fn new_at(lifetimes: Lifetimes, now: SystemTime) -> Result<Self, Error> {
        Self::generate(&mut OsRandom, lifetimes, now)
    }

    /// Replaces the id (a new session's id drawn before its first seal).
    pub(crate) fn with_session_id(mut self, id: SessionId) -> Self {
        self.session_id = id;
        self
    }

    /// Moves the session to `profile` at `now`: the absolute expiry counts
    /// from the issue time, the idle one from now.
    pub(crate) fn reprofile(
        &mut self,
        profile: ProfileId,
        lifetimes: Lifetimes,
        now: SystemTime,
    ) -> Result<(), Error> {
        let now = unix_secs(now)?.max(self.issued_at);
        self.absolute_expiry = lifetimes
            .absolute
            .map(|d| add_secs(self.issued_at, d))
            .transpose()?;
        self.idle_expiry = lifetimes.idle.map(|d| add_secs(now, d)).transpose()?;
        self.sealed_at = now;
        self.profile = profile;
        Ok(())
    }

    pub(crate) fn generate(
        rng: &mut impl RandomSource,
        lifetimes: Lifetimes,
        now: SystemTime,
    ) -> Result<Self, Error> {
        let now = unix_secs(now)?;
        Ok(Self {
            session_id: SessionId::generate(rng)?,
            issued_at: now,
            sealed_at: now,
            absolute_expiry: lifetimes.absolute.map(|d| add_secs(now, d)).transpose()?,
            idle_expiry: lifetimes.idle.map(|d| add_secs(now, d)).transpose()?,
            data_version: 0,
            profile: ProfileId::DEFAULT,
        })
    }

    /// Sets the application's data version (see the crate docs on
    /// migrations).
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let meta = SessionMeta::new(Lifetimes::default())?.with_data_version(3);
    /// assert_eq!(meta.data_version(), 3);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn with_data_version(mut self, version: u32) -> Self {
        self.data_version = version;
        self
    }

    /// Sets the lifetime profile the session was sealed under (see
    /// [`SessionConfig::profile`](crate::SessionConfig::profile)). The
    /// deadlines are not changed: the session manager computes them.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, ProfileId, SessionMeta};
    /// let meta = SessionMeta::new(Lifetimes::default())?.with_profile(ProfileId::new(1));
    /// assert_eq!(meta.profile(), ProfileId::new(1));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn with_profile(mut self, profile: ProfileId) -> Self {
        self.profile = profile;
        self
    }

    /// Records a re-seal at `now`: the idle deadline moves to `now + idle`;
    /// the id, issue time and absolute expiry stay.
    ///
    /// # Errors
    ///
    /// `ErrorKind::Clock` if `now` is outside 1970..=9999 or the new deadline
    /// would pass 9999-12-31.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let mut meta = SessionMeta::new_at(Lifetimes::default(), t0)?;
    /// let id = *meta.session_id();
    /// meta.touch_at(Duration::from_secs(1800), t0 + Duration::from_secs(600))?;
    /// assert_eq!(meta.idle_expiry(), Some(t0 + Duration::from_secs(2400)));
    /// assert_eq!(meta.sealed_at(), t0 + Duration::from_secs(600));
    /// assert_eq!((meta.issued_at(), *meta.session_id()), (t0, id));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn touch_at(&mut self, idle: Duration, now: SystemTime) -> Result<(), Error> {
        let now = unix_secs(now)?;
        self.idle_expiry = Some(add_secs(now, idle)?);
        self.sealed_at = now.max(self.issued_at);
        Ok(())
    }

    /// The session's id.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let meta = SessionMeta::new(Lifetimes::default())?;
    /// println!("{:?}", meta.session_id());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub const fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    /// When the session was issued (or last regenerated).
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let t = UNIX_EPOCH + Duration::from_secs(42);
    /// assert_eq!(SessionMeta::new_at(Lifetimes::default(), t)?.issued_at(), t);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn issued_at(&self) -> SystemTime {
        to_system_time(self.issued_at)
    }

    /// When the value was last sealed: the issue time, or the latest
    /// refresh. The session layer measures the configured idle timeout
    /// from it, so shortening that timeout binds cookies already issued.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let t = UNIX_EPOCH + Duration::from_secs(42);
    /// assert_eq!(SessionMeta::new_at(Lifetimes::default(), t)?.sealed_at(), t);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn sealed_at(&self) -> SystemTime {
        to_system_time(self.sealed_at)
    }

    /// The absolute expiry, if the session has one.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let t = UNIX_EPOCH + Duration::from_secs(42);
    /// let meta = SessionMeta::new_at(Lifetimes::new(Some(Duration::from_secs(8)), None), t)?;
    /// assert_eq!(meta.absolute_expiry(), Some(t + Duration::from_secs(8)));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn absolute_expiry(&self) -> Option<SystemTime> {
        self.absolute_expiry.map(to_system_time)
    }

    /// The idle deadline, if the session has one.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let meta = SessionMeta::new(Lifetimes::new(None, None))?;
    /// assert_eq!(meta.idle_expiry(), None);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn idle_expiry(&self) -> Option<SystemTime> {
        self.idle_expiry.map(to_system_time)
    }

    /// The earlier of the two deadlines: when the session ends unless it is
    /// touched first. Cookie `Max-Age` follows it.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// let t = UNIX_EPOCH + Duration::from_secs(100);
    /// let l = Lifetimes::new(Some(Duration::from_secs(50)), Some(Duration::from_secs(70)));
    /// assert_eq!(SessionMeta::new_at(l, t)?.expires_at(), Some(t + Duration::from_secs(50)));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn expires_at(&self) -> Option<SystemTime> {
        match (self.absolute_expiry, self.idle_expiry) {
            (Some(a), Some(i)) => Some(a.min(i)),
            (a, i) => a.or(i),
        }
        .map(to_system_time)
    }

    /// The application's data version sealed with the data.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, SessionMeta};
    /// assert_eq!(SessionMeta::new(Lifetimes::default())?.data_version(), 0);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub const fn data_version(&self) -> u32 {
        self.data_version
    }

    /// The lifetime profile the session was sealed under.
    ///
    /// ```
    /// # use sealed_session::{Lifetimes, ProfileId, SessionMeta};
    /// assert_eq!(SessionMeta::new(Lifetimes::default())?.profile(), ProfileId::DEFAULT);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub const fn profile(&self) -> ProfileId {
        self.profile
    }

    /// Checks the sealed times against `now`.
    pub(crate) fn check_times(&self, now: u64, skew: u64) -> Result<(), ErrorKind> {
        if self.sealed_at > now.saturating_add(skew) {
            return Err(ErrorKind::NotYetValid);
        }
        if self.absolute_expiry.is_some_and(|t| now >= t) {
            return Err(ErrorKind::ExpiredAbsolute);
        }
        if self.idle_expiry.is_some_and(|t| now >= t) {
            return Err(ErrorKind::ExpiredIdle);
        }
        Ok(())
    }

    fn to_wire(&self) -> MetaWire {
        MetaWire {
            session_id: self.session_id.0,
            issued_at: self.issued_at,
            sealed_at: self.sealed_at,
            absolute_expiry: self.absolute_expiry,
            idle_expiry: self.idle_expiry,
            data_version: self.data_version,
            profile: self.profile.0,
        }
    }
}

impl fmt::Debug for SessionMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMeta")
            .field("session_id", &self.session_id)
            .field("issued_at", &self.issued_at)
            .field("sealed_at", &self.sealed_at)
            .field("absolute_expiry", &self.absolute_expiry)
            .field("idle_expiry", &self.idle_expiry)
            .field("data_version", &self.data_version)
            .field("profile", &self.profile.0)
            .finish()
    }
}

pub(crate) fn unix_secs(now: SystemTime) -> Result<u64, Error> {
    match now.duration_since(UNIX_EPOCH) {
        Ok(d) if d.as_secs() <= MAX_UNIX_SECS => Ok(d.as_secs()),
        _ => Err(Error::new(ErrorKind::Clock)),
    }
}

fn add_secs(base: u64, d: Duration) -> Result<u64, Error> {
    base.checked_add(d.as_secs())
        .filter(|t| *t <= MAX_UNIX_SECS)
        .ok_or(Error::new(ErrorKind::Clock))
}

fn to_system_time(secs: u64) -> SystemTime {
    // Every stored time is at most MAX_UNIX_SECS, which SystemTime holds.
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .unwrap_or(UNIX_EPOCH)
}

/// A postcard output that never leaves a plaintext copy behind: when it
/// must grow, the old allocation is zeroized before it is freed, and when
/// serialization fails midway, the partial plaintext is zeroized as the
/// output is dropped.
pub(crate) struct ZeroizingVec(pub(crate) Zeroizing<Vec<u8>>);

impl ZeroizingVec {
    #[inline]
    fn reserve(&mut self, extra: usize) {
        if self.0.capacity().saturating_sub(self.0.len()) < extra {
            self.grow(extra);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, extra: usize) {
        let vec = &mut self.0;
        let wanted = vec
            .len()
            .saturating_add(extra)
            .max(vec.capacity().saturating_mul(2));
        let mut grown = Vec::with_capacity(wanted);
        grown.extend_from_slice(vec);
        // The old allocation is zeroized when `Zeroizing` drops it.
        *vec = Zeroizing::new(grown);
    }
}

impl postcard::ser_flavors::Flavor for ZeroizingVec {
    type Output = Zeroizing<Vec<u8>>;

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.reserve(data.len());
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.reserve(1);
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Zeroizing<Vec<u8>>> {
        Ok(self.0)
    }
}

/// A postcard output that stores nothing: it checks that what would be
/// written is exactly `expected`, stopping at the first difference. Used
/// to prove that an input is the one encoding of the value decoded from
/// it, at the cost of one serialization and no allocation.
struct SameBytes<'a> {
    expected: &'a [u8],
}

/// Whether `a` and `b` (of equal length) hold the same bytes. Postcard
/// writes a value in many short pieces (varints, a few bytes each): an
/// inline loop beats a `memcmp` call per piece.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The encoding differs from the input.
const DIFFERENT: postcard::Error = postcard::Error::SerializeBufferFull;

impl postcard::ser_flavors::Flavor for SameBytes<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        match self.expected.split_at_checked(data.len()) {
            Some((head, rest)) if same(head, data) => {
                self.expected = rest;
                Ok(())
            }
            _ => Err(DIFFERENT),
        }
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        match self.expected.split_first() {
            Some((first, rest)) if *first == data => {
                self.expected = rest;
                Ok(())
            }
            _ => Err(DIFFERENT),
        }
    }

    fn finalize(self) -> postcard::Result<()> {
        if self.expected.is_empty() {
            Ok(())
        } else {
            Err(DIFFERENT)
        }
    }
}

/// Whether `bytes` is exactly postcard's encoding of `value`.
pub(crate) fn encodes_to<T: Serialize + ?Sized>(value: &T, bytes: &[u8]) -> bool {
    postcard::serialize_with_flavor(value, SameBytes { expected: bytes }).is_ok()
}

/// Appends the envelope of `meta` and `data` to `out`. On failure the
/// partial plaintext is zeroized.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    out: Vec<u8>,
    meta: &SessionMeta,
    data: &T,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    postcard::serialize_with_flavor(&(meta.to_wire(), data), ZeroizingVec(Zeroizing::new(out)))
        .map_err(|_| Error::new(ErrorKind::PayloadEncode))
}

/// Splits a plaintext into its metadata and the data's bytes. The
/// metadata must be canonically encoded and its times in range.
pub(crate) fn decode_meta(plaintext: &[u8]) -> Result<(SessionMeta, &[u8]), ErrorKind> {
    let (wire, rest) =
        postcard::take_from_bytes::<MetaWire>(plaintext).map_err(|_| ErrorKind::PayloadDecode)?;
    let used = plaintext
        .get(..plaintext.len().saturating_sub(rest.len()))
        .ok_or(ErrorKind::PayloadDecode)?;
    if !encodes_to(&wire, used) {
        return Err(ErrorKind::PayloadDecode);
    }
    let in_range = |t: Option<u64>| t.is_none_or(|t| t <= MAX_UNIX_SECS);
    if !(in_range(Some(wire.issued_at))
        && in_range(Some(wire.sealed_at))
        && in_range(wire.absolute_expiry)
        && in_range(wire.idle_expiry))
    {
        return Err(ErrorKind::PayloadDecode);
    }
    // A value is sealed at or after its issue.
    if wire.sealed_at < wire.issued_at {
        return Err(ErrorKind::PayloadDecode);
    }
    let meta = SessionMeta {
        session_id: SessionId(wire.session_id),
        issued_at: wire.issued_at,
        sealed_at: wire.sealed_at,
        absolute_expiry: wire.absolute_expiry,
        idle_expiry: wire.idle_expiry,
        data_version: wire.data_version,
        profile: ProfileId(wire.profile),
    };
    Ok((meta, rest))
}

/// Decodes postcard bytes as `T`, which must use every byte.
pub(crate) fn decode_data<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ErrorKind> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((data, [])) => Ok(data),
        _ => Err(ErrorKind::PayloadDecode),
    }
}

/// Decodes the application's data from an envelope: it must use every
/// byte and be the one encoding of the decoded value.
pub(crate) fn decode_canonical<'a, T: Deserialize<'a> + Serialize>(
    bytes: &'a [u8],
) -> Result<T, ErrorKind> {
    let data = decode_data::<T>(bytes)?;
    if encodes_to(&data, bytes) {
        Ok(data)
    } else {
        Err(ErrorKind::PayloadDecode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::testing::{FailingRng, FixedRng};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn envelope_round_trip_and_strictness() {
        let meta = SessionMeta::generate(&mut FixedRng(&[9; 16]), Lifetimes::default(), at(1000))
            .unwrap()
            .with_data_version(4);
        let bytes = encode_into(Vec::new(), &meta, &("alice", 7u32)).unwrap();
        let (back, rest) = decode_meta(&bytes).unwrap();
        assert_eq!(back, meta);
        assert_eq!(
            decode_data::<(String, u32)>(rest).unwrap(),
            ("alice".into(), 7)
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        let (_, rest) = decode_meta(&trailing).unwrap();
        assert_eq!(
            decode_data::<(String, u32)>(rest),
            Err(ErrorKind::PayloadDecode)
        );
        for cut in 0..bytes.len() {
            let r = decode_meta(&bytes[..cut]).and_then(|(_, d)| decode_data::<(String, u32)>(d));
            assert_eq!(r, Err(ErrorKind::PayloadDecode), "cut at {cut}");
        }
    }

    #[test]
    fn out_of_range_times_are_rejected() {
        let mut meta =
            SessionMeta::generate(&mut FixedRng(&[1; 16]), Lifetimes::default(), at(5)).unwrap();
        meta.absolute_expiry = Some(u64::MAX);
        let bytes = encode_into(Vec::new(), &meta, &()).unwrap();
        assert_eq!(decode_meta(&bytes).unwrap_err(), ErrorKind::PayloadDecode);
        meta.absolute_expiry = None;
        meta.issued_at = u64::MAX;
        let bytes = encode_into(Vec::new(), &meta, &()).unwrap();
        assert_eq!(decode_meta(&bytes).unwrap_err(), ErrorKind::PayloadDecode);
    }

    #[test]
    fn time_checks() {
        let lifetimes = Lifetimes::new(
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        );
        let meta = SessionMeta::generate(&mut FixedRng(&[1; 16]), lifetimes, at(1000)).unwrap();
        assert_eq!(meta.check_times(1000, 60), Ok(()));
        assert_eq!(meta.check_times(1009, 60), Ok(()));
        assert_eq!(meta.check_times(1010, 60), Err(ErrorKind::ExpiredIdle));
        assert_eq!(
            meta.check_times(940, 60),
            Ok(()),
            "30 s early within 60 s skew"
        );
        assert_eq!(meta.check_times(939, 60), Err(ErrorKind::NotYetValid));
        let mut touched = meta.clone();
        touched.touch_at(Duration::from_secs(10), at(1095)).unwrap();
        assert_eq!(touched.check_times(1099, 60), Ok(()));
        assert_eq!(
            touched.check_times(1100, 60),
            Err(ErrorKind::ExpiredAbsolute)
        );
    }

    #[test]
    fn clock_and_rng_failures_are_errors() {
        let err = SessionMeta::new_at(Lifetimes::default(), UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(err.unwrap_err().kind(), ErrorKind::Clock);
        let far = Lifetimes::new(Some(Duration::from_secs(u64::MAX)), None);
        assert_eq!(
            SessionMeta::new_at(far, at(0)).unwrap_err().kind(),
            ErrorKind::Clock
        );
        let err = SessionMeta::generate(&mut FailingRng, Lifetimes::default(), at(0));
        assert_eq!(err.unwrap_err().kind(), ErrorKind::Rng);
    }

    #[test]
    fn growth_keeps_contents() {
        let mut out = ZeroizingVec(Zeroizing::new(Vec::with_capacity(1)));
        for i in 0..1000u32 {
            postcard::ser_flavors::Flavor::try_extend(&mut out, &i.to_le_bytes()).unwrap();
        }
        assert_eq!(out.0.len(), 4000);
        assert_eq!(&out.0[3996..], &999u32.to_le_bytes());
    }

    /// Writes a few bytes of "secret" data, then fails.
    struct FailsMidway;

    impl Serialize for FailsMidway {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{Error as _, SerializeTuple as _};
            let mut tuple = serializer.serialize_tuple(2)?;
            tuple.serialize_element("secret bytes")?;
            tuple.end()?;
            Err(S::Error::custom("fails after writing"))
        }
    }

    /// A serialization that fails midway leaves no plaintext behind: the
    /// output it wrote into is a `Zeroizing` buffer, wiped when postcard
    /// drops it on the error path.
    #[test]
    fn failed_encoding_is_an_error_and_its_buffer_zeroizes() {
        fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        assert_zeroize_on_drop::<Zeroizing<Vec<u8>>>();
        let meta =
            SessionMeta::generate(&mut FixedRng(&[3; 16]), Lifetimes::default(), at(7)).unwrap();
        let err = encode_into(vec![1, 2, 3], &meta, &FailsMidway).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PayloadEncode);
        // The buffer type is what makes the wipe happen; the success path
        // returns the same type to its caller.
        let ok: Zeroizing<Vec<u8>> = encode_into(vec![1, 2, 3], &meta, &1u8).unwrap();
        assert_eq!(&ok[..3], &[1, 2, 3]);
    }

    /// The canonical plaintext of a known envelope, and where each
    /// varint field sits in it.
    fn sample() -> (Vec<u8>, [core::ops::Range<usize>; 5]) {
        let meta = SessionMeta::generate(
            &mut FixedRng(&[0xa5; 16]),
            Lifetimes::default(),
            at(1_767_225_600),
        )
        .unwrap()
        .with_data_version(1);
        let bytes = encode_into(Vec::new(), &meta, "alice").unwrap().to_vec();
        // id (16) | issued 5 | sealed 5 | tag 1 + 5 | tag 1 + 5 | version 1
        // | profile 1 | data.
        let ranges = [16..21, 21..26, 27..32, 33..38, 38..39];
        let mut expected = vec![0xa5; 16];
        expected.extend([0x80, 0xf2, 0xd6, 0xca, 0x06]);
        expected.extend([0x80, 0xf2, 0xd6, 0xca, 0x06]);
        expected.extend([0x01, 0xc0, 0xc3, 0xd9, 0xca, 0x06]);
        expected.extend([0x01, 0x88, 0x80, 0xd7, 0xca, 0x06]);
        expected.extend([0x01, 0x00, 0x05]);
        expected.extend(b"alice");
        assert_eq!(bytes, expected, "the layout FORMAT.md describes");
        (bytes, ranges)
    }

    /// The same varint one byte longer: the last byte gains a
    /// continuation bit and a zero byte follows.
    fn overlong(bytes: &[u8], field: core::ops::Range<usize>) -> Vec<u8> {
        let mut out = bytes[..field.end].to_vec();
        *out.last_mut().unwrap() |= 0x80;
        out.push(0x00);
        out.extend_from_slice(&bytes[field.end..]);
        out
    }

    type Wire = ([u8; 16], u64, u64, Option<u64>, Option<u64>, u32, String);

    #[test]
    fn overlong_varints_are_rejected_in_every_field() {
        let (bytes, fields) = sample();
        let (_, data) = decode_meta(&bytes).unwrap();
        assert_eq!(decode_canonical::<String>(data).unwrap(), "alice");
        for field in fields {
            let edited = overlong(&bytes, field.clone());
            // postcard alone takes the overlong form for the same value.
            let lenient: Wire = postcard::from_bytes(&edited).unwrap();
            assert_eq!(lenient, postcard::from_bytes::<Wire>(&bytes).unwrap());
            assert_eq!(
                decode_meta(&edited).unwrap_err(),
                ErrorKind::PayloadDecode,
                "{field:?}"
            );
        }
        // Zero written in two bytes.
        let mut zero_version = bytes.clone();
        zero_version.splice(38..39, [0x80, 0x00]);
        assert_eq!(
            decode_meta(&zero_version).unwrap_err(),
            ErrorKind::PayloadDecode
        );
    }

    #[test]
    fn overlong_varint_in_the_data_is_rejected() {
        let (bytes, _) = sample();
        let (_, data) = decode_meta(&bytes).unwrap();
        // The string's length, 5, as 0x85 0x00.
        let edited = overlong(data, 0..1);
        assert_eq!(postcard::from_bytes::<String>(&edited).unwrap(), "alice");
        assert_eq!(decode_data::<String>(&edited).unwrap(), "alice");
        assert_eq!(
            decode_canonical::<String>(&edited).unwrap_err(),
            ErrorKind::PayloadDecode
        );
        // A u64 and an enum discriminant too.
        assert_eq!(
            decode_canonical::<u64>(&[0x85, 0x80, 0x00]),
            Err(ErrorKind::PayloadDecode)
        );
        assert_eq!(
            decode_canonical::<u64>(&[0x85, 0x00]),
            Err(ErrorKind::PayloadDecode)
        );
        assert_eq!(decode_canonical::<u64>(&[0x05]), Ok(5));
        assert_eq!(
            decode_canonical::<Option<bool>>(&[0x01, 0x01]),
            Ok(Some(true))
        );
        assert_eq!(
            decode_canonical::<Result<u8, u8>>(&[0x81, 0x00, 0x07]),
            Err(ErrorKind::PayloadDecode)
        );
    }

    #[test]
    fn values_past_their_type_and_bad_tags_are_rejected() {
        let (bytes, _) = sample();
        // data_version (u32) as 2^32: five bytes, the last above 0x0f.
        let mut edited = bytes.clone();
        edited.splice(38..39, [0x80, 0x80, 0x80, 0x80, 0x10]);
        assert_eq!(decode_meta(&edited).unwrap_err(), ErrorKind::PayloadDecode);
        // Option tags other than 0 and 1.
        for tag in [2u8, 0x80, 0xff] {
            let mut edited = bytes.clone();
            edited[26] = tag;
            assert_eq!(decode_meta(&edited).unwrap_err(), ErrorKind::PayloadDecode);
        }
        // A bool other than 0 and 1, and a char written with extra bytes.
        assert_eq!(
            decode_canonical::<bool>(&[2]),
            Err(ErrorKind::PayloadDecode)
        );
        assert_eq!(decode_canonical::<char>(&[1, b'a']), Ok('a'));
        assert_eq!(
            decode_canonical::<char>(&[2, b'a', b'b']),
            Err(ErrorKind::PayloadDecode)
        );
    }

    #[test]
    fn session_map_keys_must_be_sorted_and_unique() {
        use crate::session::SessionMap;
        let entry = |key: &str, value: &[u8]| {
            let mut out = vec![key.len() as u8];
            out.extend_from_slice(key.as_bytes());
            out.push(value.len() as u8);
            out.extend_from_slice(value);
            out
        };
        let map = |entries: &[Vec<u8>]| {
            let mut out = vec![entries.len() as u8];
            entries.iter().for_each(|e| out.extend_from_slice(e));
            out
        };
        let sorted = map(&[entry("a", &[1]), entry("b", &[2])]);
        let mut expected = SessionMap::default();
        expected.insert("a", &1u8).unwrap();
        expected.insert("b", &2u8).unwrap();
        assert_eq!(
            decode_canonical::<SessionMap>(&sorted),
            Ok(expected.clone())
        );
        assert_eq!(postcard::to_allocvec(&expected).unwrap(), sorted);

        let duplicate = map(&[entry("a", &[1]), entry("a", &[2])]);
        let unsorted = map(&[entry("b", &[2]), entry("a", &[1])]);
        // postcard alone merges duplicates and sorts.
        assert_eq!(decode_data::<SessionMap>(&unsorted), Ok(expected));
        assert!(decode_data::<SessionMap>(&duplicate).is_ok());
        for bytes in [&duplicate, &unsorted] {
            assert_eq!(
                decode_canonical::<SessionMap>(bytes),
                Err(ErrorKind::PayloadDecode)
            );
        }
        // Byte order of the UTF-8 keys, not character or case order.
        let by_bytes = map(&[entry("B", &[]), entry("a", &[]), entry("é", &[])]);
        assert!(decode_canonical::<SessionMap>(&by_bytes).is_ok());
    }

    #[test]
    fn a_value_is_never_sealed_before_its_issue() {
        let (bytes, _) = sample();
        let mut wire: Wire = postcard::from_bytes(&bytes).unwrap();
        let issued = wire.1;
        wire.2 = issued - 1;
        let earlier = postcard::to_allocvec(&wire).unwrap();
        assert_eq!(decode_meta(&earlier).unwrap_err(), ErrorKind::PayloadDecode);
        wire.2 = issued;
        assert!(decode_meta(&postcard::to_allocvec(&wire).unwrap()).is_ok());
    }
}
