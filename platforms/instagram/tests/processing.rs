//! Processing past the poll budget: the answer is `PROCESSING` with the container id,
//! and a detached task publishes once Instagram is done — exactly once.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{env, field, post, publish_with};
use fanout_core::PostMedia;
use fanout_instagram::{InstagramConfig, InstagramPublisher};
use fanout_testkit::media::{spooled_jpeg, spooled_mp4};
use fanout_testkit::FakePlatform;

fn patient_in_background(env: &common::Env) -> InstagramPublisher {
    InstagramPublisher::new(InstagramConfig {
        poll_budget_secs: 0,
        poll_interval_ms: 2,
        background_budget_secs: 20,
        ..common::config(&env.fake)
    })
}

async fn until_published(env: &common::Env) {
    let started = Instant::now();
    while env.fake.published().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the background task never published"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_reel_still_processing_answers_processing_then_publishes_once_in_the_background() {
    let env = env().await;
    env.fake.set_processing_reads(6);
    let file = spooled_mp4(env.dir.path(), 150_000).await;
    let post = post(
        "Slow reel",
        PostMedia::Video(Arc::clone(&file)),
        &[("first_comment", "later")],
    );
    let publisher = patient_in_background(&env);
    let receipt = publish_with(&env, &publisher, &post, "slow").await.unwrap();
    assert_eq!(field(&receipt, "status"), Some("PROCESSING"));
    let container = field(&receipt, "container_id").expect("the container id");
    assert!(container.starts_with("1790"));
    assert!(receipt.get("media_id").is_none());
    assert_eq!(receipt.fields().len(), 2);
    assert!(env.fake.published().is_empty(), "not yet published");

    until_published(&env).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let published = env.fake.published();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0].account, "slow");
    assert_eq!(published[0].caption, "Slow reel");
    assert_eq!(published[0].media[0].size, file.len());
    assert_eq!(published[0].media[0].sha256, file.sha256_hex());
    // The first comment follows the background publish.
    let started = Instant::now();
    while env.fake.comments().is_empty() && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        env.fake.comments(),
        vec![(published[0].id.clone(), "later".to_string())]
    );
}

#[tokio::test]
async fn a_photo_still_processing_is_published_in_the_background() {
    let env = env().await;
    env.fake.set_processing_reads(4);
    let photo = spooled_jpeg(env.dir.path(), 12_000, 7).await;
    let post = post(
        "Slow photo",
        PostMedia::Photos(vec![Arc::clone(&photo)]),
        &[],
    );
    let publisher = patient_in_background(&env);
    let receipt = publish_with(&env, &publisher, &post, "slow-photo")
        .await
        .unwrap();
    assert_eq!(field(&receipt, "status"), Some("PROCESSING"));
    until_published(&env).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].media[0].sha256, photo.sha256_hex());
}

#[tokio::test]
async fn within_the_budget_the_answer_is_the_published_post() {
    let env = env().await;
    env.fake.set_processing_reads(3);
    let file = spooled_mp4(env.dir.path(), 20_000).await;
    let post = post("quick", PostMedia::Video(file), &[]);
    let receipt = common::publish(&env, &post, "quick").await.unwrap();
    assert!(receipt.get("status").is_none());
    assert_eq!(
        field(&receipt, "media_id"),
        Some(env.fake.published()[0].id.as_str())
    );
}

#[tokio::test]
async fn carousel_items_still_processing_lead_to_one_carousel_in_the_background() {
    let env = env().await;
    env.fake.set_processing_reads(5);
    let a = spooled_jpeg(env.dir.path(), 9_000, 1).await;
    let b = spooled_jpeg(env.dir.path(), 9_500, 2).await;
    let c = spooled_jpeg(env.dir.path(), 10_000, 3).await;
    let post = post(
        "Slow carousel",
        PostMedia::Photos(vec![Arc::clone(&a), Arc::clone(&b), Arc::clone(&c)]),
        &[("collaborators", "friend")],
    );
    let publisher = patient_in_background(&env);
    let receipt = publish_with(&env, &publisher, &post, "slow-carousel")
        .await
        .unwrap();
    assert_eq!(field(&receipt, "status"), Some("PROCESSING"));
    let children = receipt.get("children_ids").and_then(|v| v.as_array());
    assert_eq!(children.map(Vec::len), Some(3), "{receipt:?}");
    assert_eq!(
        env.fake.containers_created(),
        3,
        "no carousel container yet"
    );
    until_published(&env).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(env.fake.containers_created(), 4, "one carousel container");
    assert_eq!(published[0].caption, "Slow carousel");
    assert_eq!(
        published[0].options["collaborators"],
        serde_json::json!("[\"friend\"]")
    );
    let hashes: Vec<&str> = published[0]
        .media
        .iter()
        .map(|m| m.sha256.as_str())
        .collect();
    assert_eq!(hashes, vec![a.sha256_hex(), b.sha256_hex(), c.sha256_hex()]);
}
