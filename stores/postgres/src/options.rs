//! [`PostgresOptions`]: the pool size, the schema and the timeouts of a
//! [`crate::PostgresStore`].

use std::time::Duration;

/// How [`crate::PostgresStore::connect`] opens the store. Start from
/// [`PostgresOptions::default`] and change what you need:
///
/// ```
/// use std::time::Duration;
/// use fanout_postgres::PostgresOptions;
///
/// let options = PostgresOptions::default()
///     .with_pool_size(8)
///     .with_schema("fanout")
///     .with_acquire_timeout(Duration::from_secs(5));
/// assert_eq!(options.pool_size, 8);
/// assert_eq!(options.schema.as_deref(), Some("fanout"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// Most connections this store (this instance) keeps open at once; default 16. The
    /// server's `max_connections` must cover the pool sizes of every instance together.
    pub pool_size: usize,
    /// The PostgreSQL schema to keep the tables in, created when missing; `None` (the
    /// default) uses the connection's own `search_path` (normally `public`). Lowercase
    /// ASCII letters, digits and `_`, starting with a letter or `_`, at most 63 bytes.
    /// A dedicated schema (say `fanout`) keeps the tables apart from the host
    /// application's.
    pub schema: Option<String>,
    /// How long opening one connection may take; default 10 s.
    pub connect_timeout: Duration,
    /// How long a call waits for a free connection from the pool before failing as
    /// unavailable; default 10 s.
    pub acquire_timeout: Duration,
    /// How long [`fanout_core::AccountDirectory::lock_connection`] waits for another
    /// instance to finish refreshing the same connection before failing as
    /// unavailable; default 30 s.
    pub lock_timeout: Duration,
    /// The `application_name` the connections report to the server (seen in
    /// `pg_stat_activity`) unless the URL sets one; default `fanout`.
    pub application_name: String,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            schema: None,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(30),
            application_name: "fanout".to_string(),
        }
    }
}

impl PostgresOptions {
    /// The same options with [`PostgresOptions::pool_size`] set.
    pub fn with_pool_size(mut self, pool_size: usize) -> Self {
        self.pool_size = pool_size;
        self
    }

    /// The same options with [`PostgresOptions::schema`] set.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The same options with [`PostgresOptions::connect_timeout`] set.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The same options with [`PostgresOptions::acquire_timeout`] set.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The same options with [`PostgresOptions::lock_timeout`] set.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The same options with [`PostgresOptions::application_name`] set.
    pub fn with_application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }
}

/// Whether `name` is a schema name this crate accepts (see
/// [`PostgresOptions::schema`]): safe to put into `search_path` and DDL unquoted.
pub(crate) fn valid_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= 63
        && (first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with("pg_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        for ok in ["fanout", "_x", "fanout_test_0a1b", "a"] {
            assert!(valid_schema_name(ok), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "Fanout",
            "1abc",
            "a-b",
            "a b",
            "a\"b",
            "pg_temp",
            long.as_str(),
        ] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
    }
}
