//! The shared conformance suite against the strict fake.

mod common;

use std::sync::Arc;

use fanout_core::secrecy::SecretString;
use fanout_instagram::InstagramPublisher;
use fanout_testkit::conformance;
use fanout_testkit::fakes::instagram::{FakeInstagram, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let fake = FakeInstagram::spawn().await.unwrap();
    // With the fake's app credentials, so the token checks run.
    let publisher = InstagramPublisher::new({
        let mut config = common::config(&fake);
        config.client_id = Some(FAKE_CLIENT_ID.to_string());
        config.client_secret = Some(SecretString::from(FAKE_CLIENT_SECRET.to_string()));
        config.oauth_base_url = fake.oauth_base_url();
        // A post held in processing outlasts the budget within the check's wait.
        config.poll_budget_secs = 1;
        // Instagram counts processing in status reads: poll often so a held post
        // finishes within the check's wait; those reads count against the throttle.
        config.poll_interval_ms = 1;
        config.calls_per_hour = 1_000_000;
        config
    });
    conformance::run_all(Arc::new(publisher), &fake).await;
}
