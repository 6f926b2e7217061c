//! The durable media store: a job's media, kept from acceptance until the job can no
//! longer need it, on any [`object_store::ObjectStore`] (a local directory by default;
//! in memory for tests; S3-compatible storage is a later feature).

use std::path::Path;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use tokio::io::AsyncWriteExt;

use crate::accounts::StoreError;
use crate::jobs::StoredMedia;
use crate::media::MediaFile;

/// The part size media is streamed into the store in.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Keeps media of jobs under `jobs/<job_id>/<index>`.
///
/// Cheap to clone. Files are streamed in and read back by range: a 1 GiB video is
/// never held in memory.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use fanout_core::{MediaFile, MediaStore};
/// let store = MediaStore::in_memory();
/// let dir = tempfile::tempdir()?;
/// let spooled = Arc::new(MediaFile::from_bytes(dir.path(), vec![7u8; 10], None).await?);
/// let stored = store.put("job1", 0, &spooled).await?;
/// let file = store.open(&stored)?;
/// assert_eq!(&file.read_range(2..4).await?[..], &[7, 7]);
/// store.delete_job("job1").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaStore({})", self.store)
    }
}

impl MediaStore {
    /// Media on any object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Media in memory: for tests and small embedders only (every byte is held).
    pub fn in_memory() -> Self {
        Self::new(Arc::new(InMemory::new()))
    }

    /// Media in a local directory, created when missing. Several processes on one
    /// machine (or one shared volume) can use the same directory.
    pub fn local(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::unavailable(format!(
                "could not create the media directory {}: {e}",
                dir.display()
            ))
            .with_source(e)
        })?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| {
            StoreError::unavailable(format!(
                "could not open the media directory {}: {e}",
                dir.display()
            ))
        })?;
        Ok(Self::new(Arc::new(fs)))
    }

    fn location(job_id: &str, index: usize) -> ObjectPath {
        ObjectPath::from(format!("jobs/{job_id}/{index}"))
    }

    /// Copies a spooled (or stored) medium into the store as medium `index` of
    /// `job_id`, streaming it in parts.
    pub async fn put(
        &self,
        job_id: &str,
        index: usize,
        file: &Arc<MediaFile>,
    ) -> Result<StoredMedia, StoreError> {
        let location = Self::location(job_id, index);
        // Parts of PART_BYTES, at most two in flight: memory stays bounded (a few parts)
        // whatever the file's size and however slow the store is.
        let mut writer =
            BufWriter::with_capacity(Arc::clone(&self.store), location.clone(), PART_BYTES)
                .with_max_concurrency(2);
        let mut source = file.stream();
        let copied = async {
            while let Some(chunk) = source.try_next().await? {
                writer.write_all(&chunk).await?;
            }
            writer.shutdown().await
        }
        .await;
        if let Err(err) = copied {
            let _ = writer.abort().await;
            return Err(StoreError::unavailable(format!(
                "could not keep the media of job {job_id}: {err}"
            ))
            .with_source(err));
        }
        Ok(StoredMedia {
            key: location.to_string(),
            len: file.len(),
            sha256: file.sha256_hex(),
            content_type: file.content_type().to_string(),
            file_name: file.file_name().map(str::to_string),
        })
    }

    /// The stored medium, read by range from the store.
    pub fn open(&self, stored: &StoredMedia) -> Result<Arc<MediaFile>, StoreError> {
        let sha256: [u8; 32] = hex::decode(&stored.sha256)
            .ok()
            .and_then(|raw| raw.try_into().ok())
            .ok_or_else(|| {
                StoreError::corrupt(format!(
                    "the stored medium {} has a malformed SHA-256",
                    stored.key
                ))
            })?;
        Ok(Arc::new(MediaFile::stored(
            Arc::clone(&self.store),
            ObjectPath::from(stored.key.as_str()),
            stored.len,
            sha256,
            stored.content_type.clone(),
            stored.file_name.clone(),
        )))
    }

    /// Deletes every medium of `job_id`; deleting what is already gone succeeds.
    pub async fn delete_job(&self, job_id: &str) -> Result<(), StoreError> {
        let prefix = ObjectPath::from(format!("jobs/{job_id}"));
        let failed = |e: object_store::Error| {
            StoreError::unavailable(format!("could not delete the media of job {job_id}: {e}"))
                .with_source(e)
        };
        let locations: Vec<ObjectPath> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(failed)?;
        for location in locations {
            match self.store.delete(&location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(failed(e)),
            }
        }
        Ok(())
    }
}
