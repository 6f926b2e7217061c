//! What the fake Instagram knows: tokens, accounts, containers, quotas.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{Map, Value};

use crate::fakes::oauth::OAuthState;
use crate::faults::Faults;
use crate::record::{MediaHasher, PublishLog, ReceivedMedia};

/// The account a token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// The fake's account name (recorded as `PublishedPost.account`).
    pub(crate) name: String,
    /// The IG user id.
    pub(crate) user_id: String,
}

/// What a container holds.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A reel or story, waiting for its resumable upload.
    Video,
    /// A photo; `carousel_item` when it can only be a carousel child.
    Image {
        /// Created with `is_carousel_item=true`.
        carousel_item: bool,
    },
    /// A carousel of these children, in order.
    Carousel(Vec<String>),
}

/// Where a container is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// A video container waiting for its bytes.
    AwaitingUpload,
    /// Media complete; the next status read says `IN_PROGRESS` and finishes it.
    Processing,
    /// Ready to publish.
    Finished,
    /// Processing failed with this status text.
    Error(String),
    /// Published as this media id.
    Published(String),
}

/// A resumable upload's progress.
#[derive(Debug, Default)]
pub(crate) struct Upload {
    /// The size the first upload request declared.
    pub(crate) file_size: Option<u64>,
    /// The hash so far; `None` while a request is streaming into it.
    pub(crate) hasher: Option<MediaHasher>,
    /// The first bytes, to recognise the format.
    pub(crate) head: Vec<u8>,
}

/// One media container.
#[derive(Debug)]
pub(crate) struct Container {
    /// The owner.
    pub(crate) account: Account,
    /// What it holds.
    pub(crate) kind: Kind,
    /// The caption.
    pub(crate) caption: String,
    /// The creation parameters (without token, caption and URLs).
    pub(crate) options: Map<String, Value>,
    /// Life cycle.
    pub(crate) phase: Phase,
    /// The received medium (videos and images).
    pub(crate) media: Option<ReceivedMedia>,
    /// The resumable upload (videos).
    pub(crate) upload: Upload,
    /// Whether a carousel already uses this item.
    pub(crate) used_in_carousel: bool,
    /// Status reads still answering `IN_PROGRESS` once the media is complete.
    pub(crate) in_progress_reads: u32,
}

/// Mutable state behind one lock (never held across an await).
#[derive(Debug)]
pub(crate) struct Inner {
    /// Page tokens (what publishes) → account; Facebook user tokens (the refresh
    /// grants: what `fb_exchange_token` and `me/accounts` take) → account name; the
    /// dialog's codes; the app id and secret; expired and revoked tokens; the
    /// `fb_exchange_token` calls received.
    pub(crate) oauth: OAuthState<Account, String>,
    /// Account name → IG user id.
    pub(crate) users: HashMap<String, String>,
    /// Containers by id.
    pub(crate) containers: HashMap<String, Container>,
    /// Posts published per IG user id.
    pub(crate) published_count: HashMap<String, u64>,
    /// Daily publishing cap per account.
    pub(crate) quota_total: u64,
    /// Cut the next upload request after this many bytes (answering 503, retriable).
    pub(crate) interrupt_upload_after: Option<u64>,
    /// Upload requests received.
    pub(crate) upload_requests: u64,
    /// Status reads that answer `IN_PROGRESS` once a container's media is complete.
    pub(crate) processing_reads: u32,
    /// Comments posted, as (media id, message), in order.
    pub(crate) comments: Vec<(String, String)>,
    /// Accounts connected through the login dialog so far.
    pub(crate) dialog_accounts: u64,
}

/// Shared by every handler.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The armed faults.
    pub(crate) faults: Faults,
    /// Published posts.
    pub(crate) log: PublishLog,
    /// `http://127.0.0.1:<port>/`.
    pub(crate) root: url::Url,
    /// Pulls image URLs.
    pub(crate) http: reqwest::Client,
    inner: Mutex<Inner>,
}

/// The daily cap unless set otherwise (the documented 100 posts per 24 h).
pub(crate) const DEFAULT_QUOTA_TOTAL: u64 = 100;

impl Shared {
    pub(crate) fn new(root: url::Url) -> Self {
        Self {
            faults: Faults::default(),
            log: PublishLog::default(),
            root,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            inner: Mutex::new(Inner {
                oauth: OAuthState::new(
                    super::oauth::RULES,
                    super::FAKE_CLIENT_ID,
                    super::FAKE_CLIENT_SECRET,
                ),
                users: HashMap::new(),
                containers: HashMap::new(),
                published_count: HashMap::new(),
                quota_total: DEFAULT_QUOTA_TOTAL,
                interrupt_upload_after: None,
                upload_requests: 0,
                processing_reads: 1,
                comments: Vec::new(),
                dialog_accounts: 0,
            }),
        }
    }

    /// The state, even after a panicking handler.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    /// The IG user id of `account_name`, created on first use.
    pub(crate) fn user_id(&mut self, account_name: &str) -> String {
        self.users
            .entry(account_name.to_string())
            .or_insert_with(|| new_id("17841"))
            .clone()
    }
}

/// A fresh numeric id with `prefix`, like Graph's.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}{:012}", rand::random::<u64>() % 1_000_000_000_000)
}
