//! The per-platform form fields Instagram takes, parsed and checked before any call.
//!
//! | form field | Graph parameter | where |
//! |---|---|---|
//! | `media_type` | `media_type` | `REELS` / `STORIES` for a video, `IMAGE` / `STORIES` for photos |
//! | `share_to_feed` | `share_to_feed` | reel container |
//! | `collaborators` | `collaborators` (JSON array, ≤ 3) | reel, photo and carousel containers |
//! | `cover_url` | `cover_url` | reel container |
//! | `audio_name` | `audio_name` | reel container |
//! | `user_tags` | `user_tags` (JSON array) | reel container (usernames), photo or carousel item (with `x`, `y`) |
//! | `location_id` | `location_id` | reel, photo and carousel containers |
//! | `thumb_offset` | `thumb_offset` (ms) | reel container |
//! | `instagram_alt_text` | `alt_text` | photo and every carousel item |
//! | `instagram_first_comment` / `first_comment` | `POST /<media id>/comments` `message` | after publishing |

use fanout_core::{FormFields, PublishError};
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::errors::PLATFORM;

/// Most collaborators Instagram takes on one post.
pub(crate) const MAX_COLLABORATORS: usize = 3;
/// Longest comment Instagram takes, in characters.
pub(crate) const MAX_COMMENT_CHARS: usize = 2200;
/// Most user tags on one medium.
pub(crate) const MAX_USER_TAGS: usize = 20;

/// What the post becomes on Instagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// A reel (video).
    Reel,
    /// A story (one video or one photo).
    Story,
    /// A feed photo or carousel.
    Feed,
}

/// One tagged account.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct UserTag {
    /// The Instagram username.
    pub(crate) username: String,
    /// Horizontal position, 0–1 from the left (photos only).
    #[serde(default)]
    pub(crate) x: Option<f64>,
    /// Vertical position, 0–1 from the top (photos only).
    #[serde(default)]
    pub(crate) y: Option<f64>,
    /// Which carousel photo it goes on (0-based; the first by default).
    #[serde(default)]
    pub(crate) media_index: Option<usize>,
}

/// The checked options of one post.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Options {
    /// Reel, story or feed.
    pub(crate) surface: Option<Surface>,
    /// `share_to_feed` (reels).
    pub(crate) share_to_feed: Option<bool>,
    /// Usernames without `@`.
    pub(crate) collaborators: Vec<String>,
    /// The reel's cover image URL.
    pub(crate) cover_url: Option<String>,
    /// The reel's audio name.
    pub(crate) audio_name: Option<String>,
    /// Tagged accounts.
    pub(crate) user_tags: Vec<UserTag>,
    /// A Facebook page id of a location.
    pub(crate) location_id: Option<String>,
    /// The reel's cover frame, in milliseconds.
    pub(crate) thumb_offset: Option<u64>,
    /// The photos' alternative text.
    pub(crate) alt_text: Option<String>,
    /// The comment to post once published.
    pub(crate) first_comment: Option<String>,
}

fn invalid(field: &str, accepted: &str, value: &str) -> PublishError {
    let shown: String = value.chars().take(40).collect();
    PublishError::rejected(format!(
        "{PLATFORM} cannot take `{field}` \"{shown}\": {accepted}. Fix the field and upload again."
    ))
}

impl Options {
    /// Parses and checks the form for a video (`photos == 0`) or `photos` photos.
    pub(crate) fn parse(fields: &FormFields, photos: usize) -> Result<Self, PublishError> {
        let surface = surface(fields, photos)?;
        let share_to_feed = fields.bool("share_to_feed").map_err(|_| {
            invalid(
                "share_to_feed",
                "it must be true or false",
                fields.get("share_to_feed").unwrap_or_default(),
            )
        })?;
        let thumb_offset = fields.u64("thumb_offset").map_err(|_| {
            invalid(
                "thumb_offset",
                "it must be a whole number of milliseconds from the start of the video",
                fields.get("thumb_offset").unwrap_or_default(),
            )
        })?;
        let cover_url = match fields.get_trimmed("cover_url") {
            None => None,
            Some(raw) => match Url::parse(raw) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Some(raw.to_string()),
                _ => {
                    return Err(invalid(
                        "cover_url",
                        "it must be a public http(s) URL of a JPEG image",
                        raw,
                    ))
                }
            },
        };
        let location_id = match fields.get_trimmed("location_id") {
            None => None,
            Some(id) if id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit()) => {
                Some(id.to_string())
            }
            Some(id) => {
                return Err(invalid(
                    "location_id",
                    "it must be the numeric id of a Facebook location page",
                    id,
                ))
            }
        };
        let first_comment = fields
            .get_trimmed("instagram_first_comment")
            .or_else(|| fields.get_trimmed("first_comment"))
            .map(str::to_string);
        if let Some(comment) = &first_comment {
            let chars = comment.chars().count();
            if chars > MAX_COMMENT_CHARS {
                return Err(PublishError::rejected(format!(
                    "{PLATFORM} comments are at most {MAX_COMMENT_CHARS} characters; the first \
                     comment has {chars}. Shorten it and upload again."
                )));
            }
        }
        Ok(Self {
            surface: Some(surface),
            share_to_feed,
            collaborators: collaborators(fields.get_trimmed("collaborators"))?,
            cover_url,
            audio_name: fields.get_trimmed("audio_name").map(str::to_string),
            user_tags: user_tags(fields.get_trimmed("user_tags"), photos)?,
            location_id,
            thumb_offset,
            alt_text: fields.get_trimmed("instagram_alt_text").map(str::to_string),
            first_comment,
        })
    }

    /// Reel, story or feed (feed when unparsed).
    pub(crate) fn surface(&self) -> Surface {
        self.surface.unwrap_or(Surface::Feed)
    }

    /// The reel container's option parameters.
    pub(crate) fn reel_params(&self, params: &mut Vec<(&'static str, String)>) {
        if let Some(share) = self.share_to_feed {
            params.push(("share_to_feed", share.to_string()));
        }
        self.push_collaborators(params);
        if let Some(url) = &self.cover_url {
            params.push(("cover_url", url.clone()));
        }
        if let Some(name) = &self.audio_name {
            params.push(("audio_name", name.clone()));
        }
        if !self.user_tags.is_empty() {
            let tags: Vec<Value> = self
                .user_tags
                .iter()
                .map(|t| json!({"username": t.username}))
                .collect();
            params.push(("user_tags", Value::Array(tags).to_string()));
        }
        self.push_location(params);
        if let Some(offset) = self.thumb_offset {
            params.push(("thumb_offset", offset.to_string()));
        }
    }

    /// The photo (or carousel item `index`) parameters: alt text and its tags.
    pub(crate) fn photo_params(&self, index: usize, params: &mut Vec<(&'static str, String)>) {
        if let Some(alt) = &self.alt_text {
            params.push(("alt_text", alt.clone()));
        }
        let tags: Vec<Value> = self
            .user_tags
            .iter()
            .filter(|t| t.media_index.unwrap_or(0) == index)
            .map(|t| json!({"username": t.username, "x": t.x, "y": t.y}))
            .collect();
        if !tags.is_empty() {
            params.push(("user_tags", Value::Array(tags).to_string()));
        }
    }

    /// The feed post's (single photo or carousel container) shared parameters.
    pub(crate) fn feed_params(&self, params: &mut Vec<(&'static str, String)>) {
        self.push_collaborators(params);
        self.push_location(params);
    }

    fn push_collaborators(&self, params: &mut Vec<(&'static str, String)>) {
        if !self.collaborators.is_empty() {
            params.push(("collaborators", json!(self.collaborators).to_string()));
        }
    }

    fn push_location(&self, params: &mut Vec<(&'static str, String)>) {
        if let Some(id) = &self.location_id {
            params.push(("location_id", id.clone()));
        }
    }
}

fn surface(fields: &FormFields, photos: usize) -> Result<Surface, PublishError> {
    let raw = fields.get_trimmed("media_type");
    let upper = raw.map(str::to_ascii_uppercase);
    match (photos, upper.as_deref()) {
        (0, None | Some("REELS")) => Ok(Surface::Reel),
        (0, Some("STORIES")) => Ok(Surface::Story),
        (0, Some(_)) => Err(invalid(
            "media_type",
            "a video is published as REELS or STORIES",
            raw.unwrap_or_default(),
        )),
        (_, None | Some("IMAGE" | "CAROUSEL")) => Ok(Surface::Feed),
        (1, Some("STORIES")) => Ok(Surface::Story),
        (_, Some("STORIES")) => Err(PublishError::rejected(format!(
            "{PLATFORM} stories take one photo; {photos} were sent. Send one photo, or use \
             `media_type` IMAGE for a carousel."
        ))),
        (_, Some(_)) => Err(invalid(
            "media_type",
            "photos are published as IMAGE or STORIES",
            raw.unwrap_or_default(),
        )),
    }
}

fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 30
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

const USERNAME_RULE: &str = "usernames are 1–30 letters, digits, '.' or '_'";

/// `collaborators`: a JSON array or a comma-separated list of up to 3 usernames.
fn collaborators(raw: Option<&str>) -> Result<Vec<String>, PublishError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = if raw.starts_with('[') {
        serde_json::from_str::<Vec<String>>(raw).map_err(|_| {
            invalid(
                "collaborators",
                "send a JSON array of usernames or a comma-separated list",
                raw,
            )
        })?
    } else {
        raw.split(',').map(str::to_string).collect()
    };
    let names: Vec<String> = names
        .iter()
        .map(|n| n.trim().trim_start_matches('@').to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(bad) = names.iter().find(|n| !valid_username(n)) {
        return Err(invalid("collaborators", USERNAME_RULE, bad));
    }
    if names.len() > MAX_COLLABORATORS {
        return Err(PublishError::rejected(format!(
            "{PLATFORM} takes at most {MAX_COLLABORATORS} collaborators; `collaborators` names \
             {}. Remove some and upload again.",
            names.len()
        )));
    }
    Ok(names)
}

/// `user_tags`: a JSON array of `{"username", "x", "y", "media_index"}` or, for a
/// video, a comma-separated list of usernames. Photo tags need `x` and `y` in 0–1.
fn user_tags(raw: Option<&str>, photos: usize) -> Result<Vec<UserTag>, PublishError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let shape = "send a JSON array like [{\"username\":\"name\",\"x\":0.5,\"y\":0.5}] (x and y \
                 between 0 and 1 for photos)";
    let tags: Vec<UserTag> = if raw.starts_with('[') {
        serde_json::from_str(raw).map_err(|_| invalid("user_tags", shape, raw))?
    } else {
        raw.split(',')
            .map(|n| n.trim().trim_start_matches('@'))
            .filter(|n| !n.is_empty())
            .map(|n| UserTag {
                username: n.to_string(),
                x: None,
                y: None,
                media_index: None,
            })
            .collect()
    };
    let mut tags = tags;
    for tag in &mut tags {
        tag.username = tag.username.trim().trim_start_matches('@').to_string();
        if !valid_username(&tag.username) {
            return Err(invalid("user_tags", USERNAME_RULE, &tag.username));
        }
        if photos == 0 {
            continue;
        }
        let in_range = |v: Option<f64>| v.is_some_and(|v| (0.0..=1.0).contains(&v));
        if !in_range(tag.x) || !in_range(tag.y) {
            return Err(invalid("user_tags", shape, raw));
        }
        if tag.media_index.unwrap_or(0) >= photos {
            return Err(invalid(
                "user_tags",
                "`media_index` must name one of the photos sent (0-based)",
                raw,
            ));
        }
    }
    if tags.len() > MAX_USER_TAGS {
        return Err(PublishError::rejected(format!(
            "{PLATFORM} takes at most {MAX_USER_TAGS} tagged accounts; `user_tags` has {}. \
             Remove some and upload again.",
            tags.len()
        )));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)], photos: usize) -> Result<Options, PublishError> {
        Options::parse(&FormFields::from_pairs(pairs.iter().copied()), photos)
    }

    #[test]
    fn media_type_depends_on_the_media() {
        assert_eq!(parse(&[], 0).unwrap().surface(), Surface::Reel);
        assert_eq!(
            parse(&[("media_type", "stories")], 1).unwrap().surface(),
            Surface::Story
        );
        assert_eq!(
            parse(&[("media_type", "IMAGE")], 3).unwrap().surface(),
            Surface::Feed
        );
        assert_eq!(
            parse(&[("media_type", "IMAGE")], 0).unwrap_err().message(),
            "Instagram cannot take `media_type` \"IMAGE\": a video is published as REELS or \
             STORIES. Fix the field and upload again."
        );
        assert_eq!(
            parse(&[("media_type", "REELS")], 1).unwrap_err().message(),
            "Instagram cannot take `media_type` \"REELS\": photos are published as IMAGE or \
             STORIES. Fix the field and upload again."
        );
        assert!(parse(&[("media_type", "STORIES")], 2).is_err());
    }

    #[test]
    fn collaborators_take_lists_and_arrays_of_at_most_three() {
        let o = parse(&[("collaborators", "@alice, bob.b")], 0).unwrap();
        assert_eq!(o.collaborators, vec!["alice", "bob.b"]);
        let o = parse(&[("collaborators", r#"["carol"]"#)], 0).unwrap();
        assert_eq!(o.collaborators, vec!["carol"]);
        assert_eq!(
            parse(&[("collaborators", "a,b,c,d")], 0)
                .unwrap_err()
                .message(),
            "Instagram takes at most 3 collaborators; `collaborators` names 4. Remove some and \
             upload again."
        );
        assert!(parse(&[("collaborators", "bad name")], 0).is_err());
    }

    #[test]
    fn photo_tags_need_positions() {
        let o = parse(&[("user_tags", "alice")], 0).unwrap();
        assert_eq!(o.user_tags[0].username, "alice");
        assert!(parse(&[("user_tags", "alice")], 1).is_err());
        assert!(parse(&[("user_tags", r#"[{"username":"a","x":1.5,"y":0}]"#)], 1).is_err());
        assert!(parse(
            &[(
                "user_tags",
                r#"[{"username":"a","x":0.5,"y":0,"media_index":2}]"#
            )],
            2
        )
        .is_err());
        let o = parse(
            &[("user_tags", r#"[{"username":"a","x":0.5,"y":0.25}]"#)],
            1,
        )
        .unwrap();
        let mut params = Vec::new();
        o.photo_params(0, &mut params);
        assert_eq!(
            params,
            vec![(
                "user_tags",
                r#"[{"username":"a","x":0.5,"y":0.25}]"#.to_string()
            )]
        );
    }

    #[test]
    fn scalar_fields_are_checked() {
        assert_eq!(
            parse(&[("thumb_offset", "1.5s")], 0).unwrap_err().message(),
            "Instagram cannot take `thumb_offset` \"1.5s\": it must be a whole number of \
             milliseconds from the start of the video. Fix the field and upload again."
        );
        assert!(parse(&[("share_to_feed", "maybe")], 0).is_err());
        assert!(parse(&[("cover_url", "ftp://x/y.jpg")], 0).is_err());
        assert!(parse(&[("location_id", "paris")], 0).is_err());
        let o = parse(
            &[
                ("first_comment", "generic"),
                ("instagram_first_comment", "specific"),
            ],
            0,
        )
        .unwrap();
        assert_eq!(o.first_comment.as_deref(), Some("specific"));
        let long = "x".repeat(2201);
        assert!(parse(&[("first_comment", long.as_str())], 0).is_err());
    }
}
