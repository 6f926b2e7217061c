//! The shared conformance suite against the strict fake.

mod common;

use std::sync::Arc;

use fanout_core::secrecy::SecretString;
use fanout_testkit::fakes::linkedin::{FakeLinkedIn, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

#[tokio::test]
async fn passes_the_conformance_suite() {
    let fake = FakeLinkedIn::spawn().await.expect("the fake starts");
    // With the fake's client credentials, so the token checks run.
    let mut config = common::fast_config(&fake);
    config.oauth_base_url = fake.base_url();
    // A post held in processing outlasts the budget within the check's wait.
    config.poll_budget_secs = 1;
    config.client_id = Some(DEFAULT_CLIENT_ID.to_string());
    config.client_secret = Some(SecretString::from(DEFAULT_CLIENT_SECRET.to_string()));
    let publisher = fanout_linkedin::LinkedInPublisher::new(config);
    fanout_testkit::conformance::run_all(Arc::new(publisher), &fake).await;
}
