use sealed_session::Key;

fn main() {
    let key = Key::generate();
    let _copy = key.clone();
}
