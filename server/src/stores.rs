//! Opening the configured stores.

use std::sync::Arc;

use crate::config::{MediaConfig, StoreConfig};
use fanout_core::{
    AccountDirectory, ConnectStateStore, JobStore, MediaLinkStore, MediaStore, MemoryConnectStates,
    MemoryDirectory, MemoryJobStore, MemoryUsage, StoreError, UsageStore,
};

/// Every store the engine needs.
pub(crate) struct Stores {
    pub directory: Arc<dyn AccountDirectory>,
    pub usage: Arc<dyn UsageStore>,
    pub jobs: Arc<dyn JobStore>,
    pub connect_states: Arc<dyn ConnectStateStore>,
    pub media: MediaStore,
    /// Where media links are shared with the other instances (PostgreSQL); `None`:
    /// each link is served by the instance that minted it.
    pub media_links: Option<Arc<dyn MediaLinkStore>>,
    /// The scratch media directory of a memory store, removed when dropped.
    pub media_dir: Option<tempfile::TempDir>,
}

/// The stores named by the config. Media without a `[media]` section goes beside the
/// SQLite file, for PostgreSQL into `fanout-media` in the working directory (which
/// every instance must share), or for a memory store into a scratch directory in
/// `scratch_base` (see [`crate::sweep`]).
pub(crate) async fn open(
    store: &StoreConfig,
    media: Option<&MediaConfig>,
    scratch_base: &std::path::Path,
) -> Result<Stores, StoreError> {
    let mut media_dir = None;
    let media = match (media, store) {
        (Some(MediaConfig::Local { path }), _) => MediaStore::local(path)?,
        (
            Some(MediaConfig::S3 {
                bucket,
                endpoint,
                region,
            }),
            _,
        ) => s3(bucket, endpoint.as_deref(), region.as_deref())?,
        (Some(MediaConfig::Memory), _) => MediaStore::in_memory(),
        (None, StoreConfig::Sqlite { path }) => {
            MediaStore::local(path.with_file_name("fanout-media"))?
        }
        (None, StoreConfig::Postgres { .. }) => {
            tracing::warn!(
                "no [media] section: media goes to ./fanout-media; several instances must \
                 share one media directory (or bucket): set [media] to say which"
            );
            MediaStore::local("fanout-media")?
        }
        (None, StoreConfig::Memory) => {
            let dir = crate::sweep::scratch_media_dir(scratch_base).map_err(|e| {
                StoreError::unavailable(format!(
                    "could not create a scratch media directory in {}: {e}",
                    scratch_base.display()
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
            media_links: None,
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
                media_links: None,
                media_dir,
            }
        }
        StoreConfig::Postgres {
            url,
            pool_size,
            schema,
        } => {
            let mut options =
                fanout_postgres::PostgresOptions::default().with_pool_size(*pool_size);
            if let Some(schema) = schema {
                options = options.with_schema(schema.clone());
            }
            let store =
                Arc::new(fanout_postgres::PostgresStore::connect(url.expose(), options).await?);
            Stores {
                directory: store.clone(),
                usage: store.clone(),
                jobs: store.clone(),
                connect_states: store.clone(),
                media,
                media_links: Some(store),
                media_dir,
            }
        }
    })
}

/// Media in an S3 bucket, credentials from the environment.
#[cfg(feature = "s3")]
fn s3(
    bucket: &str,
    endpoint: Option<&str>,
    region: Option<&str>,
) -> Result<MediaStore, StoreError> {
    use object_store::aws::AmazonS3Builder;

    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(region) = region {
        builder = builder.with_region(region);
    }
    if let Some(endpoint) = endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    let s3 = builder.build().map_err(|e| {
        StoreError::invalid(format!(
            "could not open the S3 media bucket {bucket}: {e} — check [media] bucket, \
             endpoint and region, and the AWS_* credentials in the environment"
        ))
    })?;
    Ok(MediaStore::new(Arc::new(s3)))
}

/// Refused: this build has no S3 support ([`crate::Config`] says so first).
#[cfg(not(feature = "s3"))]
fn s3(
    bucket: &str,
    _endpoint: Option<&str>,
    _region: Option<&str>,
) -> Result<MediaStore, StoreError> {
    Err(StoreError::invalid(format!(
        "[media] kind = \"s3\" (bucket {bucket}) needs a fanout built with the `s3` feature \
         (cargo build -p fanout-server --features s3)"
    )))
}
