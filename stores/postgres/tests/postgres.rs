//! fanout-postgres against a real PostgreSQL (127.0.0.1:5432, user `postgres`, database
//! `test`, or `FANOUT_TEST_POSTGRES_URL`). Each test works in a schema of its own with a
//! random name, dropped when the test ends, so tests run in parallel and leave nothing
//! behind. When PostgreSQL does not answer, every test fails saying how to start it.
//!
//! Modules: `support` (schemas and stores), `checks` (the shared store checks from
//! `fanout_testkit::stores`), `races` (several stores, as several instances, on one
//! schema), `shared` (the connection lock, media links and readiness across
//! instances), `migrations` (opening, versions, refusals).

mod postgres {
    pub mod checks;
    pub mod migrations;
    pub mod races;
    pub mod shared;
    pub mod support;
}
