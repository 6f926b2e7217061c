//! Shared set-up for the TikTok tests.
#![allow(dead_code)]

use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_tiktok::{TikTokConfig, TikTokPublisher};

/// A publisher pointed at `fake`, with test-sized waits.
pub fn publisher(fake: &FakeTikTok) -> TikTokPublisher {
    TikTokPublisher::new(config(fake))
}

/// The test configuration for `fake`.
pub fn config(fake: &FakeTikTok) -> TikTokConfig {
    let mut config = TikTokConfig::default();
    config.base_url = fake.base_url();
    config.request_timeout_secs = 10;
    config.poll_interval_ms = 2;
    config.poll_budget_secs = 5;
    config.max_attempts = 4;
    config.initial_backoff_ms = 5;
    config
}
