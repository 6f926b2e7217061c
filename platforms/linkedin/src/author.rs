//! Who the post is by: the member (`urn:li:person:<id>`) or a page
//! (`urn:li:organization:<id>`).

use fanout_core::{Connection, FormFields, PublishError};
use reqwest::Method;
use serde::Deserialize;

use crate::client::{Api, Read};
use crate::errors::PLATFORM;

/// The form field naming the page to post as.
pub(crate) const PAGE_FIELD: &str = "target_linkedin_page_id";

/// `urn:li:organization:<id>` when the form names a page (`target_linkedin_page_id`,
/// a numeric id or the full urn); checked before anything is sent.
pub(crate) fn page_author(fields: &FormFields) -> Result<Option<String>, PublishError> {
    let Some(raw) = fields.get_trimmed(PAGE_FIELD) else {
        return Ok(None);
    };
    let id = raw.strip_prefix("urn:li:organization:").unwrap_or(raw);
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PublishError::rejected(format!(
            "`{PAGE_FIELD}` must be the numeric id of a {PLATFORM} page (as in \
             urn:li:organization:12345); got \"{}\".",
            raw.chars().take(40).collect::<String>()
        )));
    }
    Ok(Some(format!("urn:li:organization:{id}")))
}

/// `GET /v2/userinfo` (OpenID Connect): `sub` is the member's person id.
#[derive(Debug, Deserialize)]
struct UserInfo {
    #[serde(default)]
    sub: Option<String>,
}

/// The author: the page when one is named, else the connection's `author_urn`
/// attribute, else `urn:li:person:<sub>` from `GET /v2/userinfo` (which needs the
/// `openid` scope).
pub(crate) async fn resolve(
    api: &Api,
    connection: &Connection,
    page: Option<String>,
) -> Result<String, PublishError> {
    if let Some(page) = page {
        return Ok(page);
    }
    if let Some(urn) = connection.attribute("author_urn") {
        let valid = ["urn:li:person:", "urn:li:organization:"]
            .iter()
            .any(|p| urn.strip_prefix(p).is_some_and(valid_id));
        if !valid {
            return Err(PublishError::rejected(format!(
                "The connected {PLATFORM} account's author_urn is not a person or organization \
                 urn; reconnect the {PLATFORM} account."
            )));
        }
        return Ok(urn.to_string());
    }
    let info: UserInfo = api
        .safe(Method::GET, "v2/userinfo", None, "the member lookup")
        .await?
        .read("the member lookup")?;
    match info.sub {
        Some(sub) if valid_id(&sub) => Ok(format!("urn:li:person:{sub}")),
        _ => Err(PublishError::rejected(format!(
            "{PLATFORM} did not say which member this token belongs to; reconnect the \
             {PLATFORM} account with the openid and profile scopes."
        ))),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ids_become_organization_urns() {
        let f = FormFields::from_pairs([(PAGE_FIELD, " 12345 ")]);
        assert_eq!(
            page_author(&f).unwrap().as_deref(),
            Some("urn:li:organization:12345")
        );
        let f = FormFields::from_pairs([(PAGE_FIELD, "urn:li:organization:77")]);
        assert_eq!(
            page_author(&f).unwrap().as_deref(),
            Some("urn:li:organization:77")
        );
        assert_eq!(page_author(&FormFields::default()).unwrap(), None);
        let err = page_author(&FormFields::from_pairs([(PAGE_FIELD, "acme/../x")])).unwrap_err();
        assert_eq!(
            err.message(),
            "`target_linkedin_page_id` must be the numeric id of a LinkedIn page (as in \
             urn:li:organization:12345); got \"acme/../x\"."
        );
    }
}
