//! `creator_info/query` and the post settings that depend on it.

use fanout_core::{FieldError, PublishError};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::Api;
use crate::errors::PLATFORM;

/// What `creator_info/query` says about the creator.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct CreatorInfo {
    /// The privacy levels this creator may post with, TikTok's order.
    #[serde(default)]
    pub(crate) privacy_level_options: Vec<String>,
    /// The creator turned comments off in the app.
    #[serde(default)]
    pub(crate) comment_disabled: bool,
    /// The creator turned duets off in the app.
    #[serde(default)]
    pub(crate) duet_disabled: bool,
    /// The creator turned stitches off in the app.
    #[serde(default)]
    pub(crate) stitch_disabled: bool,
}

/// `POST /v2/post/publish/creator_info/query/`, retried when refused.
pub(crate) async fn query(api: &Api<'_>) -> Result<CreatorInfo, PublishError> {
    api.safe(
        "v2/post/publish/creator_info/query/",
        None,
        "the creator info query",
    )
    .await
}

/// The form's `privacy_level` (`wanted`) when the creator may use it, else the
/// creator's first option; a level outside the options fails naming the allowed ones.
pub(crate) fn privacy_level(
    wanted: Option<&str>,
    creator: &CreatorInfo,
) -> Result<String, PublishError> {
    let options = &creator.privacy_level_options;
    let Some(first) = options.first() else {
        return Err(PublishError::rejected(format!(
            "{PLATFORM} offers no privacy level this account may post with; check the account \
             in the TikTok app."
        )));
    };
    match wanted {
        None => Ok(first.clone()),
        Some(wanted) if options.iter().any(|o| o == wanted) => Ok(wanted.to_string()),
        Some(wanted) => Err(PublishError::rejected(format!(
            "{PLATFORM} does not allow the privacy level \"{}\" for this account; choose one \
             of: {}.",
            wanted.chars().take(40).collect::<String>(),
            options.join(", ")
        ))),
    }
}

/// A form field's shape error, as a person reads it.
pub(crate) fn field_error(err: FieldError) -> PublishError {
    PublishError::rejected(format!("{PLATFORM}: {err}."))
}

/// Adds boolean option `name` to `info` when the form gave it (`value`); `forced` is
/// sent as `true` whatever the form says (the creator turned the feature off).
pub(crate) fn put_bool(
    info: &mut Map<String, Value>,
    name: &str,
    value: Option<bool>,
    forced: bool,
) {
    match (forced, value) {
        (true, _) => {
            info.insert(name.to_string(), Value::Bool(true));
        }
        (false, Some(value)) => {
            info.insert(name.to_string(), Value::Bool(value));
        }
        (false, None) => {}
    }
}

/// Counts characters and fails when `text` is longer than `max`.
pub(crate) fn check_len(what: &str, text: &str, max: usize) -> Result<(), PublishError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(PublishError::rejected(format!(
            "{PLATFORM} {what} at most {max} characters; this one has {chars}. Shorten it and \
             upload again."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creator(options: &[&str]) -> CreatorInfo {
        CreatorInfo {
            privacy_level_options: options.iter().map(|s| s.to_string()).collect(),
            ..CreatorInfo::default()
        }
    }

    #[test]
    fn privacy_defaults_to_the_first_option_and_names_the_allowed_ones() {
        let c = creator(&["FOLLOWER_OF_CREATOR", "SELF_ONLY"]);
        assert_eq!(privacy_level(None, &c).unwrap(), "FOLLOWER_OF_CREATOR");
        assert_eq!(privacy_level(Some("SELF_ONLY"), &c).unwrap(), "SELF_ONLY");
        assert_eq!(
            privacy_level(Some("PUBLIC_TO_EVERYONE"), &c)
                .unwrap_err()
                .message(),
            "TikTok does not allow the privacy level \"PUBLIC_TO_EVERYONE\" for this account; \
             choose one of: FOLLOWER_OF_CREATOR, SELF_ONLY."
        );
        assert!(privacy_level(None, &creator(&[])).is_err());
    }

    #[test]
    fn booleans_follow_the_form_unless_the_creator_forces_them() {
        let mut info = Map::new();
        put_bool(&mut info, "disable_duet", Some(false), false);
        put_bool(&mut info, "disable_comment", Some(false), true);
        put_bool(&mut info, "is_aigc", None, false);
        assert_eq!(
            Value::Object(info),
            serde_json::json!({"disable_duet": false, "disable_comment": true})
        );
    }
}
