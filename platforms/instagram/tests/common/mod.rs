//! Shared set-up for the Instagram tests.
#![allow(dead_code)]

use fanout_instagram::{InstagramConfig, InstagramPublisher};
use fanout_testkit::fakes::instagram::FakeInstagram;

/// A publisher pointed at `fake`, with test-sized waits.
pub fn publisher(fake: &FakeInstagram) -> InstagramPublisher {
    InstagramPublisher::new(config(fake))
}

/// The test configuration for `fake`.
pub fn config(fake: &FakeInstagram) -> InstagramConfig {
    InstagramConfig {
        base_url: fake.base_url(),
        upload_base_url: fake.upload_base_url(),
        request_timeout_secs: 10,
        poll_interval_ms: 2,
        poll_budget_secs: 5,
        max_attempts: 4,
        initial_backoff_ms: 5,
        ..InstagramConfig::default()
    }
}
