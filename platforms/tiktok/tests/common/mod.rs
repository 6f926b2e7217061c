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
    TikTokConfig {
        base_url: fake.base_url(),
        request_timeout_secs: 10,
        poll_interval_ms: 2,
        poll_budget_secs: 5,
        max_attempts: 4,
        initial_backoff_ms: 5,
        ..TikTokConfig::default()
    }
}
