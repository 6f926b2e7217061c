//! Sandbox mode (cargo feature `sandbox`): the three fake platforms in-process, so a
//! newcomer sees real fan-out without any platform account.

use std::collections::BTreeMap;

use fanout_core::secrecy::SecretString;
use fanout_core::{Account, ApiKeyHash, Connection, Plan, Profile};
use fanout_instagram::InstagramConfig;
use fanout_linkedin::LinkedInConfig;
use fanout_testkit::fakes;
use fanout_testkit::fakes::instagram::FakeInstagram;
use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_tiktok::TikTokConfig;

use crate::{SANDBOX_ACCOUNT, SANDBOX_API_KEY, SANDBOX_PROFILE};

/// Status polls in sandbox mode: the fakes finish at once, so poll at least this often.
const SANDBOX_POLL_INTERVAL_MS: u64 = 100;
/// TikTok's real quota is 6 init calls a minute per token; the fake has none, so the
/// sandbox does not make a demo wait for it.
const SANDBOX_TIKTOK_INITS_PER_MINUTE: u32 = 600;
/// Likewise Instagram's 200 calls an hour per token.
const SANDBOX_INSTAGRAM_CALLS_PER_HOUR: u32 = 100_000;
/// Likewise LinkedIn's daily posts per member.
const SANDBOX_LINKEDIN_POSTS_PER_DAY: u32 = 100_000;

fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_string())
}

/// The running fakes. They stop when this is dropped.
pub struct Sandbox {
    /// The fake TikTok.
    pub tiktok: FakeTikTok,
    /// The fake Instagram.
    pub instagram: FakeInstagram,
    /// The fake LinkedIn.
    pub linkedin: FakeLinkedIn,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sandbox(tiktok, instagram, linkedin)")
    }
}

impl Sandbox {
    /// Starts the three fakes on ephemeral loopback ports.
    pub async fn start() -> std::io::Result<Self> {
        Ok(Self {
            tiktok: FakeTikTok::spawn().await?,
            instagram: FakeInstagram::spawn().await?,
            linkedin: FakeLinkedIn::spawn().await?,
        })
    }

    /// Points the three platforms' configs at these fakes: API and OAuth hosts, the
    /// app credentials the fakes accept (so `/api/connect` and refresh work), fast
    /// status polls, and no self-imposed quotas the fakes do not model.
    pub(crate) fn point(
        &self,
        tiktok: &mut TikTokConfig,
        instagram: &mut InstagramConfig,
        linkedin: &mut LinkedInConfig,
    ) {
        tiktok.oauth_base_url = self.tiktok.base_url();
        tiktok.client_id = Some(fakes::tiktok::FAKE_CLIENT_KEY.into());
        tiktok.client_secret = Some(secret(fakes::tiktok::FAKE_CLIENT_SECRET));
        instagram.oauth_base_url = self.instagram.oauth_base_url();
        instagram.client_id = Some(fakes::instagram::FAKE_CLIENT_ID.into());
        instagram.client_secret = Some(secret(fakes::instagram::FAKE_CLIENT_SECRET));
        linkedin.oauth_base_url = self.linkedin.base_url();
        linkedin.client_id = Some(fakes::linkedin::DEFAULT_CLIENT_ID.into());
        linkedin.client_secret = Some(secret(fakes::linkedin::DEFAULT_CLIENT_SECRET));
        tiktok.base_url = self.tiktok.base_url();
        tiktok.poll_interval_ms = tiktok.poll_interval_ms.min(SANDBOX_POLL_INTERVAL_MS);
        tiktok.init_calls_per_minute = SANDBOX_TIKTOK_INITS_PER_MINUTE;
        instagram.base_url = self.instagram.base_url();
        instagram.upload_base_url = self.instagram.upload_base_url();
        instagram.poll_interval_ms = instagram.poll_interval_ms.min(SANDBOX_POLL_INTERVAL_MS);
        instagram.calls_per_hour = SANDBOX_INSTAGRAM_CALLS_PER_HOUR;
        linkedin.base_url = self.linkedin.base_url();
        linkedin.poll_interval_ms = linkedin.poll_interval_ms.min(SANDBOX_POLL_INTERVAL_MS);
        linkedin.daily_post_limit = SANDBOX_LINKEDIN_POSTS_PER_DAY;
    }

    /// Makes the fake of `platform` accept this connection's access token.
    pub fn accept(&self, platform: &str, connection: &Connection) {
        let token = connection.access_token();
        let name = connection.account_name.as_str();
        match platform {
            "tiktok" => self.tiktok.accept_token(token, name),
            "instagram" => self.instagram.accept_token(token, name),
            "linkedin" => self.linkedin.accept_token(token, name),
            other => tracing::warn!(platform = other, "no sandbox fake for this platform"),
        }
    }

    /// The demo account: API key [`SANDBOX_API_KEY`], profile [`SANDBOX_PROFILE`]
    /// connected to all three platforms, 1000 uploads a month.
    pub fn demo_account(&self) -> Account {
        let mut connections = BTreeMap::new();
        for (platform, account_name) in [
            ("tiktok", "sandbox_tiktok"),
            ("instagram", "sandbox_instagram"),
            ("linkedin", "Sandbox Inc"),
        ] {
            connections.insert(
                platform.to_string(),
                Connection::new(account_name, format!("sandbox-{platform}-token")),
            );
        }
        let mut profiles = BTreeMap::new();
        profiles.insert(
            SANDBOX_PROFILE.to_string(),
            Profile {
                username: SANDBOX_PROFILE.to_string(),
                connections,
            },
        );
        Account {
            name: SANDBOX_ACCOUNT.to_string(),
            api_key_hash: Some(ApiKeyHash::of(SANDBOX_API_KEY)),
            api_key_expires_at: None,
            plan: Plan {
                monthly_uploads: 1000,
                daily_uploads_per_account: None,
            },
            profiles,
        }
    }
}
