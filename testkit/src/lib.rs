//! fanout-testkit: strict fake platform servers and the conformance suite every
//! publisher must pass.
//!
//! - [`fakes`]: TikTok, Instagram and LinkedIn fakes (features `tiktok`, `instagram`,
//!   `linkedin`, or `all-fakes`), each an axum app on an ephemeral loopback port that
//!   implements the platform's call sequence, rejects what the real API rejects,
//!   records what it received (sizes and SHA-256, never bytes) and can inject faults.
//! - [`conformance`]: plain async checks over `&dyn Publisher` and `&dyn FakePlatform`.
//! - [`media`]: sample media of any size, recognised from its bytes.
#![forbid(unsafe_code)]

pub mod conformance;
mod fake;
pub mod fakes;
pub mod faults;
#[cfg(feature = "http-contract")]
pub mod http_contract;
pub mod media;
mod media_server;
mod record;
mod server;
pub mod stores;

pub use fake::{ErrorCase, FakePlatform, OptionCase, OptionMedia, PlatformError};
pub use faults::{Fault, FaultKind, Faults};
pub use media_server::MediaServer;
pub use record::{MediaHasher, PublishLog, PublishedPost, ReceivedMedia};
pub use server::FakeServer;
