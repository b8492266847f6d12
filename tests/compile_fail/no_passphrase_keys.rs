use sealed_session::Key;

fn main() {
    let _ = Key::from_passphrase("correct horse battery staple");
}
