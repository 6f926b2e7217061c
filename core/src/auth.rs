//! Authentication: `Authorization: Apikey <key>` or `Authorization: Bearer <jwt>`.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::accounts::{Account, AccountDirectory, ApiKeyHash};
use crate::api_error::ApiError;

/// The claims fanout reads from a Bearer JWT: `sub` names the account, `exp` is
/// required, and a token with `nbf` (not before) in the future is refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The account name.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// Checks credentials against the account directory.
#[derive(Clone)]
pub struct Authenticator {
    jwt_key: Option<DecodingKey>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("jwt", &self.jwt_key.is_some())
            .finish()
    }
}

impl Authenticator {
    /// Bearer tokens are verified with HS256 and `jwt_secret`; without a secret every
    /// Bearer token is refused.
    pub fn new(jwt_secret: Option<&SecretString>) -> Self {
        Self {
            jwt_key: jwt_secret.map(|s| DecodingKey::from_secret(s.expose_secret().as_bytes())),
        }
    }

    /// Resolves the `Authorization` header to an account, with the contract's 401 and
    /// 404 answers.
    pub async fn authenticate(
        &self,
        directory: &dyn AccountDirectory,
        authorization: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Account, ApiError> {
        let header = authorization
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Authorization header required"))?;
        let (scheme, credential) = header.split_once(' ').unwrap_or((header, ""));
        let credential = credential.trim();
        if scheme.eq_ignore_ascii_case("apikey") {
            self.by_api_key(directory, credential, now).await
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.by_jwt(directory, credential, now).await
        } else {
            Err(ApiError::unauthorized(
                "Unsupported Authorization scheme: use `Apikey <key>` or `Bearer <token>`",
            ))
        }
    }

    async fn by_api_key(
        &self,
        directory: &dyn AccountDirectory,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Account, ApiError> {
        if key.is_empty() {
            return Err(ApiError::unauthorized("Invalid API key"));
        }
        let hash = ApiKeyHash::of(key);
        let account = directory
            .find_by_api_key(&hash)
            .await
            .map_err(|e| {
                ApiError::internal("The account store is unavailable; try again later", &e)
            })?
            .filter(|a| a.api_key_hash.is_some_and(|h| h.ct_matches(&hash)))
            .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
        if account.api_key_expires_at.is_some_and(|at| at <= now) {
            return Err(ApiError::unauthorized("API key expired"));
        }
        Ok(account)
    }

    /// A Bearer JWT: HS256, `exp` and `sub` required, `exp` and `nbf` checked without
    /// leeway; the account it names must exist (404) and its API key must not have
    /// expired (a token is no way around an expired key).
    async fn by_jwt(
        &self,
        directory: &dyn AccountDirectory,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Account, ApiError> {
        let invalid = || ApiError::unauthorized("Invalid or expired token");
        let key = self.jwt_key.as_ref().ok_or_else(invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|_| invalid())?
            .claims;
        let account = directory
            .find_by_name(&claims.sub)
            .await
            .map_err(|e| {
                ApiError::internal("The account store is unavailable; try again later", &e)
            })?
            .ok_or_else(|| ApiError::new(404, "User not found"))?;
        if account.api_key_expires_at.is_some_and(|at| at <= now) {
            return Err(ApiError::unauthorized("API key expired"));
        }
        Ok(account)
    }
}
