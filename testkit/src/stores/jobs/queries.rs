//! Job checks of the lists: `due`, `history` and `count`, `scheduled`,
//! `media_expired`.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use fanout_core::{Job, JobStore, Lease};

use super::{
    assert_same_job, count, created, due, history, ids, media_expired, sample_job, scheduled,
    stored, update, with_platforms,
};
use crate::stores::{assert_eq_dbg, utc};

/// `due` lists, across accounts, the jobs due at or before `now`, not cancelled and
/// without a live lease (a lease lapses at its `until`), earliest due first, at most
/// `limit`, comparing times to the nanosecond; a claim (an update setting a lease)
/// hides a job until the lease lapses.
pub async fn due_honours_due_at_cancellation_and_leases(store: &dyn JobStore) {
    let day = |h: u32, mi: u32| utc(2001, 3, 1, h, mi, 0);
    let now = day(12, 0);
    let job = |id: &str, due_at: Option<DateTime<Utc>>| {
        let mut job = sample_job("jobs-due", id, day(0, 0));
        job.due_at = due_at;
        job
    };
    let lease = |until| {
        Some(Lease {
            owner: "runner-due".to_string(),
            until,
        })
    };
    let mut jobs = vec![
        job("job-due-a", Some(day(11, 0))),
        job("job-due-b", Some(day(10, 0))),
        job("job-due-now", Some(now)),
        job("job-due-future", Some(day(13, 0))),
        job("job-due-none", None),
    ];
    let mut cancelled = job("job-due-cancelled", Some(day(9, 0)));
    cancelled.cancelled = true;
    let mut leased = job("job-due-leased", Some(day(8, 0)));
    leased.lease = lease(day(12, 30));
    let mut lapsed = job("job-due-lapsed", Some(day(8, 30)));
    lapsed.lease = lease(day(11, 59));
    let mut lapsing = job("job-due-lapsing", Some(day(9, 30)));
    lapsing.lease = lease(now);
    let mut other = job("job-due-other-account", Some(day(10, 30)));
    other.account = "jobs-due-other".to_string();
    // Within the same second as `now`: fractions must compare as time, not as text.
    let half_second_late = job(
        "job-due-half-second-late",
        Some(now + Duration::milliseconds(500)),
    );
    let mut held_a_moment = job("job-due-held-a-moment", Some(day(7, 0)));
    held_a_moment.lease = lease(now + Duration::nanoseconds(1));
    jobs.extend([
        cancelled,
        leased,
        lapsed,
        lapsing,
        other,
        half_second_late,
        held_a_moment,
    ]);
    for j in &jobs {
        created(store, j, "a job for the due check").await;
    }

    let all = due(store, now, 100).await;
    assert_eq_dbg(
        ids(&all),
        vec![
            "job-due-lapsed",
            "job-due-lapsing",
            "job-due-b",
            "job-due-other-account",
            "job-due-a",
            "job-due-now",
        ],
        "due jobs at 12:00 (due by then, not cancelled, no live lease), earliest first",
    );
    let Some(listed) = all.iter().find(|j| j.job_id == "job-due-lapsing") else {
        panic!("job-due-lapsing vanished from the due list");
    };
    assert_same_job(
        &stored(store, "job-due-lapsing", "get of a due job").await,
        listed,
        "a job as due lists it",
    );
    assert_eq_dbg(
        ids(&due(store, now, 2).await),
        vec!["job-due-lapsed", "job-due-lapsing"],
        "due jobs at 12:00 with a limit of 2",
    );
    assert!(
        due(store, now, 0).await.is_empty(),
        "due with a limit of 0 listed jobs"
    );

    // A runner claims job-due-b until 12:30.
    let mut claimed = stored(store, "job-due-b", "get of a job to claim").await;
    claimed.lease = lease(day(12, 30));
    assert!(
        update(store, &mut claimed).await,
        "claiming a due job was refused"
    );
    assert_eq_dbg(
        ids(&due(store, now, 100).await),
        vec![
            "job-due-lapsed",
            "job-due-lapsing",
            "job-due-other-account",
            "job-due-a",
            "job-due-now",
        ],
        "due jobs at 12:00 after job-due-b was claimed until 12:30",
    );
    assert_eq_dbg(
        ids(&due(store, day(12, 30), 100).await),
        vec![
            "job-due-held-a-moment",
            "job-due-leased",
            "job-due-lapsed",
            "job-due-lapsing",
            "job-due-b",
            "job-due-other-account",
            "job-due-a",
            "job-due-now",
            "job-due-half-second-late",
        ],
        "due jobs at 12:30, when the leases until 12:30 lapse",
    );
    assert_eq_dbg(
        ids(&due(store, day(13, 0), 100).await).last().copied(),
        Some("job-due-future"),
        "the last due job at 13:00",
    );
}

/// `history` lists the account's jobs newest first (`created_at`, then `job_id`), with
/// offset and limit; `count` gives the number of jobs and their platforms together.
pub async fn history_is_newest_first_and_count_adds_platforms(store: &dyn JobStore) {
    let account = "jobs-history";
    let at = |h: u32| utc(2026, 4, 1, h, 0, 0);
    let all = ["tiktok", "instagram", "linkedin"];
    // Inserted out of order; job-hist-2 and job-hist-4 share a creation time.
    let jobs = [
        with_platforms(sample_job(account, "job-hist-3", at(11)), &all),
        with_platforms(sample_job(account, "job-hist-1", at(10)), &all[..1]),
        with_platforms(sample_job(account, "job-hist-5", at(9)), &all[..2]),
        with_platforms(sample_job(account, "job-hist-4", at(12)), &all[..1]),
        with_platforms(sample_job(account, "job-hist-2", at(12)), &all[..2]),
        sample_job("jobs-history-other", "job-hist-other", at(13)),
    ];
    for job in &jobs {
        created(store, job, "a job for the history check").await;
    }
    let newest_first = vec![
        "job-hist-4",
        "job-hist-2",
        "job-hist-3",
        "job-hist-1",
        "job-hist-5",
    ];
    let listed = history(store, account, 0, 10).await;
    assert_eq_dbg(
        ids(&listed),
        newest_first.clone(),
        "history newest first (ties by job id, highest first)",
    );
    assert_same_job(&jobs[0], &listed[2], "a job as history lists it");
    assert_eq_dbg(
        ids(&history(store, account, 1, 2).await),
        newest_first[1..3].to_vec(),
        "history with offset 1 and limit 2",
    );
    assert_eq_dbg(
        ids(&history(store, account, 4, 10).await),
        newest_first[4..].to_vec(),
        "history with offset 4",
    );
    assert!(
        history(store, account, 5, 10).await.is_empty(),
        "history past the last job listed jobs"
    );
    assert!(
        history(store, account, 0, 0).await.is_empty(),
        "history with limit 0 listed jobs"
    );
    assert_eq_dbg(
        ids(&history(store, account, 0, u64::MAX).await),
        newest_first,
        "history with the largest limit",
    );
    assert!(
        history(store, account, u64::MAX, 10).await.is_empty(),
        "history with the largest offset listed jobs"
    );
    assert_eq_dbg(
        count(store, account).await,
        (5, 9),
        "count of jobs-history (5 jobs, 3+1+2+1+2 platforms)",
    );
    assert_eq_dbg(
        count(store, "jobs-history-nobody").await,
        (0, 0),
        "count of an account without jobs",
    );
    assert!(
        history(store, "jobs-history-nobody", 0, 10)
            .await
            .is_empty(),
        "history of an account without jobs listed jobs"
    );
}

/// `scheduled` lists the account's scheduled jobs that have not started and were not
/// cancelled, soonest first; starting or cancelling one (an update) takes it off.
pub async fn scheduled_lists_jobs_not_started_soonest_first(store: &dyn JobStore) {
    let account = "jobs-scheduled";
    let created_at = utc(2026, 5, 1, 8, 0, 0);
    let job = |id: &str, at: Option<DateTime<Utc>>| {
        let mut job = sample_job(account, id, created_at);
        job.scheduled_at = at;
        job.due_at = at.or(Some(created_at));
        job.timezone = at.map(|_| "Europe/Paris".to_string());
        job
    };
    let june = |d: u32| Some(utc(2026, 6, d, 9, 0, 0));
    let mut started = job("job-sched-started", june(1));
    started.started_at = Some(created_at + Duration::minutes(1));
    let mut cancelled = job("job-sched-cancelled", june(1));
    cancelled.cancelled = true;
    let mut other = job("job-sched-other", june(1));
    other.account = "jobs-scheduled-other".to_string();
    let jobs = [
        job("job-sched-late", june(3)),
        job("job-sched-soon", june(1)),
        job("job-sched-mid", june(2)),
        job("job-sched-unscheduled", None),
        started,
        cancelled,
        other,
    ];
    for j in &jobs {
        created(store, j, "a job for the scheduled check").await;
    }
    let listed = scheduled(store, account).await;
    assert_eq_dbg(
        ids(&listed),
        vec!["job-sched-soon", "job-sched-mid", "job-sched-late"],
        "scheduled jobs (not started, not cancelled), soonest first",
    );
    assert_same_job(&jobs[1], &listed[0], "a job as scheduled lists it");

    let mut soon = stored(store, "job-sched-soon", "get of a job to start").await;
    soon.started_at = Some(utc(2026, 6, 1, 9, 0, 1));
    assert!(
        update(store, &mut soon).await,
        "starting a scheduled job was refused"
    );
    let mut mid = stored(store, "job-sched-mid", "get of a job to cancel").await;
    mid.cancelled = true;
    assert!(
        update(store, &mut mid).await,
        "cancelling a scheduled job was refused"
    );
    assert_eq_dbg(
        ids(&scheduled(store, account).await),
        vec!["job-sched-late"],
        "scheduled jobs after one started and one was cancelled",
    );
    assert!(
        scheduled(store, "jobs-scheduled-nobody").await.is_empty(),
        "scheduled of an account without jobs listed jobs"
    );
}

/// `media_expired` lists, across accounts, the jobs whose media expired at or before
/// `now` and was not deleted yet, at most `limit` (in no promised order); marking the
/// media deleted (an update) takes a job off.
pub async fn media_expired_lists_media_to_delete(store: &dyn JobStore) {
    let day = |h: u32| utc(2002, 1, 1, h, 0, 0);
    let now = day(12);
    let job = |id: &str, expires: Option<DateTime<Utc>>| {
        let mut job = sample_job("jobs-media", id, day(0));
        job.due_at = None;
        job.media_expires_at = expires;
        job
    };
    let mut deleted = job("job-media-deleted", Some(day(9)));
    deleted.media_deleted = true;
    let mut other = job("job-media-other-account", Some(day(11)));
    other.account = "jobs-media-other".to_string();
    let jobs = [
        job("job-media-a", Some(day(10))),
        job("job-media-b", Some(day(9))),
        job("job-media-now", Some(now)),
        job("job-media-future", Some(day(13))),
        job("job-media-none", None),
        deleted,
        other,
    ];
    for j in &jobs {
        created(store, j, "a job for the media check").await;
    }
    let set =
        |jobs: &[Job]| -> BTreeSet<String> { jobs.iter().map(|j| j.job_id.clone()).collect() };
    let expected: BTreeSet<String> = [
        "job-media-a",
        "job-media-b",
        "job-media-now",
        "job-media-other-account",
    ]
    .map(String::from)
    .into();
    let listed = media_expired(store, now, 100).await;
    assert_eq_dbg(
        listed.len(),
        4,
        "how many jobs media_expired listed at 12:00",
    );
    assert_eq_dbg(
        set(&listed),
        expected.clone(),
        "jobs whose media expired by 12:00 and was not deleted",
    );
    let two = media_expired(store, now, 2).await;
    assert_eq_dbg(two.len(), 2, "jobs media_expired listed with a limit of 2");
    assert!(
        set(&two).is_subset(&expected),
        "media_expired with a limit of 2 listed {:?}",
        set(&two)
    );
    assert!(
        media_expired(store, now, 0).await.is_empty(),
        "media_expired with a limit of 0 listed jobs"
    );

    let mut b = stored(store, "job-media-b", "get of a job whose media was deleted").await;
    b.media_deleted = true;
    assert!(
        update(store, &mut b).await,
        "marking media deleted was refused"
    );
    let mut left = expected;
    left.remove("job-media-b");
    assert_eq_dbg(
        set(&media_expired(store, now, 100).await),
        left,
        "jobs whose media expired after job-media-b's was deleted",
    );
}
