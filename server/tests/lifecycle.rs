//! Start-up, restart and shutdown behaviour of the ready server.

mod support;

use std::time::Duration;

use fanout_server::App;
use fanout_server::Config;
use fanout_testkit::media::mp4_bytes;
use fanout_testkit::{FakePlatform, Fault, FaultKind};
use support::*;

fn sqlite_config(path: &std::path::Path) -> String {
    config("monthly_uploads = 120", "li-token-acme").replace(
        "[store]\nkind = \"memory\"",
        &format!("[store]\nkind = \"sqlite\"\npath = \"{}\"", path.display()),
    )
}

#[tokio::test]
async fn usage_counts_survive_a_restart_with_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanout.db");
    for expected in 1..=2 {
        let server = start(&sqlite_config(&db)).await;
        let (status, body) = post(
            &server.base_url,
            "/api/upload",
            "ak_acme",
            video_form(mp4_bytes(100_000), &["tiktok"]),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["usage"]["count"], expected);
        server.stop().await;
    }
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    shutdown_finishes_requests_in_flight_on(Host::Axum).await;
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_through_actix() {
    shutdown_finishes_requests_in_flight_on(Host::Actix).await;
}

async fn shutdown_finishes_requests_in_flight_on(host: Host) {
    let mut server = start_on(host, &config("monthly_uploads = 120", "li-token-acme")).await;
    server
        .sandbox
        .tiktok
        .inject(Fault::on("", FaultKind::Delay(Duration::from_millis(400))).always());
    let base = server.base_url.clone();
    let request = tokio::spawn(async move {
        post(
            &base,
            "/api/upload",
            "ak_acme",
            video_form(mp4_bytes(100_000), &["tiktok"]),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.server.trigger_stop();
    let (status, body) = request.await.expect("the upload's task");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    server.server.wait().await.expect("a clean stop");
}

#[tokio::test]
async fn the_documented_example_config_is_accepted() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fanout.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let config = Config::from_toml(&text).unwrap();
    assert_eq!(config.addr, "127.0.0.1:8080");
    assert_eq!(config.plans["pro"].daily_uploads_per_account, Some(5));
    assert_eq!(config.accounts[0].profiles[0].connections.len(), 3);
}

#[tokio::test]
async fn a_busy_address_is_explained() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = Config::from_toml("[store]\nkind = \"memory\"").unwrap();
    config.addr = taken.local_addr().unwrap().to_string();
    let err = App::build(config).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "could not listen on {}",
            taken.local_addr().unwrap()
        )),
        "{err}"
    );
    assert!(
        err.ends_with("is another process using that address?"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_concurrent_uploads_against_twenty_with_the_default_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let toml = sqlite_config(&dir.path().join("fanout.db"))
        .replace("monthly_uploads = 120", "monthly_uploads = 20");
    let server = start(&toml).await;
    let mut requests = Vec::new();
    for _ in 0..60 {
        let base = server.base_url.clone();
        requests.push(tokio::spawn(async move {
            post(
                &base,
                "/api/upload",
                "ak_acme",
                video_form(mp4_bytes(50_000), &["tiktok"]),
            )
            .await
        }));
    }
    let mut admitted = Vec::new();
    let mut refused = 0;
    for request in requests {
        match request.await.unwrap() {
            (200, body) => admitted.push(body["usage"]["count"].as_u64().unwrap()),
            (429, body) => {
                assert_eq!(
                    body["message"],
                    "You have reached your monthly limit of 20 uploads"
                );
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    admitted.sort_unstable();
    assert_eq!(admitted, (1..=20).collect::<Vec<u64>>());
    assert_eq!(refused, 40);
    assert_eq!(server.sandbox.tiktok.published().len(), 20);
    server.stop().await;
}
