//! Adding a platform, shown end to end: `postbox` is a made-up platform with a
//! two-step API. [`publisher`] is the plugin — written only against `fanout_core`'s
//! public API and the `fanout_kit` toolkit — and [`fake`] its strict fake, which the
//! conformance suite of `fanout-testkit` runs it against (`cargo test -p
//! fanout-examples --example custom_platform`).
//!
//! `cargo run --example custom_platform` publishes one photo through a full engine
//! to the fake and prints the envelope's result.

mod fake;
mod publisher;

use std::error::Error;
use std::sync::Arc;

use fanout_core::{
    Account, AccountDirectory, Engine, MediaFile, MediaKind, MemoryDirectory, MemoryUsage, Plan,
    Profile, Submission,
};
use fanout_testkit::FakePlatform;

use crate::fake::FakePostbox;
use crate::publisher::{PostboxConfig, PostboxPublisher};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let postbox = FakePostbox::spawn().await?;
    let mut config = PostboxConfig::default();
    config.base_url = postbox.base_url();

    let directory = Arc::new(MemoryDirectory::new());
    let mut profile = Profile {
        username: "main".into(),
        connections: Default::default(),
    };
    profile
        .connections
        .insert("postbox".into(), postbox.connection("acme-postbox"));
    directory
        .upsert(Account {
            name: "acme".into(),
            api_key_hash: None,
            api_key_expires_at: None,
            plan: Plan {
                monthly_uploads: 10,
                daily_uploads_per_account: None,
            },
            profiles: [("main".to_string(), profile)].into(),
        })
        .await?;
    let engine = Engine::builder(directory, Arc::new(MemoryUsage::new()))
        .public_base_url("http://127.0.0.1:8080/".parse()?)
        .publisher(Arc::new(PostboxPublisher::new(config)))
        .build()?;

    let dir = tempfile::tempdir()?;
    let photo =
        MediaFile::from_bytes(dir.path(), fanout_testkit::media::jpeg_bytes(2048, 1), None).await?;
    let mut submission = Submission::new("acme", "main", MediaKind::Photo, vec![Arc::new(photo)]);
    submission.fields = fanout_core::FormFields::from_pairs([("title", "Hello, Postbox")]);
    submission.platforms = vec!["postbox".into()];
    let job = engine.submit(submission).await?.job;
    let done = engine
        .wait(&job.job_id, std::time::Duration::from_secs(30))
        .await?;
    for run in &done.platforms {
        println!("{}: {:?} {:?}", run.platform, run.state, run.result);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher(fake: &FakePostbox) -> Arc<PostboxPublisher> {
        let mut config = PostboxConfig::default();
        config.base_url = fake.base_url();
        config.initial_backoff_ms = 5; // the conformance faults retry quickly
        config.request_timeout_secs = 10;
        Arc::new(PostboxPublisher::new(config))
    }

    /// The whole conformance suite every publisher must pass.
    #[tokio::test]
    async fn postbox_passes_the_conformance_suite() {
        let fake = FakePostbox::spawn().await.unwrap();
        fanout_testkit::conformance::run_all(publisher(&fake), &fake).await;
    }

    /// The fake is strict: a caption over the limit is refused by the platform (the
    /// engine refuses it earlier from the capabilities; the fake checks anyway).
    #[tokio::test]
    async fn the_fake_refuses_what_postbox_refuses() {
        let fake = FakePostbox::spawn().await.unwrap();
        let http = reqwest::Client::new();
        let url = fake.base_url().join("v1/posts").unwrap();
        let answer = http
            .post(url.clone())
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401);
        let token = fake.connection("a");
        let token =
            fanout_core::secrecy::ExposeSecret::expose_secret(&token.access_token).to_string();
        let answer = http
            .post(url)
            .bearer_auth(&token)
            .json(&serde_json::json!({"caption": "x".repeat(281), "media_ids": ["m1"], "visibility": "public"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "The caption is longer than 280 characters."
        );
        assert!(fake.published().is_empty());
    }
}
