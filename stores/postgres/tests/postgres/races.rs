//! Several stores on one schema, each with its own pool, as several instances of
//! fanout on one database: limits, claims, leases and idempotency keys hold across
//! them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use fanout_core::{Admission, Insert, JobStore, Lease, UsageRequest, UsageStore};
use fanout_postgres::PostgresStore;
use fanout_testkit::stores::{concurrent_admits_are_exact, sample_job, social, utc};

use super::support::TestSchema;

fn as_usage(stores: &[Arc<PostgresStore>]) -> Vec<Arc<dyn UsageStore>> {
    stores
        .iter()
        .map(|s| s.clone() as Arc<dyn UsageStore>)
        .collect()
}

/// 60 concurrent admissions over two instances against a monthly limit of 20: exactly
/// 20 admitted (counts 1 to 20, each once), 40 refused, final count 20.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_monthly_limit_holds_across_instances() {
    let schema = TestSchema::new();
    let stores = schema.instances(2, 8).await;
    concurrent_admits_are_exact(&as_usage(&stores), "pg-monthly").await;
}

/// 60 concurrent admissions over two instances to one social account with a daily
/// limit of 20 (and room in the month): exactly 20 admitted, 40 refused naming that
/// social account, and the refusals counted nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_daily_limit_holds_across_instances() {
    let schema = TestSchema::new();
    let stores = schema.instances(2, 8).await;
    let now = utc(2026, 5, 21, 9, 0, 0);
    let tt = social("tiktok", "pg_daily_tt");
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = stores[i % stores.len()].clone();
        let tt = tt.clone();
        tasks.push(tokio::spawn(async move {
            let socials = [tt];
            store
                .admit(&UsageRequest {
                    account: "pg-daily",
                    now,
                    monthly_limit: 1_000,
                    daily_limit: Some(20),
                    social_accounts: &socials,
                })
                .await
        }));
    }
    let mut counts = BTreeSet::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("an admit task").expect("an admit") {
            Admission::Admitted(usage) => assert!(counts.insert(usage.count)),
            Admission::DailyLimitReached {
                limit: 20,
                social_account,
            } => {
                assert_eq!(social_account, tt);
                refused += 1;
            }
            other => panic!("an admit answered {other:?}"),
        }
    }
    assert_eq!(counts, (1..=20).collect::<BTreeSet<u64>>());
    assert_eq!(refused, 40);
    let usage = stores[1]
        .current("pg-daily", now, 1_000)
        .await
        .expect("current usage");
    assert_eq!(usage.count, 20, "refusals must not count for the month");
    // The next day has room again.
    let socials = [tt];
    let tomorrow = stores[0]
        .admit(&UsageRequest {
            account: "pg-daily",
            now: now + Duration::days(1),
            monthly_limit: 1_000,
            daily_limit: Some(20),
            social_accounts: &socials,
        })
        .await
        .expect("an admit the next day");
    assert!(matches!(tomorrow, Admission::Admitted(u) if u.count == 21));
}

/// Claims the due jobs at `now` until none is left, as one instance's runner would:
/// `due`, then an update setting the lease; returns the job ids it won.
async fn claim_all(store: Arc<PostgresStore>, owner: String, now: DateTime<Utc>) -> Vec<String> {
    let mut won = Vec::new();
    loop {
        let due = store.due(now, 4).await.expect("due jobs");
        if due.is_empty() {
            return won;
        }
        for mut job in due {
            job.lease = Some(Lease {
                owner: owner.clone(),
                until: now + Duration::minutes(5),
            });
            job.started_at = Some(now);
            if store.update(&mut job).await.expect("a claim") {
                won.push(job.job_id);
            }
        }
    }
}

/// 30 due jobs claimed concurrently by three instances: each job is claimed exactly
/// once, and the stored lease names the instance that won it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn due_jobs_are_claimed_once_across_instances() {
    let schema = TestSchema::new();
    let stores = schema.instances(3, 6).await;
    let created = utc(2026, 6, 1, 12, 0, 0);
    for i in 0..30 {
        let job = sample_job(
            "pg-claims",
            &format!("pg-claim-{i:02}"),
            created + Duration::milliseconds(i),
        );
        let answer = stores[i as usize % 3]
            .insert(&job, StdDuration::from_secs(3600))
            .await
            .expect("an insert");
        assert!(matches!(answer, Insert::Created));
    }
    let now = created + Duration::minutes(1);
    let mut tasks = Vec::new();
    for (n, store) in stores.iter().enumerate() {
        for runner in 0..2 {
            let owner = format!("instance-{n}-runner-{runner}");
            tasks.push(tokio::spawn(claim_all(store.clone(), owner.clone(), now)));
        }
    }
    let mut winner_of = BTreeMap::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let owner = format!("instance-{}-runner-{}", i / 2, i % 2);
        for job_id in task.await.expect("a claiming task") {
            if let Some(other) = winner_of.insert(job_id.clone(), owner.clone()) {
                panic!("{job_id} was claimed by both {other} and {owner}");
            }
        }
    }
    assert_eq!(winner_of.len(), 30, "claimed jobs: {winner_of:?}");
    for (job_id, owner) in &winner_of {
        let job = stores[0]
            .get(job_id)
            .await
            .expect("a get")
            .expect("a claimed job");
        assert_eq!(
            job.lease.as_ref().map(|l| l.owner.as_str()),
            Some(owner.as_str())
        );
        assert_eq!(job.version, 1, "{job_id} was written more than once");
    }
    assert!(stores[2].due(now, 100).await.expect("due").is_empty());
}

/// A lease that lapsed is taken over by another instance; the first holder's stale
/// copy can then no longer write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lease_is_taken_over_by_another_instance() {
    let schema = TestSchema::new();
    let stores = schema.instances(2, 2).await;
    let (a, b) = (&stores[0], &stores[1]);
    let t = utc(2026, 6, 2, 8, 0, 0);
    let job = sample_job("pg-lease", "pg-lease-1", t);
    a.insert(&job, StdDuration::from_secs(3600))
        .await
        .expect("an insert");

    let mut held = a.due(t, 10).await.expect("due").remove(0);
    held.lease = Some(Lease {
        owner: "instance-a".to_string(),
        until: t + Duration::seconds(30),
    });
    held.started_at = Some(t);
    assert!(a.update(&mut held).await.expect("a claim by A"));

    // While A's lease lives, B is not offered the job.
    assert!(b
        .due(t + Duration::seconds(29), 10)
        .await
        .expect("due")
        .is_empty());
    // Once it lapsed, B is, and B's claim wins.
    let lapsed = t + Duration::seconds(30);
    let mut taken = b.due(lapsed, 10).await.expect("due").remove(0);
    assert_eq!(taken.job_id, "pg-lease-1");
    taken.lease = Some(Lease {
        owner: "instance-b".to_string(),
        until: lapsed + Duration::seconds(30),
    });
    assert!(b.update(&mut taken).await.expect("a take-over by B"));
    // A, waking up late, cannot renew from its stale copy.
    let mut renewal = held.clone();
    renewal.lease = Some(Lease {
        owner: "instance-a".to_string(),
        until: lapsed + Duration::seconds(60),
    });
    assert!(!a.update(&mut renewal).await.expect("a stale renewal by A"));
    let stored = a.get("pg-lease-1").await.expect("a get").expect("the job");
    assert_eq!(
        stored.lease.map(|l| l.owner),
        Some("instance-b".to_string())
    );
    assert_eq!(stored.version, 2);
}

/// 60 concurrent inserts over three instances with three idempotency keys (20 each):
/// one job per key, and every duplicate gets its key's job back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_keys_make_one_job_per_key() {
    let schema = TestSchema::new();
    let stores = schema.instances(3, 6).await;
    let t = utc(2026, 6, 3, 10, 0, 0);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = stores[i % 3].clone();
        let key = format!("pg-key-{}", i % 3);
        let mut job = sample_job(
            "pg-keys",
            &format!("pg-keys-{i}"),
            t + Duration::seconds(i as i64),
        );
        job.idempotency_key = Some(key.clone());
        tasks.push(tokio::spawn(async move {
            let answer = store.insert(&job, StdDuration::from_secs(86_400)).await;
            (key, job.job_id, answer)
        }));
    }
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    let mut returned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for task in tasks {
        let (key, job_id, answer) = task.await.expect("an insert task");
        match answer.expect("an insert") {
            Insert::Created => {
                if let Some(other) = created.insert(key.clone(), job_id.clone()) {
                    panic!("key {key} created both {other} and {job_id}");
                }
            }
            Insert::DuplicateKey(first) => {
                returned.entry(key).or_default().insert(first.job_id);
            }
            Insert::RequestIdTaken => panic!("{job_id} was refused for its request id"),
        }
    }
    assert_eq!(created.len(), 3, "jobs created: {created:?}");
    for (key, job_id) in &created {
        assert_eq!(
            returned.get(key),
            Some(&BTreeSet::from([job_id.clone()])),
            "the job the duplicates of {key} were given back"
        );
    }
    assert_eq!(stores[1].count("pg-keys").await.expect("count"), (3, 3));
}
