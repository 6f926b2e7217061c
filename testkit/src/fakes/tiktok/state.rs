//! What the fake TikTok knows: tokens, creators, posts and their uploads.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

pub(crate) use crate::fakes::oauth::random_hex;
use crate::fakes::oauth::OAuthState;
use crate::faults::Faults;
use crate::record::{MediaHasher, PublishLog, ReceivedMedia};

/// Every privacy level TikTok knows, the default options of a creator.
pub const ALL_PRIVACY_LEVELS: [&str; 4] = [
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
];

/// The account a token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// The fake's account name (recorded as `PublishedPost.account`).
    pub(crate) name: String,
    /// TikTok's `open_id` for it.
    pub(crate) open_id: String,
}

/// What a refresh token or an authorization code grants.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// The account it belongs to.
    pub(crate) account: Account,
    /// The granted scopes, comma-separated.
    pub(crate) scope: String,
}

/// What an authorization code carries besides its `redirect_uri`.
#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    /// The account it connects and its scopes.
    pub(crate) grant: Grant,
    /// The PKCE S256 challenge, when the authorization request had one.
    pub(crate) code_challenge: Option<String>,
}

/// A `FILE_UPLOAD` in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    /// Secret part of the upload URL.
    pub(crate) token: String,
    /// Declared size.
    pub(crate) video_size: u64,
    /// Declared chunk size.
    pub(crate) chunk_size: u64,
    /// Declared chunk count.
    pub(crate) total_chunk_count: u64,
    /// Bytes received in completed chunks.
    pub(crate) received: u64,
    /// The hash of those bytes; `None` while a chunk is streaming.
    pub(crate) hasher: Option<MediaHasher>,
    /// The first bytes, to recognise the format.
    pub(crate) head: Vec<u8>,
}

/// Where a post is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for chunks (`PROCESSING_UPLOAD`).
    Uploading,
    /// TikTok pulling photos (`PROCESSING_DOWNLOAD`).
    Downloading,
    /// Media complete; status reads say processing until this instant has passed and
    /// one more read was answered, then the post finishes.
    Processing(std::time::Instant),
    /// Published (`PUBLISH_COMPLETE`).
    Complete,
    /// A draft sent to the creator's inbox (`SEND_TO_USER_INBOX`).
    Inbox,
    /// `FAILED` with this `fail_reason`.
    Failed(String),
}

/// One post (`publish_id`).
#[derive(Debug)]
pub(crate) struct PostState {
    /// The owner.
    pub(crate) account: Account,
    /// `post_info.title`.
    pub(crate) title: String,
    /// `post_info` as received.
    pub(crate) options: Value,
    /// A draft (`MEDIA_UPLOAD`, inbox init): never published.
    pub(crate) draft: bool,
    /// Photos (`PROCESSING_DOWNLOAD`) rather than an upload.
    pub(crate) photos: bool,
    /// Life cycle.
    pub(crate) phase: Phase,
    /// The video upload, for `FILE_UPLOAD`.
    pub(crate) upload: Option<Upload>,
    /// Bytes pulled so far (photos).
    pub(crate) downloaded: u64,
}

/// Mutable state behind one lock (never held across an await).
#[derive(Debug)]
pub(crate) struct Inner {
    /// Tokens, refresh tokens (rotating), codes, the app's client key and secret, and
    /// the `grant_type=refresh_token` requests that reached the token endpoint.
    pub(crate) oauth: OAuthState<Account, Grant, PendingCode>,
    /// `expires_in` of issued access tokens, in seconds.
    pub(crate) access_token_lifetime_secs: u64,
    /// Posts by `publish_id`.
    pub(crate) posts: HashMap<String, PostState>,
    /// Upload id → `publish_id`.
    pub(crate) uploads: HashMap<String, String>,
    /// The privacy levels every creator may use.
    pub(crate) privacy_options: Vec<String>,
    /// Count of `init` calls that reached a handler.
    pub(crate) init_calls: u64,
    /// Count of chunk `PUT`s that reached the handler.
    pub(crate) chunk_requests: u64,
    /// The accepted `init` bodies, in order.
    pub(crate) init_bodies: Vec<Value>,
    /// How long a post stays in processing once its media is complete.
    pub(crate) processing_delay: std::time::Duration,
    /// How long TikTok waits before pulling photos.
    pub(crate) pull_delay: std::time::Duration,
}

impl Inner {
    /// The account named `name`: the one earlier tokens of that name belong to, else a
    /// new one with a fresh `open_id`.
    pub(crate) fn account_named(&self, name: &str) -> Account {
        self.oauth
            .accounts(|grant| &grant.account)
            .find(|account| account.name == name)
            .cloned()
            .unwrap_or_else(|| Account {
                name: name.to_string(),
                open_id: format!("-000{}", random_hex(12)),
            })
    }
}

/// Shared by every handler.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The armed faults.
    pub(crate) faults: Faults,
    /// Published posts.
    pub(crate) log: PublishLog,
    /// Drafts sent to the creator's inbox (never published).
    pub(crate) drafts: PublishLog,
    /// `http://127.0.0.1:<port>/`.
    pub(crate) root: url::Url,
    /// Pulls photo URLs.
    pub(crate) http: reqwest::Client,
    inner: Mutex<Inner>,
}

impl Shared {
    pub(crate) fn new(root: url::Url) -> Self {
        Self {
            faults: Faults::default(),
            log: PublishLog::default(),
            drafts: PublishLog::default(),
            root,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            inner: Mutex::new(Inner {
                oauth: OAuthState::new(
                    super::oauth::RULES,
                    super::FAKE_CLIENT_KEY,
                    super::FAKE_CLIENT_SECRET,
                ),
                access_token_lifetime_secs: 86_400,
                posts: HashMap::new(),
                uploads: HashMap::new(),
                privacy_options: ALL_PRIVACY_LEVELS.iter().map(|s| s.to_string()).collect(),
                init_calls: 0,
                chunk_requests: 0,
                init_bodies: Vec::new(),
                processing_delay: std::time::Duration::ZERO,
                pull_delay: std::time::Duration::ZERO,
            }),
        }
    }

    /// The state, even after a panicking handler.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a post whose media is complete: in the published log, or in the drafts
    /// log for a draft (drafts are never published).
    pub(crate) fn record(&self, publish_id: &str, post: &PostState, media: Vec<ReceivedMedia>) {
        let log = if post.draft { &self.drafts } else { &self.log };
        log.push(crate::record::PublishedPost {
            id: publish_id.to_string(),
            account: post.account.name.clone(),
            caption: post.title.clone(),
            media,
            options: post.options.clone(),
        });
    }
}

/// A fresh `publish_id` shaped like TikTok's.
pub(crate) fn new_publish_id(kind: &str) -> String {
    format!(
        "v_pub_{kind}~v2-1.{:019}",
        rand::random::<u64>() % 10_000_000_000_000_000_000
    )
}
