//! fanout stores in one SQLite file: accounts, API keys (hashed), plans, profiles,
//! connected social accounts and usage counters.
//!
//! [`SqliteStore`] implements both [`fanout_core::AccountDirectory`] and
//! [`fanout_core::UsageStore`]. It is the embedded default: one file, nothing to start.
//!
//! ```no_run
//! # fn main() -> Result<(), fanout_core::StoreError> {
//! use std::sync::Arc;
//! use fanout_core::{AccountDirectory, UsageStore};
//!
//! let store = Arc::new(fanout_sqlite::SqliteStore::open("fanout.db")?);
//! let directory: Arc<dyn AccountDirectory> = store.clone();
//! let usage: Arc<dyn UsageStore> = store;
//! # let _ = (directory, usage);
//! # Ok(())
//! # }
//! ```
//!
//! **The file holds credentials.** Connections keep the platforms' OAuth access and
//! refresh tokens as given (API keys are stored only as SHA-256 hashes). Protect the
//! database file, its `-wal` and `-shm` companions and their backups like a secrets
//! file: owner-only permissions, no world-readable backups.
//!
//! Modules: [`store`] opens the file and runs blocking work off the executor;
//! `schema` creates and versions the tables; `directory` and `usage` implement the
//! two traits; `codec` converts times and counts; `errors` words failures.
#![forbid(unsafe_code)]

mod codec;
mod directory;
mod errors;
mod schema;
pub mod store;
mod usage;

pub use fanout_core::StoreError;
pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;
