//! fanout stores in one SQLite file.
