//! The shared conformance suite against the strict fake.

mod common;

use fanout_testkit::conformance;
use fanout_testkit::fakes::tiktok::FakeTikTok;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let fake = FakeTikTok::spawn().await.unwrap();
    let publisher = common::publisher(&fake);
    conformance::run_all(&publisher, &fake).await;
}
