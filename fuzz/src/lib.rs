//! Fixtures shared by the fuzz targets: the fixed keys, cookie name and
//! clock of the `open` target, a strict reference base64url decoder, a
//! reference decoder for the envelope layout, and reference readers for
//! `Cookie` and forwarded-protocol request headers.
//!
//! The seed corpus under `corpus/` is written by `seeds.rs`, through an
//! ignored test:
//!
//! ```text
//! cargo test --manifest-path fuzz/Cargo.toml -- --ignored regenerate_seed_corpus
//! ```

mod fixtures;
mod inputs;
mod references;
#[cfg(test)]
mod seeds;
#[cfg(test)]
mod tests;

pub use fixtures::*;
pub use inputs::*;
pub use references::*;
