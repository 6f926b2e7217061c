//! What sharing one PostgreSQL costs: admissions per second (the usage check under
//! contention) and jobs per second end to end, with 1, 2 and 3 instances on one
//! PostgreSQL schema, beside a single instance on SQLite.
//!
//! ```sh
//! cargo run --release -p fanout-benches --bin scale
//! ```
//!
//! An "instance" is what one fanout server holds: its own store (its own connection
//! pool) and its own engine. Every instance shares the one schema, as servers behind a
//! load balancer would.
//!
//! 1. Admissions: [`ADMISSIONS`] admissions of one account to three social accounts
//!    (one monthly counter and three daily counters, all contended), spread over the
//!    instances by [`TASKS_PER_INSTANCE`] concurrent tasks each; admissions per second
//!    and the latency of one admission, p50 / p99.
//! 2. Jobs: [`JOBS`] video posts to three instant publishers, submitted through the
//!    typed API (`Engine::submit`, then `Engine::wait`) by [`TASKS_PER_INSTANCE`]
//!    tasks per instance: every job is admitted, stored, run and recorded in the
//!    store; jobs per second.
//!
//! PostgreSQL is the local one (`postgres://postgres@127.0.0.1:5432/test`, or
//! `FANOUT_BENCH_POSTGRES_URL`); each run uses a fresh schema, dropped at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use fanout_core::{
    Account, AccountDirectory, Capabilities, Connection, Engine, FormFields, JobStore, MediaFile,
    MediaKind, Plan, Profile, PublishContext, PublishError, Publisher, Receipt, SocialAccount,
    Submission, UsageRequest, UsageStore, VideoLimits,
};
use fanout_postgres::{PostgresOptions, PostgresStore};
use fanout_sqlite::SqliteStore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Admissions per run.
const ADMISSIONS: usize = 3000;
/// Jobs per run.
const JOBS: usize = 600;
/// Concurrent tasks per instance.
const TASKS_PER_INSTANCE: usize = 8;
/// Connections in each instance's pool.
const POOL_SIZE: usize = 8;
/// The three platforms every job publishes to.
const PLATFORMS: [&str; 3] = ["alpha", "beta", "gamma"];

fn postgres_url() -> String {
    std::env::var("FANOUT_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A publisher that answers at once: the figures are fanout's and the store's cost.
struct InstantPublisher(&'static str);

#[async_trait]
impl Publisher for InstantPublisher {
    fn id(&self) -> &'static str {
        self.0
    }
    fn display_name(&self) -> &'static str {
        self.0
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_video(VideoLimits {
            min_bytes: 1,
            max_bytes: 1 << 30,
            formats: vec![],
        })
    }
    async fn publish(&self, _: PublishContext<'_>) -> Result<Receipt, PublishError> {
        Ok(Receipt::new().with("post_id", "p"))
    }
}

fn account() -> Account {
    let mut profile = Profile {
        username: "main".into(),
        connections: Default::default(),
    };
    for p in PLATFORMS {
        profile.connections.insert(
            p.into(),
            Connection::new(format!("{p}-acct"), format!("tok-{p}")),
        );
    }
    Account {
        name: "bench".into(),
        api_key_hash: None,
        api_key_expires_at: None,
        plan: Plan {
            monthly_uploads: u64::MAX / 2,
            daily_uploads_per_account: Some(u64::MAX / 2),
        },
        profiles: [("main".to_string(), profile)].into(),
    }
}

/// The stores of one instance.
struct Instance {
    directory: Arc<dyn AccountDirectory>,
    usage: Arc<dyn UsageStore>,
    jobs: Arc<dyn JobStore>,
}

/// `n` instances on one fresh PostgreSQL schema; the schema name to drop afterwards.
async fn postgres_instances(n: usize) -> Result<(Vec<Instance>, String), BoxError> {
    let schema = format!("bench_{}", std::process::id());
    let mut instances = Vec::new();
    for _ in 0..n {
        let store = Arc::new(
            PostgresStore::connect(
                &postgres_url(),
                PostgresOptions::default()
                    .with_pool_size(POOL_SIZE)
                    .with_schema(schema.clone()),
            )
            .await?,
        );
        instances.push(Instance {
            directory: store.clone(),
            usage: store.clone(),
            jobs: store,
        });
    }
    Ok((instances, schema))
}

async fn drop_schema(schema: &str) -> Result<(), BoxError> {
    let (client, connection) =
        tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs [`ADMISSIONS`] admissions over `instances`; (per second, p50, p99).
async fn admissions(instances: &[Instance]) -> Result<(f64, Duration, Duration), BoxError> {
    let socials: Arc<Vec<SocialAccount>> = Arc::new(
        PLATFORMS
            .iter()
            .map(|p| SocialAccount {
                platform: p.to_string(),
                platform_name: p.to_string(),
                account_name: format!("{p}-acct"),
            })
            .collect(),
    );
    let tasks = instances.len() * TASKS_PER_INSTANCE;
    let per_task = ADMISSIONS / tasks;
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let usage = Arc::clone(&instances[t % instances.len()].usage);
        let socials = Arc::clone(&socials);
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let request = UsageRequest {
                    account: "bench",
                    now: Utc::now(),
                    monthly_limit: u64::MAX / 2,
                    daily_limit: Some(u64::MAX / 2),
                    social_accounts: &socials,
                };
                let one = Instant::now();
                usage.admit(&request).await?;
                latencies.push(one.elapsed());
            }
            Ok::<_, BoxError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok((
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    ))
}

/// Runs [`JOBS`] jobs over one engine per instance; jobs per second.
async fn jobs(instances: &[Instance]) -> Result<f64, BoxError> {
    let spool = tempfile::tempdir()?;
    let video = Arc::new(
        MediaFile::from_bytes(spool.path(), fanout_testkit::media::mp4_bytes(4096), None).await?,
    );
    let mut engines = Vec::new();
    for instance in instances {
        instance.directory.upsert(account()).await?;
        let mut builder =
            Engine::builder(Arc::clone(&instance.directory), Arc::clone(&instance.usage))
                .public_base_url("http://127.0.0.1:9/".parse()?)
                .jobs(Arc::clone(&instance.jobs));
        for p in PLATFORMS {
            builder = builder.publisher(Arc::new(InstantPublisher(p)));
        }
        engines.push(builder.build()?);
    }
    let tasks = engines.len() * TASKS_PER_INSTANCE;
    let per_task = JOBS / tasks;
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let engine = engines[t % engines.len()].clone();
        let video = Arc::clone(&video);
        handles.push(tokio::spawn(async move {
            for _ in 0..per_task {
                let mut post =
                    Submission::new("bench", "main", MediaKind::Video, vec![Arc::clone(&video)]);
                post.fields = FormFields::from_pairs([("title", "bench")]);
                post.platforms = PLATFORMS.iter().map(|p| p.to_string()).collect();
                let job = engine.submit(post).await.map_err(|e| e.to_string())?.job;
                let done = engine
                    .wait(&job.job_id, Duration::from_secs(60))
                    .await
                    .map_err(|e| e.to_string())?;
                if done
                    .platforms
                    .iter()
                    .any(|p| p.result.as_ref().is_none_or(|r| r["success"] != true))
                {
                    return Err::<(), BoxError>(
                        format!("a job did not complete: {:?}", done.platforms).into(),
                    );
                }
            }
            Ok(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    Ok((per_task * tasks) as f64 / started.elapsed().as_secs_f64())
}

fn row(name: &str, admissions: (f64, Duration, Duration), jobs: f64) {
    println!(
        "{name:<22} {:>10.0} {:>9.2} {:>9.2} {:>9.0}",
        admissions.0,
        admissions.1.as_secs_f64() * 1000.0,
        admissions.2.as_secs_f64() * 1000.0,
        jobs
    );
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    println!(
        "{ADMISSIONS} admissions and {JOBS} jobs (three instant platforms), \
         {TASKS_PER_INSTANCE} tasks per instance, pools of {POOL_SIZE}"
    );
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>9}",
        "store", "admits/s", "p50 ms", "p99 ms", "jobs/s"
    );
    {
        let dir = tempfile::tempdir()?;
        let store = Arc::new(SqliteStore::open(dir.path().join("bench.db"))?);
        let sqlite = vec![Instance {
            directory: store.clone(),
            usage: store.clone(),
            jobs: store,
        }];
        let a = admissions(&sqlite).await?;
        let j = jobs(&sqlite).await?;
        row("SQLite, 1 instance", a, j);
    }
    for n in 1..=3 {
        let (instances, schema) = postgres_instances(n).await?;
        let outcome = async {
            let a = admissions(&instances).await?;
            let j = jobs(&instances).await?;
            Ok::<_, BoxError>((a, j))
        }
        .await;
        drop(instances);
        drop_schema(&schema).await?;
        let (a, j) = outcome?;
        row(&format!("PostgreSQL, {n} inst."), a, j);
    }
    Ok(())
}
