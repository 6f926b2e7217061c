//! axum Router for fanout.
