//! Checks every account directory and usage store must pass (being written).
