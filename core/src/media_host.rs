//! Media hosting: turns a spooled file into a URL a platform can pull.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rand::RngCore;
use url::Url;

use crate::error::PublishError;
use crate::media::MediaFile;
use crate::media_links::{MediaLink, MediaLinkStore};
use crate::media_store::MediaStore;

/// A URL under which a platform can fetch one file. The link stops working when this
/// value is dropped (or when the host's time-to-live ends, whichever comes first).
pub struct HostedMedia {
    url: Url,
    release: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl HostedMedia {
    /// A hosted link that runs `release` when dropped.
    pub fn new(url: Url, release: impl FnOnce() + Send + Sync + 'static) -> Self {
        Self {
            url,
            release: Some(Box::new(release)),
        }
    }

    /// The link. It is unguessable: treat it as a secret and keep it out of logs.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl Drop for HostedMedia {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

impl std::fmt::Debug for HostedMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostedMedia(..)")
    }
}

/// Makes spooled files reachable by URL.
#[async_trait]
pub trait MediaHost: Send + Sync + 'static {
    /// Publishes `file` under a new unguessable, expiring link.
    async fn host(&self, file: Arc<MediaFile>) -> Result<HostedMedia, PublishError>;

    /// The file behind a link's token, while the link is live. Hosts that serve files
    /// themselves (the adapter's media route) answer; a CDN-backed host returns `None`.
    async fn resolve(&self, token: &str) -> Option<Arc<MediaFile>> {
        let _ = token;
        None
    }
}

/// The built-in media host: links `<public_base_url>/media/<token>` served by the
/// adapter's media route from the file itself.
///
/// Made [`LocalMediaHost::shared`], a link to a medium kept in the shared media store
/// is also written to a [`MediaLinkStore`], so every instance on that store serves it.
#[derive(Debug, Clone)]
pub struct LocalMediaHost {
    inner: Arc<LocalInner>,
}

#[derive(Debug)]
struct LocalInner {
    base: Url,
    ttl: Duration,
    entries: Mutex<HashMap<String, (Arc<MediaFile>, Instant)>>,
    shared: Option<Shared>,
}

/// Where links are shared with other instances.
struct Shared {
    links: Arc<dyn MediaLinkStore>,
    media: MediaStore,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("media", &self.media)
            .finish_non_exhaustive()
    }
}

/// The path prefix under which [`LocalMediaHost`] links live.
pub const MEDIA_ROUTE_PREFIX: &str = "/media/";

impl LocalMediaHost {
    /// A host whose links start with `public_base_url` and live at most `ttl`.
    pub fn new(public_base_url: Url, ttl: Duration) -> Self {
        Self {
            inner: Arc::new(LocalInner {
                base: public_base_url,
                ttl,
                entries: Mutex::new(HashMap::new()),
                shared: None,
            }),
        }
    }

    /// A host whose links to media in `media` are also kept in `links`, so any
    /// instance sharing both serves them (links to files only this process holds stay
    /// local).
    pub fn shared(
        public_base_url: Url,
        ttl: Duration,
        links: Arc<dyn MediaLinkStore>,
        media: MediaStore,
    ) -> Self {
        Self {
            inner: Arc::new(LocalInner {
                base: public_base_url,
                ttl,
                entries: Mutex::new(HashMap::new()),
                shared: Some(Shared { links, media }),
            }),
        }
    }

    /// How many links are live (for tests and metrics).
    pub fn live_links(&self) -> usize {
        self.inner.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[async_trait]
impl MediaHost for LocalMediaHost {
    async fn host(&self, file: Arc<MediaFile>) -> Result<HostedMedia, PublishError> {
        let mut raw = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut raw);
        let ext = match file.content_type() {
            "image/jpeg" => ".jpg",
            "image/png" => ".png",
            "image/webp" => ".webp",
            "image/gif" => ".gif",
            "video/mp4" => ".mp4",
            "video/quicktime" => ".mov",
            _ => "",
        };
        let token = format!("{}{ext}", hex::encode(raw));
        let path = format!(
            "{}{}{token}",
            self.inner.base.path().trim_end_matches('/'),
            MEDIA_ROUTE_PREFIX
        );
        let mut url = self.inner.base.clone();
        url.set_path(&path);
        let now = Instant::now();
        let shared = match (&self.inner.shared, file.stored_media()) {
            (Some(shared), Some(media)) => {
                let ttl =
                    chrono::Duration::from_std(self.inner.ttl).unwrap_or(chrono::Duration::MAX);
                let link = MediaLink {
                    token_hash: MediaLink::hash_token(&token),
                    media,
                    expires_at: chrono::Utc::now()
                        .checked_add_signed(ttl)
                        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
                };
                shared.links.insert_link(link).await.map_err(|e| {
                    PublishError::transient(format!("could not share the media link: {e}"))
                })?;
                Some(Arc::clone(&shared.links))
            }
            _ => None,
        };
        {
            let mut entries = self
                .inner
                .entries
                .lock()
                .map_err(|_| PublishError::transient("the media host is unavailable"))?;
            entries.retain(|_, (_, expires)| *expires > now);
            entries.insert(token.clone(), (file, now + self.inner.ttl));
        }
        let inner = Arc::clone(&self.inner);
        Ok(HostedMedia::new(url, move || {
            if let Ok(mut entries) = inner.entries.lock() {
                entries.remove(&token);
            }
            let (Some(links), Ok(runtime)) = (shared, tokio::runtime::Handle::try_current()) else {
                return; // without a runtime the link simply expires
            };
            let hash = MediaLink::hash_token(&token);
            runtime.spawn(async move {
                if let Err(err) = links.remove_link(&hash).await {
                    tracing::warn!(%err, "a shared media link could not be removed; it expires on its own");
                }
            });
        }))
    }

    async fn resolve(&self, token: &str) -> Option<Arc<MediaFile>> {
        let local = self.inner.entries.lock().ok().and_then(|entries| {
            let (file, expires) = entries.get(token)?;
            (*expires > Instant::now()).then(|| Arc::clone(file))
        });
        if local.is_some() {
            return local;
        }
        let shared = self.inner.shared.as_ref()?;
        let link = match shared
            .links
            .find_link(&MediaLink::hash_token(token), chrono::Utc::now())
            .await
        {
            Ok(link) => link?,
            Err(err) => {
                tracing::warn!(%err, "could not look up a shared media link");
                return None;
            }
        };
        match shared.media.open(&link.media) {
            Ok(file) => Some(file),
            Err(err) => {
                tracing::warn!(%err, "a shared media link points at unreadable media");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn links_resolve_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let file = Arc::new(
            MediaFile::from_bytes(dir.path(), vec![7u8; 5], None)
                .await
                .unwrap(),
        );
        let host = LocalMediaHost::new(
            Url::parse("http://127.0.0.1:9/base/").unwrap(),
            Duration::from_secs(60),
        );
        let hosted = host.host(Arc::clone(&file)).await.unwrap();
        let url = hosted.url().clone();
        assert!(
            url.as_str().starts_with("http://127.0.0.1:9/base/media/"),
            "{url}"
        );
        let token = url.path().rsplit('/').next().unwrap().to_string();
        assert_eq!(token.len(), 48);
        assert!(host.resolve(&token).await.is_some());
        assert!(host.resolve("nope").await.is_none());
        drop(hosted);
        assert!(host.resolve(&token).await.is_none());
        assert_eq!(host.live_links(), 0);
    }

    #[tokio::test]
    async fn links_expire() {
        let dir = tempfile::tempdir().unwrap();
        let file = Arc::new(
            MediaFile::from_bytes(dir.path(), vec![7u8; 5], None)
                .await
                .unwrap(),
        );
        let host = LocalMediaHost::new(Url::parse("http://h/").unwrap(), Duration::ZERO);
        let hosted = host.host(file).await.unwrap();
        let token = hosted.url().path().rsplit('/').next().unwrap().to_string();
        assert!(host.resolve(&token).await.is_none());
    }

    #[tokio::test]
    async fn a_shared_link_is_served_by_another_host_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::in_memory();
        let links: Arc<dyn MediaLinkStore> = Arc::new(crate::MemoryMediaLinks::new());
        let spooled = Arc::new(
            MediaFile::from_bytes(dir.path(), b"0123456789".to_vec(), None)
                .await
                .unwrap(),
        );
        let stored = media.put("job1", 0, &spooled).await.unwrap();
        let base = Url::parse("http://h/").unwrap();
        let ttl = Duration::from_secs(60);
        let minting = LocalMediaHost::shared(base.clone(), ttl, Arc::clone(&links), media.clone());
        let other = LocalMediaHost::shared(base, ttl, Arc::clone(&links), media.clone());
        let hosted = minting.host(media.open(&stored).unwrap()).await.unwrap();
        let token = hosted.url().path().rsplit('/').next().unwrap().to_string();
        let served = other
            .resolve(&token)
            .await
            .expect("the other host serves it");
        assert_eq!(&served.read_range(2..5).await.unwrap()[..], b"234");
        assert_eq!(served.sha256_hex(), spooled.sha256_hex());
        // Only the token's hash is stored.
        let hash = MediaLink::hash_token(&token);
        assert!(links
            .find_link(&token, chrono::Utc::now())
            .await
            .unwrap()
            .is_none());
        assert!(links
            .find_link(&hash, chrono::Utc::now())
            .await
            .unwrap()
            .is_some());
        drop(hosted);
        // The removal runs on the runtime: wait for it.
        for _ in 0..100 {
            if other.resolve(&token).await.is_none() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the link was not removed");
    }

    #[tokio::test]
    async fn an_expired_shared_link_is_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::in_memory();
        let links: Arc<dyn MediaLinkStore> = Arc::new(crate::MemoryMediaLinks::new());
        let spooled = Arc::new(
            MediaFile::from_bytes(dir.path(), b"abc".to_vec(), None)
                .await
                .unwrap(),
        );
        let stored = media.put("job1", 0, &spooled).await.unwrap();
        let base = Url::parse("http://h/").unwrap();
        let minting = LocalMediaHost::shared(
            base.clone(),
            Duration::ZERO,
            Arc::clone(&links),
            media.clone(),
        );
        let other = LocalMediaHost::shared(base, Duration::ZERO, links, media.clone());
        let hosted = minting.host(media.open(&stored).unwrap()).await.unwrap();
        let token = hosted.url().path().rsplit('/').next().unwrap().to_string();
        assert!(other.resolve(&token).await.is_none());
    }
}
