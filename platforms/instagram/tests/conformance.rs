//! The shared conformance suite against the strict fake.

mod common;

use fanout_testkit::conformance;
use fanout_testkit::fakes::instagram::FakeInstagram;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let fake = FakeInstagram::spawn().await.unwrap();
    let publisher = common::publisher(&fake);
    conformance::run_all(&publisher, &fake).await;
}
