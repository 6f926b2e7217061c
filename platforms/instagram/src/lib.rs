//! fanout publisher for the Instagram Graph API content publishing.
#![forbid(unsafe_code)]
