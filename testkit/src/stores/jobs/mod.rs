//! Checks every [`JobStore`] must pass, and the sample jobs they use: `writes` checks
//! insert, update and delete, `queries` the lists.
//!
//! `due` and `media_expired` span every account, so their checks live in years of
//! their own (2001 and 2002); the other checks keep due and media-expiry times in 2026
//! or later.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use fanout_core::{
    FormFields, Insert, Job, JobStore, Lease, MediaKind, PlatformRun, PlatformState, StoredMedia,
    Usage,
};
use serde_json::json;

use super::{ok, social, utc};

mod queries;
mod writes;

pub use queries::{
    due_honours_due_at_cancellation_and_leases, history_is_newest_first_and_count_adds_platforms,
    media_expired_lists_media_to_delete, scheduled_lists_jobs_not_started_soonest_first,
};
pub use writes::{
    a_duplicate_request_id_is_refused, a_job_round_trips,
    concurrent_inserts_with_one_key_create_one, concurrent_updates_from_one_version_one_wins,
    delete_removes_a_job, idempotency_keys_within_the_window_return_the_first_job,
    update_compares_versions,
};

/// The idempotency window the checks insert with.
const HOUR: StdDuration = StdDuration::from_secs(3600);

/// Runs every job check, in order, on `store`.
pub async fn run_job_checks(store: Arc<dyn JobStore>) {
    a_job_round_trips(store.as_ref()).await;
    idempotency_keys_within_the_window_return_the_first_job(store.as_ref()).await;
    a_duplicate_request_id_is_refused(store.as_ref()).await;
    concurrent_inserts_with_one_key_create_one(
        std::slice::from_ref(&store),
        "jobs-concurrent-insert",
    )
    .await;
    update_compares_versions(store.as_ref()).await;
    concurrent_updates_from_one_version_one_wins(
        std::slice::from_ref(&store),
        "jobs-concurrent-update",
    )
    .await;
    due_honours_due_at_cancellation_and_leases(store.as_ref()).await;
    history_is_newest_first_and_count_adds_platforms(store.as_ref()).await;
    scheduled_lists_jobs_not_started_soonest_first(store.as_ref()).await;
    media_expired_lists_media_to_delete(store.as_ref()).await;
    delete_removes_a_job(store.as_ref()).await;
}

// ---------------------------------------------------------------------------------------
// Sample jobs

/// A plain job of `account`: request id `req-{job_id}`, profile `main`, a video with a
/// title and one queued TikTok platform, due at `created_at`, version 0, every other
/// optional field empty.
pub fn sample_job(account: &str, job_id: &str, created_at: DateTime<Utc>) -> Job {
    Job {
        job_id: job_id.to_string(),
        request_id: format!("req-{job_id}"),
        account: account.to_string(),
        profile: "main".to_string(),
        media_kind: MediaKind::Video,
        fields: FormFields::from_pairs([("title", format!("Job {job_id}"))]),
        media: Vec::new(),
        platforms: vec![PlatformRun::queued("tiktok", created_at)],
        scheduled_at: None,
        timezone: None,
        idempotency_key: None,
        is_async: false,
        usage: None,
        social_accounts: Vec::new(),
        cancelled: false,
        started_at: None,
        created_at,
        updated_at: created_at,
        due_at: Some(created_at),
        lease: None,
        finished_at: None,
        media_expires_at: None,
        media_deleted: false,
        version: 0,
    }
}

/// A job with every field set (times to the nanosecond, text beyond ASCII, three
/// platforms — completed, processing with a checkpoint, failed — two media, a schedule,
/// usage, social accounts, a lease) and version 3. Its times are `created_at` and
/// later.
pub fn full_job(account: &str, job_id: &str, created_at: DateTime<Utc>) -> Job {
    let t = |minutes: i64| created_at + Duration::minutes(minutes);
    let mut fields = FormFields::from_pairs([
        ("title", "Ünïcödé \"launch\" 🎬"),
        (
            "description",
            "line one\nline two, with a tab\tand a backslash \\",
        ),
    ]);
    fields.push("tiktok_privacy_level", "PUBLIC_TO_EVERYONE");
    fields.push("platform[]", "tiktok");
    fields.push("platform[]", "instagram");
    Job {
        job_id: job_id.to_string(),
        request_id: format!("req-{job_id}"),
        account: account.to_string(),
        profile: "brand".to_string(),
        media_kind: MediaKind::Photo,
        fields,
        media: vec![
            StoredMedia {
                key: format!("media/{job_id}/0"),
                len: 5_000_000_123,
                sha256: "ab".repeat(32),
                content_type: "image/jpeg".to_string(),
                file_name: Some("première photo.jpg".to_string()),
            },
            StoredMedia {
                key: format!("media/{job_id}/1"),
                len: 1,
                sha256: "cd".repeat(32),
                content_type: "image/png".to_string(),
                file_name: Some("second.png".to_string()),
            },
        ],
        platforms: vec![
            PlatformRun {
                platform: "tiktok".to_string(),
                state: PlatformState::Completed,
                result: Some(json!({
                    "success": true,
                    "url": "https://www.tiktok.com/@acme/video/7301234567890123456",
                    "publish_id": "v_pub_url~v2.123",
                })),
                checkpoint: Some(json!({"publish_id": "v_pub_url~v2.123", "chunks": [1, 2, 3]})),
                upload_timestamp: Some(t(5) + Duration::nanoseconds(1)),
                updated_at: t(5),
            },
            PlatformRun {
                platform: "instagram".to_string(),
                state: PlatformState::Processing,
                result: Some(json!({"success": true, "status": "PROCESSING"})),
                checkpoint: Some(
                    json!({"container_id": "17890000000000000", "nested": {"a": null}}),
                ),
                upload_timestamp: None,
                updated_at: t(6),
            },
            PlatformRun {
                platform: "linkedin".to_string(),
                state: PlatformState::Failed,
                result: Some(json!({"success": false, "error": "The token expired."})),
                checkpoint: Some(json!({})),
                upload_timestamp: Some(t(7)),
                updated_at: t(7),
            },
        ],
        scheduled_at: Some(t(60)),
        timezone: Some("America/Argentina/Buenos_Aires".to_string()),
        idempotency_key: Some(format!("key-{job_id}")),
        is_async: true,
        usage: Some(Usage {
            count: 7,
            limit: 120,
            last_reset: utc(2026, 3, 1, 0, 0, 0),
        }),
        social_accounts: vec![social("tiktok", "acme_tt"), social("instagram", "acme_ig")],
        cancelled: true,
        started_at: Some(t(61)),
        created_at,
        updated_at: t(62) + Duration::microseconds(7),
        due_at: Some(t(60)),
        lease: Some(Lease {
            owner: "runner-7f3a".to_string(),
            until: t(65) + Duration::milliseconds(250),
        }),
        finished_at: Some(t(64)),
        media_expires_at: Some(t(60 * 24 * 7)),
        media_deleted: true,
        version: 3,
    }
}

/// `job` with one platform per id in `platforms`, all queued.
fn with_platforms(mut job: Job, platforms: &[&str]) -> Job {
    job.platforms = platforms
        .iter()
        .map(|p| PlatformRun::queued(*p, job.created_at))
        .collect();
    job
}

// ---------------------------------------------------------------------------------------
// Helpers

/// Panics unless `actual` is field for field the same job as `expected`.
pub fn assert_same_job(expected: &Job, actual: &Job, context: &str) {
    macro_rules! same {
        ($($field:ident),* $(,)?) => {$(
            assert!(
                actual.$field == expected.$field,
                "{context}: `{}` of job {} did not round-trip: expected {:?}, got {:?}",
                stringify!($field),
                expected.job_id,
                expected.$field,
                actual.$field,
            );
        )*};
    }
    same!(
        job_id,
        request_id,
        account,
        profile,
        media_kind,
        fields,
        media,
        platforms,
        scheduled_at,
        timezone,
        idempotency_key,
        is_async,
        usage,
        social_accounts,
        cancelled,
        started_at,
        created_at,
        updated_at,
        due_at,
        lease,
        finished_at,
        media_expires_at,
        media_deleted,
        version,
    );
}

async fn insert(store: &dyn JobStore, job: &Job, window: StdDuration) -> Insert {
    ok(
        store.insert(job, window).await,
        &format!("insert of job {} of account {}", job.job_id, job.account),
    )
}

async fn created(store: &dyn JobStore, job: &Job, what: &str) {
    match insert(store, job, HOUR).await {
        Insert::Created => {}
        other => panic!(
            "{what}: expected job {} to be created, got {other:?}",
            job.job_id
        ),
    }
}

async fn get(store: &dyn JobStore, job_id: &str) -> Option<Job> {
    ok(store.get(job_id).await, &format!("get({job_id})"))
}

async fn stored(store: &dyn JobStore, job_id: &str, what: &str) -> Job {
    match get(store, job_id).await {
        Some(job) => job,
        None => panic!("{what}: job {job_id} is not in the store, but it was stored"),
    }
}

async fn update(store: &dyn JobStore, job: &mut Job) -> bool {
    let what = format!("update of job {} at version {}", job.job_id, job.version);
    ok(store.update(job).await, &what)
}

fn ids(jobs: &[Job]) -> Vec<&str> {
    jobs.iter().map(|j| j.job_id.as_str()).collect()
}

async fn due(store: &dyn JobStore, now: DateTime<Utc>, limit: usize) -> Vec<Job> {
    ok(store.due(now, limit).await, &format!("due({now}, {limit})"))
}

async fn history(store: &dyn JobStore, account: &str, offset: u64, limit: u64) -> Vec<Job> {
    ok(
        store.history(account, offset, limit).await,
        &format!("history({account}, offset {offset}, limit {limit})"),
    )
}

async fn count(store: &dyn JobStore, account: &str) -> (u64, u64) {
    ok(store.count(account).await, &format!("count({account})"))
}

async fn scheduled(store: &dyn JobStore, account: &str) -> Vec<Job> {
    ok(
        store.scheduled(account).await,
        &format!("scheduled({account})"),
    )
}

async fn media_expired(store: &dyn JobStore, now: DateTime<Utc>, limit: usize) -> Vec<Job> {
    ok(
        store.media_expired(now, limit).await,
        &format!("media_expired({now}, {limit})"),
    )
}
