//! fanout stores on PostgreSQL, shared by several instances: accounts, API keys
//! (hashed), plans, profiles, connected social accounts, usage counters, jobs,
//! pending connection attempts and media links.
//!
//! [`PostgresStore`] implements [`fanout_core::AccountDirectory`],
//! [`fanout_core::UsageStore`], [`fanout_core::JobStore`],
//! [`fanout_core::ConnectStateStore`] and [`fanout_core::MediaLinkStore`] with the
//! same semantics as `fanout-sqlite`, and keeps them when many instances share one
//! database:
//!
//! - an admission checks and counts the month and each social account's day in one
//!   transaction of conditional upserts (`… ON CONFLICT DO UPDATE … WHERE count <
//!   limit RETURNING count`), so a limit of N admits exactly N across instances;
//! - a job is updated only at the version it was read at, in one statement, so a
//!   claim (an update setting the lease) is won by one instance, and a lapsed lease is
//!   taken over by one; `due` skips rows being claimed (`FOR UPDATE SKIP LOCKED`);
//! - inserts under one idempotency key take an advisory lock on (account, key), so
//!   concurrent duplicates make one job;
//! - a connection state is taken by one `DELETE … RETURNING`;
//! - a token refresh holds a session advisory lock on the connection
//!   ([`fanout_core::AccountDirectory::lock_connection`]) on a connection detached
//!   from the pool, closed when the lock is dropped, so the lock ends with it;
//! - media links ([`fanout_core::MediaLinkStore`]) are rows keyed by the token's
//!   hash, so any instance serves a link another minted;
//! - `ready` (both traits) checks the database answers at [`SCHEMA_VERSION`].
//!
//! The tables are created and migrated when the store is opened, in one transaction
//! under an advisory lock, and versioned in `fanout_schema_migrations`; a schema written
//! by a newer fanout is refused ([`SCHEMA_VERSION`]). [`PostgresOptions::schema`] keeps
//! the tables in a schema of their own.
//!
//! ```no_run
//! # async fn open() -> Result<(), fanout_core::StoreError> {
//! use std::sync::Arc;
//! use fanout_core::{AccountDirectory, ConnectStateStore, JobStore, UsageStore};
//! use fanout_postgres::{PostgresOptions, PostgresStore};
//!
//! let options = PostgresOptions::default().with_pool_size(16).with_schema("fanout");
//! let store = Arc::new(
//!     PostgresStore::connect("postgres://fanout:secret@db.internal:5432/fanout", options)
//!         .await?,
//! );
//! let directory: Arc<dyn AccountDirectory> = store.clone();
//! let usage: Arc<dyn UsageStore> = store.clone();
//! let jobs: Arc<dyn JobStore> = store.clone();
//! let connect_states: Arc<dyn ConnectStateStore> = store;
//! # let _ = (directory, usage, jobs, connect_states);
//! # Ok(())
//! # }
//! ```
//!
//! ## Why tokio-postgres and deadpool-postgres
//!
//! The crate talks to PostgreSQL with `tokio-postgres` and pools connections with
//! `deadpool-postgres`, rather than with sqlx:
//!
//! - every query here is a few lines of hand-written SQL whose atomicity matters
//!   (conditional upserts, `SKIP LOCKED`, advisory locks); tokio-postgres runs exactly
//!   that SQL, with explicit transactions and the server's SQLSTATE codes for the
//!   error kinds, and needs no database or offline query metadata at build time;
//! - it is a small dependency tree on top of tokio (no macro crate, no second
//!   runtime abstraction), which keeps builds fast on small CI machines;
//! - deadpool-postgres adds only a pool with a size, acquire and connect timeouts, and
//!   a per-connection prepared-statement cache, which is all this store needs;
//! - migrations are a short list in `schema`, versioned the way `fanout-sqlite`
//!   versions its file, so both stores refuse a newer schema the same way.
//!
//! **The database holds credentials.** Connections keep the platforms' OAuth access and
//! refresh tokens as given, and pending connection attempts keep their PKCE verifiers
//! (API keys are stored only as SHA-256 hashes). Restrict who can read the tables and
//! their backups, and treat the store URL (it may carry a password) as a secret.
//! Connections are made without TLS: keep the database on a trusted network or a local
//! socket.
//!
//! Error messages say which store, what and why, never a token or a bound value; the
//! PostgreSQL error is kept as the source. Its `DETAIL` may quote a unique key (an
//! account name, an API key hash), so log sources with care.
//!
//! Modules: [`store`] opens the pool and migrates; `schema` holds the tables and their
//! versions; `directory`, `usage`, `jobs`, `connect_states` and `media_links`
//! implement the five traits; `locks` holds the connection lock; `codec` converts times and counts; `errors` words failures; [`options`]
//! holds [`PostgresOptions`].
#![forbid(unsafe_code)]

mod codec;
mod connect_states;
mod directory;
mod errors;
mod jobs;
mod locks;
mod media_links;
pub mod options;
mod schema;
pub mod store;
mod usage;

pub use fanout_core::StoreError;
pub use options::PostgresOptions;
pub use schema::SCHEMA_VERSION;
pub use store::PostgresStore;
