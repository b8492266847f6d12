//! Randomness for nonces and session ids.
//!
//! Every nonce and every session id is drawn from the operating system at
//! the moment it is needed (rand's `SysRng`: `getrandom(2)` on Linux, the
//! platform's equivalent elsewhere). The crate keeps no
//! generator state of its own, so there is nothing in the process for
//! `fork()` to copy into a child or for a process or VM snapshot to freeze
//! and hand out again after each restore: a draw is exactly as fresh as the
//! kernel's generator. Linux hands a forked child fresh output by
//! construction, and reseeds its generator when a hypervisor signals a
//! snapshot restore through a VM generation ID (Linux 5.18 and later);
//! `SECURITY.md` ("Cipher suites and nonces") says what operators of
//! snapshotted VMs must still check.
//!
//! The price is one system call per seal and one per new session id:
//! about 250 ns for 24 bytes with glibc 2.36, against about 16 ns from a
//! user-space ChaCha12, which makes a 256-byte XAES-256-GCM seal about
//! 1.3× as expensive (`cargo bench --bench codec -- nonce_source`; figures
//! in `SECURITY.md`). glibc 2.41 and later
//! on Linux 6.11 and later answer `getrandom` from the vDSO instead, whose
//! per-thread state the kernel wipes in a forked child and invalidates
//! whenever its own generator reseeds.
//!
//! A failure of the operating system's generator is an error
//! (`ErrorKind::Rng` for seals and ids, `KeyError::Rng` for keys), never a
//! panic.

use rand::TryRng as _;
use rand::rngs::SysRng;

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RngError;

/// Where seal and session-id randomness comes from; tests substitute a
/// failing or fixed source.
pub(crate) trait RandomSource {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError>;
}

/// The operating system's generator, asked afresh for every draw (see the
/// module docs).
pub(crate) struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RngError> {
        fill_from_os(dest)
    }
}

/// Fills `dest` straight from the operating system.
pub(crate) fn fill_from_os(dest: &mut [u8]) -> Result<(), RngError> {
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
    fn os_draws_never_repeat() {
        let mut seen = HashSet::new();
        for _ in 0..20_000 {
            let mut buf = [0u8; 16];
            OsRandom.fill(&mut buf).unwrap();
            assert!(seen.insert(buf));
        }
    }
}
