//! Opening the configured stores.

use std::sync::Arc;

use fanout_core::config::{MediaConfig, StoreConfig};
use fanout_core::{
    AccountDirectory, ConnectStateStore, JobStore, MediaStore, MemoryConnectStates,
    MemoryDirectory, MemoryJobStore, MemoryUsage, StoreError, UsageStore,
};

/// Every store the engine needs.
pub(crate) struct Stores {
    pub directory: Arc<dyn AccountDirectory>,
    pub usage: Arc<dyn UsageStore>,
    pub jobs: Arc<dyn JobStore>,
    pub connect_states: Arc<dyn ConnectStateStore>,
    pub media: MediaStore,
}

/// The stores named by the config.
pub(crate) async fn open(store: &StoreConfig, media: &MediaConfig) -> Result<Stores, StoreError> {
    let media = match media {
        MediaConfig::Local { path } => MediaStore::local(path)?,
        MediaConfig::Memory => MediaStore::in_memory(),
    };
    Ok(match store {
        StoreConfig::Memory => Stores {
            directory: Arc::new(MemoryDirectory::new()),
            usage: Arc::new(MemoryUsage::new()),
            jobs: Arc::new(MemoryJobStore::new()),
            connect_states: Arc::new(MemoryConnectStates::new()),
            media,
        },
        StoreConfig::Sqlite { path } => {
            let store = Arc::new(fanout_sqlite::SqliteStore::open(path)?);
            Stores {
                directory: store.clone(),
                usage: store.clone(),
                jobs: store.clone(),
                connect_states: store,
                media,
            }
        }
    })
}
