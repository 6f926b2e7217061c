//! Form validation, with the contract's exact 400 messages.

use crate::accounts::{Account, Profile};
use crate::api_error::ApiError;
use crate::form::{MediaSource, ParsedForm};
use crate::post::FormFields;

/// Which upload endpoint a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /api/upload`: one video.
    Video,
    /// `POST /api/upload_photos`: one or more photos.
    Photos,
}

/// The media of a valid request, before URLs are fetched.
#[derive(Debug)]
pub(crate) enum MediaPlan {
    Video(MediaSource),
    Photos(Vec<MediaSource>),
}

/// A request that passed validation.
#[derive(Debug)]
pub(crate) struct Valid {
    pub fields: FormFields,
    pub media: MediaPlan,
    /// Requested platform ids, lowercase, deduplicated, in request order.
    pub platforms: Vec<String>,
    pub profile: Profile,
    /// The profile's key in the account (the form's `user`).
    pub profile_key: String,
}

/// Checks a parsed form in the contract's order: media and title, blank title, user,
/// platform names, then the profile.
pub(crate) fn validate(
    endpoint: Endpoint,
    form: ParsedForm,
    account: &Account,
    is_known_platform: impl Fn(&str) -> bool,
) -> Result<Valid, ApiError> {
    let ParsedForm {
        fields,
        mut video,
        photos,
    } = form;
    let title = fields.get("title");
    let media = match endpoint {
        Endpoint::Video => {
            if video.is_empty() || title.is_none() {
                return Err(ApiError::bad_request("Video file and title are required"));
            }
            if video.len() > 1 {
                return Err(ApiError::bad_request("Send one video per request"));
            }
            MediaPlan::Video(video.remove(0))
        }
        Endpoint::Photos => {
            if photos.is_empty() || title.is_none() {
                return Err(ApiError::bad_request("Photos and title are required"));
            }
            MediaPlan::Photos(photos)
        }
    };
    if fields.get_trimmed("title").is_none() {
        return Err(ApiError::bad_request("Title cannot be empty"));
    }
    let user = fields
        .get_trimmed("user")
        .ok_or_else(|| ApiError::bad_request("Username required"))?
        .to_string();
    let platforms = requested_platforms(&fields);
    if platforms.is_empty() {
        return Err(ApiError::bad_request(
            "At least one platform is required: send platform[]",
        ));
    }
    let invalid: Vec<&str> = platforms
        .iter()
        .filter(|p| !is_known_platform(p))
        .map(String::as_str)
        .collect();
    if !invalid.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Invalid platforms: {}",
            invalid.join(", ")
        )));
    }
    let profile = account
        .profiles
        .get(&user)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("Username not associated with any profile"))?;
    Ok(Valid {
        fields,
        media,
        platforms,
        profile,
        profile_key: user,
    })
}

/// `platform[]` values (and `platform`, and comma-separated lists), lowercase, without
/// repeats.
fn requested_platforms(fields: &FormFields) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let values = fields
        .get_all("platform[]")
        .chain(fields.get_all("platform"));
    for name in values.flat_map(|v| v.split(',')) {
        let name = name.trim().to_ascii_lowercase();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}
