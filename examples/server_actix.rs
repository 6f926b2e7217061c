//! The fanout server on actix-web: `cargo run --release --example server_actix`.
//!
//! The same server as the `server` example — the same config file and `FANOUT_*`
//! environment overrides, the same stores, sandbox and job runner — served by
//! actix-web instead of axum. Without any config it runs in sandbox mode: the three
//! fake platforms run in-process and a demo account (`Apikey sandbox-key`,
//! `user=main`) is seeded.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match fanout_server::run_actix().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fanout: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
