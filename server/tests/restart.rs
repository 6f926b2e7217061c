//! Restarting the server on the same SQLite file keeps what it learned at run time
//! (refreshed tokens, connections and profiles made while running) and applies what
//! the operator changed in the config (API key, plan).
//!
//! The platforms are the testkit fakes, started by the test apart from fanout (as a
//! real platform would be, `sandbox = false`) so they outlive the restart; only the
//! fanout App is stopped and built again.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, Utc};
use fanout_core::secrecy::ExposeSecret;
use fanout_core::{AccountDirectory, Connection};
use fanout_server::Config;
use fanout_server::{App, RunningServer};
use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::media::mp4_bytes;
use fanout_testkit::FakePlatform;
use serde_json::{json, Value};

const TT_CLIENT: &str = "tt-client";
const TT_SECRET: &str = "tt-secret";
const RECONNECT: &str = "Your TikTok session has expired. Please reconnect your TikTok account. \
                         Go to Manage Users, remove the account, and connect it again.";

/// The platforms, started once per test and kept across restarts.
struct Fakes {
    tiktok: FakeTikTok,
    linkedin: FakeLinkedIn,
}

impl Fakes {
    async fn start() -> Self {
        let tiktok = FakeTikTok::spawn().await.unwrap();
        tiktok.set_client(TT_CLIENT, TT_SECRET);
        Self {
            tiktok,
            linkedin: FakeLinkedIn::spawn().await.unwrap(),
        }
    }
}

/// What the operator writes in the config; the rest is fixed.
struct Operator<'a> {
    db: &'a Path,
    api_key: &'a str,
    monthly_uploads: u64,
    /// Profile `main`'s TikTok connection.
    tiktok: &'a Connection,
}

/// A config with `sandbox = false`, the SQLite store at `db` (media beside it),
/// account `acme` with profile `main` connected to TikTok, and the publishers pointed
/// at the fakes.
fn config(fakes: &Fakes, op: &Operator<'_>) -> Config {
    let tiktok = op.tiktok;
    let refresh = tiktok
        .refresh_token
        .as_ref()
        .map(|t| format!("refresh_token = \"{}\"\n", t.expose_secret()))
        .unwrap_or_default();
    let expires = tiktok
        .expires_at
        .map(|at| format!("expires_at = \"{}\"\n", at.to_rfc3339()))
        .unwrap_or_default();
    let open_id = tiktok
        .attribute("open_id")
        .map(|id| format!("open_id = \"{id}\"\n"))
        .unwrap_or_default();
    let toml = format!(
        r#"
addr = "127.0.0.1:0"
sandbox = false
[store]
kind = "sqlite"
path = "{db}"
[media]
kind = "local"
path = "{media}"
[plans.pro]
monthly_uploads = {monthly}
[[accounts]]
name = "acme"
api_key = "{api_key}"
plan = "pro"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
account_name = "{tt_name}"
access_token = "{tt_token}"
{refresh}{expires}{open_id}
[platforms.tiktok]
base_url = "{tt_url}"
oauth_base_url = "{tt_url}"
poll_interval_ms = 10
client_id = "{TT_CLIENT}"
client_secret = "{TT_SECRET}"
[platforms.linkedin]
base_url = "{li_url}"
poll_interval_ms = 10
"#,
        db = op.db.display(),
        media = op.db.with_file_name("media").display(),
        monthly = op.monthly_uploads,
        api_key = op.api_key,
        tt_name = tiktok.account_name,
        tt_token = tiktok.access_token(),
        tt_url = fakes.tiktok.base_url(),
        li_url = fakes.linkedin.base_url(),
    );
    Config::from_toml(&toml).unwrap()
}

/// Builds and starts fanout; the directory is the store the server uses.
async fn start(config: Config) -> (RunningServer, Arc<dyn AccountDirectory>) {
    let app = App::build(config).await.unwrap();
    assert!(app.sandbox().is_none());
    let directory = Arc::clone(app.engine().directory());
    (app.spawn(), directory)
}

/// A TikTok connection for `acme_tt` the fake knows, valid for a day.
fn live_tiktok(fakes: &Fakes) -> Connection {
    fakes
        .tiktok
        .refreshable_connection("acme_tt", Utc::now() + Duration::days(1))
}

fn video_form(user: &str, platforms: &[&str]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new()
        .text("user", user.to_string())
        .text("title", "fanout restart")
        .part(
            "video",
            reqwest::multipart::Part::bytes(mp4_bytes(120_000)).file_name("clip.mp4"),
        );
    for p in platforms {
        form = form.text("platform[]", p.to_string());
    }
    form
}

async fn upload(server: &RunningServer, key: &str, user: &str, platforms: &[&str]) -> (u16, Value) {
    support::post(
        server.base_url(),
        "/api/upload",
        key,
        video_form(user, platforms),
    )
    .await
}

async fn stored(
    directory: &Arc<dyn AccountDirectory>,
    profile: &str,
    platform: &str,
) -> Connection {
    directory
        .find_by_name("acme")
        .await
        .unwrap()
        .unwrap()
        .profiles[profile]
        .connections[platform]
        .clone()
}

fn refresh_token(connection: &Connection) -> String {
    connection
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string()
}

#[tokio::test]
async fn a_refreshed_token_survives_a_restart() {
    let fakes = Fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanout.db");
    // Expired an hour ago: fanout refreshes before publishing, and the fake rotates the
    // refresh token, so the configured one stops working.
    let configured = fakes
        .tiktok
        .refreshable_connection("acme_tt", Utc::now() - Duration::hours(1));
    let op = Operator {
        db: &db,
        api_key: "ak_acme",
        monthly_uploads: 10,
        tiktok: &configured,
    };

    let (server, directory) = start(config(&fakes, &op)).await;
    let (status, body) = upload(&server, "ak_acme", "main", &["tiktok"]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    assert_eq!(fakes.tiktok.refresh_calls(), 1);
    let refreshed = stored(&directory, "main", "tiktok").await;
    assert_ne!(refreshed.access_token(), configured.access_token());
    assert_ne!(refresh_token(&refreshed), refresh_token(&configured));
    server.stop().await.unwrap();
    drop(directory);

    // Same config (still naming the stale tokens), same SQLite file.
    let (server, directory) = start(config(&fakes, &op)).await;
    let (status, body) = upload(&server, "ak_acme", "main", &["tiktok"]).await;
    assert_eq!(status, 200, "{body}");
    let tiktok = &body["results"]["tiktok"];
    assert_eq!(tiktok["success"], true, "{body}");
    assert_eq!(tiktok["status"], "PUBLISH_SUCCESS", "{body}");
    assert_eq!(
        tiktok.get("error"),
        None,
        "no reconnect message ({RECONNECT}): {body}"
    );
    assert_eq!(body["usage"]["count"], 2, "{body}");
    assert_eq!(
        fakes.tiktok.refresh_calls(),
        1,
        "the refreshed token is used after the restart, not refreshed again"
    );
    assert_eq!(fakes.tiktok.published().len(), 2);
    let kept = stored(&directory, "main", "tiktok").await;
    assert_eq!(kept.access_token(), refreshed.access_token());
    assert_eq!(refresh_token(&kept), refresh_token(&refreshed));
    assert_eq!(kept.expires_at, refreshed.expires_at);
    assert_eq!(kept.attribute("open_id"), configured.attribute("open_id"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn connections_and_profiles_made_at_run_time_survive_a_restart() {
    let fakes = Fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanout.db");
    let configured = live_tiktok(&fakes);
    let op = Operator {
        db: &db,
        api_key: "ak_acme",
        monthly_uploads: 10,
        tiktok: &configured,
    };

    let (server, directory) = start(config(&fakes, &op)).await;
    // A connection saved at run time on the configured profile.
    fakes.linkedin.accept_token("li-runtime", "Acme Inc");
    directory
        .save_connection(
            "acme",
            "main",
            "linkedin",
            Connection::new("Acme Inc", "li-runtime"),
        )
        .await
        .unwrap();
    // A new profile `brand`, connected to TikTok through /api/connect.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let begin = client
        .get(format!(
            "{}/api/connect/tiktok?user=brand",
            server.base_url()
        ))
        .header("authorization", "Apikey ak_acme")
        .send()
        .await
        .unwrap();
    assert_eq!(begin.status(), 302);
    let authorize = begin.headers()["location"].to_str().unwrap().to_string();
    assert!(
        authorize.starts_with(fakes.tiktok.base_url().as_str()),
        "{authorize}"
    );
    let approved = client.get(&authorize).send().await.unwrap();
    assert_eq!(approved.status(), 302);
    let callback = approved.headers()["location"].to_str().unwrap().to_string();
    let done = client.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["success"], true, "{done}");
    assert_eq!(done["user"], "brand");
    assert_eq!(done["platform"], "tiktok");
    let connected = stored(&directory, "brand", "tiktok").await;
    server.stop().await.unwrap();
    drop(directory);

    let (server, directory) = start(config(&fakes, &op)).await;
    let account = directory.find_by_name("acme").await.unwrap().unwrap();
    assert_eq!(
        account.profiles.keys().collect::<Vec<_>>(),
        ["brand", "main"]
    );
    assert_eq!(
        account.profiles["main"]
            .connections
            .keys()
            .collect::<Vec<_>>(),
        ["linkedin", "tiktok"]
    );
    assert_eq!(
        account.profiles["main"].connections["linkedin"].access_token(),
        "li-runtime"
    );
    assert_eq!(
        account.profiles["brand"].connections["tiktok"].access_token(),
        connected.access_token()
    );

    let (status, body) = upload(&server, "ak_acme", "main", &["tiktok", "linkedin"]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    assert_eq!(body["results"]["linkedin"]["success"], true, "{body}");
    let (status, body) = upload(&server, "ak_acme", "brand", &["tiktok"]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    assert_eq!(fakes.tiktok.published().len(), 2);
    assert_eq!(fakes.linkedin.published().len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_changed_api_key_and_plan_apply_after_a_restart() {
    let fakes = Fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanout.db");
    let configured = live_tiktok(&fakes);
    let mut op = Operator {
        db: &db,
        api_key: "ak_old",
        monthly_uploads: 10,
        tiktok: &configured,
    };

    let (server, directory) = start(config(&fakes, &op)).await;
    let (status, body) = upload(&server, "ak_old", "main", &["tiktok"]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["usage"]["count"], 1, "{body}");
    assert_eq!(body["usage"]["limit"], 10, "{body}");
    // A connection made at run time, to check the operator's changes keep it.
    fakes.linkedin.accept_token("li-runtime", "Acme Inc");
    directory
        .save_connection(
            "acme",
            "main",
            "linkedin",
            Connection::new("Acme Inc", "li-runtime"),
        )
        .await
        .unwrap();
    server.stop().await.unwrap();
    drop(directory);

    op.api_key = "ak_new";
    op.monthly_uploads = 25;
    let (server, directory) = start(config(&fakes, &op)).await;
    let (status, body) = upload(&server, "ak_old", "main", &["tiktok"]).await;
    assert_eq!(
        (status, body),
        (401, json!({"success": false, "message": "Invalid API key"}))
    );
    let (status, body) = upload(&server, "ak_new", "main", &["tiktok", "linkedin"]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    assert_eq!(body["results"]["linkedin"]["success"], true, "{body}");
    assert_eq!(body["usage"]["count"], 2, "{body}");
    assert_eq!(body["usage"]["limit"], 25, "{body}");
    assert_eq!(
        stored(&directory, "main", "linkedin").await.access_token(),
        "li-runtime"
    );
    assert_eq!(fakes.tiktok.published().len(), 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_sandbox_restart_registers_the_stored_tokens_with_the_new_fakes() {
    let dir = tempfile::tempdir().unwrap();
    let toml = support::config("monthly_uploads = 10", "li-token-acme").replace(
        "[store]\nkind = \"memory\"",
        &format!(
            "[store]\nkind = \"sqlite\"\npath = \"{}\"\n[media]\nkind = \"local\"\npath = \"{}\"",
            dir.path().join("fanout.db").display(),
            dir.path().join("media").display()
        ),
    );
    let mut config = Config::from_toml(&toml).unwrap();
    config.addr = "127.0.0.1:0".into();

    let app = App::build(config.clone()).await.unwrap();
    let directory = Arc::clone(app.engine().directory());
    let sandbox = app.sandbox().unwrap();
    // As after a refresh: a token only this run's fake issued.
    let learned = sandbox
        .tiktok
        .refreshable_connection("acme_tt", Utc::now() + Duration::days(1));
    directory
        .save_connection("acme", "main", "tiktok", learned.clone())
        .await
        .unwrap();
    drop((sandbox, directory));
    app.spawn().stop().await.unwrap();

    // The new fakes start empty; the stored token must still publish.
    let app = App::build(config).await.unwrap();
    let directory = Arc::clone(app.engine().directory());
    let sandbox = app.sandbox().unwrap();
    let server = app.spawn();
    assert_eq!(
        stored(&directory, "main", "tiktok").await.access_token(),
        learned.access_token()
    );
    let (status, body) = upload(&server, "ak_acme", "main", &["tiktok"]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    assert_eq!(sandbox.tiktok.refresh_calls(), 0);
    assert_eq!(sandbox.tiktok.published().len(), 1);
    server.stop().await.unwrap();
}
