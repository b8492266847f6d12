use sealed_session::Key;

fn main() {
    println!("{}", Key::generate());
}
