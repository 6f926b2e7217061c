//! The fake instagram API (being written).
