use sealed_session::Key;

fn assert_serialize<T: serde::Serialize>(_: &T) {}

fn main() {
    assert_serialize(&Key::generate());
}
