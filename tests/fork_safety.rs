//! A forked child never repeats its parent's nonces or session ids.
//!
//! A generator whose state lives in the process would be copied by
//! `fork()`, and parent and child would then draw the same bytes. This test
//! forks after the parent has sealed and drawn an id, lets parent and child
//! each seal once more and draw one more id, and compares what they drew.
//!
//! It runs without the test harness (`harness = false`), so the process has
//! a single thread when it forks and the child may allocate safely.
#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: fork and _exit are foreign functions"
)]

#[cfg(target_os = "linux")]
mod common;

#[cfg(target_os = "linux")]
fn main() {
    forked_child_draws_fresh_nonces_and_session_ids();
    println!("test forked_child_draws_fresh_nonces_and_session_ids ... ok");
}

#[cfg(not(target_os = "linux"))]
fn main() {}

/// A nonce and a session id, drawn after the fork in one process.
#[cfg(target_os = "linux")]
fn draw(
    codec: &sealed_session::codec::Codec,
    ring: &sealed_session::Keyring,
    nonce_len: usize,
) -> Vec<u8> {
    use sealed_session::{Lifetimes, SessionMeta};

    let meta = SessionMeta::new(Lifetimes::default()).expect("meta");
    let value = codec.seal(ring, &meta, &0u8).expect("seal");
    let mut drawn = common::decode(&value)[5..5 + nonce_len].to_vec();
    drawn.extend_from_slice(meta.session_id().as_bytes());
    drawn
}

#[cfg(target_os = "linux")]
fn forked_child_draws_fresh_nonces_and_session_ids() {
    use std::io::{Read as _, Write as _};

    use sealed_session::codec::Codec;

    let codec = Codec::new("s").expect("codec");
    for round in 0..9 {
        // Every suite: 24-byte nonces (keys 1, 2) and 12-byte ones (key 3).
        let primary = round % 3 + 1;
        let ring = common::three_suites(primary);
        let nonce_len = ring.suite(primary).expect("suite").nonce_len();
        // Whatever the library keeps between draws is set up by now.
        draw(&codec, &ring, nonce_len);

        let (mut reader, mut writer) = std::io::pipe().expect("pipe");
        // SAFETY: the process has one thread (no harness), so the child
        // inherits no lock held by another thread.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let drawn = draw(&codec, &ring, nonce_len);
            let status = match writer.write_all(&drawn) {
                Ok(()) => 0,
                Err(_) => 1,
            };
            // SAFETY: leaves the child at once, without running the
            // parent's exit handlers or unwinding into its code.
            unsafe { libc::_exit(status) };
        }
        drop(writer);
        let parent = draw(&codec, &ring, nonce_len);
        let mut child = Vec::new();
        reader.read_to_end(&mut child).expect("read from child");
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid, "waitpid");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child failed: {status:#x}"
        );
        assert_eq!(
            child.len(),
            parent.len(),
            "round {round}: child wrote {child:?}"
        );
        let (child_nonce, child_id) = child.split_at(nonce_len);
        let (parent_nonce, parent_id) = parent.split_at(nonce_len);
        assert_ne!(
            child_nonce, parent_nonce,
            "round {round}: the child sealed with its parent's nonce"
        );
        assert_ne!(
            child_id, parent_id,
            "round {round}: the child drew its parent's session id"
        );
    }
}
