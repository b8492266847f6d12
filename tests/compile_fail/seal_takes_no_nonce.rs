use sealed_session::{Key, KeySpec, Keyring, Lifetimes, SessionMeta};
use sealed_session::codec::Codec;

fn main() {
    let keyring = Keyring::new(KeySpec::new(1, Key::generate()));
    let codec = Codec::new("s").unwrap();
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    let nonce = [0u8; 24];
    let _ = codec.seal(&keyring, &meta, &1u8, &nonce);
}
