//! The fake linkedin API (being written).
