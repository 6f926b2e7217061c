//! The fake tiktok API (being written).
