//! Form validation, with the contract's exact 400 messages.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

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
    let platforms = requested_platforms(&fields, &is_known_platform)?;
    if platforms.is_empty() {
        return Err(ApiError::bad_request(
            "At least one platform is required: send platform[]",
        ));
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

/// How many unknown platform names an `Invalid platforms` message lists; the rest
/// are counted.
const LISTED_INVALID: usize = 5;

/// How many characters of one unknown platform name a message shows.
const LISTED_NAME_CHARS: usize = 32;

/// `platform[]` values (and `platform`, and comma-separated lists), lowercase, without
/// repeats, in request order — or the contract's 400 naming the unknown ones.
///
/// Linear in the size of the fields: the known names found so far are at most the
/// registered platforms, and unknown names are only counted (each distinct one once)
/// past the few the message lists.
fn requested_platforms(
    fields: &FormFields,
    is_known_platform: &impl Fn(&str) -> bool,
) -> Result<Vec<String>, ApiError> {
    let mut known: Vec<String> = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    // Hashes, not names: a megabyte of tiny names costs a few megabytes at most.
    let hasher = RandomState::new();
    let mut unlisted: HashSet<u64> = HashSet::new();
    let values = fields
        .get_all("platform[]")
        .chain(fields.get_all("platform"));
    for name in values.flat_map(|v| v.split(',')) {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        let name = name.to_ascii_lowercase();
        if is_known_platform(&name) {
            if !known.contains(&name) {
                known.push(name);
            }
        } else if listed.len() < LISTED_INVALID {
            if !listed.contains(&name) {
                listed.push(name);
            }
        } else if !listed.contains(&name) {
            unlisted.insert(hasher.hash_one(&name));
        }
    }
    if listed.is_empty() {
        return Ok(known);
    }
    let names: Vec<&str> = listed.iter().map(String::as_str).collect();
    Err(ApiError::bad_request(invalid_platforms(
        &names,
        unlisted.len(),
    )))
}

/// `Invalid platforms: <names, comma-separated>` for `names`, each cut to a readable
/// length, then `and N more` when `more` other names were unknown too.
pub(crate) fn invalid_platforms(names: &[&str], more: usize) -> String {
    let shown: Vec<String> = names
        .iter()
        .map(|name| {
            let mut chars = name.chars();
            let mut shown: String = chars.by_ref().take(LISTED_NAME_CHARS).collect();
            if chars.next().is_some() {
                shown.push('…');
            }
            shown
        })
        .collect();
    let mut message = format!("Invalid platforms: {}", shown.join(", "));
    if more > 0 {
        message.push_str(&format!(" and {more} more"));
    }
    message
}

/// The first [`LISTED_INVALID`] of `names` with the rest counted: for lists that
/// were checked elsewhere (the typed API, a path parameter).
pub(crate) fn invalid_platforms_of(names: &[&str]) -> String {
    let listed = names.len().min(LISTED_INVALID);
    invalid_platforms(&names[..listed], names.len() - listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        matches!(name, "tiktok" | "instagram" | "linkedin")
    }

    fn requested(values: &[&str]) -> Result<Vec<String>, String> {
        let fields = FormFields::from_pairs(values.iter().map(|v| ("platform[]", *v)));
        requested_platforms(&fields, &known).map_err(|e| e.message)
    }

    #[test]
    fn names_are_trimmed_lowercased_and_deduplicated_in_order() {
        assert_eq!(
            requested(&["TikTok, linkedin", " tiktok ", "", "instagram,,"]).unwrap(),
            vec!["tiktok", "linkedin", "instagram"]
        );
    }

    #[test]
    fn unknown_names_are_listed_up_to_five_then_counted() {
        assert_eq!(
            requested(&["tiktok", "myspace", "friendster", "MySpace"]).unwrap_err(),
            "Invalid platforms: myspace, friendster"
        );
        let many: Vec<String> = (0..10_000).map(|i| format!("p{i}")).collect();
        let joined = many.join(",");
        let message = requested(&[&joined, &joined]).unwrap_err();
        assert_eq!(
            message,
            "Invalid platforms: p0, p1, p2, p3, p4 and 9995 more"
        );
        let long = "x".repeat(70_000);
        assert_eq!(
            requested(&[&long]).unwrap_err(),
            format!("Invalid platforms: {}…", "x".repeat(32))
        );
    }

    /// The server froze for ~21 s on six fields of 64 KB of distinct names: the check
    /// is linear now. This only asserts the answer; the time is for the eye.
    #[test]
    fn six_fields_of_distinct_names_are_checked_at_once() {
        let fields: Vec<String> = (0..6)
            .map(|f| {
                let mut value = String::new();
                let mut i = 0;
                while value.len() < 64 * 1024 {
                    value.push_str(&format!("n{f}x{i},"));
                    i += 1;
                }
                value
            })
            .collect();
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        let message = requested(&refs).unwrap_err();
        assert!(message.starts_with("Invalid platforms: n0x0, n0x1, n0x2, n0x3, n0x4 and "));
        assert!(message.len() < 200, "{message}");
        eprintln!("checked in {:?}", started.elapsed());
    }
}
