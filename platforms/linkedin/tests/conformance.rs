//! The shared conformance suite against the strict fake.

mod common;

#[tokio::test]
async fn passes_the_conformance_suite() {
    let fake = fanout_testkit::fakes::linkedin::FakeLinkedIn::spawn()
        .await
        .expect("the fake starts");
    let publisher = fanout_linkedin::LinkedInPublisher::new(common::fast_config(&fake));
    fanout_testkit::conformance::run_all(&publisher, &fake).await;
}
