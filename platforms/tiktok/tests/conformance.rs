//! The shared conformance suite against the strict fake.

mod common;

use std::sync::Arc;

use fanout_core::secrecy::SecretString;
use fanout_testkit::conformance;
use fanout_testkit::fakes::tiktok::{FakeTikTok, FAKE_CLIENT_KEY, FAKE_CLIENT_SECRET};
use fanout_tiktok::TikTokPublisher;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let fake = FakeTikTok::spawn().await.unwrap();
    // With the fake's client credentials, so the token checks run; twenty concurrent
    // uploads on one token need more than TikTok's 6 inits per minute.
    let publisher = TikTokPublisher::new({
        let mut config = common::config(&fake);
        config.client_id = Some(FAKE_CLIENT_KEY.to_string());
        config.client_secret = Some(SecretString::from(FAKE_CLIENT_SECRET.to_string()));
        config.oauth_base_url = fake.base_url();
        config.init_calls_per_minute = 600;
        // A post held in processing outlasts the budget within the check's wait.
        config.poll_budget_secs = 1;
        config
    });
    conformance::run_all(Arc::new(publisher), &fake).await;
}
