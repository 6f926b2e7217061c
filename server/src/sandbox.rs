//! Sandbox mode: the three fake platforms in-process, so a newcomer sees real fan-out
//! without any platform account.

use std::collections::BTreeMap;

use fanout_core::{Account, ApiKeyHash, Connection, Plan, Profile};
use fanout_testkit::fakes::instagram::FakeInstagram;
use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::fakes::tiktok::FakeTikTok;

/// The demo account seeded when sandbox mode has no accounts configured.
pub const SANDBOX_ACCOUNT: &str = "sandbox";
/// The demo account's API key.
pub const SANDBOX_API_KEY: &str = "sandbox-key";
/// The demo account's profile (the form's `user`).
pub const SANDBOX_PROFILE: &str = "main";

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
