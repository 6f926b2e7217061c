//! fanout publisher for the TikTok Content Posting API.
#![forbid(unsafe_code)]
