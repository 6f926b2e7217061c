//! fanout stores in one SQLite file: accounts, API keys (hashed), plans, profiles,
//! connected social accounts, usage counters, jobs and pending connection attempts.
//!
//! [`SqliteStore`] implements [`fanout_core::AccountDirectory`],
//! [`fanout_core::UsageStore`], [`fanout_core::JobStore`] and
//! [`fanout_core::ConnectStateStore`]. It is the embedded default: one file, nothing to
//! start. Every write that checks before it writes (admitting an upload, inserting a
//! job under an idempotency key, updating a job at a version, taking a connection
//! state) runs in one `BEGIN IMMEDIATE` transaction, so it holds across clones, several
//! stores on one file, and several processes.
//!
//! ```no_run
//! # fn main() -> Result<(), fanout_core::StoreError> {
//! use std::sync::Arc;
//! use fanout_core::{AccountDirectory, ConnectStateStore, JobStore, UsageStore};
//!
//! let store = Arc::new(fanout_sqlite::SqliteStore::open("fanout.db")?);
//! let directory: Arc<dyn AccountDirectory> = store.clone();
//! let usage: Arc<dyn UsageStore> = store.clone();
//! let jobs: Arc<dyn JobStore> = store.clone();
//! let connect_states: Arc<dyn ConnectStateStore> = store;
//! # let _ = (directory, usage, jobs, connect_states);
//! # Ok(())
//! # }
//! ```
//!
//! **The file holds credentials.** Connections keep the platforms' OAuth access and
//! refresh tokens as given, and pending connection attempts keep their PKCE verifiers
//! (API keys are stored only as SHA-256 hashes). Protect the database file, its `-wal`
//! and `-shm` companions and their backups like a secrets file: owner-only permissions,
//! no world-readable backups.
//!
//! Modules: [`store`] opens the file and runs blocking work off the executor;
//! `schema` creates and versions the tables (version 2 added jobs and connection
//! attempts; older files are migrated when opened); `directory`, `usage`, `jobs` and
//! `connect_states` implement the four traits; `codec` converts times and counts;
//! `errors` words failures.
#![forbid(unsafe_code)]

mod codec;
mod connect_states;
mod directory;
mod errors;
mod jobs;
mod schema;
pub mod store;
mod usage;

pub use fanout_core::StoreError;
pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;
