//! Runnable fanout programs; see the `[[example]]` targets.
