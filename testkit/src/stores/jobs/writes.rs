//! Job checks of the writes: insert (idempotency keys, request ids, races), update
//! (versions, races) and delete.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use fanout_core::{Insert, JobStore, Lease, PlatformState};
use serde_json::json;

use super::{
    assert_same_job, count, created, full_job, get, history, ids, insert, sample_job, stored,
    update, HOUR,
};
use crate::stores::{assert_eq_dbg, ok, utc};

/// A job with every field set, and a plain one, come back whole from `get` and
/// `find_by_request_id`, with the version they were inserted with; another account's
/// request id and an unknown job id find nothing.
pub async fn a_job_round_trips(store: &dyn JobStore) {
    let t = utc(2026, 3, 1, 10, 0, 0) + Duration::nanoseconds(123_456_789);
    let full = full_job("jobs-roundtrip", "job-rt-full", t);
    created(store, &full, "the job with every field set").await;
    let back = stored(store, "job-rt-full", "get after insert").await;
    assert_same_job(&full, &back, "get of a job with every field set");
    let Some(by_request) = ok(
        store
            .find_by_request_id("jobs-roundtrip", "req-job-rt-full")
            .await,
        "find_by_request_id(jobs-roundtrip, req-job-rt-full)",
    ) else {
        panic!("find_by_request_id found no job for a stored request id");
    };
    assert_same_job(
        &full,
        &by_request,
        "find_by_request_id of a job with every field set",
    );

    let plain = sample_job("jobs-roundtrip", "job-rt-plain", t + Duration::seconds(1));
    created(store, &plain, "a plain job").await;
    let back = stored(store, "job-rt-plain", "get of a plain job").await;
    assert_same_job(&plain, &back, "get of a job without optional fields");

    assert!(
        ok(
            store
                .find_by_request_id("jobs-roundtrip-other", "req-job-rt-full")
                .await,
            "find_by_request_id(another account, req-job-rt-full)",
        )
        .is_none(),
        "find_by_request_id found another account's job"
    );
    assert!(
        get(store, "job-rt-missing").await.is_none(),
        "get of an unknown job id found a job"
    );
}

/// A second job with the same idempotency key within the window stores nothing and
/// returns the first job; at the window's edge (exactly `key_window` later) and after,
/// a key is accepted again, and then the newer job is the one returned; other keys,
/// jobs without a key and other accounts are independent.
pub async fn idempotency_keys_within_the_window_return_the_first_job(store: &dyn JobStore) {
    let account = "jobs-key";
    let t0 = utc(2026, 3, 2, 9, 0, 0);
    let keyed = |job_id: &str, at: DateTime<Utc>, key: &str| {
        let mut job = sample_job(account, job_id, at);
        job.idempotency_key = Some(key.to_string());
        job
    };
    let first = keyed("job-key-first", t0, "key-1");
    created(store, &first, "the first job with key-1").await;

    let dup = keyed("job-key-dup", t0 + Duration::minutes(30), "key-1");
    match insert(store, &dup, HOUR).await {
        Insert::DuplicateKey(earlier) => {
            assert_same_job(&first, &earlier, "the job a duplicate key returned");
        }
        other => panic!("a second job with key-1 within the window answered {other:?}"),
    }
    assert!(
        get(store, "job-key-dup").await.is_none(),
        "a job refused for its idempotency key was stored"
    );
    assert!(
        ok(
            store.find_by_request_id(account, "req-job-key-dup").await,
            "find_by_request_id(req-job-key-dup)",
        )
        .is_none(),
        "a job refused for its idempotency key took its request id"
    );
    assert_eq_dbg(
        count(store, account).await,
        (1, 1),
        "jobs and platforms after a duplicate key",
    );

    let keyless = sample_job(account, "job-key-none", t0 + Duration::minutes(31));
    created(store, &keyless, "a job without a key").await;
    let other_key = keyed("job-key-2", t0 + Duration::minutes(32), "key-2");
    created(store, &other_key, "a job with another key").await;
    let mut other_account = keyed("job-key-other-account", t0 + Duration::minutes(33), "key-1");
    other_account.account = "jobs-key-other".to_string();
    created(store, &other_account, "another account's job with key-1").await;

    // "Created after created_at - key_window": exactly one window later is outside it.
    let edge = keyed("job-key-edge", t0 + Duration::hours(1), "key-1");
    created(
        store,
        &edge,
        "a job with key-1 exactly one window after the first",
    )
    .await;
    let after = keyed(
        "job-key-after",
        t0 + Duration::hours(1) + Duration::minutes(10),
        "key-1",
    );
    match insert(store, &after, HOUR).await {
        Insert::DuplicateKey(earlier) => assert_eq_dbg(
            earlier.job_id.as_str(),
            "job-key-edge",
            "the job a duplicate key returned when only the newer job is within the window",
        ),
        other => panic!("a job with key-1 ten minutes after the edge job answered {other:?}"),
    }
    let much_later = keyed("job-key-later", t0 + Duration::hours(5), "key-1");
    created(
        store,
        &much_later,
        "a job with key-1 long after every other",
    )
    .await;
    assert_eq_dbg(
        count(store, account).await,
        (5, 5),
        "jobs of jobs-key (first, keyless, key-2, edge, later)",
    );
}

/// A job whose request id the account already used is refused and stores nothing (its
/// idempotency key stays free); another account may use the same request id.
pub async fn a_duplicate_request_id_is_refused(store: &dyn JobStore) {
    let account = "jobs-reqid";
    let t = utc(2026, 3, 3, 9, 0, 0);
    let mut a = sample_job(account, "job-reqid-a", t);
    a.request_id = "req-shared".to_string();
    created(store, &a, "the first job with req-shared").await;

    let mut b = sample_job(account, "job-reqid-b", t + Duration::minutes(1));
    b.request_id = "req-shared".to_string();
    b.idempotency_key = Some("key-reqid-b".to_string());
    assert_eq_dbg(
        insert(store, &b, HOUR).await,
        Insert::RequestIdTaken,
        "a second job of the account with req-shared",
    );
    assert!(
        get(store, "job-reqid-b").await.is_none(),
        "a job refused for its request id was stored"
    );
    let Some(owner) = ok(
        store.find_by_request_id(account, "req-shared").await,
        "find_by_request_id(req-shared)",
    ) else {
        panic!("the first job with req-shared is gone after a refused duplicate");
    };
    assert_same_job(
        &a,
        &owner,
        "the owner of req-shared after a refused duplicate",
    );

    // The refused job's key was not kept.
    let mut c = sample_job(account, "job-reqid-c", t + Duration::minutes(2));
    c.idempotency_key = Some("key-reqid-b".to_string());
    created(
        store,
        &c,
        "a job with the key of a job refused for its request id",
    )
    .await;

    let mut elsewhere = sample_job("jobs-reqid-other", "job-reqid-other", t);
    elsewhere.request_id = "req-shared".to_string();
    created(store, &elsewhere, "another account's job with req-shared").await;
    assert_eq_dbg(count(store, account).await, (2, 2), "jobs of jobs-reqid");
}

/// 20 concurrent inserts (tokio tasks, spread round-robin over `stores`, which must
/// share one set of jobs) of different jobs with one idempotency key: exactly one is
/// created, the 19 others get that job back, and only it is stored. `account` must be
/// unused.
pub async fn concurrent_inserts_with_one_key_create_one(
    stores: &[Arc<dyn JobStore>],
    account: &str,
) {
    assert!(
        !stores.is_empty(),
        "concurrent_inserts_with_one_key_create_one needs a store"
    );
    let t = utc(2026, 3, 5, 12, 0, 0);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % stores.len()].clone();
        let mut job = sample_job(
            account,
            &format!("{account}-{i}"),
            t + Duration::milliseconds(i as i64),
        );
        job.idempotency_key = Some("key-concurrent".to_string());
        tasks.push(tokio::spawn(async move {
            let answer = store.insert(&job, HOUR).await;
            (job.job_id, answer)
        }));
    }
    let mut winners = Vec::new();
    let mut returned = BTreeSet::new();
    for task in tasks {
        let (job_id, answer) = match task.await {
            Ok((job_id, answer)) => (job_id, ok(answer, "a concurrent insert")),
            Err(err) => panic!("a concurrent insert task panicked or was cancelled: {err}"),
        };
        match answer {
            Insert::Created => winners.push(job_id),
            Insert::DuplicateKey(first) => {
                returned.insert(first.job_id);
            }
            Insert::RequestIdTaken => {
                panic!("a concurrent insert of {job_id} was refused for its request id")
            }
        }
    }
    assert_eq_dbg(
        winners.len(),
        1,
        "jobs created by 20 concurrent inserts with one idempotency key",
    );
    assert_eq_dbg(
        returned,
        BTreeSet::from([winners[0].clone()]),
        "the jobs the 19 refused inserts were given back",
    );
    assert_eq_dbg(
        count(stores[0].as_ref(), account).await,
        (1, 1),
        "jobs stored after 20 concurrent inserts with one key",
    );
}

/// `update` writes only at the stored version and bumps it: the first writer from a
/// version wins and gets version + 1, a stale copy is refused and left as it was, and a
/// job that is not stored is not created.
pub async fn update_compares_versions(store: &dyn JobStore) {
    let t = utc(2026, 3, 6, 8, 0, 0);
    created(
        store,
        &sample_job("jobs-update", "job-update", t),
        "a job to update",
    )
    .await;
    let mut a = stored(store, "job-update", "get before update").await;
    let mut stale = a.clone();

    a.started_at = Some(t + Duration::minutes(1));
    a.lease = Some(Lease {
        owner: "runner-a".to_string(),
        until: t + Duration::minutes(6),
    });
    a.platforms[0].state = PlatformState::Processing;
    assert!(
        update(store, &mut a).await,
        "an update at the stored version was refused"
    );
    assert_eq_dbg(a.version, 1, "the version of a job after its first update");
    assert_same_job(
        &a,
        &stored(store, "job-update", "get after update").await,
        "the stored job after an update",
    );

    stale.cancelled = true;
    assert!(
        !update(store, &mut stale).await,
        "an update from a stale version was accepted"
    );
    assert_eq_dbg(
        stale.version,
        0,
        "the version of a refused update's job (it must be left as it was)",
    );
    assert_same_job(
        &a,
        &stored(store, "job-update", "get after a refused update").await,
        "the stored job after a refused update",
    );

    let mut fresh = stored(store, "job-update", "get for a second update").await;
    fresh.platforms[0].state = PlatformState::Completed;
    fresh.platforms[0].result =
        Some(json!({"success": true, "url": "https://example.invalid/v/1"}));
    fresh.finished_at = Some(t + Duration::minutes(3));
    assert!(
        update(store, &mut fresh).await,
        "an update from a freshly read job was refused"
    );
    assert_eq_dbg(fresh.version, 2, "the version after a second update");
    assert!(
        !update(store, &mut a).await,
        "an update from version 1 was accepted after the job reached version 2"
    );

    let mut missing = sample_job("jobs-update", "job-update-missing", t);
    assert!(
        !update(store, &mut missing).await,
        "an update of a job that was never stored answered true"
    );
    assert!(
        get(store, "job-update-missing").await.is_none(),
        "an update of a job that was never stored created it"
    );
}

/// 20 concurrent updates (tokio tasks, round-robin over `stores`) of one job, all from
/// the same version and each with its own lease owner: exactly one wins, its copy gets
/// version + 1, the losers' copies keep their version, and the stored job is the
/// winner's. `account` must be unused.
pub async fn concurrent_updates_from_one_version_one_wins(
    stores: &[Arc<dyn JobStore>],
    account: &str,
) {
    assert!(
        !stores.is_empty(),
        "concurrent_updates_from_one_version_one_wins needs a store"
    );
    let job_id = format!("{account}-job");
    let t = utc(2026, 3, 7, 12, 0, 0);
    created(
        stores[0].as_ref(),
        &sample_job(account, &job_id, t),
        "a job to race on",
    )
    .await;
    let base = stored(stores[0].as_ref(), &job_id, "get before racing updates").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % stores.len()].clone();
        let mut job = base.clone();
        job.lease = Some(Lease {
            owner: format!("runner-{i}"),
            until: t + Duration::minutes(5),
        });
        tasks.push(tokio::spawn(async move {
            let answer = store.update(&mut job).await;
            (job, answer)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (job, answer) = match task.await {
            Ok((job, answer)) => (job, ok(answer, "a concurrent update")),
            Err(err) => panic!("a concurrent update task panicked or was cancelled: {err}"),
        };
        if answer {
            assert_eq_dbg(
                job.version,
                base.version + 1,
                "the winning update's version",
            );
            winners.push(job);
        } else {
            assert_eq_dbg(job.version, base.version, "a losing update's version");
        }
    }
    assert_eq_dbg(
        winners.len(),
        1,
        "updates that won of 20 concurrent ones from one version",
    );
    assert_same_job(
        &winners[0],
        &stored(stores[0].as_ref(), &job_id, "get after racing updates").await,
        "the stored job after 20 concurrent updates",
    );
}

/// `delete` removes a job (from `get`, `find_by_request_id`, `history` and `count`),
/// says whether there was one, frees its request id, and leaves other jobs alone.
pub async fn delete_removes_a_job(store: &dyn JobStore) {
    let account = "jobs-delete";
    let t = utc(2026, 7, 1, 9, 0, 0);
    let gone = sample_job(account, "job-delete-gone", t);
    let kept = sample_job(account, "job-delete-kept", t + Duration::minutes(1));
    created(store, &gone, "a job to delete").await;
    created(store, &kept, "a job to keep").await;

    assert!(
        ok(
            store.delete("job-delete-gone").await,
            "delete(job-delete-gone)"
        ),
        "delete of a stored job answered false"
    );
    assert!(
        get(store, "job-delete-gone").await.is_none(),
        "a deleted job is still found by id"
    );
    assert!(
        ok(
            store
                .find_by_request_id(account, "req-job-delete-gone")
                .await,
            "find_by_request_id(req-job-delete-gone)",
        )
        .is_none(),
        "a deleted job is still found by request id"
    );
    assert_eq_dbg(
        ids(&history(store, account, 0, 10).await),
        vec!["job-delete-kept"],
        "history after a delete",
    );
    assert_eq_dbg(count(store, account).await, (1, 1), "count after a delete");
    assert!(
        !ok(
            store.delete("job-delete-gone").await,
            "second delete(job-delete-gone)"
        ),
        "a second delete of a job answered true"
    );
    assert!(
        !ok(
            store.delete("job-delete-never").await,
            "delete(job-delete-never)"
        ),
        "delete of a job that never existed answered true"
    );
    assert_same_job(
        &kept,
        &stored(
            store,
            "job-delete-kept",
            "get of the other job after a delete",
        )
        .await,
        "another job after a delete",
    );
    let mut again = sample_job(account, "job-delete-again", t + Duration::minutes(2));
    again.request_id = "req-job-delete-gone".to_string();
    created(store, &again, "a job reusing a deleted job's request id").await;
}
