//! Heap allocations made by sealing and opening, counted per thread so that
//! tests running in parallel do not disturb each other.
//!
//! The counting allocator comes from `allocation-counter` because the
//! package forbids `unsafe` code, which a `GlobalAlloc` impl needs. Its
//! `realloc` goes through `alloc`, so a buffer that regrows counts as one
//! more allocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code"
)]

use allocation_counter::measure;
use sealed_session::codec::Codec;
use sealed_session::{ErrorKind, Key, KeySpec, Keyring, Lifetimes, SessionMeta, Suite};
use serde::{Deserialize, Serialize};

/// About 256 bytes of session whose deserialization allocates nothing, so
/// every allocation counted below belongs to the codec.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Session {
    user_id: u64,
    tenant: u32,
    flags: u16,
    csrf: [u8; 16],
    grants: [[u8; 32]; 7],
}

fn session() -> Session {
    Session {
        user_id: 0x0123_4567_89ab_cdef,
        tenant: 4242,
        flags: 0b1011,
        csrf: [0x5a; 16],
        grants: core::array::from_fn(|i| [i as u8; 32]),
    }
}

fn keyring(id: u32, suite: Suite) -> Keyring {
    Keyring::new(KeySpec::new(id, Key::generate()).suite(suite))
}

#[test]
fn the_counter_counts() {
    let info = measure(|| drop(std::hint::black_box(Box::new(1u8))));
    assert_eq!(
        info.count_total, 1,
        "the counting allocator is not installed"
    );
}

#[test]
fn the_data_type_allocates_nothing_of_its_own() {
    let data = session();
    let bytes = postcard::to_allocvec(&data).unwrap();
    assert!((240..=272).contains(&bytes.len()), "{} bytes", bytes.len());
    let mut decoded = None;
    let info = measure(|| decoded = Some(postcard::from_bytes::<Session>(&bytes).unwrap()));
    assert_eq!(decoded, Some(data));
    assert_eq!(info.count_total, 0);
}

#[test]
fn round_trip_makes_at_most_three_allocations() {
    for suite in Suite::ALL {
        let keyring = keyring(1, suite);
        let codec = Codec::new("s").unwrap();
        let meta = SessionMeta::new(Lifetimes::default()).unwrap();
        let data = session();
        // Warm up: sets the codec's size hint and seeds this thread's RNG.
        let value = codec.seal(&keyring, &meta, &data).unwrap();
        assert_eq!(codec.open::<Session>(&keyring, &value).unwrap().data, data);

        let mut opened = None;
        let info = measure(|| {
            let value = codec.seal(&keyring, &meta, &data).unwrap();
            opened = Some(codec.open::<Session>(&keyring, &value).unwrap());
        });
        assert_eq!(opened.map(|o| o.data).as_ref(), Some(&data));
        // Seal: the sealed buffer and the base64 string; open: the decoded
        // buffer.
        eprintln!(
            "{suite}: {} allocations, {} bytes",
            info.count_total, info.bytes_total
        );
        assert!(
            info.count_total <= 3,
            "{suite}: {} allocations in a round trip",
            info.count_total
        );
        assert_eq!(
            info.count_current, 0,
            "{suite}: leaked across the round trip"
        );
    }
}

/// Opens `value` while counting, and returns the error kind and the count.
fn open_error(codec: &Codec, keyring: &Keyring, value: &str) -> (ErrorKind, u64) {
    let mut kind = None;
    let info = measure(|| {
        kind = Some(codec.open::<Session>(keyring, value).unwrap_err().kind());
    });
    (kind.unwrap(), info.count_total)
}

#[test]
fn oversized_value_is_rejected_without_allocating() {
    let keyring = keyring(1, Suite::default());
    let codec = Codec::new("s").unwrap();
    let value = "A".repeat(1 << 20);
    assert_eq!(
        open_error(&codec, &keyring, &value),
        (ErrorKind::TooLarge, 0)
    );
}

#[test]
fn unknown_key_is_rejected_without_allocating() {
    let codec = Codec::new("s").unwrap();
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    let value = codec
        .seal(&keyring(1, Suite::default()), &meta, &session())
        .unwrap();
    let other = keyring(2, Suite::default());
    assert_eq!(
        open_error(&codec, &other, &value),
        (ErrorKind::UnknownKey, 0)
    );
}

#[test]
fn malformed_value_is_rejected_without_allocating() {
    let keyring = keyring(1, Suite::default());
    let codec = Codec::new("s").unwrap();
    let value = "!".repeat(60);
    assert_eq!(
        open_error(&codec, &keyring, &value),
        (ErrorKind::Malformed, 0)
    );
}
