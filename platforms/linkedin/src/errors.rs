//! LinkedIn's error answers mapped to [`PublishError`], in one place.
//!
//! LinkedIn answers `{"status", "serviceErrorCode", "code", "message"}`, validation
//! failures add `errorDetails.inputErrors[{description, input.inputPath.fieldPath}]`.
//! The mapping goes by HTTP status and `code`, never by `serviceErrorCode` (the same
//! number is used for several codes).

use fanout_core::PublishError;
use fanout_kit::{retry_after, sanitize_platform_message, Platform};
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// The platform's name as people write it.
pub(crate) const PLATFORM: &str = "LinkedIn";

/// LinkedIn for the kit: its name, its config table and its error mapping.
pub(crate) const LINKEDIN: Platform = Platform {
    name: PLATFORM,
    key: "linkedin",
    parse_error: from_response,
};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_details: Option<ErrorDetails>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorDetails {
    #[serde(default)]
    input_errors: Vec<InputError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InputError {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    input: Option<Input>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    #[serde(default)]
    input_path: Option<InputPath>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InputPath {
    #[serde(default)]
    field_path: Option<String>,
}

impl ErrorBody {
    /// What LinkedIn said, validation details first, cleaned for people.
    fn reason(&self) -> Option<String> {
        let details: Vec<String> = self
            .error_details
            .iter()
            .flat_map(|d| &d.input_errors)
            .filter_map(|e| {
                let description = e.description.as_deref()?;
                let path = e
                    .input
                    .as_ref()
                    .and_then(|i| i.input_path.as_ref())
                    .and_then(|p| p.field_path.as_deref());
                Some(match path {
                    Some(path) => format!("{path}: {description}"),
                    None => description.to_string(),
                })
            })
            .collect();
        let text = if details.is_empty() {
            self.message.clone()?
        } else {
            details.join("; ")
        };
        let text = sanitize_platform_message(&text);
        (!text.is_empty()).then_some(text)
    }
}

/// The permission sentence for a 403.
pub(crate) fn access_denied() -> PublishError {
    PublishError::rejected(format!(
        "{PLATFORM} refused the post: the connected account lacks permission for it. \
         Reconnect the {PLATFORM} account with the w_member_social scope (w_organization_social \
         to post as a page), or check that it is an admin of the page."
    ))
}

/// Maps an error answer (any non-2xx status) to the error a person reads.
pub(crate) fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> PublishError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let reason = parsed.reason();
    let code = parsed.code.as_deref().unwrap_or("");
    match status {
        // EXPIRED_ACCESS_TOKEN, REVOKED_ACCESS_TOKEN, INVALID_ACCESS_TOKEN and any other
        // 401: the token no longer works, only reconnecting helps.
        401 => PublishError::token_expired(PLATFORM),
        403 => access_denied(),
        429 => PublishError::rate_limited(PLATFORM, retry_after(headers)),
        426 => PublishError::rejected(format!(
            "{PLATFORM} no longer serves the configured API version ({}). Set \
             `platforms.linkedin.api_version` to an active version (YYYYMM).",
            reason.as_deref().unwrap_or(code)
        )),
        400 | 422 => PublishError::rejected(format!(
            "{PLATFORM} rejected the post: {}. Fix it and upload again.",
            reason.as_deref().unwrap_or("the request was invalid")
        )),
        404 => PublishError::rejected(format!(
            "{PLATFORM} could not find what the post refers to ({}). Upload again.",
            reason.as_deref().unwrap_or("not found")
        )),
        500..=599 => LINKEDIN.temporary(status),
        _ => PublishError::rejected(format!(
            "{PLATFORM} refused the request (HTTP {status}{}).",
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        )),
    }
}

/// A successful answer that could not be read.
pub(crate) fn unreadable(what: &str) -> PublishError {
    PublishError::rejected(format!(
        "{PLATFORM} answered {what} in an unexpected form; nothing was posted. Try again later."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanout_core::ErrorKind;
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use serde_json::json;
    use std::time::Duration;

    fn map(status: u16, body: serde_json::Value) -> PublishError {
        from_response(status, &HeaderMap::new(), body.to_string().as_bytes())
    }

    const RECONNECT: &str =
        "Your LinkedIn session has expired. Please reconnect your LinkedIn account.";

    #[test]
    fn every_401_code_reads_as_reconnect() {
        for (code, n) in [
            ("EXPIRED_ACCESS_TOKEN", 65601),
            ("REVOKED_ACCESS_TOKEN", 65601),
            ("INVALID_ACCESS_TOKEN", 65600),
        ] {
            let err = map(
                401,
                json!({"status": 401, "serviceErrorCode": n, "code": code, "message": "x"}),
            );
            assert_eq!(err.kind(), ErrorKind::TokenExpired, "{code}");
            assert_eq!(err.message(), RECONNECT);
        }
    }

    #[test]
    fn access_denied_names_the_scopes() {
        let err = map(
            403,
            json!({"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                   "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE"}),
        );
        assert_eq!(err.kind(), ErrorKind::Rejected);
        assert_eq!(
            err.message(),
            "LinkedIn refused the post: the connected account lacks permission for it. \
             Reconnect the LinkedIn account with the w_member_social scope \
             (w_organization_social to post as a page), or check that it is an admin of the page."
        );
    }

    #[test]
    fn validation_errors_show_field_and_description() {
        let err = map(
            422,
            json!({"status": 422, "code": "UNPROCESSABLE_ENTITY",
                   "message": "ERROR :: /commentary :: too long",
                   "errorDetails": {"inputErrors": [{
                       "description": "Commentary is too long",
                       "input": {"inputPath": {"fieldPath": "/commentary"}},
                       "code": "INVALID_VALUE"}]}}),
        );
        assert_eq!(err.kind(), ErrorKind::Rejected);
        assert_eq!(
            err.message(),
            "LinkedIn rejected the post: /commentary: Commentary is too long. Fix it and upload again."
        );
    }

    #[test]
    fn a_400_without_details_uses_the_sanitized_message() {
        let err = map(
            400,
            json!({"status": 400, "code": "BAD_REQUEST",
                   "message": "Bad upload to https://www.linkedin.com/dms-uploads/x?sig=secret"}),
        );
        assert_eq!(
            err.message(),
            "LinkedIn rejected the post: Bad upload to [url]. Fix it and upload again."
        );
    }

    #[test]
    fn throttling_honours_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let err = from_response(
            429,
            &headers,
            br#"{"status":429,"code":"TOO_MANY_REQUESTS"}"#,
        );
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            err.message(),
            "Rate limited by LinkedIn, retry after 7 seconds."
        );
        let err = map(429, json!({}));
        assert_eq!(err.retry_after(), None);
        assert_eq!(err.message(), "Rate limited by LinkedIn, retry later.");
    }

    #[test]
    fn server_errors_are_transient() {
        for status in [500, 502, 503, 504] {
            let err = from_response(status, &HeaderMap::new(), b"<html>oops</html>");
            assert_eq!(err.kind(), ErrorKind::Transient);
            assert!(err.is_retryable());
            assert_eq!(
                err.message(),
                format!(
                    "LinkedIn had a temporary problem (HTTP {status}); try again in a few minutes."
                )
            );
        }
    }

    #[test]
    fn an_inactive_version_says_what_to_change() {
        let err = map(
            426,
            json!({"status": 426, "code": "NONEXISTENT_VERSION",
                   "message": "Requested version 202001 is not active"}),
        );
        assert_eq!(
            err.message(),
            "LinkedIn no longer serves the configured API version (Requested version 202001 \
             is not active). Set `platforms.linkedin.api_version` to an active version (YYYYMM)."
        );
    }
}
