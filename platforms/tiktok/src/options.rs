//! The TikTok form fields of one post, parsed and checked before any call is made.

use fanout_core::{FormFields, PublishError};

use crate::creator::field_error;
use crate::errors::PLATFORM;

/// Every privacy level TikTok knows.
pub(crate) const PRIVACY_LEVELS: [&str; 4] = [
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
];

/// The sentence a post with a first comment gets as a warning: TikTok's Content Posting
/// API has no comment endpoint.
pub(crate) const FIRST_COMMENT_WARNING: &str = "TikTok's API does not allow posting \
     comments, so the first comment was not posted; add it in the TikTok app if you want \
     it.";

/// The per-post settings read from the form (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// `privacy_level`, one of [`PRIVACY_LEVELS`] (checked against the creator later).
    pub(crate) privacy_level: Option<String>,
    /// `disable_comment`.
    pub(crate) disable_comment: Option<bool>,
    /// `disable_duet` (video).
    pub(crate) disable_duet: Option<bool>,
    /// `disable_stitch` (video).
    pub(crate) disable_stitch: Option<bool>,
    /// `cover_timestamp` (or the older `video_cover_timestamp_ms`), in ms (video).
    pub(crate) cover_timestamp_ms: Option<u64>,
    /// `brand_content_toggle`.
    pub(crate) brand_content_toggle: Option<bool>,
    /// `brand_organic_toggle`.
    pub(crate) brand_organic_toggle: Option<bool>,
    /// `is_aigc` (video).
    pub(crate) is_aigc: Option<bool>,
    /// `auto_add_music` (photos).
    pub(crate) auto_add_music: Option<bool>,
    /// `photo_cover_index` (photos).
    pub(crate) photo_cover_index: Option<u64>,
    /// `post_mode=MEDIA_UPLOAD` or `tiktok_upload_to_draft=true` (aliases
    /// `upload_to_draft`, `is_draft`): send to the creator's inbox as a draft instead of
    /// posting.
    pub(crate) draft: bool,
    /// `tiktok_first_comment`, else `first_comment` (non-empty).
    pub(crate) first_comment: Option<String>,
}

impl Options {
    /// Reads and checks every TikTok field of `fields`; the error names the field and
    /// the values it accepts.
    pub(crate) fn parse(fields: &FormFields) -> Result<Self, PublishError> {
        let flag = |name: &str| fields.bool(name).map_err(field_error);
        let number = |name: &str| fields.u64(name).map_err(field_error);
        let privacy_level = match fields.get_trimmed("privacy_level") {
            None | Some("") => None,
            Some(level) => {
                let upper = level.to_ascii_uppercase();
                if !PRIVACY_LEVELS.contains(&upper.as_str()) {
                    return Err(PublishError::rejected(format!(
                        "{PLATFORM}: `privacy_level` must be one of {}, got \"{}\".",
                        PRIVACY_LEVELS.join(", "),
                        level.chars().take(40).collect::<String>()
                    )));
                }
                Some(upper)
            }
        };
        let cover_timestamp_ms = match number("cover_timestamp")? {
            Some(ms) => Some(ms),
            None => number("video_cover_timestamp_ms")?,
        };
        let mode_draft = match fields.get_trimmed("post_mode") {
            None | Some("") => None,
            Some(mode) if mode.eq_ignore_ascii_case("DIRECT_POST") => Some(false),
            Some(mode) if mode.eq_ignore_ascii_case("MEDIA_UPLOAD") => Some(true),
            Some(mode) => {
                return Err(PublishError::rejected(format!(
                    "{PLATFORM}: `post_mode` must be DIRECT_POST or MEDIA_UPLOAD, got \"{}\".",
                    mode.chars().take(40).collect::<String>()
                )))
            }
        };
        // The official clients also send the aliases `upload_to_draft` and `is_draft`.
        let mut flag_draft = None;
        for name in ["tiktok_upload_to_draft", "upload_to_draft", "is_draft"] {
            if let Some(value) = flag(name)? {
                flag_draft = Some(flag_draft.unwrap_or(false) || value);
            }
        }
        let draft = match (mode_draft, flag_draft) {
            (Some(false), Some(true)) => {
                return Err(PublishError::rejected(format!(
                    "{PLATFORM}: `post_mode` DIRECT_POST contradicts `tiktok_upload_to_draft` \
                     true; send MEDIA_UPLOAD for a draft or drop one of them."
                )))
            }
            (mode, flag) => mode.unwrap_or(false) || flag.unwrap_or(false),
        };
        let first_comment = ["tiktok_first_comment", "first_comment"]
            .into_iter()
            .find_map(|name| fields.get_trimmed(name).filter(|c| !c.is_empty()))
            .map(str::to_string);
        let options = Self {
            privacy_level,
            disable_comment: flag("disable_comment")?,
            disable_duet: flag("disable_duet")?,
            disable_stitch: flag("disable_stitch")?,
            cover_timestamp_ms,
            brand_content_toggle: flag("brand_content_toggle")?,
            brand_organic_toggle: flag("brand_organic_toggle")?,
            is_aigc: flag("is_aigc")?,
            auto_add_music: flag("auto_add_music")?,
            photo_cover_index: number("photo_cover_index")?,
            draft,
            first_comment,
        };
        options.check_branded_privacy(options.privacy_level.as_deref())?;
        Ok(options)
    }

    /// Branded content cannot be private: TikTok refuses `brand_content_toggle` with
    /// `SELF_ONLY`.
    pub(crate) fn check_branded_privacy(&self, privacy: Option<&str>) -> Result<(), PublishError> {
        if self.brand_content_toggle == Some(true) && privacy == Some("SELF_ONLY") && !self.draft {
            return Err(PublishError::rejected(format!(
                "{PLATFORM} does not allow branded content (`brand_content_toggle` true) to be \
                 private (`privacy_level` SELF_ONLY); choose PUBLIC_TO_EVERYONE, \
                 MUTUAL_FOLLOW_FRIENDS or FOLLOWER_OF_CREATOR, or turn the toggle off."
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Options, PublishError> {
        Options::parse(&FormFields::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn an_empty_form_has_no_options() {
        assert_eq!(parse(&[]).unwrap(), Options::default());
    }

    #[test]
    fn every_field_is_read() {
        let o = parse(&[
            ("privacy_level", "follower_of_creator"),
            ("disable_comment", "true"),
            ("disable_duet", "false"),
            ("disable_stitch", "1"),
            ("cover_timestamp", "1500"),
            ("brand_content_toggle", "true"),
            ("brand_organic_toggle", "false"),
            ("is_aigc", "true"),
            ("auto_add_music", "true"),
            ("photo_cover_index", "2"),
            ("post_mode", "MEDIA_UPLOAD"),
            ("first_comment", "general"),
            ("tiktok_first_comment", "specific"),
        ])
        .unwrap();
        assert_eq!(
            o,
            Options {
                privacy_level: Some("FOLLOWER_OF_CREATOR".into()),
                disable_comment: Some(true),
                disable_duet: Some(false),
                disable_stitch: Some(true),
                cover_timestamp_ms: Some(1500),
                brand_content_toggle: Some(true),
                brand_organic_toggle: Some(false),
                is_aigc: Some(true),
                auto_add_music: Some(true),
                photo_cover_index: Some(2),
                draft: true,
                first_comment: Some("specific".into()),
            }
        );
    }

    #[test]
    fn drafts_come_from_either_field() {
        assert!(parse(&[("tiktok_upload_to_draft", "true")]).unwrap().draft);
        assert!(parse(&[("upload_to_draft", "true")]).unwrap().draft);
        assert!(parse(&[("is_draft", "1")]).unwrap().draft);
        assert!(!parse(&[("tiktok_upload_to_draft", "false")]).unwrap().draft);
        assert!(!parse(&[("post_mode", "DIRECT_POST")]).unwrap().draft);
        assert_eq!(
            parse(&[
                ("post_mode", "DIRECT_POST"),
                ("tiktok_upload_to_draft", "true")
            ])
            .unwrap_err()
            .message(),
            "TikTok: `post_mode` DIRECT_POST contradicts `tiktok_upload_to_draft` true; send \
             MEDIA_UPLOAD for a draft or drop one of them."
        );
    }

    #[test]
    fn bad_values_name_the_field_and_the_accepted_values() {
        assert_eq!(
            parse(&[("privacy_level", "FRIENDS")])
                .unwrap_err()
                .message(),
            "TikTok: `privacy_level` must be one of PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, \
             FOLLOWER_OF_CREATOR, SELF_ONLY, got \"FRIENDS\"."
        );
        assert_eq!(
            parse(&[("post_mode", "LATER")]).unwrap_err().message(),
            "TikTok: `post_mode` must be DIRECT_POST or MEDIA_UPLOAD, got \"LATER\"."
        );
        assert_eq!(
            parse(&[("is_aigc", "maybe")]).unwrap_err().message(),
            "TikTok: `is_aigc` must be true or false, got \"maybe\"."
        );
        let err = parse(&[("cover_timestamp", "-3")]).unwrap_err();
        assert!(
            err.message().starts_with("TikTok: `cover_timestamp` "),
            "{err}"
        );
        let err = parse(&[
            ("brand_content_toggle", "true"),
            ("privacy_level", "SELF_ONLY"),
        ])
        .unwrap_err();
        assert!(
            err.message()
                .starts_with("TikTok does not allow branded content"),
            "{err}"
        );
    }

    #[test]
    fn the_older_cover_field_still_counts() {
        let o = parse(&[("video_cover_timestamp_ms", "700")]).unwrap();
        assert_eq!(o.cover_timestamp_ms, Some(700));
    }
}
