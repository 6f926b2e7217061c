//! Opening the configured stores.

use std::sync::Arc;

use crate::config::{MediaConfig, StoreConfig};
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
    /// The temporary media directory of a memory store, removed when dropped.
    pub media_dir: Option<tempfile::TempDir>,
}

/// The stores named by the config. Media without a `[media]` section goes beside the
/// SQLite file, or for a memory store into a temporary directory.
pub(crate) async fn open(
    store: &StoreConfig,
    media: Option<&MediaConfig>,
) -> Result<Stores, StoreError> {
    let mut media_dir = None;
    let media = match (media, store) {
        (Some(MediaConfig::Local { path }), _) => MediaStore::local(path)?,
        (Some(MediaConfig::Memory), _) => MediaStore::in_memory(),
        (None, StoreConfig::Sqlite { path }) => {
            MediaStore::local(path.with_file_name("fanout-media"))?
        }
        (None, StoreConfig::Memory) => {
            let dir = tempfile::Builder::new()
                .prefix("fanout-media-")
                .tempdir()
                .map_err(|e| {
                    StoreError::unavailable(format!(
                        "could not create a temporary media directory: {e}"
                    ))
                })?;
            let opened = MediaStore::local(dir.path())?;
            media_dir = Some(dir);
            opened
        }
    };
    Ok(match store {
        StoreConfig::Memory => Stores {
            directory: Arc::new(MemoryDirectory::new()),
            usage: Arc::new(MemoryUsage::new()),
            jobs: Arc::new(MemoryJobStore::new()),
            connect_states: Arc::new(MemoryConnectStates::new()),
            media,
            media_dir,
        },
        StoreConfig::Sqlite { path } => {
            let store = Arc::new(fanout_sqlite::SqliteStore::open(path)?);
            Stores {
                directory: store.clone(),
                usage: store.clone(),
                jobs: store.clone(),
                connect_states: store,
                media,
                media_dir,
            }
        }
    })
}
