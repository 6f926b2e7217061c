//! Hardening, through the real server over real sockets: each module holds the tests of
//! one group of the hardening issue (outbound fetches, parsers and bounds, slow and
//! idle clients, secrets and leftovers, brute force and observability). Slow-client
//! tests use short configured timeouts; every wait polls a condition.

#![allow(clippy::unwrap_used)]

mod support;

mod hardening {
    pub mod clients;
    pub mod fetch;
    pub mod parsers;
    pub mod secrets;
}
