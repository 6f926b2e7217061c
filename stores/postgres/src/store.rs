//! [`PostgresStore`]: a pool of connections to one PostgreSQL database (and schema),
//! migrated when opened.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use fanout_core::StoreError;
use tokio_postgres::config::Host;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{NoTls, Row};
use tracing::info;

use crate::errors::{corrupt, failed, pool_failed};
use crate::options::{valid_schema_name, PostgresOptions};
use crate::schema::{self, MigrateError, SCHEMA_VERSION};

/// Accounts, usage counters, jobs, OAuth connect state and media links in one
/// PostgreSQL database, shared by every instance that opens it; implements
/// [`fanout_core::AccountDirectory`], [`fanout_core::UsageStore`],
/// [`fanout_core::JobStore`], [`fanout_core::ConnectStateStore`] and
/// [`fanout_core::MediaLinkStore`].
///
/// Cheap to clone: clones share one pool. What holds across instances (each with its
/// own store and pool): an admission counts in one transaction with the counters
/// locked, so a limit of N admits exactly N; an update writes only at the version it
/// read; an idempotency key makes one job; a connection state is taken once; a
/// connection's token refresh runs on one instance at a time.
///
/// The tables hold the platforms' OAuth tokens as given: protect the database, its
/// backups and the store URL like secrets.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    schema: Option<String>,
    /// How long a connection lock may be waited for.
    lock_timeout: Duration,
    /// `user@host:port/database`, for messages (never the password).
    target: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.inner.target)
            .field("schema", &self.inner.schema)
            .field("pool_size", &self.inner.pool.status().max_size)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the store at `url` (`postgres://user:password@host:port/database`, or the
    /// key-value form `host=… user=… dbname=…`) and brings its tables to
    /// [`SCHEMA_VERSION`], creating the schema of [`PostgresOptions::schema`] when
    /// missing. Several instances may open one database at once: they migrate once.
    ///
    /// Fails (never with the password in the message) when the URL or the options are
    /// invalid, when the server cannot be reached or refuses the login, and when the
    /// schema was written by a newer fanout ([`fanout_core::StoreErrorKind::Invalid`],
    /// saying which version it found). Connections are made without TLS: reach the
    /// server over a trusted network, a local socket or a TLS-terminating proxy.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|err| {
            StoreError::invalid(format!(
                "the PostgreSQL store URL is not valid ({err}) — write it as \
                 postgres://user:password@host:5432/database"
            ))
            .with_source(err)
        })?;
        if options.pool_size == 0 {
            return Err(StoreError::invalid(
                "the PostgreSQL store's pool size is 0 — give it at least one connection",
            ));
        }
        if let Some(schema) = &options.schema {
            if !valid_schema_name(schema) {
                return Err(StoreError::invalid(format!(
                    "the PostgreSQL schema name {schema:?} is not accepted — use lowercase \
                     ASCII letters, digits and _, starting with a letter or _, at most 63 \
                     bytes, not starting with pg_"
                )));
            }
            let mut server_options = config.get_options().unwrap_or_default().to_string();
            if !server_options.is_empty() {
                server_options.push(' ');
            }
            server_options.push_str(&format!("-c search_path={schema}"));
            config.options(server_options);
        }
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name(options.application_name.clone());
        }
        let target = describe_target(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|err| {
                StoreError::other(format!(
                    "could not build the PostgreSQL store's connection pool: {err} — this \
                     is a bug in fanout"
                ))
            })?;
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                schema: options.schema,
                lock_timeout: options.lock_timeout,
                target,
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self
            .client(&format!("open its database at {}", self.inner.target))
            .await?;
        let shown = self.shown_schema();
        match schema::migrate(&mut client, self.schema()).await {
            Ok(found) if found < SCHEMA_VERSION => {
                info!(
                    target = %self.inner.target,
                    schema = %shown,
                    from = found,
                    to = SCHEMA_VERSION,
                    "migrated the PostgreSQL store"
                );
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(MigrateError::Store(err)) => {
                let message = format!("{} (at {}, {shown})", err.message(), self.inner.target);
                Err(StoreError::new(err.kind(), message).with_source(err))
            }
            Err(MigrateError::TooNew(found)) => Err(StoreError::invalid(format!(
                "the PostgreSQL store at {}, {shown}, has schema version {found}, newer than \
                 this fanout understands ({SCHEMA_VERSION}) — upgrade fanout or point it at \
                 another database or schema",
                self.inner.target
            ))),
        }
    }

    /// The schema the tables live in, when one was given.
    pub fn schema(&self) -> Option<&str> {
        self.inner.schema.as_deref()
    }

    /// The schema's version as stored now (the highest migration applied).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let client = self.client("read its schema version").await?;
        schema::read_version(&client).await
    }

    /// Whether the store is ready to serve (for a readiness probe): a connection can be
    /// had and the schema is at [`SCHEMA_VERSION`]. The error says what is wrong.
    pub async fn check_ready(&self) -> Result<(), StoreError> {
        let version = self.schema_version().await?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::unavailable(format!(
                "the PostgreSQL store at {}, {}, has schema version {version}, but this \
                 fanout needs {SCHEMA_VERSION} — another instance changed it; restart this \
                 instance with a matching fanout",
                self.inner.target,
                self.shown_schema()
            )));
        }
        Ok(())
    }

    /// Closes the pool: connections are closed as they are returned, and later calls
    /// fail as unavailable.
    pub fn close(&self) {
        self.inner.pool.close();
    }

    fn shown_schema(&self) -> String {
        match self.schema() {
            Some(schema) => format!("schema {schema}"),
            None => "the default schema".to_string(),
        }
    }

    /// How long [`fanout_core::AccountDirectory::lock_connection`] waits.
    pub(crate) fn lock_timeout(&self) -> Duration {
        self.inner.lock_timeout
    }

    /// `user@host:port/database`, for messages.
    pub(crate) fn target(&self) -> &str {
        &self.inner.target
    }

    /// A connection from the pool, to `what`.
    pub(crate) async fn client(&self, what: &str) -> Result<Object, StoreError> {
        self.inner
            .pool
            .get()
            .await
            .map_err(|err| pool_failed(what, err))
    }
}

/// `user@host:port/database` of `config`, without the password.
fn describe_target(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("(default user)"),
        config.get_dbname().unwrap_or("(default database)")
    )
}

/// Column `index` of `row`, read as `T`; a value of another type is corrupt.
pub(crate) fn column<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    what: &str,
) -> Result<T, StoreError> {
    row.try_get(index).map_err(|_| {
        corrupt(format_args!(
            "{what} (column {index} has an unexpected type)"
        ))
    })
}

/// Statement parameters.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Runs `sql` (prepared once per connection) and returns its rows.
pub(crate) async fn query<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Params<'_>,
    what: &str,
) -> Result<Vec<Row>, StoreError> {
    let statement = client
        .prepare_cached(sql)
        .await
        .map_err(|e| failed(what, e))?;
    client
        .query(&statement, params)
        .await
        .map_err(|e| failed(what, e))
}

/// Runs `sql` (prepared once per connection) and returns its first row, if any.
pub(crate) async fn query_opt<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Params<'_>,
    what: &str,
) -> Result<Option<Row>, StoreError> {
    Ok(query(client, sql, params, what).await?.into_iter().next())
}

/// Runs `sql` (prepared once per connection) and returns how many rows it changed.
pub(crate) async fn execute<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Params<'_>,
    what: &str,
) -> Result<u64, StoreError> {
    let statement = client
        .prepare_cached(sql)
        .await
        .map_err(|e| failed(what, e))?;
    client
        .execute(&statement, params)
        .await
        .map_err(|e| failed(what, e))
}
