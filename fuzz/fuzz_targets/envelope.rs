//! The envelope decoder (metadata, then a string-keyed map) on arbitrary
//! plaintext: never panics, and accepts exactly what a reference decoder
//! written from the documented layout accepts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session::fuzzing::decode_envelope;
use sealed_session_fuzz::reference_decode_envelope;

fuzz_target!(|data: &[u8]| {
    assert_eq!(decode_envelope(data), reference_decode_envelope(data));
});
