//! [`SqliteStore`]: one SQLite connection behind a mutex, used from
//! `tokio::task::spawn_blocking` so SQLite never blocks the async executor.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use fanout_core::StoreError;
use rusqlite::Connection;

use crate::errors::open_failed;
use crate::schema::{self, MigrateError, SCHEMA_VERSION};

/// Accounts, usage counters, jobs and OAuth connect state in one SQLite file;
/// implements [`fanout_core::AccountDirectory`], [`fanout_core::UsageStore`],
/// [`fanout_core::JobStore`] and [`fanout_core::ConnectStateStore`].
///
/// Cheap to clone: clones share one connection. Every call runs on tokio's blocking
/// pool. `admit` checks and counts inside one `BEGIN IMMEDIATE` transaction, so it is
/// exact across concurrent callers, across clones, and across several stores (or
/// processes) opened on the same file.
///
/// The file holds the platforms' OAuth tokens as given: protect it (and its `-wal` /
/// `-shm` files) like a secrets file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the store at `path`: creates or migrates the
    /// schema, and sets WAL journal mode, `synchronous=NORMAL`, a 10 s busy timeout and
    /// foreign keys on. Fails with a sentence naming the path when the file cannot be
    /// opened or was written by a newer fanout.
    ///
    /// On Unix a new file is created readable and writable by its owner only (`0600`),
    /// since it will hold OAuth tokens; SQLite gives its `-wal` and `-shm` files the same
    /// permissions. An existing file's permissions are left as they are. The path
    /// `:memory:` means [`SqliteStore::open_in_memory`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if path.as_os_str() == ":memory:" {
            return Self::open_in_memory();
        }
        create_private(path)?;
        let conn = Connection::open(path).map_err(|err| open_failed(path, err))?;
        Self::prepare(conn, Some(path.to_path_buf()), true)
    }

    /// A store in memory: the same schema and behaviour, lost when the last clone is
    /// dropped, not shared with any other store.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn =
            Connection::open_in_memory().map_err(|err| open_failed(Path::new(":memory:"), err))?;
        Self::prepare(conn, None, false)
    }

    fn prepare(
        mut conn: Connection,
        path: Option<PathBuf>,
        file_backed: bool,
    ) -> Result<Self, StoreError> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        schema::configure(&conn, file_backed).map_err(|err| open_failed(&shown, err))?;
        schema::migrate(&mut conn).map_err(|err| match err {
            MigrateError::Sqlite(err) => open_failed(&shown, err),
            MigrateError::TooNew(found) => StoreError::invalid(format!(
                "the SQLite store at {} has schema version {found}, newer than this \
                 fanout understands ({SCHEMA_VERSION}) — upgrade fanout or open another file",
                shown.display()
            )),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                path,
            }),
        })
    }

    /// The file this store was opened on; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Whether the file answers and its schema is [`SCHEMA_VERSION`] (another process
    /// may have upgraded it since this one opened it).
    pub(crate) async fn check_ready(&self) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            let version: i64 = conn
                .pragma_query_value(None, "user_version", |row| row.get(0))
                .map_err(|e| crate::errors::failed("read its schema version", e))?;
            if version == SCHEMA_VERSION {
                Ok(())
            } else {
                Err(StoreError::unavailable(format!(
                    "the SQLite store's schema is version {version}, this fanout uses \
                     {SCHEMA_VERSION} — restart with the fanout version that matches the file"
                )))
            }
        })
        .await
    }

    /// Runs `work` with the connection on tokio's blocking pool.
    pub(crate) async fn with_conn<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.conn);
            work(&mut conn)
        })
        .await
        .map_err(|err| {
            StoreError::other(format!(
                "the SQLite store's worker task failed ({err}) — this is a bug in fanout; \
                 the transaction was rolled back, so retrying is safe"
            ))
        })?
    }
}

/// Creates `path` as an empty owner-only file when it does not exist yet.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(StoreError::unavailable(format!(
            "could not open the SQLite store at {}: {err} — check the path is writable \
             and its directory exists",
            path.display()
        ))
        .with_source(err)),
    }
}

/// Locks the connection. A panic while holding it cannot leave a transaction open
/// (rusqlite rolls back on drop), so a poisoned lock is taken over.
fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
