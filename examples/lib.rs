//! Runnable fanout programs; see the `[[example]]` targets.
//!
//! The crate also compiles and runs the README's Rust snippets as doctests, so the
//! README cannot drift from the API.

/// The README, whose Rust snippets `cargo test` runs as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
