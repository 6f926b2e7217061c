//! From a request to a job: the checks that exist for every upload (auth, body, form,
//! usage), then the job stored with its media before any platform is touched, then the
//! answer (the envelope, the background shape, or the scheduled shape).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::Stream;
use rand::RngCore;
use serde_json::{json, Map, Value};

use super::validate::MediaPlan;
use super::{checks, fetch, schedule, validate, Endpoint, Engine, UploadRequest};
use crate::accounts::{Account, Profile};
use crate::api_error::{ApiError, ApiResponse};
use crate::error::{ErrorKind, PublishError};
use crate::form::{parse_body, MediaSource};
use crate::jobs::{Insert, Job, Lease, MediaKind, PlatformRun, PlatformState};
use crate::media::MediaFile;
use crate::post::{FormFields, PostMedia};
use crate::usage::{Admission, SocialAccount, Usage, UsageRequest};

/// How long a job may stay between insert and admission before a duplicate request
/// takes it for abandoned (its process died mid-admission) and starts afresh.
const ADMISSION_ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// The longest request id or idempotency key accepted.
const MAX_ID_LEN: usize = 128;

/// A post to publish, for embedders who do not go through HTTP (what the upload routes
/// build from a form).
///
/// ```
/// # async fn demo(engine: fanout_core::Engine) -> Result<(), fanout_core::ApiError> {
/// use std::sync::Arc;
/// use fanout_core::{FormFields, MediaFile, MediaKind, Submission};
/// let dir = std::env::temp_dir();
/// let video = MediaFile::spool_file(&dir, "clip.mp4", u64::MAX).await
///     .map_err(|e| fanout_core::ApiError::bad_request(e.to_string()))?;
/// let mut submission = Submission::new("acme", "main", MediaKind::Video, vec![Arc::new(video)]);
/// submission.fields = FormFields::from_pairs([("title", "Hello")]);
/// submission.platforms = vec!["tiktok".into(), "linkedin".into()];
/// let submitted = engine.submit(submission).await?;
/// let job = engine.wait(&submitted.job.job_id, std::time::Duration::from_secs(60)).await?;
/// for platform in &job.platforms {
///     println!("{}: {:?}", platform.platform, platform.result);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Submission {
    /// The fanout account.
    pub account: String,
    /// The profile (`user`).
    pub profile: String,
    /// Video or photos.
    pub kind: MediaKind,
    /// `title`, `description` and every per-platform option, as form fields.
    pub fields: FormFields,
    /// One video, or the photos in order.
    pub media: Vec<Arc<MediaFile>>,
    /// Platform ids.
    pub platforms: Vec<String>,
    /// When to publish; now when `None`.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The IANA zone the schedule was given in, kept for display.
    pub timezone: Option<String>,
    /// Within the idempotency window, a second submission with the same key from the
    /// same account publishes and counts nothing and returns the first job.
    pub idempotency_key: Option<String>,
    /// Your own id for the request; fanout makes one when `None`.
    pub request_id: Option<String>,
    /// Recorded for history (`is_async`); the typed API never waits anyway.
    pub is_async: bool,
}

impl Submission {
    /// A submission with no fields, no platforms, to be published now.
    pub fn new(
        account: impl Into<String>,
        profile: impl Into<String>,
        kind: MediaKind,
        media: Vec<Arc<MediaFile>>,
    ) -> Self {
        Self {
            account: account.into(),
            profile: profile.into(),
            kind,
            fields: FormFields::default(),
            media,
            platforms: Vec::new(),
            scheduled_at: None,
            timezone: None,
            idempotency_key: None,
            request_id: None,
            is_async: true,
        }
    }
}

/// What [`Engine::submit`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Submitted {
    /// The job as stored (for a duplicate, the first job).
    pub job: Job,
    /// Whether this was a duplicate of an earlier submission (same idempotency key):
    /// nothing was published or counted.
    pub duplicate: bool,
}

/// A random 32-hex-digit id (request ids, job ids, runner ids).
pub(crate) fn random_id() -> String {
    let mut raw = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// A client-chosen id: 1 to 128 visible ASCII characters.
fn client_id(what: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_ID_LEN || !value.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(ApiError::bad_request(format!(
            "{what} must be 1 to {MAX_ID_LEN} visible ASCII characters"
        )));
    }
    Ok(value.to_string())
}

pub(super) async fn handle_upload<S, E>(
    engine: &Engine,
    endpoint: Endpoint,
    request: UploadRequest<S>,
) -> ApiResponse
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let header_id = request.request_id.clone();
    match upload(engine, endpoint, request).await {
        Ok(answer) => answer,
        Err(err) => {
            let id = header_id
                .and_then(|id| client_id("X-Request-Id", &id).ok())
                .unwrap_or_else(random_id);
            ApiResponse::from(err).with_header("X-Request-Id", id)
        }
    }
}

async fn upload<S, E>(
    engine: &Engine,
    endpoint: Endpoint,
    request: UploadRequest<S>,
) -> Result<ApiResponse, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let inner = &engine.inner;
    let now = Utc::now();
    let account = inner
        .auth
        .authenticate(
            inner.directory.as_ref(),
            request.authorization.as_deref(),
            now,
        )
        .await?;
    let spool_dir = inner
        .settings
        .spool_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let form = parse_body(
        request.content_type.as_deref(),
        request.content_length,
        request.body,
        &inner.settings.body_limits,
        &spool_dir,
    )
    .await?;
    let valid = validate::validate(endpoint, form, &account, |name| {
        inner.publishers.contains_key(name)
    })?;
    let fields = &valid.fields;
    let is_async = fields
        .bool("async_upload")
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .unwrap_or(false);
    let request_id = match fields.get("request_id").or(request.request_id.as_deref()) {
        Some(id) => Some(client_id("request_id", id)?),
        None => None,
    };
    let idempotency_key = match request.idempotency_key.as_deref() {
        Some(key) => Some(client_id("Idempotency-Key", key)?),
        None => None,
    };
    let schedule = match fields.get_trimmed("scheduled_date") {
        Some(date) => Some(schedule::parse(
            date,
            fields.get_trimmed("timezone"),
            now,
            inner.settings.max_schedule_days,
        )?),
        None => None,
    };
    fetch::check_count(&valid.media, &inner.outbound)?;
    let kind = match endpoint {
        Endpoint::Video => MediaKind::Video,
        Endpoint::Photos => MediaKind::Photo,
    };
    let submission = Submission {
        account: account.name.clone(),
        profile: valid.profile_key,
        kind,
        fields: valid.fields,
        // Taken from the plan, fetched (when it has URLs) after the usage check.
        media: Vec::new(),
        platforms: valid.platforms,
        scheduled_at: schedule.as_ref().map(|s| s.at),
        timezone: schedule.and_then(|s| s.timezone),
        idempotency_key,
        request_id,
        is_async,
    };
    let plan = Plan {
        media: valid.media,
        spool_dir,
    };
    let submitted = submit_for(engine, &account, &valid.profile, submission, plan, now).await?;
    let mut job = submitted.job;
    if !is_async && !job.has_every_result() && !is_waiting_for_schedule(&job) {
        job = engine
            .wait(&job.job_id, inner.settings.sync_timeout)
            .await?;
    }
    Ok(upload_answer(&job))
}

fn is_waiting_for_schedule(job: &Job) -> bool {
    job.scheduled_at.is_some() && !job.has_started() && !job.cancelled
}

/// The answer to an upload that became `job`: 202 for a scheduled post, the envelope
/// once every platform has a result, else the background shape.
pub(crate) fn upload_answer(job: &Job) -> ApiResponse {
    let answer = if job.cancelled {
        ApiResponse::from(ApiError::new(
            409,
            "The upload with this Idempotency-Key was cancelled; send a new key to upload again",
        ))
    } else if is_waiting_for_schedule(job) {
        let at = job.scheduled_at.unwrap_or(job.created_at);
        ApiResponse::new(
            202,
            json!({
                "success": true,
                "job_id": job.job_id,
                "scheduled_date": at.to_rfc3339_opts(SecondsFormat::Secs, true),
            }),
        )
    } else if job.has_every_result() {
        let mut results = Map::new();
        for run in &job.platforms {
            if let Some(result) = &run.result {
                results.insert(run.platform.clone(), result.clone());
            }
        }
        ApiResponse::new(
            200,
            json!({"success": true, "results": results, "usage": job.usage}),
        )
    } else {
        ApiResponse::new(200, background_answer(job))
    };
    answer.with_header("X-Request-Id", job.request_id.clone())
}

/// `{"success": true, "message": "Upload initiated successfully in background.", …}`.
pub(crate) fn background_answer(job: &Job) -> Value {
    json!({
        "success": true,
        "message": "Upload initiated successfully in background.",
        "request_id": job.request_id,
        "total_platforms": job.platforms.len(),
    })
}

/// `{"success": false, "error": "<why>"}`, the envelope's failure for one platform. An
/// expired token's sentence is followed by the surface's `reconnect_hint`.
pub(crate) fn failure_result(err: &PublishError, reconnect_hint: Option<&str>) -> Value {
    let error = match (err.kind(), reconnect_hint) {
        (ErrorKind::TokenExpired, Some(hint)) => format!("{} {hint}", err.message()),
        _ => err.message().to_string(),
    };
    json!({"success": false, "error": error})
}

impl Engine {
    /// Submits a post without HTTP: the same checks as the upload routes (profile,
    /// platforms, media, usage limits, idempotency), then the job is stored with its
    /// media and, unless scheduled, starts at once in the background. Wait for it with
    /// [`Engine::wait`] or read it with [`Engine::job`].
    ///
    /// Errors carry the HTTP status and message the routes would answer (`429` for a
    /// usage limit, `400` for a bad submission, `404` for an unknown account).
    pub async fn submit(&self, submission: Submission) -> Result<Submitted, ApiError> {
        let now = Utc::now();
        let account = self
            .inner
            .directory
            .find_by_name(&submission.account)
            .await
            .map_err(|e| {
                ApiError::internal("The account store is unavailable; try again later", &e)
            })?
            .ok_or_else(|| ApiError::new(404, "User not found"))?;
        let profile = account
            .profiles
            .get(&submission.profile)
            .cloned()
            .ok_or_else(|| ApiError::bad_request("Username not associated with any profile"))?;
        if submission.fields.get_trimmed("title").is_none() {
            return Err(ApiError::bad_request("Title cannot be empty"));
        }
        let media_ok = match submission.kind {
            MediaKind::Video => submission.media.len() == 1,
            MediaKind::Photo => !submission.media.is_empty(),
        };
        if !media_ok {
            return Err(ApiError::bad_request(match submission.kind {
                MediaKind::Video => "A video submission takes exactly one file",
                MediaKind::Photo => "A photo submission takes at least one file",
            }));
        }
        if submission.platforms.is_empty() {
            return Err(ApiError::bad_request(
                "At least one platform is required: send platform[]",
            ));
        }
        let unknown: Vec<&str> = submission
            .platforms
            .iter()
            .filter(|p| !self.inner.publishers.contains_key(p.as_str()))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::bad_request(
                super::validate::invalid_platforms_of(&unknown),
            ));
        }
        if let Some(at) = submission.scheduled_at {
            let max = chrono::Duration::days(self.inner.settings.max_schedule_days);
            if at <= now {
                return Err(ApiError::bad_request(
                    "scheduled_date must be in the future",
                ));
            }
            if at > now + max {
                return Err(ApiError::bad_request(format!(
                    "scheduled_date must be at most {} days ahead",
                    self.inner.settings.max_schedule_days
                )));
            }
        }
        let media = match submission.kind {
            MediaKind::Video => {
                MediaPlan::Video(MediaSource::File(Arc::clone(&submission.media[0])))
            }
            MediaKind::Photo => MediaPlan::Photos(
                submission
                    .media
                    .iter()
                    .cloned()
                    .map(MediaSource::File)
                    .collect(),
            ),
        };
        let spool_dir = self.inner.settings.spool_dir.clone();
        let plan = Plan {
            media,
            spool_dir: spool_dir.unwrap_or_else(std::env::temp_dir),
        };
        submit_for(self, &account, &profile, submission, plan, now).await
    }
}

/// A submission's media before its URLs (if any) are fetched, and where to spool them.
struct Plan {
    media: MediaPlan,
    spool_dir: std::path::PathBuf,
}

async fn submit_for(
    engine: &Engine,
    account: &Account,
    profile: &Profile,
    submission: Submission,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<Submitted, ApiError> {
    let inner = &engine.inner;
    // Media given as URLs is fetched only once the request is admitted; until then
    // the platforms' media limits wait for the files.
    let files = fetch::files_only(&plan.media);
    let mut platforms: Vec<PlatformRun> = submission
        .platforms
        .iter()
        .filter_map(|name| inner.publishers.get(name.as_str()))
        .map(|publisher| PlatformRun::queued(publisher.id(), now))
        .collect();
    let mut social_accounts = check_platforms(
        engine,
        profile,
        &submission.fields,
        files.as_ref(),
        &mut platforms,
        now,
    );
    let job_id = random_id();
    let mut job = Job {
        request_id: submission
            .request_id
            .clone()
            .unwrap_or_else(|| job_id.clone()),
        job_id,
        account: account.name.clone(),
        profile: submission.profile.clone(),
        media_kind: submission.kind,
        fields: submission.fields.clone(),
        media: Vec::new(),
        platforms,
        scheduled_at: submission.scheduled_at,
        timezone: submission.timezone.clone(),
        idempotency_key: submission.idempotency_key.clone(),
        is_async: submission.is_async,
        usage: None,
        social_accounts: Vec::new(),
        cancelled: false,
        started_at: None,
        created_at: now,
        updated_at: now,
        due_at: None,
        lease: None,
        finished_at: None,
        media_expires_at: None,
        media_deleted: false,
        version: 0,
    };
    if let Some(first) = insert_or_find_first(engine, &job).await? {
        return Ok(Submitted {
            job: first,
            duplicate: true,
        });
    }
    let mut usage = admit(engine, account, &job.job_id, &social_accounts, now).await?;
    let media = match files {
        Some(media) => media,
        None => {
            let max_upload = inner.settings.body_limits.max_upload_bytes;
            let max_total = inner
                .settings
                .fetch
                .max_total_bytes
                .map_or(max_upload, |max| max.min(max_upload));
            let fetched =
                fetch::resolve_media(&inner.outbound, plan.media, &plan.spool_dir, max_total).await;
            let media = match fetched {
                Ok(media) => media,
                Err(err) => {
                    give_back(engine, account, &social_accounts, now).await;
                    forget(engine, &job.job_id).await;
                    return Err(err);
                }
            };
            let checked = check_platforms(
                engine,
                profile,
                &submission.fields,
                Some(&media),
                &mut job.platforms,
                now,
            );
            if checked != social_accounts {
                // A platform refused the fetched media: it must not count for its day.
                give_back(engine, account, &social_accounts, now).await;
                social_accounts = checked;
                usage = admit(engine, account, &job.job_id, &social_accounts, now).await?;
            }
            media
        }
    };
    for (index, file) in media.files().iter().enumerate() {
        match inner.media_store.put(&job.job_id, index, file).await {
            Ok(stored) => job.media.push(stored),
            Err(err) => {
                give_back(engine, account, &social_accounts, now).await;
                let _ = inner.media_store.delete_job(&job.job_id).await;
                forget(engine, &job.job_id).await;
                return Err(ApiError::internal(
                    "The media store is unavailable; try again later",
                    &err,
                ));
            }
        }
    }
    job.usage = Some(usage);
    job.social_accounts = social_accounts;
    job.updated_at = now;
    let runnable = job.platforms.iter().any(|p| !p.state.is_settled());
    let mut run_now = false;
    if !runnable {
        job.finished_at = Some(now);
        job.media_expires_at = Some(now + to_chrono(inner.settings.retry_window));
    } else if let Some(at) = job.scheduled_at {
        job.due_at = Some(at);
    } else {
        job.due_at = Some(now);
        job.started_at = Some(now);
        job.lease = Some(Lease {
            owner: inner.runner_id.clone(),
            until: now + to_chrono(inner.settings.job_lease),
        });
        run_now = true;
    }
    let stored = inner
        .jobs
        .update(&mut job)
        .await
        .map_err(|e| ApiError::internal("The job store is unavailable; try again later", &e))?;
    if !stored {
        return Err(ApiError::internal(
            "The job was changed while it was being accepted; try again",
            &"a concurrent writer changed a job before its admission finished",
        ));
    }
    engine.inner.job_written.notify_waiters();
    if run_now {
        engine.spawn_run(job.clone());
    }
    Ok(Submitted {
        job,
        duplicate: false,
    })
}

/// Inserts `job`; on a duplicate idempotency key returns the first job once it is
/// admitted (waiting a little while it is being admitted, starting afresh when its
/// admission was refused or abandoned).
async fn insert_or_find_first(engine: &Engine, job: &Job) -> Result<Option<Job>, ApiError> {
    let inner = &engine.inner;
    let store_failed = |e: crate::StoreError| {
        ApiError::internal("The job store is unavailable; try again later", &e)
    };
    let deadline = tokio::time::Instant::now() + inner.settings.sync_timeout;
    loop {
        match inner
            .jobs
            .insert(job, inner.settings.idempotency_window)
            .await
            .map_err(store_failed)?
        {
            Insert::Created => return Ok(None),
            Insert::RequestIdTaken => {
                return Err(ApiError::new(
                    409,
                    format!(
                        "request_id {} is already in use by another upload; send a new one",
                        job.request_id
                    ),
                ))
            }
            Insert::DuplicateKey(first) => {
                let mut first = *first;
                loop {
                    if first.usage.is_some() || first.cancelled {
                        return Ok(Some(first));
                    }
                    if Utc::now() - first.created_at > ADMISSION_ABANDONED_AFTER {
                        tracing::warn!(job_id = %first.job_id, "taking over an idempotency key whose admission was abandoned");
                        inner
                            .jobs
                            .delete(&first.job_id)
                            .await
                            .map_err(store_failed)?;
                        break;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(ApiError::new(
                            409,
                            "An upload with this Idempotency-Key is still being accepted; try again shortly",
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    match inner.jobs.get(&first.job_id).await.map_err(store_failed)? {
                        Some(now_stored) => first = now_stored,
                        // Its admission was refused: this request is the first now.
                        None => break,
                    }
                }
            }
        }
    }
}

/// Deletes a job whose admission failed; logs when it cannot.
async fn forget(engine: &Engine, job_id: &str) {
    if let Err(err) = engine.inner.jobs.delete(job_id).await {
        tracing::error!(%err, job_id, "could not delete a job whose admission failed");
    }
}

/// Checks every platform still queued in `runs`: connected, and (when the media is
/// known) within its limits; a platform that is not becomes a failed result. The
/// social accounts of the platforms still queued, in request order.
fn check_platforms(
    engine: &Engine,
    profile: &Profile,
    fields: &FormFields,
    media: Option<&PostMedia>,
    runs: &mut [PlatformRun],
    now: DateTime<Utc>,
) -> Vec<SocialAccount> {
    let inner = &engine.inner;
    let mut social_accounts = Vec::new();
    for run in runs.iter_mut().filter(|run| !run.state.is_settled()) {
        let Some(publisher) = inner.publishers.get(run.platform.as_str()) else {
            continue;
        };
        let checked = match profile.connections.get(publisher.id()) {
            None => Err(PublishError::not_connected(publisher.display_name())),
            Some(connection) => media
                .map_or(Ok(()), |media| {
                    let post = checks::post_for(publisher.id(), fields, media);
                    checks::check_capabilities(publisher.as_ref(), &post)
                })
                .map(|()| {
                    social_accounts.push(SocialAccount {
                        platform: publisher.id().to_string(),
                        platform_name: publisher.display_name().to_string(),
                        account_name: connection.account_name.clone(),
                    })
                }),
        };
        if let Err(err) = checked {
            run.state = PlatformState::Failed;
            run.result = Some(failure_result(
                &err,
                inner.settings.reconnect_hint.as_deref(),
            ));
            run.upload_timestamp = Some(now);
        }
    }
    social_accounts
}

/// The usage request of `account` publishing to `social_accounts` at `now`.
fn usage_request<'a>(
    account: &'a Account,
    social_accounts: &'a [SocialAccount],
    now: DateTime<Utc>,
) -> UsageRequest<'a> {
    UsageRequest {
        account: &account.name,
        now,
        monthly_limit: account.plan.monthly_uploads,
        daily_limit: account.plan.daily_uploads_per_account,
        social_accounts,
    }
}

/// Counts the request (429 at a limit); on any refusal the job `job_id` is forgotten.
async fn admit(
    engine: &Engine,
    account: &Account,
    job_id: &str,
    social_accounts: &[SocialAccount],
    now: DateTime<Utc>,
) -> Result<Usage, ApiError> {
    let request = usage_request(account, social_accounts, now);
    let refused = match engine.inner.usage.admit(&request).await {
        Ok(Admission::Admitted(usage)) => return Ok(usage),
        Ok(Admission::MonthlyLimitReached { limit }) => ApiError::new(
            429,
            format!("You have reached your monthly limit of {limit} uploads"),
        ),
        Ok(Admission::DailyLimitReached {
            limit,
            social_account,
        }) => ApiError::new(
            429,
            format!(
                "You have reached the daily limit of {limit} uploads for: {} ({})",
                social_account.platform_name, social_account.account_name
            ),
        ),
        Err(err) => ApiError::internal("The usage store is unavailable; try again later", &err),
    };
    forget(engine, job_id).await;
    Err(refused)
}

/// Gives back what [`admit`] counted for a request that is not going ahead; logs when
/// it cannot.
async fn give_back(
    engine: &Engine,
    account: &Account,
    social_accounts: &[SocialAccount],
    now: DateTime<Utc>,
) {
    let request = usage_request(account, social_accounts, now);
    if let Err(err) = engine.inner.usage.release(&request).await {
        tracing::error!(%err, "could not give back the count of an upload that did not go ahead");
    }
}

pub(crate) fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reconnect_hint_follows_an_expired_token_and_nothing_else() {
        let expired = PublishError::token_expired("TikTok");
        assert_eq!(
            failure_result(&expired, Some("Reconnect it under Settings.")),
            json!({"success": false, "error": "Your TikTok session has expired. Please reconnect your TikTok account. Reconnect it under Settings."})
        );
        assert_eq!(
            failure_result(&expired, None),
            json!({"success": false, "error": "Your TikTok session has expired. Please reconnect your TikTok account."})
        );
        assert_eq!(
            failure_result(&PublishError::rejected("No."), Some("Reconnect.")),
            json!({"success": false, "error": "No."})
        );
    }

    #[tokio::test]
    async fn the_typed_api_names_a_few_unknown_platforms_and_counts_the_rest() {
        use crate::{
            Account, AccountDirectory, MediaFile, MemoryDirectory, MemoryUsage, Plan, Profile,
        };
        let directory = Arc::new(MemoryDirectory::new());
        directory
            .upsert(Account {
                name: "acme".into(),
                api_key_hash: None,
                api_key_expires_at: None,
                plan: Plan {
                    monthly_uploads: 10,
                    daily_uploads_per_account: None,
                },
                profiles: [(
                    "main".to_string(),
                    Profile {
                        username: "main".into(),
                        connections: Default::default(),
                    },
                )]
                .into(),
            })
            .await
            .unwrap();
        let engine = Engine::builder(directory, Arc::new(MemoryUsage::new()))
            .public_base_url("http://127.0.0.1:1/".parse().unwrap())
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = MediaFile::from_bytes(dir.path(), vec![0u8; 16], None)
            .await
            .unwrap();
        let mut submission =
            Submission::new("acme", "main", MediaKind::Video, vec![Arc::new(file)]);
        submission.fields = FormFields::from_pairs([("title", "t")]);
        submission.platforms = (0..1000).map(|n| format!("nope{n}")).collect();
        let err = engine.submit(submission).await.unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(
            err.message,
            "Invalid platforms: nope0, nope1, nope2, nope3, nope4 and 995 more"
        );
    }
}
