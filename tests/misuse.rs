//! APIs that must not exist: a nonce parameter, passphrase keys, keys that
//! serialize, clone or display.

#[test]
fn misuse_does_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/compile_fail/*.rs");
}
