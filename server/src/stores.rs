//! Opening the configured store.

use std::sync::Arc;

use fanout_core::config::StoreConfig;
use fanout_core::{AccountDirectory, MemoryDirectory, MemoryUsage, StoreError, UsageStore};

/// The directory and usage store named by the config.
pub(crate) async fn open(
    config: &StoreConfig,
) -> Result<(Arc<dyn AccountDirectory>, Arc<dyn UsageStore>), StoreError> {
    Ok(match config {
        StoreConfig::Memory => (
            Arc::new(MemoryDirectory::new()),
            Arc::new(MemoryUsage::new()),
        ),
        StoreConfig::Sqlite { path } => {
            let store = Arc::new(fanout_sqlite::SqliteStore::open(path)?);
            (store.clone(), store)
        }
    })
}
