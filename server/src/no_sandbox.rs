//! Built without the `sandbox` feature: no fake platforms in this binary. A config
//! asking for sandbox mode is refused at start-up with how to get it.

use fanout_core::{Account, Connection};
use fanout_instagram::InstagramConfig;
use fanout_linkedin::LinkedInConfig;
use fanout_tiktok::TikTokConfig;

/// No value of this type exists in a build without the sandbox.
#[derive(Debug)]
enum Never {}

/// The sandbox of a build without the `sandbox` feature: it cannot be started.
#[derive(Debug)]
pub struct Sandbox {
    never: Never,
}

impl Sandbox {
    /// Fails: this build has no fakes.
    pub async fn start() -> std::io::Result<Self> {
        Err(std::io::Error::other(
            "this fanout was built without the `sandbox` feature, so sandbox = true cannot \
             run; set sandbox = false with real platform settings, or build with \
             `--features sandbox`",
        ))
    }

    pub(crate) fn point(
        &self,
        _tiktok: &mut TikTokConfig,
        _instagram: &mut InstagramConfig,
        _linkedin: &mut LinkedInConfig,
    ) {
        match self.never {}
    }

    /// Never called: there is no sandbox.
    pub fn accept(&self, _platform: &str, _connection: &Connection) {
        match self.never {}
    }

    /// Never called: there is no sandbox.
    pub fn demo_account(&self) -> Account {
        match self.never {}
    }
}
