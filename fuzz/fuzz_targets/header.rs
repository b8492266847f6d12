//! The header decoder on arbitrary bytes: never panics, and agrees with a
//! strict reference decoder of the first eight base64url characters. The
//! key-less `codec::peek` agrees with both, and with the reference decoder
//! of the whole value.

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

    if let Ok(text) = std::str::from_utf8(data) {
        match sealed_session::codec::peek(text) {
            Ok(header) => {
                assert_eq!(Some((header.version, header.key_id)), got, "input {text:?}");
                let whole = decode_base64url(data).expect("peek accepted non-base64url");
                assert_eq!(header.decoded_len, whole.len());
                assert_eq!(header.value_len, data.len());
            }
            Err(_) => assert!(
                got.is_none()
                    || decode_base64url(data).is_none()
                    || data.len() > sealed_session::limits::MAX_VALUE_LIMIT,
                "peek refused a valid value {text:?}"
            ),
        }
    }
});
