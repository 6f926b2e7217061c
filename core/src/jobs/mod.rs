//! Posts as jobs: an accepted upload is stored as a [`Job`] before any platform is
//! touched, with one durable [`PlatformRun`] per platform, and run by the engine's job
//! runner under a lease.
//!
//! The model is plain data (serde), so a store can keep a job as one JSON document
//! beside a few indexed columns ([`JobStore`] says which).

mod memory;
mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::post::FormFields;
use crate::usage::{SocialAccount, Usage};

pub use memory::MemoryJobStore;
pub use store::{Insert, JobStore};

/// What a job publishes: one video, or photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// `POST /api/upload`.
    Video,
    /// `POST /api/upload_photos`.
    Photo,
}

impl MediaKind {
    /// `"video"` or `"photo"`, as history shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::Photo => "photo",
        }
    }
}

/// One medium of a job, kept in the media store until the job no longer needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMedia {
    /// The object's key in the media store.
    pub key: String,
    /// Size in bytes.
    pub len: u64,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// MIME type recognised from the bytes.
    pub content_type: String,
    /// The file name the client sent, if any.
    pub file_name: Option<String>,
}

/// Where one platform of a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformState {
    /// Not started.
    Queued,
    /// In flight, or accepted by the platform and still processing there (then
    /// `result` shows the `PROCESSING` receipt and `checkpoint` the follow-up).
    Processing,
    /// Published: `result` is the success object.
    Completed,
    /// Failed: `result` is `{"success": false, "error": …}`.
    Failed,
}

impl PlatformState {
    /// `queued`, `processing`, `completed` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformState::Queued => "queued",
            PlatformState::Processing => "processing",
            PlatformState::Completed => "completed",
            PlatformState::Failed => "failed",
        }
    }

    /// Completed or failed: nothing more will happen unless retried.
    pub fn is_settled(self) -> bool {
        matches!(self, PlatformState::Completed | PlatformState::Failed)
    }
}

/// One platform of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformRun {
    /// Platform id (`"tiktok"`).
    pub platform: String,
    /// Where it stands.
    pub state: PlatformState,
    /// The result object exactly as the envelope shows it, once there is one.
    pub result: Option<Value>,
    /// What the publisher recorded of its progress (the platform's ids), for
    /// [`crate::Publisher::resume`]. `None` while nothing was sent.
    pub checkpoint: Option<Value>,
    /// When it was published, or when it failed.
    pub upload_timestamp: Option<DateTime<Utc>>,
    /// The last change.
    pub updated_at: DateTime<Utc>,
}

impl PlatformRun {
    /// A platform not started yet.
    pub fn queued(platform: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self {
            platform: platform.into(),
            state: PlatformState::Queued,
            result: None,
            checkpoint: None,
            upload_timestamp: None,
            updated_at: now,
        }
    }

    /// Whether its result says success.
    pub fn succeeded(&self) -> bool {
        self.result
            .as_ref()
            .and_then(|r| r.get("success"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The error sentence of a failed platform.
    pub fn error(&self) -> Option<&str> {
        self.result
            .as_ref()
            .and_then(|r| r.get("error"))
            .and_then(Value::as_str)
    }
}

/// Who holds a job and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The runner holding it (one id per engine process).
    pub owner: String,
    /// When it lapses unless renewed.
    pub until: DateTime<Utc>,
}

/// An accepted post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// fanout's id of the job.
    pub job_id: String,
    /// The request id: the client's (`request_id` field or `X-Request-Id`) or fanout's.
    pub request_id: String,
    /// The fanout account.
    pub account: String,
    /// The profile (`user`).
    pub profile: String,
    /// Video or photos.
    pub media_kind: MediaKind,
    /// Every form field, in arrival order (title, description, per-platform options).
    pub fields: FormFields,
    /// The media, in order.
    pub media: Vec<StoredMedia>,
    /// One entry per requested platform, in request order.
    pub platforms: Vec<PlatformRun>,
    /// When it should run, for a scheduled post.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The IANA time zone the client gave with `scheduled_date`.
    pub timezone: Option<String>,
    /// The client's idempotency key.
    pub idempotency_key: Option<String>,
    /// Whether the client asked for `async_upload`.
    pub is_async: bool,
    /// The usage after admitting this job (the envelope's `usage`).
    pub usage: Option<Usage>,
    /// The social accounts counted against their daily limits (given back on cancel).
    pub social_accounts: Vec<SocialAccount>,
    /// Whether it was cancelled before it started.
    pub cancelled: bool,
    /// When a runner first started it; `None` while it can still be cancelled or edited.
    pub started_at: Option<DateTime<Utc>>,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// The last change.
    pub updated_at: DateTime<Utc>,
    /// When the runner should take it next; `None` when there is nothing to run.
    pub due_at: Option<DateTime<Utc>>,
    /// The runner holding it.
    pub lease: Option<Lease>,
    /// When every platform settled (or it was cancelled).
    pub finished_at: Option<DateTime<Utc>>,
    /// When its media may be deleted; `None` while it may still be needed.
    pub media_expires_at: Option<DateTime<Utc>>,
    /// Whether its media was deleted.
    pub media_deleted: bool,
    /// Bumped by every successful [`JobStore::update`]: writes compare it.
    pub version: u64,
}

/// A job's overall status, as `GET /api/uploadposts/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Scheduled for later and not started.
    Scheduled,
    /// Due, not started.
    Pending,
    /// At least one platform started and not all have settled.
    InProgress,
    /// Every platform settled and at least one succeeded.
    Completed,
    /// Every platform failed.
    Failed,
    /// Cancelled before it started.
    Cancelled,
}

impl JobStatus {
    /// The status word.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Scheduled => "scheduled",
            JobStatus::Pending => "pending",
            JobStatus::InProgress => "in_progress",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl Job {
    /// Its overall status at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> JobStatus {
        if self.cancelled {
            return JobStatus::Cancelled;
        }
        let settled = self.platforms.iter().all(|p| p.state.is_settled());
        if settled {
            return if self.platforms.iter().any(PlatformRun::succeeded) {
                JobStatus::Completed
            } else {
                JobStatus::Failed
            };
        }
        if self.has_started() {
            return JobStatus::InProgress;
        }
        match self.scheduled_at {
            Some(at) if at > now => JobStatus::Scheduled,
            _ => JobStatus::Pending,
        }
    }

    /// Whether a runner started it.
    pub fn has_started(&self) -> bool {
        self.started_at.is_some()
    }

    /// Whether every platform has a result to show (settled, or `PROCESSING` on the
    /// platform): what a synchronous upload waits for.
    pub fn has_every_result(&self) -> bool {
        self.cancelled || self.platforms.iter().all(|p| p.result.is_some())
    }

    /// The platforms that completed or failed so far.
    pub fn completed_count(&self) -> usize {
        self.platforms
            .iter()
            .filter(|p| p.state.is_settled())
            .count()
    }

    /// The platform named `id`.
    pub fn platform(&self, id: &str) -> Option<&PlatformRun> {
        self.platforms.iter().find(|p| p.platform == id)
    }

    /// The platform named `id`, to change it.
    pub fn platform_mut(&mut self, id: &str) -> Option<&mut PlatformRun> {
        self.platforms.iter_mut().find(|p| p.platform == id)
    }

    /// Total bytes of its media.
    pub fn media_size_bytes(&self) -> u64 {
        self.media.iter().map(|m| m.len).sum()
    }

    /// The title as the client sent it.
    pub fn title(&self) -> Option<&str> {
        self.fields.get_trimmed("title")
    }
}
