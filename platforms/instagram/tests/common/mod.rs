//! Shared set-up for the Instagram tests.
#![allow(dead_code)]

use fanout_instagram::{InstagramConfig, InstagramPublisher};
use fanout_testkit::fakes::instagram::FakeInstagram;

/// A publisher pointed at `fake`, with test-sized waits.
pub fn publisher(fake: &FakeInstagram) -> InstagramPublisher {
    InstagramPublisher::new(config(fake))
}

/// The test configuration for `fake`.
pub fn config(fake: &FakeInstagram) -> InstagramConfig {
    let mut config = InstagramConfig::default();
    config.base_url = fake.base_url();
    config.upload_base_url = fake.upload_base_url();
    config.request_timeout_secs = 10;
    config.poll_interval_ms = 2;
    config.poll_budget_secs = 5;
    config.max_attempts = 4;
    config.initial_backoff_ms = 5;
    config
}

/// A fake, a media host and a temporary directory for one test.
pub struct Env {
    /// The fake Instagram.
    pub fake: FakeInstagram,
    /// Where Instagram pulls photos from.
    pub media: fanout_testkit::MediaServer,
    /// Spooled media.
    pub dir: tempfile::TempDir,
}

/// A fresh [`Env`].
pub async fn env() -> Env {
    Env {
        fake: FakeInstagram::spawn().await.expect("the fake starts"),
        media: fanout_testkit::MediaServer::spawn()
            .await
            .expect("the media server starts"),
        dir: tempfile::tempdir().expect("a temporary directory"),
    }
}

/// A post with `title`, `media` and form `fields`.
pub fn post(
    title: &str,
    media: fanout_core::PostMedia,
    fields: &[(&str, &str)],
) -> fanout_core::Post {
    fanout_core::Post {
        title: title.to_string(),
        description: None,
        media,
        fields: fanout_core::FormFields::from_pairs(fields.iter().copied()),
    }
}

/// Publishes `post` for `account` with `publisher`.
pub async fn publish_with(
    env: &Env,
    publisher: &InstagramPublisher,
    post: &fanout_core::Post,
    account: &str,
) -> Result<fanout_core::Receipt, fanout_core::PublishError> {
    use fanout_core::Publisher;
    use fanout_testkit::FakePlatform;
    let connection = env.fake.connection(account);
    let host = env.media.host();
    publisher
        .publish(fanout_core::PublishContext::new(
            post,
            &connection,
            host.as_ref(),
        ))
        .await
}

/// Publishes `post` for `account` with the test publisher.
pub async fn publish(
    env: &Env,
    post: &fanout_core::Post,
    account: &str,
) -> Result<fanout_core::Receipt, fanout_core::PublishError> {
    publish_with(env, &publisher(&env.fake), post, account).await
}

/// The receipt's string field `key`.
pub fn field<'a>(receipt: &'a fanout_core::Receipt, key: &str) -> Option<&'a str> {
    receipt.get(key).and_then(|v| v.as_str())
}
