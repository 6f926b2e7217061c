//! fanout-core: publish one upload to many social platforms and get one answer back.
//!
//! The pieces:
//! - [`Publisher`]: one implementation per platform, described by [`Capabilities`];
//! - [`Post`] / [`MediaFile`]: what is published, spooled to disk;
//! - [`PublishError`]: a category ([`ErrorKind`]) and the sentence a person reads;
//! - [`AccountDirectory`], [`UsageStore`], [`MediaHost`]: the stores, each with an
//!   in-memory implementation here and durable ones in their own crates.
//!
//! What platform crates share besides the [`Publisher`] trait (the HTTP session,
//! retries, polling, OAuth calls, throttles) is in `fanout-kit`.
#![forbid(unsafe_code)]

pub mod accounts;
mod api_error;
pub mod auth;
pub mod connect_state;
mod engine;
mod error;
pub mod form;
#[cfg(feature = "fuzzing")]
pub use engine::fuzzing;
pub mod http;
pub mod jobs;
pub mod media;
pub mod media_host;
mod media_links;
mod media_store;
mod post;
mod publisher;
pub mod routes;
pub mod tokens;
pub mod usage;

pub use accounts::{
    Account, AccountDirectory, ApiKeyHash, Connection, ConnectionLock, MemoryDirectory, Plan,
    Profile, StoreError, StoreErrorKind,
};
pub use api_error::{ApiError, ApiResponse};
pub use connect_state::{ConnectAttempt, ConnectStateStore, MemoryConnectStates};
pub use engine::{
    BuildError, ConnectRedirect, Endpoint, Engine, EngineBuilder, EngineSettings, FetchSettings,
    HistoryItem, HistoryPage, InvalidCidr, IpCidr, JobRef, RunnerHandle, ScheduleEdit, Submission,
    Submitted, UploadRequest, NEEDS_RECONNECT, UPLOAD_POST_RECONNECT_HINT,
};
pub use error::{ErrorKind, PublishError};
pub use jobs::{
    Insert, Job, JobStatus, JobStore, Lease, MediaKind, MemoryJobStore, PlatformRun, PlatformState,
    StoredMedia,
};
pub use media::{MediaFile, SpoolError};
pub use media_host::{HostedMedia, LocalMediaHost, MediaHost};
pub use media_links::{MediaLink, MediaLinkStore, MemoryMediaLinks};
pub use media_store::MediaStore;
pub use post::{FieldError, FormFields, Post, PostMedia};
pub use publisher::{
    unknown_outcome, Capabilities, NoProgress, PhotoLimits, Progress, PublishContext, Publisher,
    Receipt, VideoLimits,
};
pub use tokens::{AuthorizationRequest, TokenError, TokenErrorKind, TokenProvider};
pub use usage::{Admission, MemoryUsage, SocialAccount, Usage, UsageRequest, UsageStore};

/// Re-exported so implementors use the same `async_trait` and secrecy versions.
pub use async_trait::async_trait;
pub use secrecy;
