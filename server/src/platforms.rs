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

/// TikTok, Instagram and LinkedIn publishers.
pub(crate) fn build(
    config: &Config,
    sandbox: Option<&Sandbox>,
) -> Result<Vec<Arc<dyn Publisher>>, ConfigError> {
    let mut tiktok: TikTokConfig = config.platform("tiktok")?;
    let mut instagram: InstagramConfig = config.platform("instagram")?;
    let mut linkedin: LinkedInConfig = config.platform("linkedin")?;
    if let Some(sandbox) = sandbox {
        sandbox.point(&mut tiktok, &mut instagram, &mut linkedin);
    }
    Ok(vec![
        Arc::new(TikTokPublisher::new(tiktok)),
        Arc::new(InstagramPublisher::new(instagram)),
        Arc::new(LinkedInPublisher::new(linkedin)),
    ])
}
