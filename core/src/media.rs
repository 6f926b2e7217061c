//! Media files: spooled to disk as they arrive (removed on drop), or kept in the durable
//! media store ([`crate::MediaStore`]) for a job. Either way they are read by range and
//! never held whole in memory.

use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

/// How many leading bytes are kept to recognise a file's format.
const SNIFF_LEN: usize = 64;
/// Read buffer used when streaming a file out.
const STREAM_CHUNK: usize = 64 * 1024;

/// One uploaded medium (a video or a photo): a spooled temporary file, or an object in
/// the media store.
///
/// A spooled file is deleted when the last `Arc<MediaFile>` is dropped; a stored one
/// lives as long as its job needs it. Its bytes are never held whole in memory: readers
/// take ranges.
#[derive(Debug)]
pub struct MediaFile {
    backing: Backing,
    len: u64,
    sha256: [u8; 32],
    content_type: String,
    file_name: Option<String>,
}

/// Where a medium's bytes are.
enum Backing {
    /// A temporary file, removed on drop.
    Spooled(TempPath),
    /// An object in a media store.
    Stored {
        store: Arc<dyn ObjectStore>,
        location: ObjectPath,
    },
}

impl std::fmt::Debug for Backing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backing::Spooled(path) => f.debug_tuple("Spooled").field(path).finish(),
            Backing::Stored { location, .. } => f.debug_tuple("Stored").field(location).finish(),
        }
    }
}

/// Why spooling a medium stopped.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The medium is larger than the configured cap.
    #[error("the upload is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The source stream failed (a broken upload or a failed download).
    #[error("{0}")]
    Source(String),
    /// Writing the temporary file failed.
    #[error("could not write the upload to a temporary file: {0}")]
    Io(#[from] io::Error),
}

impl MediaFile {
    /// Spools `source` into a new temporary file in `dir`, stopping with
    /// [`SpoolError::TooLarge`] as soon as more than `max_bytes` arrive.
    ///
    /// The content type is recognised from the file's first bytes; `declared_type` and
    /// the name's extension are only used when the bytes say nothing.
    pub async fn spool<S, E>(
        dir: &Path,
        mut source: S,
        max_bytes: u64,
        file_name: Option<String>,
        declared_type: Option<String>,
    ) -> Result<Self, SpoolError>
    where
        S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let temp = tempfile::Builder::new()
            .prefix("fanout-")
            .tempfile_in(dir)?;
        let (std_file, path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut len: u64 = 0;
        let mut hasher = Sha256::new();
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
        while let Some(chunk) = source.next().await {
            let chunk = chunk.map_err(|e| SpoolError::Source(e.to_string()))?;
            len += chunk.len() as u64;
            if len > max_bytes {
                return Err(SpoolError::TooLarge { limit: max_bytes });
            }
            if head.len() < SNIFF_LEN {
                let take = (SNIFF_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_data().await.ok();
        let content_type = sniff_content_type(&head, file_name.as_deref(), declared_type);
        Ok(Self {
            backing: Backing::Spooled(path),
            len,
            sha256: hasher.finalize().into(),
            content_type,
            file_name,
        })
    }

    /// A medium whose bytes are the object at `location` of `store`, described by what
    /// was recorded when it was stored (see [`crate::MediaStore`]).
    pub(crate) fn stored(
        store: Arc<dyn ObjectStore>,
        location: ObjectPath,
        len: u64,
        sha256: [u8; 32],
        content_type: String,
        file_name: Option<String>,
    ) -> Self {
        Self {
            backing: Backing::Stored { store, location },
            len,
            sha256,
            content_type,
            file_name,
        }
    }

    /// What the media store recorded of this medium, when it is kept there.
    pub(crate) fn stored_media(&self) -> Option<crate::jobs::StoredMedia> {
        match &self.backing {
            Backing::Stored { location, .. } => Some(crate::jobs::StoredMedia {
                key: location.to_string(),
                len: self.len,
                sha256: self.sha256_hex(),
                content_type: self.content_type.clone(),
                file_name: self.file_name.clone(),
            }),
            Backing::Spooled(_) => None,
        }
    }

    /// Spools a file from disk into `dir` (the original is left alone), named after
    /// it, stopping at `max_bytes`: how an embedder hands fanout a file it already has.
    pub async fn spool_file(
        dir: &Path,
        source: impl AsRef<Path>,
        max_bytes: u64,
    ) -> Result<Self, SpoolError> {
        let source = source.as_ref();
        let file = tokio::fs::File::open(source).await?;
        let name = source.file_name().map(|n| n.to_string_lossy().into_owned());
        Self::spool(
            dir,
            ReaderStream::with_capacity(file, STREAM_CHUNK),
            max_bytes,
            name,
            None,
        )
        .await
    }

    /// Spools an in-memory buffer (tests, small generated media).
    pub async fn from_bytes(
        dir: &Path,
        bytes: impl Into<Bytes>,
        file_name: Option<String>,
    ) -> Result<Self, SpoolError> {
        let bytes = bytes.into();
        let len = bytes.len() as u64;
        Self::spool(
            dir,
            stream::iter([Ok::<_, io::Error>(bytes)]),
            len,
            file_name,
            None,
        )
        .await
    }

    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The SHA-256 of the whole file, as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// The MIME type recognised from the file's bytes (e.g. `video/mp4`, `image/jpeg`).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file name the client sent, if any.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// Where a spooled file's bytes live on local disk (valid while this value lives);
    /// `None` for a medium kept in a media store.
    pub fn path(&self) -> Option<&Path> {
        match &self.backing {
            Backing::Spooled(path) => Some(path),
            Backing::Stored { .. } => None,
        }
    }

    /// Reads `range` into memory. Meant for one platform-sized part at a time.
    pub async fn read_range(&self, range: Range<u64>) -> io::Result<Bytes> {
        check_range(&range, self.len)?;
        match &self.backing {
            Backing::Spooled(path) => {
                let mut file = tokio::fs::File::open(path).await?;
                file.seek(SeekFrom::Start(range.start)).await?;
                let mut buf = Vec::with_capacity((range.end - range.start) as usize);
                file.take(range.end - range.start)
                    .read_to_end(&mut buf)
                    .await?;
                Ok(buf.into())
            }
            Backing::Stored { store, location } => {
                if range.start == range.end {
                    return Ok(Bytes::new());
                }
                store.get_range(location, range).await.map_err(object_error)
            }
        }
    }

    /// Streams `range` from disk in small buffers; the stream keeps the file alive.
    pub fn stream_range(
        self: &Arc<Self>,
        range: Range<u64>,
    ) -> BoxStream<'static, io::Result<Bytes>> {
        if let Err(e) = check_range(&range, self.len) {
            return stream::once(async move { Err(e) }).boxed();
        }
        if let Backing::Stored { store, location } = &self.backing {
            if range.start == range.end {
                return stream::empty().boxed();
            }
            let store = Arc::clone(store);
            let location = location.clone();
            let open = async move {
                let options = GetOptions {
                    range: Some(GetRange::Bounded(range)),
                    ..GetOptions::default()
                };
                let result = store
                    .get_opts(&location, options)
                    .await
                    .map_err(object_error)?;
                Ok::<_, io::Error>(result.into_stream().map_err(object_error))
            };
            return stream::once(open).try_flatten().boxed();
        }
        let this = Arc::clone(self);
        let open = async move {
            let Backing::Spooled(path) = &this.backing else {
                return Err(io::Error::other("the medium is not a spooled file"));
            };
            let mut file = tokio::fs::File::open(path).await?;
            file.seek(SeekFrom::Start(range.start)).await?;
            let reader = file.take(range.end - range.start);
            let keep_alive = this;
            Ok::<_, io::Error>(ReaderStream::with_capacity(reader, STREAM_CHUNK).inspect(
                move |_| {
                    let _ = &keep_alive;
                },
            ))
        };
        stream::once(open).try_flatten().boxed()
    }

    /// Streams the whole file.
    pub fn stream(self: &Arc<Self>) -> BoxStream<'static, io::Result<Bytes>> {
        self.stream_range(0..self.len)
    }
}

/// An object-store failure as an I/O error (the store's message names the object, never
/// a credential).
fn object_error(err: object_store::Error) -> io::Error {
    match err {
        object_store::Error::NotFound { .. } => io::Error::new(
            io::ErrorKind::NotFound,
            "the medium is no longer in the media store",
        ),
        other => io::Error::other(format!("the media store failed: {other}")),
    }
}

fn check_range(range: &Range<u64>, len: u64) -> io::Result<()> {
    if range.start > range.end || range.end > len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "byte range {}..{} is outside a file of {len} bytes",
                range.start, range.end
            ),
        ));
    }
    Ok(())
}

/// Recognises a MIME type from a file's first bytes, then its declared type, then its
/// name's extension.
fn sniff_content_type(head: &[u8], file_name: Option<&str>, declared: Option<String>) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    if let Some(declared) = declared.filter(|d| !d.is_empty() && d != "application/octet-stream") {
        return declared;
    }
    let ext = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("mp4") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("webm") => "video/webm",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spools_hashes_and_reads_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let file = Arc::new(
            MediaFile::from_bytes(dir.path(), data.clone(), Some("a.bin".into()))
                .await
                .unwrap(),
        );
        assert_eq!(file.len(), 200_000);
        assert_eq!(file.sha256_hex(), hex::encode(Sha256::digest(&data)));
        assert_eq!(&file.read_range(10..20).await.unwrap()[..], &data[10..20]);
        let streamed: Vec<Bytes> = file
            .stream_range(1000..150_000)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed.concat(), &data[1000..150_000]);
        assert!(file.read_range(0..200_001).await.is_err());
    }

    #[tokio::test]
    async fn stops_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let chunks = stream::iter((0..2).map(|_| Ok::<_, io::Error>(Bytes::from(vec![0u8; 600]))));
        let err = MediaFile::spool(dir.path(), chunks, 1000, None, None)
            .await
            .unwrap_err();
        assert!(matches!(err, SpoolError::TooLarge { limit: 1000 }));
    }

    #[tokio::test]
    async fn file_is_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let file = MediaFile::from_bytes(dir.path(), vec![1u8; 10], None)
            .await
            .unwrap();
        let path = file.path().unwrap().to_path_buf();
        assert!(path.exists());
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn content_type_comes_from_bytes_first() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        assert_eq!(
            sniff_content_type(&jpeg, Some("x.png"), Some("image/png".into())),
            "image/jpeg"
        );
        assert_eq!(
            sniff_content_type(b"zz", Some("clip.MOV"), None),
            "video/quicktime"
        );
        assert_eq!(
            sniff_content_type(b"zz", None, Some("video/mp4".into())),
            "video/mp4"
        );
    }
}
