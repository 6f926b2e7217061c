//! Shared test setup: a fake LinkedIn and a publisher pointed at it, with fast polls
//! and retries.
#![allow(dead_code)]

use std::sync::Arc;

use fanout_core::{
    Connection, FormFields, MediaHost, Post, PostMedia, PublishContext, PublishError, Publisher,
    Receipt,
};
use fanout_linkedin::{LinkedInConfig, LinkedInPublisher};
use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::MediaServer;

pub struct Setup {
    pub fake: FakeLinkedIn,
    pub publisher: LinkedInPublisher,
    pub media: MediaServer,
    pub dir: tempfile::TempDir,
}

pub fn fast_config(fake: &FakeLinkedIn) -> LinkedInConfig {
    let mut config = LinkedInConfig::default();
    config.base_url = fake.base_url();
    config.poll_interval_ms = 2;
    config.poll_budget_secs = 5;
    config.initial_backoff_ms = 1;
    config.request_timeout_secs = 10;
    config
}

pub async fn setup() -> Setup {
    setup_with(|_| {}).await
}

pub async fn setup_with(tweak: impl FnOnce(&mut LinkedInConfig)) -> Setup {
    let fake = FakeLinkedIn::spawn().await.expect("the fake starts");
    let mut config = fast_config(&fake);
    tweak(&mut config);
    Setup {
        publisher: LinkedInPublisher::new(config),
        fake,
        media: MediaServer::spawn().await.expect("the media server starts"),
        dir: tempfile::tempdir().expect("a temp dir"),
    }
}

impl Setup {
    pub async fn publish(
        &self,
        post: &Post,
        connection: &Connection,
    ) -> Result<Receipt, PublishError> {
        let host: Arc<dyn MediaHost> = self.media.host();
        self.publisher
            .publish(PublishContext::new(post, connection, host.as_ref()))
            .await
    }
}

pub fn post(media: PostMedia, description: Option<&str>, fields: &[(&str, &str)]) -> Post {
    Post {
        title: "Launch day".to_string(),
        description: description.map(str::to_string),
        media,
        fields: FormFields::from_pairs(fields.iter().copied()),
    }
}
