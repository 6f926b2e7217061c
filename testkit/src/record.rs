//! What a fake received, recorded as sizes and hashes, never bytes.

use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// One medium a fake received (uploaded to it or pulled by it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMedia {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
}

impl ReceivedMedia {
    /// Records `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// Hashes a medium that arrives in pieces (chunks, parts, ranges).
#[derive(Debug, Clone, Default)]
pub struct MediaHasher {
    hasher: Sha256,
    size: u64,
}

impl MediaHasher {
    /// Feeds the next bytes, in order.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The record of everything fed.
    pub fn finish(self) -> ReceivedMedia {
        ReceivedMedia {
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

/// A post a fake published.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedPost {
    /// The id the fake returned for it (the id the publisher reports).
    pub id: String,
    /// Which connected account published it (the fake's account id for the token).
    pub account: String,
    /// Title or caption as the fake received it.
    pub caption: String,
    /// The media, in post order.
    pub media: Vec<ReceivedMedia>,
    /// Every option the platform received for the post, as the platform's own JSON.
    pub options: serde_json::Value,
}

/// A shared, append-only log of published posts.
#[derive(Debug, Clone, Default)]
pub struct PublishLog {
    posts: Arc<Mutex<Vec<PublishedPost>>>,
}

impl PublishLog {
    /// Appends a post.
    pub fn push(&self, post: PublishedPost) {
        if let Ok(mut posts) = self.posts.lock() {
            posts.push(post);
        }
    }

    /// Every post so far.
    pub fn all(&self) -> Vec<PublishedPost> {
        self.posts.lock().map(|p| p.clone()).unwrap_or_default()
    }
}
