//! One publish (or resume) under way: the Graph session and the settings it runs
//! with, what the post asks of Instagram, and the steps `publish` and `resume` share
//! (creating the container, then finishing it).

use std::time::Duration;

use fanout_core::{HostedMedia, Post, PostMedia, PublishContext, PublishError};
use fanout_kit::Polling;

use crate::checkpoint::{Journal, Target};
use crate::client::Api;
use crate::errors::PLATFORM;
use crate::finish::Finish;
use crate::options::{Options, Surface};
use crate::photos;
use crate::video::{self, UploadTarget};

/// Longest caption Instagram accepts, in characters.
pub(crate) const MAX_CAPTION_CHARS: usize = 2200;

/// What a post asks of Instagram, read and checked before any call.
pub(crate) struct Prepared<'p> {
    /// The caption (the post's title, trimmed).
    pub(crate) caption: &'p str,
    /// The parsed form options.
    pub(crate) options: Options,
    /// The comment to post once live (never on a story).
    pub(crate) first_comment: Option<String>,
    /// Warnings known before any call.
    pub(crate) warnings: Vec<String>,
}

impl<'p> Prepared<'p> {
    /// Checks the caption and parses the options of `post`.
    pub(crate) fn from(post: &'p Post) -> Result<Self, PublishError> {
        let caption = post.title.trim();
        let chars = caption.chars().count();
        if chars > MAX_CAPTION_CHARS {
            return Err(PublishError::rejected(format!(
                "{PLATFORM} captions are at most {MAX_CAPTION_CHARS} characters; this one has \
                 {chars}. Shorten it and upload again."
            )));
        }
        let photo_count = match &post.media {
            PostMedia::Video(_) => 0,
            PostMedia::Photos(files) => files.len(),
        };
        let options = Options::parse(&post.fields, photo_count)?;
        let mut warnings = Vec::new();
        let mut first_comment = options.first_comment.clone();
        if first_comment.is_some() && options.surface() == Surface::Story {
            first_comment = None;
            warnings.push(format!(
                "{PLATFORM} stories do not take comments, so the first comment was not posted."
            ));
        }
        Ok(Self {
            caption,
            options,
            first_comment,
            warnings,
        })
    }
}

/// One publish (or resume) under way.
pub(crate) struct Run {
    /// The Graph session.
    pub(crate) api: Api,
    /// Where videos are uploaded.
    pub(crate) upload: UploadTarget,
    /// The wait before answering `PROCESSING`.
    pub(crate) polling: Polling,
    /// How long follow-ups keep waiting, counted from the first `PROCESSING` answer.
    pub(crate) follow_up_budget: Duration,
}

impl Run {
    /// Creates the container (uploading a video, hosting photos) of `ctx.post`, with a
    /// checkpoint before each creating call; `made` are carousel items a stopped publish
    /// already created.
    pub(crate) async fn create(
        &self,
        ctx: &PublishContext<'_>,
        journal: &Journal<'_>,
        prepared: &Prepared<'_>,
        made: Vec<String>,
    ) -> Result<(Target, Vec<HostedMedia>), PublishError> {
        match &ctx.post.media {
            PostMedia::Video(_) if !made.is_empty() => Err(fanout_core::unknown_outcome(PLATFORM)),
            PostMedia::Video(file) => {
                let container = video::create_and_upload(
                    &self.api,
                    &self.upload,
                    journal,
                    prepared.caption,
                    &prepared.options,
                    file,
                )
                .await?;
                Ok((Target::Container(container), Vec::new()))
            }
            PostMedia::Photos(files) => {
                photos::create(
                    &self.api,
                    ctx.media_host,
                    journal,
                    prepared.caption,
                    &prepared.options,
                    files,
                    made,
                )
                .await
            }
        }
    }

    /// The rest of a publish: wait, publish, comment, or answer `PROCESSING`.
    pub(crate) fn finish_job<'a>(
        &self,
        journal: Journal<'a>,
        hosted: Vec<HostedMedia>,
    ) -> Finish<'a> {
        Finish {
            api: self.api.clone(),
            polling: self.polling,
            follow_up_budget: self.follow_up_budget,
            journal,
            hosted,
        }
    }
}
