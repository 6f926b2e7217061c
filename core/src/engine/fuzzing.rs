//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the engine's form
//! validation, which is otherwise only reachable through a whole upload.

use crate::accounts::Account;
use crate::api_error::ApiError;
use crate::form::ParsedForm;

pub use super::validate::Endpoint;

/// Validates `form` for `endpoint` as an upload of `account` would be, with
/// `is_known_platform` saying which platform ids exist; answers the requested
/// platforms (lowercase, deduplicated, in request order) or the contract's 400.
pub fn validate(
    endpoint: Endpoint,
    form: ParsedForm,
    account: &Account,
    is_known_platform: impl Fn(&str) -> bool,
) -> Result<Vec<String>, ApiError> {
    super::validate::validate(endpoint, form, account, is_known_platform).map(|v| v.platforms)
}
