//! The ready fanout server.
