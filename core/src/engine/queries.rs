//! Reading and steering jobs: status, history, the schedule (list, cancel, edit) and
//! retry, as typed methods for embedders and as the upload-post routes built on them.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::submit::{background_answer, to_chrono};
use super::{schedule, Engine};
use crate::accounts::{Account, StoreError};
use crate::api_error::{ApiError, ApiResponse};
use crate::jobs::{Job, Lease, PlatformRun, PlatformState};
use crate::usage::UsageRequest;

/// Page sizes `GET /api/uploadposts/history` accepts.
const HISTORY_LIMITS: [u64; 4] = [10, 20, 50, 100];

/// How a client names a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobRef {
    /// fanout's job id.
    JobId(String),
    /// The request id (the client's, or fanout's).
    RequestId(String),
}

/// One item of the history: one platform of one job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryItem {
    /// The profile (`user`).
    pub profile_username: String,
    /// Platform id.
    pub platform: String,
    /// `video` or `photo`.
    pub media_type: &'static str,
    /// When the platform was published (or failed); RFC 3339.
    pub upload_timestamp: Option<String>,
    /// Whether the platform succeeded.
    pub success: bool,
    /// The platform's id of the post, when known.
    pub platform_post_id: Option<String>,
    /// The post's URL, when the platform gave one.
    pub post_url: Option<String>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Total bytes of the post's media.
    pub media_size_bytes: u64,
    /// The post's title.
    pub post_title: Option<String>,
    /// Whether it was uploaded with `async_upload`.
    pub is_async: bool,
    /// fanout's job id.
    pub job_id: String,
    /// The request id.
    pub request_id: String,
    /// How many platforms the request named.
    pub request_total_platforms: usize,
    /// `queued`, `processing`, `completed` or `failed`.
    pub status: &'static str,
}

/// One page of history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPage {
    /// The items, newest job first, platforms in request order.
    pub history: Vec<HistoryItem>,
    /// Items in the whole history.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// Items per page.
    pub limit: u64,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn store_failed(err: StoreError) -> ApiError {
    ApiError::internal("The job store is unavailable; try again later", &err)
}

fn not_found() -> ApiResponse {
    ApiResponse::new(
        404,
        json!({"success": false, "message": "Job not found", "status": "not_found"}),
    )
}

/// The platform's id of the post, by the receipts' field names.
fn post_id(result: &Value) -> Option<String> {
    ["post_id", "media_id", "publish_id", "container_id"]
        .iter()
        .find_map(|k| result.get(*k).and_then(Value::as_str).map(str::to_string))
}

fn status_item(run: &PlatformRun) -> Value {
    let mut item = Map::new();
    item.insert("platform".into(), json!(run.platform));
    if let Some(Value::Object(result)) = &run.result {
        for (k, v) in result {
            // The platform's own status word (`PUBLISH_SUCCESS`, `PROCESSING`) is kept
            // as `platform_status`; `status` is always fanout's state of the platform.
            let key = if k == "status" {
                "platform_status"
            } else {
                k.as_str()
            };
            item.insert(key.to_string(), v.clone());
        }
    }
    item.insert("status".into(), json!(run.state.as_str()));
    if let Some(at) = run.upload_timestamp {
        item.insert("upload_timestamp".into(), json!(rfc3339(at)));
    }
    Value::Object(item)
}

/// `GET /api/uploadposts/status`'s body for `job`.
pub(crate) fn status_body(job: &Job, now: DateTime<Utc>) -> Value {
    json!({
        "request_id": job.request_id,
        "job_id": job.job_id,
        "status": job.status(now).as_str(),
        "completed": job.completed_count(),
        "total": job.platforms.len(),
        "results": job.platforms.iter().map(status_item).collect::<Vec<_>>(),
        "last_update": rfc3339(job.updated_at),
    })
}

fn history_items(job: &Job) -> impl Iterator<Item = HistoryItem> + '_ {
    job.platforms.iter().map(move |run| HistoryItem {
        profile_username: job.profile.clone(),
        platform: run.platform.clone(),
        media_type: job.media_kind.as_str(),
        upload_timestamp: run.upload_timestamp.map(rfc3339),
        success: run.state == PlatformState::Completed && run.succeeded(),
        platform_post_id: run.result.as_ref().and_then(post_id),
        post_url: run.result.as_ref().and_then(|r| {
            ["post_url", "url"]
                .iter()
                .find_map(|k| r.get(*k).and_then(Value::as_str).map(str::to_string))
        }),
        error_message: run.error().map(str::to_string),
        media_size_bytes: job.media_size_bytes(),
        post_title: job.title().map(str::to_string),
        is_async: job.is_async,
        job_id: job.job_id.clone(),
        request_id: job.request_id.clone(),
        request_total_platforms: job.platforms.len(),
        status: run.state.as_str(),
    })
}

fn scheduled_item(job: &Job) -> Value {
    json!({
        "job_id": job.job_id,
        "scheduled_date": job.scheduled_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        "timezone": job.timezone.as_deref().unwrap_or("UTC"),
        "profile_username": job.profile,
        "platforms": job.platforms.iter().map(|p| p.platform.as_str()).collect::<Vec<_>>(),
        "title": job.title(),
    })
}

/// A JSON object body, or a 400 saying what is wrong.
fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::bad_request("The body must be a JSON object")),
    }
}

fn text_field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
    }
}

/// What [`Engine::edit_scheduled`] changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScheduleEdit {
    /// A new `scheduled_date` (ISO 8601), read in `timezone`.
    pub scheduled_date: Option<String>,
    /// A new IANA time zone.
    pub timezone: Option<String>,
    /// A new title.
    pub title: Option<String>,
    /// A new caption (the post's `description`).
    pub caption: Option<String>,
}

impl Engine {
    /// The account's job named by `id`.
    pub async fn job(&self, account: &str, id: &JobRef) -> Result<Option<Job>, StoreError> {
        let jobs = &self.inner.jobs;
        let job = match id {
            JobRef::JobId(job_id) => jobs.get(job_id).await?,
            JobRef::RequestId(request_id) => jobs.find_by_request_id(account, request_id).await?,
        };
        // An unadmitted job (its request is still being checked) is not there yet.
        Ok(job.filter(|j| j.account == account && j.usage.is_some()))
    }

    /// Waits until every platform of the job has a result (published, failed, or
    /// `PROCESSING` on the platform), or it was cancelled, or it waits for its
    /// schedule, or `timeout` passes; returns the job as it then is.
    pub async fn wait(&self, job_id: &str, timeout: Duration) -> Result<Job, ApiError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let written = self.inner.job_written.notified();
            tokio::pin!(written);
            written.as_mut().enable();
            let job = self
                .inner
                .jobs
                .get(job_id)
                .await
                .map_err(store_failed)?
                .ok_or_else(|| ApiError::new(404, "Job not found"))?;
            let waiting_for_schedule =
                job.scheduled_at.is_some_and(|at| at > Utc::now()) && !job.has_started();
            if job.has_every_result() || waiting_for_schedule {
                return Ok(job);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(job);
            }
            // Local writes wake us at once; another instance's are seen by polling.
            let poll = Duration::from_millis(100).min(deadline - now);
            tokio::select! {
                () = &mut written => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One page of the account's history: one item per platform per job, newest job
    /// first. `limit` is 10, 20, 50 or 100; `page` starts at 1.
    pub async fn history(
        &self,
        account: &str,
        page: u64,
        limit: u64,
    ) -> Result<HistoryPage, ApiError> {
        if page < 1 {
            return Err(ApiError::bad_request("Invalid page"));
        }
        if !HISTORY_LIMITS.contains(&limit) {
            return Err(ApiError::bad_request("Invalid limit"));
        }
        let jobs = &self.inner.jobs;
        let (_, total) = jobs.count(account).await.map_err(store_failed)?;
        let mut skip = (page - 1).saturating_mul(limit);
        let mut history = Vec::new();
        let mut offset = 0u64;
        const BATCH: u64 = 100;
        'pages: loop {
            let batch = jobs
                .history(account, offset, BATCH)
                .await
                .map_err(store_failed)?;
            if batch.is_empty() {
                break;
            }
            offset += batch.len() as u64;
            for job in &batch {
                let count = job.platforms.len() as u64;
                if skip >= count {
                    skip -= count;
                    continue;
                }
                for item in history_items(job).skip(skip as usize) {
                    if history.len() as u64 == limit {
                        break 'pages;
                    }
                    history.push(item);
                }
                skip = 0;
            }
        }
        Ok(HistoryPage {
            history,
            total,
            page,
            limit,
        })
    }

    /// The account's scheduled posts that have not started, soonest first.
    pub async fn scheduled(&self, account: &str) -> Result<Vec<Job>, StoreError> {
        self.inner.jobs.scheduled(account).await
    }

    /// Cancels a post that has not started and gives its upload back. `404 Job not
    /// found` for an unknown job or another account's; `409` once it started.
    pub async fn cancel(&self, account: &str, job_id: &str) -> Result<Job, ApiError> {
        let mut job = self
            .job(account, &JobRef::JobId(job_id.to_string()))
            .await
            .map_err(store_failed)?
            .ok_or_else(|| ApiError::new(404, "Job not found"))?;
        if job.cancelled {
            return Err(ApiError::new(409, "This job was already cancelled"));
        }
        if job.has_started() {
            return Err(ApiError::new(
                409,
                "This job has already started; only a job that has not started can be cancelled",
            ));
        }
        let now = Utc::now();
        job.cancelled = true;
        job.due_at = None;
        job.finished_at = Some(now);
        job.media_expires_at = Some(now);
        job.updated_at = now;
        if !self
            .inner
            .jobs
            .update(&mut job)
            .await
            .map_err(store_failed)?
        {
            return Err(ApiError::new(
                409,
                "This job changed while it was being cancelled (it may have started); read its status and try again",
            ));
        }
        self.inner.job_written.notify_waiters();
        let account_record = self.account_record(account).await?;
        self.inner
            .usage
            .release(&UsageRequest {
                account,
                now: job.created_at,
                monthly_limit: account_record.plan.monthly_uploads,
                daily_limit: account_record.plan.daily_uploads_per_account,
                social_accounts: &job.social_accounts,
            })
            .await
            .map_err(|e| ApiError::internal("The usage store is unavailable; the job is cancelled but its upload was not given back", &e))?;
        Ok(job)
    }

    /// Changes a scheduled post that has not started: its date (checked like a new
    /// one), time zone, title or caption.
    pub async fn edit_scheduled(
        &self,
        account: &str,
        job_id: &str,
        edit: ScheduleEdit,
    ) -> Result<Job, ApiError> {
        let mut job = self
            .job(account, &JobRef::JobId(job_id.to_string()))
            .await
            .map_err(store_failed)?
            .filter(|j| j.scheduled_at.is_some() && !j.cancelled)
            .ok_or_else(|| ApiError::new(404, "Job not found"))?;
        if job.has_started() {
            return Err(ApiError::new(
                409,
                "This job has already started; only a job that has not started can be edited",
            ));
        }
        let now = Utc::now();
        if let Some(date) = edit.scheduled_date.as_deref() {
            let zone = edit.timezone.as_deref().or(job.timezone.as_deref());
            let parsed = schedule::parse(date, zone, now, self.inner.settings.max_schedule_days)?;
            job.scheduled_at = Some(parsed.at);
            job.due_at = Some(parsed.at);
            job.timezone = parsed.timezone;
        } else if let Some(zone) = edit.timezone.as_deref() {
            // The instant stays; only the zone it is shown in changes.
            let check = job.scheduled_at.unwrap_or(now).to_rfc3339();
            let parsed = schedule::parse(&check, Some(zone), now, i64::MAX / 86_400_000)?;
            job.timezone = parsed.timezone;
        }
        let mut pairs: Vec<(String, String)> = job
            .fields
            .iter()
            .filter(|(name, _)| {
                !(edit.title.is_some() && *name == "title"
                    || edit.caption.is_some() && *name == "description")
            })
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        if let Some(title) = &edit.title {
            if title.trim().is_empty() {
                return Err(ApiError::bad_request("Title cannot be empty"));
            }
            pairs.push(("title".into(), title.clone()));
        }
        if let Some(caption) = &edit.caption {
            pairs.push(("description".into(), caption.clone()));
        }
        job.fields = crate::post::FormFields::from_pairs(pairs);
        job.updated_at = now;
        if !self
            .inner
            .jobs
            .update(&mut job)
            .await
            .map_err(store_failed)?
        {
            return Err(ApiError::new(
                409,
                "This job changed while it was being edited (it may have started); read its status and try again",
            ));
        }
        self.inner.job_written.notify_waiters();
        Ok(job)
    }

    /// Runs the failed platforms of a finished job again (within `retry_window`),
    /// counting no new upload. `409` when nothing failed, the job is still running,
    /// or the window has passed.
    pub async fn retry(&self, account: &str, id: &JobRef) -> Result<Job, ApiError> {
        let mut job = self
            .job(account, id)
            .await
            .map_err(store_failed)?
            .ok_or_else(|| ApiError::new(404, "Job not found"))?;
        if job.cancelled {
            return Err(ApiError::new(
                409,
                "This job was cancelled; upload it again instead",
            ));
        }
        let Some(finished_at) = job.finished_at else {
            return Err(ApiError::new(
                409,
                "This job is still running; retry it once it has finished",
            ));
        };
        if !job
            .platforms
            .iter()
            .any(|p| p.state == PlatformState::Failed)
        {
            return Err(ApiError::new(
                409,
                "Nothing to retry: every platform of this job succeeded",
            ));
        }
        let now = Utc::now();
        if job.media_deleted || now > finished_at + to_chrono(self.inner.settings.retry_window) {
            return Err(ApiError::new(
                409,
                "The retry window of this job has passed and its media is gone; upload it again",
            ));
        }
        for run in job
            .platforms
            .iter_mut()
            .filter(|p| p.state == PlatformState::Failed)
        {
            run.state = PlatformState::Queued;
            run.result = None;
            run.checkpoint = None;
            run.upload_timestamp = None;
            run.updated_at = now;
        }
        job.finished_at = None;
        job.media_expires_at = None;
        job.due_at = Some(now);
        job.lease = Some(Lease {
            owner: self.inner.runner_id.clone(),
            until: now + to_chrono(self.inner.settings.job_lease),
        });
        job.updated_at = now;
        if !self
            .inner
            .jobs
            .update(&mut job)
            .await
            .map_err(store_failed)?
        {
            return Err(ApiError::new(
                409,
                "This job changed while the retry was being started; read its status and try again",
            ));
        }
        self.inner.job_written.notify_waiters();
        self.spawn_run(job.clone());
        Ok(job)
    }

    async fn account_record(&self, account: &str) -> Result<Account, ApiError> {
        self.inner
            .directory
            .find_by_name(account)
            .await
            .map_err(|e| {
                ApiError::internal("The account store is unavailable; try again later", &e)
            })?
            .ok_or_else(|| ApiError::new(404, "User not found"))
    }

    async fn authenticated(&self, authorization: Option<&str>) -> Result<Account, ApiError> {
        self.inner
            .auth
            .authenticate(self.inner.directory.as_ref(), authorization, Utc::now())
            .await
    }

    /// `GET /api/uploadposts/status?request_id=…` or `?job_id=…`.
    pub async fn handle_status(
        &self,
        authorization: Option<&str>,
        request_id: Option<&str>,
        job_id: Option<&str>,
    ) -> ApiResponse {
        let account = match self.authenticated(authorization).await {
            Ok(account) => account,
            Err(err) => return err.into(),
        };
        let id = match (
            job_id.filter(|s| !s.is_empty()),
            request_id.filter(|s| !s.is_empty()),
        ) {
            (Some(job_id), _) => JobRef::JobId(job_id.to_string()),
            (None, Some(request_id)) => JobRef::RequestId(request_id.to_string()),
            (None, None) => {
                return ApiError::bad_request("request_id or job_id is required").into()
            }
        };
        match self.job(&account.name, &id).await {
            Ok(Some(job)) => ApiResponse::new(200, status_body(&job, Utc::now())),
            Ok(None) => not_found(),
            Err(err) => store_failed(err).into(),
        }
    }

    /// `GET /api/uploadposts/history?page=&limit=`.
    pub async fn handle_history(
        &self,
        authorization: Option<&str>,
        page: Option<&str>,
        limit: Option<&str>,
    ) -> ApiResponse {
        let account = match self.authenticated(authorization).await {
            Ok(account) => account,
            Err(err) => return err.into(),
        };
        let page = match page.map(str::trim).filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => match p.parse::<u64>() {
                Ok(p) => p,
                Err(_) => return ApiError::bad_request("Invalid page").into(),
            },
        };
        let limit = match limit.map(str::trim).filter(|l| !l.is_empty()) {
            None => 10,
            Some(l) => match l.parse::<u64>() {
                Ok(l) => l,
                Err(_) => return ApiError::bad_request("Invalid limit").into(),
            },
        };
        match self.history(&account.name, page, limit).await {
            Ok(page) => ApiResponse::new(200, json!(page)),
            Err(err) => err.into(),
        }
    }

    /// `GET /api/uploadposts/schedule`.
    pub async fn handle_schedule_list(&self, authorization: Option<&str>) -> ApiResponse {
        let account = match self.authenticated(authorization).await {
            Ok(account) => account,
            Err(err) => return err.into(),
        };
        match self.scheduled(&account.name).await {
            Ok(jobs) => ApiResponse::new(
                200,
                json!({
                    "success": true,
                    "scheduled_posts": jobs.iter().map(scheduled_item).collect::<Vec<_>>(),
                }),
            ),
            Err(err) => store_failed(err).into(),
        }
    }

    /// `DELETE /api/uploadposts/schedule/{job_id}`.
    pub async fn handle_schedule_cancel(
        &self,
        authorization: Option<&str>,
        job_id: &str,
    ) -> ApiResponse {
        let account = match self.authenticated(authorization).await {
            Ok(account) => account,
            Err(err) => return err.into(),
        };
        match self.cancel(&account.name, job_id).await {
            Ok(job) => ApiResponse::new(
                200,
                json!({"success": true, "job_id": job.job_id, "credits_refunded": 1}),
            ),
            Err(err) if err.status == 404 => not_found(),
            Err(err) => err.into(),
        }
    }

    /// `PATCH /api/uploadposts/schedule/{job_id}` with JSON `scheduled_date`,
    /// `timezone`, `title`, `caption`.
    pub async fn handle_schedule_edit(
        &self,
        authorization: Option<&str>,
        job_id: &str,
        body: &[u8],
    ) -> ApiResponse {
        let account = match self.authenticated(authorization).await {
            Ok(account) => account,
            Err(err) => return err.into(),
        };
        let edit = match json_object(body).and_then(|body| {
            Ok(ScheduleEdit {
                scheduled_date: text_field(&body, "scheduled_date")?.map(str::to_string),
                timezone: text_field(&body, "timezone")?.map(str::to_string),
                title: text_field(&body, "title")?.map(str::to_string),
                caption: text_field(&body, "caption")?.map(str::to_string),
            })
        }) {
            Ok(edit) => edit,
            Err(err) => return err.into(),
        };
        match self.edit_scheduled(&account.name, job_id, edit).await {
            Ok(job) => {
                let mut body = scheduled_item(&job);
                if let Value::Object(map) = &mut body {
                    map.insert("success".into(), Value::Bool(true));
                    map.insert(
                        "caption".into(),
                        json!(job.fields.get_trimmed("description")),
                    );
                }
                ApiResponse::new(200, body)
            }
            Err(err) if err.status == 404 => not_found(),
            Err(err) => err.into(),
        }
    }

    /// `POST /api/uploadposts/posts/retry` with JSON `request_id` or `job_id`.
    pub async fn handle_retry(&self, authorization: Option<&str>, body: &[u8]) -> ApiResponse {
        let account = match self.authenticated(authorization).await {
            Ok(account) => account,
            Err(err) => return err.into(),
        };
        let id = match json_object(body).and_then(|body| {
            let job_id = text_field(&body, "job_id")?.filter(|s| !s.is_empty());
            let request_id = text_field(&body, "request_id")?.filter(|s| !s.is_empty());
            match (job_id, request_id) {
                (Some(job_id), _) => Ok(JobRef::JobId(job_id.to_string())),
                (None, Some(request_id)) => Ok(JobRef::RequestId(request_id.to_string())),
                (None, None) => Err(ApiError::bad_request("request_id or job_id is required")),
            }
        }) {
            Ok(id) => id,
            Err(err) => return err.into(),
        };
        match self.retry(&account.name, &id).await {
            Ok(job) => ApiResponse::new(200, background_answer(&job))
                .with_header("X-Request-Id", job.request_id.clone()),
            Err(err) if err.status == 404 => not_found(),
            Err(err) => err.into(),
        }
    }
}
