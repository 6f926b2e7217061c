//! The fanout server as a program of its own: what `cargo run --example server` runs,
//! installed with the `fanout-server` package (and what the process tests start, stop
//! with SIGTERM and kill with SIGKILL).
//!
//! Reads the TOML file named by `FANOUT_CONFIG` (and `FANOUT_*` environment
//! overrides), prints `fanout listening on http://<addr>` and serves until Ctrl-C or
//! SIGTERM.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match fanout_server::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fanout: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
