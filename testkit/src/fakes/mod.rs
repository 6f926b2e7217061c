//! Strict fakes of each platform's API, one module per platform, each behind the
//! feature of the same name.

#[cfg(feature = "instagram")]
pub mod instagram;
#[cfg(feature = "linkedin")]
pub mod linkedin;
#[cfg(feature = "tiktok")]
pub mod tiktok;
