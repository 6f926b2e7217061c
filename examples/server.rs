//! The fanout server: `cargo run --release --example server`.
//!
//! Reads the TOML file named by `FANOUT_CONFIG` (and `FANOUT_*` environment
//! overrides). Without any config it runs in sandbox mode: the three fake platforms
//! run in-process and a demo account (`Apikey sandbox-key`, `user=main`) is seeded.

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
