//! Randomness for nonces and session ids.
//!
//! One `getrandom` system call costs more than a whole seal, so nonces come
//! from a per-thread ChaCha12 generator (rand's `StdRng`) seeded from the
//! operating system and reseeded from it after every 64 KiB of output.
//! Unlike `rand::rng()`, seeding failure is reported as an error, never a
//! panic.

use std::cell::RefCell;

use rand::rngs::{StdRng, SysRng};
use rand::{Rng as _, SeedableRng as _};

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RngError;

/// Where seal and session-id randomness comes from; tests substitute a
/// failing or fixed source.
pub(crate) trait RandomSource {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError>;
}

const RESEED_AFTER_BYTES: usize = 64 * 1024;

struct Seeded {
    rng: StdRng,
    used: usize,
}

thread_local! {
    static THREAD_RNG: RefCell<Option<Seeded>> = const { RefCell::new(None) };
}

/// The per-thread CSPRNG described in the module docs.
pub(crate) struct ThreadCsprng;

impl RandomSource for ThreadCsprng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        THREAD_RNG.with(|cell| {
            let mut slot = cell.borrow_mut();
            let seeded = match &mut *slot {
                Some(seeded) if seeded.used < RESEED_AFTER_BYTES => seeded,
                _ => slot.insert(Seeded {
                    rng: StdRng::try_from_rng(&mut SysRng).map_err(|_| RngError)?,
                    used: 0,
                }),
            };
            seeded.rng.fill_bytes(dest);
            seeded.used = seeded.used.saturating_add(dest.len());
            Ok(())
        })
    }
}

thread_local! {
    static FORK_CHECKED_RNG: RefCell<Option<(u32, Seeded)>> = const { RefCell::new(None) };
}

/// The per-thread CSPRNG, reseeded when the process id differs from the
/// one remembered with its seed.
pub(crate) struct ForkCheckedCsprng;

impl RandomSource for ForkCheckedCsprng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        let pid = std::process::id();
        FORK_CHECKED_RNG.with(|cell| {
            let mut slot = cell.borrow_mut();
            let (_, seeded) = match &mut *slot {
                Some((seeded_pid, seeded))
                    if *seeded_pid == pid && seeded.used < RESEED_AFTER_BYTES =>
                {
                    (pid, seeded)
                }
                _ => {
                    let (_, seeded) = slot.insert((
                        pid,
                        Seeded {
                            rng: StdRng::try_from_rng(&mut SysRng).map_err(|_| RngError)?,
                            used: 0,
                        },
                    ));
                    (pid, seeded)
                }
            };
            seeded.rng.fill_bytes(dest);
            seeded.used = seeded.used.saturating_add(dest.len());
            Ok(())
        })
    }
}

/// Every draw from the operating system.
pub(crate) struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        fill_from_os(dest)
    }
}

/// Fills `dest` straight from the operating system (for long-lived keys).
pub(crate) fn fill_from_os(dest: &mut [u8]) -> Result<(), RngError> {
    use rand::TryRng as _;
    SysRng.try_fill_bytes(dest).map_err(|_| RngError)
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Always fails, as an exhausted or broken OS source would.
    pub(crate) struct FailingRng;

    impl RandomSource for FailingRng {
        fn fill(&mut self, _: &mut [u8]) -> Result<(), RngError> {
            Err(RngError)
        }
    }

    /// Emits a fixed byte sequence, for reproducible test vectors.
    pub(crate) struct FixedRng<'a>(pub(crate) &'a [u8]);

    impl RandomSource for FixedRng<'_> {
        fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
            if self.0.len() < dest.len() {
                return Err(RngError);
            }
            let (head, tail) = self.0.split_at(dest.len());
            dest.copy_from_slice(head);
            self.0 = tail;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn thread_rng_is_not_constant_and_reseeds() {
        let mut seen = HashSet::new();
        // Crosses the reseed threshold several times.
        for _ in 0..20_000 {
            let mut buf = [0u8; 16];
            ThreadCsprng.fill(&mut buf).unwrap();
            assert!(seen.insert(buf));
        }
    }

    #[test]
    fn the_thread_generator_reseeds_after_its_output_budget() {
        let used = || THREAD_RNG.with(|cell| cell.borrow().as_ref().map(|s| s.used));
        let mut buf = [0u8; 24];
        ThreadCsprng.fill(&mut buf).unwrap();
        let start = used().unwrap();
        let mut last = start;
        let mut reseeds = 0;
        for _ in 0..(3 * RESEED_AFTER_BYTES / buf.len()) {
            ThreadCsprng.fill(&mut buf).unwrap();
            let now = used().unwrap();
            if now < last {
                assert_eq!(now, buf.len(), "a fresh generator counts from zero");
                reseeds += 1;
            }
            assert!(now <= RESEED_AFTER_BYTES + buf.len());
            last = now;
        }
        assert!(reseeds >= 2, "{reseeds} reseeds over three budgets");
    }
}
