//! The shared conformance suite against the strict fake.

mod common;

use std::sync::Arc;

use fanout_core::secrecy::SecretString;
use fanout_testkit::conformance;
use fanout_testkit::fakes::tiktok::{FakeTikTok, FAKE_CLIENT_KEY, FAKE_CLIENT_SECRET};
use fanout_tiktok::{TikTokConfig, TikTokPublisher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let fake = FakeTikTok::spawn().await.unwrap();
    // With the fake's client credentials, so the token checks run; twenty concurrent
    // uploads on one token need more than TikTok's 6 inits per minute.
    let publisher = TikTokPublisher::new(TikTokConfig {
        client_id: Some(FAKE_CLIENT_KEY.to_string()),
        client_secret: Some(SecretString::from(FAKE_CLIENT_SECRET.to_string())),
        oauth_base_url: fake.base_url(),
        init_calls_per_minute: 600,
        // A post held in processing outlasts the budget within the check's wait.
        poll_budget_secs: 1,
        ..common::config(&fake)
    });
    conformance::run_all(Arc::new(publisher), &fake).await;
}
