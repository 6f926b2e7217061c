//! fanout benchmarks.
