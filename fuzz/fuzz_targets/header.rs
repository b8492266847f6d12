//! The header decoder on arbitrary bytes: never panics, and agrees with a
//! strict reference decoder of the first eight base64url characters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session::fuzzing::decode_header;
use sealed_session_fuzz::{HEADER_LEN, MIN_VALUE_CHARS, decode_base64url};

fuzz_target!(|data: &[u8]| {
    let got = decode_header(data);

    // Eight characters decode to the header plus one byte of nonce.
    let expected = data
        .get(..8)
        .filter(|_| data.len() >= MIN_VALUE_CHARS)
        .and_then(decode_base64url)
        .map(|bytes| {
            let id: [u8; 4] = bytes[1..HEADER_LEN].try_into().expect("four bytes");
            (bytes[0], u32::from_be_bytes(id))
        });
    assert_eq!(got, expected, "input {:?}", String::from_utf8_lossy(data));
});
