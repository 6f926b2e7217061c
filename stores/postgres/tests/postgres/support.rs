//! Test schemas: a random schema per test, dropped on drop (even when the test
//! panics), and stores opened on it.

use std::sync::Arc;

use fanout_postgres::{PostgresOptions, PostgresStore};
use rand::Rng;
use tokio_postgres::NoTls;

/// Where the tests find PostgreSQL.
pub fn url() -> String {
    std::env::var("FANOUT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// The sentence a test fails with when PostgreSQL does not answer.
fn not_answering(err: impl std::fmt::Display) -> String {
    format!(
        "PostgreSQL does not answer at {} ({err}). These tests need a running server: \
         start it (e.g. `pg_ctlcluster 15 main start` or `service postgresql start`; \
         check with `pg_isready -h 127.0.0.1`), make sure user `postgres` may log in \
         (trust auth) and database `test` exists (`createdb -h 127.0.0.1 -U postgres \
         test`), or set FANOUT_TEST_POSTGRES_URL to a server that does.",
        url()
    )
}

/// A raw connection for the tests' own SQL.
pub async fn raw() -> tokio_postgres::Client {
    let (client, connection) = match tokio_postgres::connect(&url(), NoTls).await {
        Ok(pair) => pair,
        Err(err) => panic!("{}", not_answering(err)),
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A schema of its own for one test, dropped (with everything in it) on drop.
pub struct TestSchema {
    name: String,
}

impl TestSchema {
    /// A fresh name; the schema itself is created by the first store opened on it.
    pub fn new() -> Self {
        let suffix: u64 = rand::thread_rng().gen();
        Self {
            name: format!("fanout_test_{suffix:016x}"),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The options of a store on this schema with `pool_size` connections.
    pub fn options(&self, pool_size: usize) -> PostgresOptions {
        PostgresOptions::default()
            .with_pool_size(pool_size)
            .with_schema(self.name.clone())
    }

    /// A store on this schema (as one instance would open it).
    pub async fn open(&self, pool_size: usize) -> PostgresStore {
        match PostgresStore::connect(&url(), self.options(pool_size)).await {
            Ok(store) => store,
            Err(err) if err.kind() == fanout_core::StoreErrorKind::Unavailable => {
                panic!("{}", not_answering(err))
            }
            Err(err) => panic!("could not open a store on schema {}: {err}", self.name),
        }
    }

    /// `n` stores on this schema, each with its own pool, as `n` instances.
    pub async fn instances(&self, n: usize, pool_size: usize) -> Vec<Arc<PostgresStore>> {
        let mut stores = Vec::new();
        for _ in 0..n {
            stores.push(Arc::new(self.open(pool_size).await));
        }
        stores
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        // Drop may run inside the test's runtime (or while it unwinds): use a thread
        // with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url(), NoTls)
                    .await
                    .map_err(|err| err.to_string())?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|err| err.to_string())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not drop test schema {}: {err}", self.name),
            Err(_) => eprintln!("dropping test schema {} panicked", self.name),
        }
    }
}
