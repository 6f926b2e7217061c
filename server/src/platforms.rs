//! Building the publishers from `[platforms.<name>]`, pointed at the fakes in sandbox
//! mode.

use std::sync::Arc;

use crate::config::ConfigError;
use fanout_core::Publisher;

use crate::config::Config;
use fanout_instagram::{InstagramConfig, InstagramPublisher};
use fanout_linkedin::{LinkedInConfig, LinkedInPublisher};
use fanout_tiktok::{TikTokConfig, TikTokPublisher};

use crate::sandbox::Sandbox;
use fanout_core::secrecy::SecretString;
use fanout_testkit::fakes;

fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_string())
}

/// Status polls in sandbox mode: the fakes finish at once, so poll at least this often.
const SANDBOX_POLL_INTERVAL_MS: u64 = 100;
/// TikTok's real quota is 6 init calls a minute per token; the fake has none, so the
/// sandbox does not make a demo wait for it.
const SANDBOX_TIKTOK_INITS_PER_MINUTE: u32 = 600;
/// Likewise Instagram's 200 calls an hour per token.
const SANDBOX_INSTAGRAM_CALLS_PER_HOUR: u32 = 100_000;
/// Likewise LinkedIn's daily posts per member.
const SANDBOX_LINKEDIN_POSTS_PER_DAY: u32 = 100_000;

/// TikTok, Instagram and LinkedIn publishers.
pub(crate) fn build(
    config: &Config,
    sandbox: Option<&Sandbox>,
) -> Result<Vec<Arc<dyn Publisher>>, ConfigError> {
    let mut tiktok: TikTokConfig = config.platform("tiktok")?;
    let mut instagram: InstagramConfig = config.platform("instagram")?;
    let mut linkedin: LinkedInConfig = config.platform("linkedin")?;
    if let Some(sandbox) = sandbox {
        // OAuth goes to the fakes too, with the app credentials they accept, so
        // /api/connect/<platform> and token refresh work in the sandbox.
        tiktok.oauth_base_url = sandbox.tiktok.base_url();
        tiktok.client_id = Some(fakes::tiktok::FAKE_CLIENT_KEY.into());
        tiktok.client_secret = Some(secret(fakes::tiktok::FAKE_CLIENT_SECRET));
        instagram.oauth_base_url = sandbox.instagram.oauth_base_url();
        instagram.client_id = Some(fakes::instagram::FAKE_CLIENT_ID.into());
        instagram.client_secret = Some(secret(fakes::instagram::FAKE_CLIENT_SECRET));
        linkedin.oauth_base_url = sandbox.linkedin.base_url();
        linkedin.client_id = Some(fakes::linkedin::DEFAULT_CLIENT_ID.into());
        linkedin.client_secret = Some(secret(fakes::linkedin::DEFAULT_CLIENT_SECRET));
        tiktok.base_url = sandbox.tiktok.base_url();
        tiktok.poll_interval_ms = tiktok.poll_interval_ms.min(SANDBOX_POLL_INTERVAL_MS);
        tiktok.init_calls_per_minute = SANDBOX_TIKTOK_INITS_PER_MINUTE;
        instagram.base_url = sandbox.instagram.base_url();
        instagram.upload_base_url = sandbox.instagram.upload_base_url();
        instagram.poll_interval_ms = instagram.poll_interval_ms.min(SANDBOX_POLL_INTERVAL_MS);
        instagram.calls_per_hour = SANDBOX_INSTAGRAM_CALLS_PER_HOUR;
        linkedin.base_url = sandbox.linkedin.base_url();
        linkedin.poll_interval_ms = linkedin.poll_interval_ms.min(SANDBOX_POLL_INTERVAL_MS);
        linkedin.daily_post_limit = SANDBOX_LINKEDIN_POSTS_PER_DAY;
    }
    Ok(vec![
        Arc::new(TikTokPublisher::new(tiktok)),
        Arc::new(InstagramPublisher::new(instagram)),
        Arc::new(LinkedInPublisher::new(linkedin)),
    ])
}
