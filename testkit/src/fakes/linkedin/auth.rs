//! Who is calling: the bearer token, and the versioning headers every `/rest` call
//! needs. Also `GET /v2/userinfo` (OpenID Connect).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::errors;
use super::state::{Member, Shared};
use crate::fakes::oauth::Refusal;

/// The oldest `LinkedIn-Version` the fake serves.
const OLDEST_VERSION: u32 = 202401;
/// The newest `LinkedIn-Version` the fake serves.
const NEWEST_VERSION: u32 = 203012;

/// The member behind `Authorization: Bearer <token>`.
pub(crate) fn member(shared: &Shared, headers: &HeaderMap) -> Result<Member, Response> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Err(errors::invalid_token());
    };
    let member = shared.lock().oauth.authenticate(token);
    match member {
        Err(Refusal::Expired) => Err(errors::expired_token()),
        _ if token.starts_with("revoked") => Err(errors::revoked_token()),
        member => member.map_err(|_| errors::invalid_token()),
    }
}

/// A `/rest` call: a known token, an active `LinkedIn-Version` (`YYYYMM` or
/// `YYYYMM.RR`) and `X-Restli-Protocol-Version: 2.0.0`.
pub(crate) fn rest_call(shared: &Shared, headers: &HeaderMap) -> Result<Member, Response> {
    let member = member(shared, headers)?;
    let Some(version) = headers.get("linkedin-version") else {
        return Err(errors::version_missing());
    };
    let version = version.to_str().unwrap_or("").trim();
    if !version_is_active(version) {
        return Err(errors::version_inactive(version));
    }
    match headers
        .get("x-restli-protocol-version")
        .and_then(|v| v.to_str().ok())
    {
        Some("2.0.0") => Ok(member),
        _ => Err(errors::protocol_missing()),
    }
}

fn version_is_active(version: &str) -> bool {
    let (month, revision) = match version.split_once('.') {
        Some((m, r)) => (m, Some(r)),
        None => (version, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(month, 6) || revision.is_some_and(|r| !digits(r, 2)) {
        return false;
    }
    let Ok(n) = month.parse::<u32>() else {
        return false;
    };
    (OLDEST_VERSION..=NEWEST_VERSION).contains(&n) && (1..=12).contains(&(n % 100))
}

/// `GET /v2/userinfo`: the member's OpenID Connect claims.
pub(crate) async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match member(&shared, &headers) {
        Ok(member) => Json(json!({
            "sub": member.person_id,
            "name": member.name,
            "email_verified": true,
            "locale": { "country": "US", "language": "en" },
        }))
        .into_response(),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::version_is_active;

    #[test]
    fn versions() {
        assert!(version_is_active("202510"));
        assert!(version_is_active("202510.01"));
        assert!(!version_is_active("202513"));
        assert!(!version_is_active("201901"));
        assert!(!version_is_active("2025-10"));
        assert!(!version_is_active(""));
    }
}
