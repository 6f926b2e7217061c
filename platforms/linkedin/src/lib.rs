//! fanout publisher for the LinkedIn Posts, Videos and Images APIs.
#![forbid(unsafe_code)]
