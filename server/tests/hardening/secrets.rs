//! No secrets by accident, and no leftovers: the sandbox's demo key works only while
//! the sandbox runs; accounts removed from a config that owns the accounts stop
//! working; placeholder secrets and short JWT secrets refuse to start outside the
//! sandbox, naming the key; the spool files of a process killed with SIGKILL are
//! swept at the next start, and nothing else is.

use fanout_server::{App, Config, ServerError, SANDBOX_API_KEY};

use super::clients::{process_config, spooling, start_process, EVERY, KEY, WITHIN};
use crate::support::wait_for;

/// Builds and serves `toml` in this process, on an ephemeral port.
async fn build(toml: &str) -> Result<App, ServerError> {
    let mut config = Config::from_toml(toml)?;
    config.addr = "127.0.0.1:0".into();
    App::build(config).await
}

async fn status_of(base: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/uploadposts/history"))
        .header("authorization", format!("Apikey {key}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn store(dir: &std::path::Path) -> String {
    format!(
        "[store]\nkind = \"sqlite\"\npath = \"{}\"\n[media]\nkind = \"local\"\npath = \"{}\"\n",
        dir.join("fanout.db").display(),
        dir.join("media").display()
    )
}

fn account(name: &str, key: &str) -> String {
    format!("[[accounts]]\nname = \"{name}\"\napi_key = \"{key}\"\nplan = \"pro\"\n")
}

#[tokio::test]
async fn the_demo_key_works_only_while_the_sandbox_runs() {
    let dir = tempfile::tempdir().unwrap();
    // What a first run with no config file looks like: the sandbox, no accounts.
    let first = build(&format!("sandbox = true\n{}", store(dir.path())))
        .await
        .unwrap()
        .spawn();
    assert_eq!(status_of(first.base_url(), SANDBOX_API_KEY).await, 200);
    first.stop().await.unwrap();

    let real = format!(
        "sandbox = false\n{}[plans.pro]\nmonthly_uploads = 10\n{}",
        store(dir.path()),
        account("acme", KEY)
    );
    let second = build(&real).await.unwrap().spawn();
    assert_eq!(status_of(second.base_url(), SANDBOX_API_KEY).await, 401);
    assert_eq!(status_of(second.base_url(), KEY).await, 200);
    second.stop().await.unwrap();
}

#[tokio::test]
async fn accounts_removed_from_an_owning_config_are_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let both = format!(
        "sandbox = false\n{}[plans.pro]\nmonthly_uploads = 10\n{}{}",
        store(dir.path()),
        account("acme", KEY),
        account("beta", "ak_beta_0123")
    );
    let server = build(&both).await.unwrap().spawn();
    assert_eq!(status_of(server.base_url(), "ak_beta_0123").await, 200);
    server.stop().await.unwrap();

    let only_acme = |owned: bool| {
        format!(
            "sandbox = false\naccounts_owned = {owned}\n{}[plans.pro]\nmonthly_uploads = 10\n{}",
            store(dir.path()),
            account("acme", KEY)
        )
    };
    // Not owned: accounts are only added and updated, the removed one still works.
    let server = build(&only_acme(false)).await.unwrap().spawn();
    assert_eq!(status_of(server.base_url(), "ak_beta_0123").await, 200);
    server.stop().await.unwrap();
    // Owned: it is disabled, the configured one is not.
    let server = build(&only_acme(true)).await.unwrap().spawn();
    assert_eq!(status_of(server.base_url(), "ak_beta_0123").await, 401);
    assert_eq!(status_of(server.base_url(), KEY).await, 200);
    server.stop().await.unwrap();
    // Named again: enabled again, with what was stored.
    let server = build(&both.replace("sandbox = false", "sandbox = false\naccounts_owned = true"))
        .await
        .unwrap()
        .spawn();
    assert_eq!(status_of(server.base_url(), "ak_beta_0123").await, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn placeholder_and_short_secrets_refuse_to_start_outside_the_sandbox() {
    let base = "sandbox = false\n[store]\nkind = \"memory\"\n[plans.pro]\nmonthly_uploads = 10\n";
    let cases = [
        ("jwt_secret = \"change-me\"\n", "`jwt_secret`"),
        (
            "jwt_secret = \"short-but-random-9f2\"\n",
            "`jwt_secret` is 20 bytes",
        ),
        (
            "[[accounts]]\nname = \"acme\"\napi_key = \"ak_change_me\"\nplan = \"pro\"\n",
            "`accounts.acme.api_key`",
        ),
        (
            "[platforms.tiktok]\nclient_secret = \"changeme\"\n",
            "`platforms.tiktok.client_secret`",
        ),
    ];
    for (extra, named) in cases {
        // Top-level keys before the tables.
        let toml = if extra.starts_with('[') {
            format!("{base}{extra}")
        } else {
            format!("{extra}{base}")
        };
        let err = build(&toml).await.unwrap_err().to_string();
        assert!(err.contains(named), "{named} in: {err}");
    }
    // A real secret starts; the sandbox accepts the example's placeholders.
    let real = format!("jwt_secret = \"{}\"\n{base}", "a7".repeat(16));
    build(&real).await.unwrap();
    build("sandbox = true\njwt_secret = \"change-me\"\n[store]\nkind = \"memory\"")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spool_files_and_scratch_media_of_a_killed_process_are_swept_at_the_next_start_and_nothing_else(
) {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let toml = process_config(&spool, "");
    let mut first = start_process(dir.path(), &toml);
    let base = first.base_url.clone();
    // Half an upload: its spool file exists while the body arrives.
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: fanout\r\nAuthorization: Apikey {KEY}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n\
         --b\r\nContent-Disposition: form-data; name=\"video\"; filename=\"clip.mp4\"\r\n\r\n"
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, &vec![7u8; 1 << 20])
        .await
        .unwrap();
    let leftover = spooling(&spool, first.pid()).await;
    // The memory store's scratch media, with an object as a job would leave it.
    let scratch = spool.join(format!("fanout-scratch-media-{}", first.pid()));
    let server_dir = std::fs::read_dir(&scratch)
        .unwrap()
        .flatten()
        .next()
        .expect("the server's scratch media directory")
        .path();
    std::fs::create_dir_all(server_dir.join("media/ab")).unwrap();
    std::fs::write(server_dir.join("media/ab/object"), b"media").unwrap();
    first.kill9();
    drop(stream);
    assert!(leftover.exists(), "SIGKILL leaves it behind");
    assert!(scratch.exists(), "SIGKILL leaves the scratch media behind");

    // What is not the dead process's spool file stays.
    let keep = [
        spool.join("notes.txt"),
        spool.join("fanout-abc123"),
        spool
            .join(format!("fanout-spool-{}", std::process::id()))
            .join("fanout-live12"),
    ];
    for path in &keep {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"not yours").unwrap();
    }
    let second = start_process(dir.path(), &toml);
    wait_for("the leftovers are swept", WITHIN, EVERY, || {
        let (leftover, scratch) = (leftover.clone(), scratch.clone());
        async move {
            if leftover.exists() || scratch.exists() {
                Err("still there".to_string())
            } else {
                Ok(())
            }
        }
    })
    .await;
    for path in &keep {
        assert!(path.exists(), "{} was removed", path.display());
    }
    drop(second);
}
