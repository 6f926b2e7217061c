//! Slow and idle clients, brute force and observability, through the real server over
//! real sockets: a half-sent request head is cut off after `header_read_timeout_secs`;
//! connections and uploads past their caps get `503` with `Retry-After`; SIGTERM
//! gives a slow upload a bounded grace, then the process exits; failed
//! authentications from one address end in `429`; every authenticated answer
//! carries the account's `X-RateLimit-*` budget, and every answer an `X-Request-Id`;
//! every request leaves one access-log line without keys or query strings.
//!
//! Durations come from the `[http]` and `[rate_limit]` tables of each test's config;
//! every wait polls a condition with a deadline.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fanout_server::{App, Config, RunningServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::wait_for;

/// The longest any wait may take before the test fails.
pub(crate) const WITHIN: Duration = Duration::from_secs(20);
/// How often conditions are polled.
pub(crate) const EVERY: Duration = Duration::from_millis(25);
pub(crate) const KEY: &str = "ak_acme";

/// A sandbox config with account `acme` (key [`KEY`], plan `pro`, profile `main`
/// connected to TikTok) and `extra` first: top-level keys, then tables.
pub(crate) fn config(extra: &str) -> String {
    format!(
        r#"
sandbox = true
{extra}
[store]
kind = "memory"
[plans.pro]
monthly_uploads = 100
[[accounts]]
name = "acme"
api_key = "{KEY}"
plan = "pro"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
account_name = "acme_tt"
access_token = "tt-token-acme"
"#
    )
}

/// Builds and serves `toml` in this process, on an ephemeral port.
pub(crate) async fn start(toml: &str) -> RunningServer {
    let mut config = Config::from_toml(toml).unwrap();
    config.addr = "127.0.0.1:0".into();
    App::build(config).await.unwrap().spawn()
}

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// Reads from `stream` until the server closes it (or `WITHIN` passes: a failure).
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(WITHIN, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    seen
}

/// Opens a connection and sends half a request head.
async fn half_head(base: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr(base)).await.unwrap();
    stream
        .write_all(b"POST /api/upload HTTP/1.1\r\nHost: fanout\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

#[tokio::test]
async fn a_half_sent_request_head_is_cut_off_after_the_header_read_timeout() {
    let server = start(&config("[http]\nheader_read_timeout_secs = 1")).await;
    let started = std::time::Instant::now();
    let mut stream = half_head(server.base_url()).await;
    read_until_closed(&mut stream).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn connections_past_the_cap_get_503_with_retry_after_and_capacity_comes_back() {
    let server = start(&config(
        "[http]\nmax_connections = 2\nbusy_retry_after_secs = 7\nheader_read_timeout_secs = 30",
    ))
    .await;
    let base = server.base_url().to_string();
    let first = half_head(&base).await;
    let second = half_head(&base).await;
    let client = reqwest::Client::new();
    // The two slow connections are accepted in the background: poll until both hold
    // their places.
    let health = || {
        client
            .get(format!("{base}/healthz"))
            .header("connection", "close")
    };
    let busy = answered("a third connection is refused", 503, health).await;
    assert_eq!(busy.headers()["retry-after"], "7");
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("connection limit"));

    drop((first, second));
    answered("capacity comes back", 200, health).await;
    server.stop().await.unwrap();
}

/// Polls `request` (built anew each time) until it is answered `status`; that answer.
async fn answered(
    what: &str,
    status: u16,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> reqwest::Response {
    wait_for(what, WITHIN, EVERY, || {
        let sent = request().send();
        async move {
            let response = sent.await.map_err(|e| e.to_string())?;
            if response.status() == status {
                Ok(response)
            } else {
                Err(format!("answered {}", response.status()))
            }
        }
    })
    .await
}

/// Sends the head of an authenticated upload announcing `len` bytes, and the first
/// part of its body.
async fn slow_upload(base: &str, len: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr(base)).await.unwrap();
    let boundary = "slowboundary";
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: fanout\r\nAuthorization: Apikey {KEY}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len}\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"clip.mp4\"\r\n\
         Content-Type: video/mp4\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0u8; 4096]).await.unwrap();
    stream
}

#[tokio::test]
async fn uploads_past_the_in_flight_cap_get_503_with_retry_after() {
    let server = start(&config(
        "[http]\nmax_in_flight_uploads = 1\nbusy_retry_after_secs = 3",
    ))
    .await;
    let base = server.base_url().to_string();
    let _slow = slow_upload(&base, 1_000_000).await;
    let client = reqwest::Client::new();
    let busy = answered("a second upload is refused", 503, || {
        let form = reqwest::multipart::Form::new().text("user", "main");
        client
            .post(format!("{base}/api/upload"))
            .header("authorization", format!("Apikey {KEY}"))
            .multipart(form)
    })
    .await;
    assert_eq!(busy.headers()["retry-after"], "3");
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["success"], false);
    // Other routes are not held up by the uploads.
    let status = client
        .get(format!("{base}/api/uploadposts/history"))
        .header("authorization", format!("Apikey {KEY}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn failed_authentications_from_one_address_end_in_429_for_everything_it_sends() {
    let server = start(&config(
        "[rate_limit]\nfailed_auth_limit = 3\nfailed_auth_block_secs = 300",
    ))
    .await;
    let base = server.base_url();
    let client = reqwest::Client::new();
    let history = |key: &str| {
        client
            .get(format!("{base}/api/uploadposts/history"))
            .header("authorization", format!("Apikey {key}"))
            .send()
    };
    // The valid path is not counted, nor slowed.
    for _ in 0..5 {
        assert_eq!(history(KEY).await.unwrap().status(), 200);
    }
    for attempt in 0..3 {
        let status = history(&format!("guess-{attempt}")).await.unwrap().status();
        assert_eq!(status, 401, "attempt {attempt}");
    }
    for key in ["guess-4", KEY] {
        let response = history(key).await.unwrap();
        assert_eq!(response.status(), 429, "{key}");
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((250..=300).contains(&retry_after), "{retry_after}");
        assert!(response.headers().contains_key("x-request-id"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
    }
    server.stop().await.unwrap();
}

/// Behind a trusted proxy each client is throttled on its own (the address the proxy
/// appended to `X-Forwarded-For`); without `trusted_proxies` the header is ignored,
/// so a client cannot dodge the throttle by writing it.
#[tokio::test]
async fn behind_a_trusted_proxy_clients_are_throttled_apart() {
    let throttle = "failed_auth_limit = 3\nfailed_auth_block_secs = 300";
    let history = |base: &str, key: &str, forwarded_for: &str| {
        reqwest::Client::new()
            .get(format!("{base}/api/uploadposts/history"))
            .header("authorization", format!("Apikey {key}"))
            .header("x-forwarded-for", forwarded_for)
            .send()
    };
    // The test talks from 127.0.0.1: as a trusted proxy it forwards two clients.
    let proxied = start(&config(&format!(
        "[http]\ntrusted_proxies = [\"127.0.0.0/8\"]\n[rate_limit]\n{throttle}"
    )))
    .await;
    let base = proxied.base_url().to_string();
    for attempt in 0..3 {
        // What the client wrote (left) is not believed past the proxy's own entry.
        let status = history(&base, "guess", "198.51.100.9, 203.0.113.7")
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let blocked = history(&base, KEY, "10.9.9.9, 203.0.113.7").await.unwrap();
    assert_eq!(blocked.status(), 429, "the guessing client is blocked");
    let other = history(&base, KEY, "203.0.113.8").await.unwrap();
    assert_eq!(
        other.status(),
        200,
        "another client behind the proxy is not"
    );
    proxied.stop().await.unwrap();

    // Not trusted: every attempt counts against the peer, whatever the header says.
    let direct = start(&config(&format!("[rate_limit]\n{throttle}"))).await;
    let base = direct.base_url().to_string();
    for n in 0..3 {
        let status = history(&base, "guess", &format!("203.0.113.{n}"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    let blocked = history(&base, KEY, "203.0.113.99").await.unwrap();
    assert_eq!(blocked.status(), 429);
    direct.stop().await.unwrap();
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_authenticated_answer_carries_the_plan_budget_and_beyond_it_429() {
    let server = start(&config(
        "[rate_limit]\nrequests_per_minute = 100\n[rate_limit.plans]\npro = 2",
    ))
    .await;
    let base = server.base_url();
    let client = reqwest::Client::new();
    let history = || {
        client
            .get(format!("{base}/api/uploadposts/history"))
            .header("authorization", format!("Apikey {KEY}"))
            .send()
    };
    let now = chrono::Utc::now().timestamp() as u64;
    for remaining in ["1", "0"] {
        let response = history().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-ratelimit-limit"), "2");
        assert_eq!(header(&response, "x-ratelimit-remaining"), remaining);
        let reset: u64 = header(&response, "x-ratelimit-reset").parse().unwrap();
        assert!((now..=now + 61).contains(&reset), "{reset}");
    }
    let over = history().await.unwrap();
    assert_eq!(over.status(), 429);
    assert_eq!(header(&over, "x-ratelimit-remaining"), "0");
    let retry_after: u64 = header(&over, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Unauthenticated routes carry a request id, and no budget.
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(!health.headers().contains_key("x-ratelimit-limit"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn every_answer_carries_a_request_id_generated_or_the_clients() {
    let server = start(&config("")).await;
    let base = server.base_url();
    let client = reqwest::Client::new();
    let generated = client.get(format!("{base}/healthz")).send().await.unwrap();
    let id = header(&generated, "x-request-id");
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let kept = client
        .get(format!("{base}/healthz"))
        .header("x-request-id", "client-chosen-1")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&kept, "x-request-id"), "client-chosen-1");
    let unknown = client
        .get(format!("{base}/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&unknown, "x-request-id").len(), 32);
    // An upload answers one id: the one its job carries.
    let form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", "one id")
        .text("platform[]", "tiktok")
        .part(
            "video",
            reqwest::multipart::Part::bytes(fanout_testkit::media::mp4_bytes(4096))
                .file_name("clip.mp4"),
        );
    let upload = client
        .post(format!("{base}/api/upload"))
        .header("authorization", format!("Apikey {KEY}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let answered = upload.headers().get_all("x-request-id").iter().count();
    assert_eq!(answered, 1);
    let id = header(&upload, "x-request-id");
    let status = client
        .get(format!("{base}/api/uploadposts/status?request_id={id}"))
        .header("authorization", format!("Apikey {KEY}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200, "the answered id is the job's");
    server.stop().await.unwrap();
}

/// The `fanout` binary as its own OS process.
pub(crate) use crate::support::process::FanoutProcess as Process;

/// Writes `toml` to `dir/fanout.toml` and starts `fanout` on it in `dir`.
pub(crate) fn start_process(dir: &Path, toml: &str) -> Process {
    try_start_process(dir, toml).unwrap_or_else(|output| panic!("fanout did not start:\n{output}"))
}

/// [`start_process`], or everything it printed when it exits instead.
pub(crate) fn try_start_process(dir: &Path, toml: &str) -> Result<Process, String> {
    let config = dir.join("fanout.toml");
    std::fs::write(&config, toml).unwrap();
    Process::try_start(&config, dir, "info")
}

/// Polls until a spool file of process `pid` exists in `spool`; its path.
pub(crate) async fn spooling(spool: &Path, pid: u32) -> PathBuf {
    let dir = spool.join(format!("fanout-spool-{pid}"));
    wait_for("the upload is being spooled", WITHIN, EVERY, || {
        let dir = dir.clone();
        async move {
            let entries = std::fs::read_dir(&dir).map_err(|e| e.to_string())?;
            entries
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("fanout-"))
                })
                .ok_or_else(|| "no spool file yet".to_string())
        }
    })
    .await
}

/// A config for the binary: sandbox, memory store, spool in `spool`, `extra` tables.
pub(crate) fn process_config(spool: &Path, extra: &str) -> String {
    let toml = config(extra);
    format!(
        "addr = \"127.0.0.1:0\"\nspool_dir = \"{}\"\n{toml}",
        spool.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_a_slow_upload_a_bounded_grace_then_the_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let toml = process_config(
        &spool,
        "[http]\nshutdown_grace_secs = 1\n[jobs]\nshutdown_grace_secs = 1",
    );
    let mut server = start_process(dir.path(), &toml);
    let mut slow = slow_upload(&server.base_url, 1_000_000).await;
    spooling(&spool, server.pid()).await;
    let started = std::time::Instant::now();
    server.sigterm();
    // New connections are refused at once.
    wait_for("the listener is closed", WITHIN, EVERY, || {
        let addr = addr(&server.base_url);
        async move {
            match TcpStream::connect(addr).await {
                Err(_) => Ok(()),
                Ok(_) => Err("still accepting".to_string()),
            }
        }
    })
    .await;
    let exit = server.wait_exit(Duration::from_secs(8)).await;
    assert!(exit.success(), "{exit:?}\n{}", server.output());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "grace 1 s (+1 s for jobs) took {:?}",
        started.elapsed()
    );
    // The slow client's connection was closed.
    read_until_closed(&mut slow).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_leaves_one_access_log_line_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_process(dir.path(), &process_config(dir.path(), ""));
    let client = reqwest::Client::new();
    let response = client
        .get(format!(
            "{}/api/uploadposts/history?page=1&limit=50",
            server.base_url
        ))
        .header("authorization", format!("Apikey {KEY}"))
        .header("x-request-id", "log-me-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let refused = client
        .get(format!("{}/api/uploadposts/schedule", server.base_url))
        .header("authorization", "Apikey wrong-key-123")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let refused_id = header(&refused, "x-request-id");
    let line = |needle: String| {
        let output = server.output();
        async move {
            output
                .lines()
                .find(|l| l.contains("fanout::access") && l.contains(&needle))
                .map(str::to_string)
                .ok_or(output)
        }
    };
    let ok = wait_for("the access log line", WITHIN, EVERY, || {
        line("request_id=log-me-1".to_string())
    })
    .await;
    for part in [
        "method=GET",
        "path=/api/uploadposts/history ",
        "status=200",
        "account=acme",
        "bytes=",
        "duration_ms=",
    ] {
        assert!(ok.contains(part), "{part} in {ok}");
    }
    let failed = wait_for("the refused request's line", WITHIN, EVERY, || {
        line(format!("request_id={refused_id}"))
    })
    .await;
    assert!(failed.contains("status=401"), "{failed}");
    assert!(failed.contains("account=-"), "{failed}");
    let output = server.output();
    for secret in [KEY, "wrong-key-123", "limit=50", "page=1"] {
        assert!(!output.contains(secret), "`{secret}` was logged:\n{output}");
    }
    let lines = output
        .lines()
        .filter(|l| l.contains("fanout::access"))
        .count();
    assert_eq!(lines, 2, "{output}");
}

/// At the file-descriptor limit the server neither spins nor floods its log: the
/// accept loop pauses, reports once, and serves again as soon as descriptors free up
/// (here: the header-read timeout closes the connections that exhausted them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_fd_limit_accept_errors_are_reported_once_and_service_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    // More connections allowed than descriptors exist: the limit that bites is the fd one.
    let toml = process_config(
        &spool,
        "[http]\nheader_read_timeout_secs = 2\nmax_connections = 10000",
    );
    let config = dir.path().join("fanout.toml");
    std::fs::write(&config, &toml).unwrap();
    let server = Process::try_start_with_fd_limit(&config, dir.path(), "info", 96)
        .unwrap_or_else(|output| panic!("fanout did not start:\n{output}"));
    // Well past the limit: the kernel queues what the server cannot accept.
    let mut slow = Vec::new();
    for _ in 0..150 {
        slow.push(half_head(&server.base_url).await);
    }
    wait_for("the server runs out of descriptors", WITHIN, EVERY, || {
        let output = server.output();
        async move {
            if output.contains("Too many open files") {
                Ok(())
            } else {
                Err("no accept error yet".to_string())
            }
        }
    })
    .await;
    // Served again once the server's header-read timeout closes the half-sent heads
    // (this side keeps them open): seconds in which a loop that logged every error,
    // or every second, would have said so many times.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let base = server.base_url.clone();
    answered("a health check is answered again", 200, || {
        client.get(format!("{base}/healthz"))
    })
    .await;
    let reports = server.output().matches("accept error").count();
    assert_eq!(reports, 1, "accept errors logged:\n{}", server.output());
    drop(slow);
}
