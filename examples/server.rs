//! The fanout server: `cargo run --release --example server`.
fn main() {}
