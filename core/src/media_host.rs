//! Media hosting: turns a spooled file into a URL a platform can pull.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rand::RngCore;
use url::Url;

use crate::error::PublishError;
use crate::media::MediaFile;

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
    fn resolve(&self, token: &str) -> Option<Arc<MediaFile>> {
        let _ = token;
        None
    }
}

/// The built-in media host: links `<public_base_url>/media/<token>` served by the
/// adapter's media route from the spooled file itself.
#[derive(Debug, Clone)]
pub struct LocalMediaHost {
    inner: Arc<LocalInner>,
}

#[derive(Debug)]
struct LocalInner {
    base: Url,
    ttl: Duration,
    entries: Mutex<HashMap<String, (Arc<MediaFile>, Instant)>>,
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
        }))
    }

    fn resolve(&self, token: &str) -> Option<Arc<MediaFile>> {
        let entries = self.inner.entries.lock().ok()?;
        let (file, expires) = entries.get(token)?;
        (*expires > Instant::now()).then(|| Arc::clone(file))
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
        assert!(host.resolve(&token).is_some());
        assert!(host.resolve("nope").is_none());
        drop(hosted);
        assert!(host.resolve(&token).is_none());
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
        assert!(host.resolve(&token).is_none());
    }
}
