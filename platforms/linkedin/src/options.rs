//! The form fields LinkedIn takes, parsed and checked before any network call.

use fanout_core::{FormFields, PublishError};

use crate::author;
use crate::errors::PLATFORM;

/// The form field giving images their alternative text (one for all, or one per
/// image in order).
pub(crate) const ALT_TEXT_FIELD: &str = "linkedin_alt_text";
/// The form field turning resharing off (`isReshareDisabledByAuthor`).
pub(crate) const DISABLE_RESHARE_FIELD: &str = "linkedin_disable_reshare";
/// The first comment for every platform.
pub(crate) const FIRST_COMMENT_FIELD: &str = "first_comment";
/// LinkedIn's own first comment; wins over [`FIRST_COMMENT_FIELD`].
pub(crate) const LINKEDIN_FIRST_COMMENT_FIELD: &str = "linkedin_first_comment";
/// Visibility fields, the most specific first.
const VISIBILITY_FIELDS: [&str; 3] = ["linkedin_visibility", "linkedinVisibility", "visibility"];
/// Longest alternative text LinkedIn takes, in characters.
pub const MAX_ALT_TEXT_CHARS: usize = 4086;
/// Longest comment LinkedIn takes, in characters.
pub const MAX_COMMENT_CHARS: usize = 1250;

/// Visibilities LinkedIn accepts.
const VISIBILITIES: [&str; 3] = ["PUBLIC", "CONNECTIONS", "LOGGED_IN"];

/// The `visibility` form field (case-insensitive), `PUBLIC` when absent.
pub(crate) fn visibility(value: Option<&str>) -> Result<&'static str, PublishError> {
    let Some(value) = value else {
        return Ok("PUBLIC");
    };
    let upper = value.to_ascii_uppercase();
    VISIBILITIES
        .into_iter()
        .find(|v| *v == upper)
        .ok_or_else(|| {
            PublishError::rejected(format!(
                "`visibility` must be PUBLIC, CONNECTIONS or LOGGED_IN for {PLATFORM}; got \"{}\".",
                value.chars().take(40).collect::<String>()
            ))
        })
}

/// Everything the form decides about a LinkedIn post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// `urn:li:organization:<id>` from `target_linkedin_page_id`.
    pub(crate) page: Option<String>,
    /// `PUBLIC`, `CONNECTIONS` or `LOGGED_IN`.
    pub(crate) visibility: &'static str,
    /// `isReshareDisabledByAuthor`.
    pub(crate) disable_reshare: bool,
    /// The alternative texts as given, in order.
    pub(crate) alt_texts: Vec<String>,
    /// The comment to post once the post exists.
    pub(crate) first_comment: Option<String>,
}

impl Options {
    /// Parses and checks every LinkedIn field of `fields`.
    pub(crate) fn parse(fields: &FormFields) -> Result<Self, PublishError> {
        let page = author::page_author(fields)?;
        let visibility = visibility(
            VISIBILITY_FIELDS
                .iter()
                .find_map(|name| fields.get_trimmed(name)),
        )?;
        let disable_reshare = fields
            .bool(DISABLE_RESHARE_FIELD)
            .map_err(|e| {
                PublishError::rejected(format!(
                    "`{DISABLE_RESHARE_FIELD}` must be true or false for {PLATFORM}; got \"{}\".",
                    e.value
                ))
            })?
            .unwrap_or(false);
        let alt_texts: Vec<String> = fields
            .get_all(ALT_TEXT_FIELD)
            .map(|v| v.trim().to_string())
            .collect();
        if let Some(long) = alt_texts
            .iter()
            .position(|a| a.chars().count() > MAX_ALT_TEXT_CHARS)
        {
            return Err(PublishError::rejected(format!(
                "`{ALT_TEXT_FIELD}` number {} is longer than {PLATFORM}'s {MAX_ALT_TEXT_CHARS} \
                 characters; shorten it.",
                long + 1
            )));
        }
        let first_comment = fields
            .get_trimmed(LINKEDIN_FIRST_COMMENT_FIELD)
            .or_else(|| fields.get_trimmed(FIRST_COMMENT_FIELD))
            .map(str::to_string);
        if let Some(comment) = &first_comment {
            let chars = comment.chars().count();
            if chars > MAX_COMMENT_CHARS {
                return Err(PublishError::rejected(format!(
                    "The first comment (`{LINKEDIN_FIRST_COMMENT_FIELD}` or \
                     `{FIRST_COMMENT_FIELD}`) has {chars} characters; {PLATFORM} takes at most \
                     {MAX_COMMENT_CHARS}."
                )));
            }
        }
        Ok(Self {
            page,
            visibility,
            disable_reshare,
            alt_texts,
            first_comment,
        })
    }

    /// Checks the alternative texts against the number of images.
    pub(crate) fn check_alt_text_count(&self, images: usize) -> Result<(), PublishError> {
        if self.alt_texts.len() > 1 && self.alt_texts.len() > images {
            return Err(PublishError::rejected(format!(
                "`{ALT_TEXT_FIELD}` was given {} times for {images} image(s); give one text for \
                 all images or at most one per image.",
                self.alt_texts.len()
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
    fn visibility_defaults_to_public_and_is_checked() {
        assert_eq!(visibility(None).unwrap(), "PUBLIC");
        assert_eq!(visibility(Some("connections")).unwrap(), "CONNECTIONS");
        assert_eq!(visibility(Some("LOGGED_IN")).unwrap(), "LOGGED_IN");
        assert_eq!(
            visibility(Some("friends")).unwrap_err().message(),
            "`visibility` must be PUBLIC, CONNECTIONS or LOGGED_IN for LinkedIn; got \"friends\"."
        );
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(
            o,
            Options {
                page: None,
                visibility: "PUBLIC",
                disable_reshare: false,
                alt_texts: vec![],
                first_comment: None,
            }
        );
    }

    #[test]
    fn the_most_specific_visibility_wins() {
        let o = parse(&[
            ("visibility", "PUBLIC"),
            ("linkedin_visibility", "logged_in"),
        ])
        .unwrap();
        assert_eq!(o.visibility, "LOGGED_IN");
        let o = parse(&[("linkedinVisibility", "connections")]).unwrap();
        assert_eq!(o.visibility, "CONNECTIONS");
    }

    #[test]
    fn reshare_is_a_boolean() {
        assert!(
            parse(&[(DISABLE_RESHARE_FIELD, "TRUE")])
                .unwrap()
                .disable_reshare
        );
        assert_eq!(
            parse(&[(DISABLE_RESHARE_FIELD, "maybe")])
                .unwrap_err()
                .message(),
            "`linkedin_disable_reshare` must be true or false for LinkedIn; got \"maybe\"."
        );
    }

    #[test]
    fn the_linkedin_first_comment_wins() {
        let o = parse(&[("first_comment", "a"), ("linkedin_first_comment", " b ")]).unwrap();
        assert_eq!(o.first_comment.as_deref(), Some("b"));
        let o = parse(&[("first_comment", "a"), ("linkedin_first_comment", " ")]).unwrap();
        assert_eq!(o.first_comment.as_deref(), Some("a"));
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            parse(&[("first_comment", long.as_str())])
                .unwrap_err()
                .message(),
            "The first comment (`linkedin_first_comment` or `first_comment`) has 1251 \
             characters; LinkedIn takes at most 1250."
        );
    }

    #[test]
    fn alt_texts_are_bounded() {
        let long = "y".repeat(MAX_ALT_TEXT_CHARS + 1);
        assert_eq!(
            parse(&[(ALT_TEXT_FIELD, "ok"), (ALT_TEXT_FIELD, long.as_str())])
                .unwrap_err()
                .message(),
            "`linkedin_alt_text` number 2 is longer than LinkedIn's 4086 characters; shorten it."
        );
        let o = parse(&[(ALT_TEXT_FIELD, "a"), (ALT_TEXT_FIELD, "b")]).unwrap();
        assert!(o.check_alt_text_count(2).is_ok());
        assert_eq!(
            o.check_alt_text_count(1).unwrap_err().message(),
            "`linkedin_alt_text` was given 2 times for 1 image(s); give one text for all images \
             or at most one per image."
        );
        let one = parse(&[(ALT_TEXT_FIELD, "a")]).unwrap();
        assert!(one.check_alt_text_count(5).is_ok());
    }
}
