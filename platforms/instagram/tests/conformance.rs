//! The shared conformance suite against the strict fake.

mod common;

use std::sync::Arc;

use fanout_core::secrecy::SecretString;
use fanout_instagram::{InstagramConfig, InstagramPublisher};
use fanout_testkit::conformance;
use fanout_testkit::fakes::instagram::{FakeInstagram, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let fake = FakeInstagram::spawn().await.unwrap();
    // With the fake's app credentials, so the token checks run.
    let publisher = InstagramPublisher::new(InstagramConfig {
        client_id: Some(FAKE_CLIENT_ID.to_string()),
        client_secret: Some(SecretString::from(FAKE_CLIENT_SECRET.to_string())),
        oauth_base_url: fake.oauth_base_url(),
        ..common::config(&fake)
    });
    conformance::run_all(Arc::new(publisher), &fake).await;
}
