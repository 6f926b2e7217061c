//! No secrets by accident: outside sandbox mode the server refuses to start with a
//! placeholder secret (`change-me`, `secret`, `example`, the sandbox's demo key …)
//! or a `jwt_secret` shorter than [`MIN_JWT_SECRET_BYTES`], naming the key.

use secrecy::ExposeSecret;

use crate::config::{Config, ConfigError};

/// The shortest `jwt_secret` accepted outside sandbox mode (HS256 wants at least as
/// many bytes as its hash).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Normalized (lower case, letters and digits only) values that are never secrets.
const PLACEHOLDERS: &[&str] = &[
    "secret",
    "example",
    "password",
    "placeholder",
    "todo",
    "fixme",
    "xxx",
    "test",
    "demo",
    "sandboxkey",
    "accesstoken",
    "tiktokaccesstoken",
    "instagramaccesstoken",
    "linkedinaccesstoken",
    "refreshtoken",
    "clientsecret",
    "apikey",
];

/// Normalized fragments that mark a placeholder wherever they appear.
const PLACEHOLDER_PARTS: &[&str] = &["changeme", "replaceme", "yoursecret", "yourkey"];

/// Whether `value` is a known placeholder rather than a secret.
pub fn is_placeholder(value: &str) -> bool {
    let normalized: String = value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    normalized.is_empty()
        || PLACEHOLDERS.contains(&normalized.as_str())
        || PLACEHOLDER_PARTS
            .iter()
            .any(|part| normalized.contains(part))
}

/// Outside sandbox mode: refuses placeholder secrets anywhere in the config (the JWT
/// secret, API keys, configured access and refresh tokens, and every platform key
/// whose name says secret, token, key or password) and a short `jwt_secret`. In
/// sandbox mode nothing is checked.
pub fn check(config: &Config) -> Result<(), ConfigError> {
    if config.sandbox {
        return Ok(());
    }
    let refuse = |key: String| {
        ConfigError::insecure(format!(
            "`{key}` is a placeholder, not a secret; set a real one (or run with sandbox = true)"
        ))
    };
    if let Some(secret) = &config.jwt_secret {
        let secret = secret.expose_secret();
        if is_placeholder(secret) {
            return Err(refuse("jwt_secret".into()));
        }
        if secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError::insecure(format!(
                "`jwt_secret` is {} bytes long; outside sandbox mode it must have at least \
                 {MIN_JWT_SECRET_BYTES} (e.g. `openssl rand -hex 32`)",
                secret.len()
            )));
        }
    }
    for account in &config.accounts {
        let name = &account.name;
        if let Some(key) = &account.api_key {
            if is_placeholder(key.expose_secret()) {
                return Err(refuse(format!("accounts.{name}.api_key")));
            }
        }
        for profile in &account.profiles {
            for (platform, connection) in &profile.connections {
                let at = format!(
                    "accounts.{name}.profiles.{}.connections.{platform}",
                    profile.username
                );
                if is_placeholder(connection.access_token()) {
                    return Err(refuse(format!("{at}.access_token")));
                }
                if let Some(token) = &connection.refresh_token {
                    if is_placeholder(token.expose_secret()) {
                        return Err(refuse(format!("{at}.refresh_token")));
                    }
                }
            }
        }
    }
    for (platform, section) in &config.platforms {
        if let Some(dict) = section.as_dict() {
            for (key, value) in dict {
                let secret_like = ["secret", "token", "key", "password"]
                    .iter()
                    .any(|word| key.to_ascii_lowercase().contains(word));
                if let (true, Some(value)) = (secret_like, value.as_str()) {
                    if is_placeholder(value) {
                        return Err(refuse(format!("platforms.{platform}.{key}")));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for value in [
            "change-me",
            "changeme",
            "CHANGE_ME",
            "ak_change_me",
            "secret",
            "example",
            "sandbox-key",
            "tiktok-access-token",
            "",
        ] {
            assert!(is_placeholder(value), "{value}");
        }
        for value in ["ak_acme", "9f2c1e7a4b", "tt-token-acme"] {
            assert!(!is_placeholder(value), "{value}");
        }
    }

    fn real(extra: &str) -> Result<(), ConfigError> {
        check(&Config::from_toml(&format!("sandbox = false\n{extra}")).unwrap())
    }

    #[test]
    fn outside_the_sandbox_placeholders_and_short_jwt_secrets_refuse_to_start() {
        let err = real("jwt_secret = \"change-me\"").unwrap_err().to_string();
        assert!(err.contains("`jwt_secret`"), "{err}");
        let err = real("jwt_secret = \"0123456789abcdef\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`jwt_secret` is 16 bytes"), "{err}");
        real("jwt_secret = \"0123456789abcdef0123456789abcdef\"").unwrap();
        let err = real(
            "[plans.p]\nmonthly_uploads = 1\n[[accounts]]\nname = \"a\"\nplan = \"p\"\napi_key = \"ak_change_me\"",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`accounts.a.api_key`"), "{err}");
        let err = real("[platforms.tiktok]\nclient_secret = \"changeme\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`platforms.tiktok.client_secret`"), "{err}");
        check(&Config::from_toml("sandbox = true\njwt_secret = \"change-me\"").unwrap()).unwrap();
    }
}
