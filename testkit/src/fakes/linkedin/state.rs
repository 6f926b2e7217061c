//! What the fake LinkedIn knows: tokens, members, organizations, videos, images.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use url::Url;

use crate::fakes::oauth::OAuthState;
use crate::faults::Faults;
use crate::record::{MediaHasher, PublishLog, ReceivedMedia};

/// Size of every video part but the last, as LinkedIn instructs.
pub(crate) const PART_BYTES: u64 = 4_194_304;
/// Smallest video LinkedIn takes (75 KB).
pub(crate) const MIN_VIDEO_BYTES: u64 = 75 * 1024;
/// Largest video LinkedIn takes (5 GB, for the accounts allowed the most).
pub(crate) const MAX_VIDEO_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// Largest image the fake accepts.
pub(crate) const MAX_IMAGE_BYTES: u64 = 36 * 1024 * 1024;
/// The daily per-member post limit, unless a test sets another.
pub const DEFAULT_DAILY_POSTS: u32 = 150;
/// The `client_id` the fake's OAuth endpoints accept unless a test sets another.
pub const DEFAULT_CLIENT_ID: &str = "fake-linkedin-client-id";
/// The `client_secret` the fake's token endpoint accepts unless a test sets another.
pub const DEFAULT_CLIENT_SECRET: &str = "fake-linkedin-client-secret";

/// The member a token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The account name (recorded as `PublishedPost.account`).
    pub(crate) name: String,
    /// The member's person id (`urn:li:person:<id>`).
    pub(crate) person_id: String,
}

impl Member {
    /// The member `account_name`, its person id derived from the name.
    pub(crate) fn named(account_name: &str) -> Self {
        Self {
            name: account_name.to_string(),
            person_id: person_id(account_name),
        }
    }

    /// `urn:li:person:<id>`.
    pub(crate) fn urn(&self) -> String {
        format!("urn:li:person:{}", self.person_id)
    }
}

/// One video part's instructions and, once received, its record.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// First byte offset, inclusive.
    pub(crate) first: u64,
    /// Last byte offset, inclusive.
    pub(crate) last: u64,
    /// The ETag answered for it, once received.
    pub(crate) etag: Option<String>,
    /// SHA-256 of the part, once received (to accept an identical repeat).
    pub(crate) sha256: Option<String>,
}

impl Part {
    /// Bytes in the part.
    pub(crate) fn len(&self) -> u64 {
        self.last - self.first + 1
    }
}

/// Where a video is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VideoStatus {
    /// Parts may arrive.
    WaitingUpload,
    /// Finalized; reads `PROCESSING` this many more times.
    Processing(u32),
    /// Ready to be posted.
    Available,
    /// Processing failed (not an MP4, or a test asked for it).
    ProcessingFailed,
}

impl VideoStatus {
    /// LinkedIn's name for the status.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            VideoStatus::WaitingUpload => "WAITING_UPLOAD",
            VideoStatus::Processing(_) => "PROCESSING",
            VideoStatus::Available => "AVAILABLE",
            VideoStatus::ProcessingFailed => "PROCESSING_FAILED",
        }
    }
}

/// One video.
#[derive(Debug)]
pub(crate) struct Video {
    /// The owner urn given at initialization.
    pub(crate) owner: String,
    /// The upload token to quote at finalization.
    pub(crate) upload_token: String,
    /// The signature of its upload URLs.
    pub(crate) signature: String,
    /// Parts in order.
    pub(crate) parts: Vec<Part>,
    /// The index of the next part expected.
    pub(crate) next_part: usize,
    /// The hash of every committed part, in order.
    pub(crate) hasher: MediaHasher,
    /// The first bytes of the video, to recognise an MP4.
    pub(crate) head: Vec<u8>,
    /// The status.
    pub(crate) status: VideoStatus,
    /// Processing will end in `PROCESSING_FAILED`.
    pub(crate) will_fail: bool,
    /// What was received, once finalized.
    pub(crate) received: Option<ReceivedMedia>,
    /// Reads `PROCESSING` at least until then (see `set_processing_time`).
    pub(crate) processing_until: Option<Instant>,
}

/// A comment the fake took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    /// The comment's urn (`urn:li:comment:(<post urn>,<n>)`), as answered.
    pub id: String,
    /// The post commented on, from the request path.
    pub post_id: String,
    /// The `actor` of the request.
    pub actor: String,
    /// `message.text` as received (escaped little text).
    pub text: String,
}

/// One image.
#[derive(Debug)]
pub(crate) struct Image {
    /// The owner urn given at initialization.
    pub(crate) owner: String,
    /// The signature of its upload URL.
    pub(crate) signature: String,
    /// What was received, once uploaded.
    pub(crate) received: Option<ReceivedMedia>,
}

/// A refresh token the fake issued.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    /// Whose it is.
    pub(crate) member: Member,
    /// The scopes granted at consent (space-separated).
    pub(crate) scope: String,
    /// When it stops working: a year after the original consent (a refresh does not
    /// extend it).
    pub(crate) expires_at: chrono::DateTime<chrono::Utc>,
}

/// What an authorization code carries besides its `redirect_uri` and lifetime.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    /// The member it connects.
    pub(crate) member: Member,
    /// The scopes granted (space-separated).
    pub(crate) scope: String,
}

/// Everything mutable.
#[derive(Debug)]
pub(crate) struct Inner {
    /// Known tokens, refresh tokens (kept on refresh unless a test turns rotation
    /// on), codes, the app's `client_id` / `client_secret`, and the refresh requests
    /// that reached the token endpoint.
    pub(crate) oauth: OAuthState<Member, RefreshGrant, AuthCode>,
    /// Members connected through the authorization page so far.
    pub(crate) authorized_members: u64,
    /// Organizations each account (by name) administers.
    pub(crate) organizations: HashMap<String, Vec<String>>,
    /// Videos by urn.
    pub(crate) videos: HashMap<String, Video>,
    /// Images by urn.
    pub(crate) images: HashMap<String, Image>,
    /// Posts per member today.
    pub(crate) posts_today: HashMap<String, u32>,
    /// The daily per-member post limit.
    pub(crate) daily_post_limit: u32,
    /// Reads of `PROCESSING` before a finalized video is available.
    pub(crate) processing_reads: u32,
    /// The next finalized video fails processing.
    pub(crate) fail_next_processing: bool,
    /// How long a finalized video reads `PROCESSING` at least.
    pub(crate) processing_time: Option<Duration>,
    /// Authors of the posts created, by post urn.
    pub(crate) posts: HashMap<String, String>,
    /// Comments taken, in order.
    pub(crate) comments: Vec<FakeComment>,
    /// Whether the author finder lists a member's own posts (`r_member_social`).
    pub(crate) member_post_reads: bool,
    /// Counter behind every generated id.
    pub(crate) next_id: u64,
}

impl Inner {
    /// A fresh number.
    pub(crate) fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The organizations `member` administers (one per account by default).
    pub(crate) fn organizations_of(&mut self, account_name: &str) -> &mut Vec<String> {
        self.organizations
            .entry(account_name.to_string())
            .or_insert_with(|| vec![default_organization_id(account_name)])
    }

    /// Whether `member` may act as `urn` (itself, or an organization it administers).
    pub(crate) fn may_act_as(&mut self, member: &Member, urn: &str) -> bool {
        if urn == member.urn() {
            return true;
        }
        match urn.strip_prefix("urn:li:organization:") {
            Some(id) => self.organizations_of(&member.name).iter().any(|o| o == id),
            None => false,
        }
    }
}

/// State shared by the handlers.
#[derive(Debug)]
pub(crate) struct Shared {
    /// `http://127.0.0.1:<port>/`.
    pub(crate) root: Url,
    /// Armed faults.
    pub(crate) faults: Faults,
    /// Published posts.
    pub(crate) log: PublishLog,
    inner: Mutex<Inner>,
}

impl Shared {
    /// Empty state for a server at `root`.
    pub(crate) fn new(root: Url) -> Self {
        Self {
            root,
            faults: Faults::default(),
            log: PublishLog::default(),
            inner: Mutex::new(Inner {
                oauth: OAuthState::new(
                    super::oauth::RULES,
                    DEFAULT_CLIENT_ID,
                    DEFAULT_CLIENT_SECRET,
                ),
                authorized_members: 0,
                organizations: HashMap::new(),
                videos: HashMap::new(),
                images: HashMap::new(),
                posts_today: HashMap::new(),
                daily_post_limit: DEFAULT_DAILY_POSTS,
                processing_reads: 1,
                fail_next_processing: false,
                processing_time: None,
                posts: HashMap::new(),
                comments: Vec::new(),
                member_post_reads: false,
                next_id: 0,
            }),
        }
    }

    /// Locks the state (a poisoned lock is still usable: the fake keeps serving).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The person id of an account: derived from its name, so every fake agrees.
pub(crate) fn person_id(account_name: &str) -> String {
    let digest = Sha256::digest(account_name.as_bytes());
    format!("p{}", &hex::encode(digest)[..11])
}

/// The organization an account administers unless a test says otherwise.
pub(crate) fn default_organization_id(account_name: &str) -> String {
    let digest = Sha256::digest(format!("org:{account_name}").as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    (10_000_000 + u64::from(n) % 90_000_000).to_string()
}

/// A random signature for upload URLs.
pub(crate) fn signature() -> String {
    format!("{:032x}", rand::random::<u128>())
}
