//! S3-compatible storage on loopback for the media: moto's server (PyPI `moto`, pinned
//! in tests/python/requirements.txt; `scripts/test` installs it and sets `FANOUT_MOTO`
//! to its `moto_server`). It keeps everything in memory and is killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The credentials the fanout processes sign with (moto accepts any).
pub const CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "fanout-test"),
    ("AWS_SECRET_ACCESS_KEY", "fanout-test-secret"),
    ("AWS_REGION", "us-east-1"),
];

/// How long moto may take to say where it listens.
const START_WITHIN: Duration = Duration::from_secs(60);

/// One moto server process.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it listens.
    pub fn start() -> Self {
        let program = std::env::var("FANOUT_MOTO").unwrap_or_else(|_| "moto_server".into());
        let mut child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "could not run `{program}` ({err}): run the suite with ./scripts/test (it \
                     installs moto into .venv-client), or set FANOUT_MOTO to a moto_server"
                )
            });
        let stderr = child.stderr.take().unwrap();
        let (listening, address) = mpsc::channel();
        // Read to the end: a full pipe would block moto's request log.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("Running on http://") {
                    let url = line[at + "Running on ".len()..].trim().to_string();
                    let _ = listening.send(url);
                }
            }
        });
        let endpoint = tokio::task::block_in_place(|| address.recv_timeout(START_WITHIN))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("moto_server did not say where it listens")
            });
        Self { child, endpoint }
    }

    /// Creates `bucket` (moto takes unsigned requests).
    pub async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "creating bucket {bucket}");
    }

    /// The keys in `bucket` under `prefix`, in order.
    pub async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let response = reqwest::Client::new()
            .get(format!("{}/{bucket}", self.endpoint))
            .query(&[("list-type", "2"), ("prefix", prefix)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "listing bucket {bucket}");
        let xml = response.text().await.unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_string()))
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
