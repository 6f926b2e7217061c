//! Outbound fetches (media given as URLs), through the real server: only global
//! addresses unless `[fetch] allow` says more, in every spelling and through
//! redirects; no credentials; errors that do not tell ports or paths apart; fetching
//! only after the usage check, with the count given back when it fails; per-request
//! totals; and a minimum transfer rate.
//!
//! The "internal" service is a tiny HTTP server on loopback that records every
//! request it sees, so a test can tell that nothing reached it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fanout_testkit::media::mp4_bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{self, post, video_form, Running};

const KEY: &str = "ak_acme";
const REFUSED: &str =
    "The video could not be fetched: its URL leads to an address this server does not fetch from";
const UNREACHABLE: &str = "The video could not be fetched from its URL; check that it is publicly reachable and answers with the file";

/// What the loopback server answers for a path.
#[derive(Clone)]
enum Reply {
    /// 200 with these bytes.
    File(Vec<u8>),
    /// 302 to this location.
    Redirect(String),
    /// 200 with a large `Content-Length`, then one byte every 100 ms.
    Trickle,
    /// Reads the request and never answers.
    Silent,
    /// 404.
    NotFound,
}

/// One request the loopback server saw.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: bool,
}

/// A tiny HTTP/1.1 server that answers each path with a [`Reply`] and records what it
/// sees.
struct Origin {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Origin {
    async fn start(bind: &str, routes: Vec<(&str, Reply)>) -> Self {
        let listener = TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let routes: Arc<Vec<(String, Reply)>> = Arc::new(
            routes
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
        );
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, Arc::clone(&routes), Arc::clone(&log)));
            }
        });
        Self { addr, seen }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn answer(
    mut stream: TcpStream,
    routes: Arc<Vec<(String, Reply)>>,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
    let authorization = head
        .lines()
        .any(|line| line.to_ascii_lowercase().starts_with("authorization:"));
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        authorization,
    });
    let reply = routes
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, r)| r.clone())
        .unwrap_or(Reply::NotFound);
    let _ = match reply {
        Reply::File(bytes) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            stream.write_all(&bytes).await
        }
        Reply::Redirect(location) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await
        }
        Reply::Trickle => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            for _ in 0..600 {
                if stream.write_all(b"x").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        }
        Reply::Silent => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
        Reply::NotFound => {
            stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await
        }
    };
}

/// A loopback port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A sandbox server for account `acme` on `plan`, with `fetch` as its `[fetch]` table.
async fn server(plan: &str, fetch: &str) -> Running {
    let toml = format!("{}\n[fetch]\n{fetch}\n", support::config(plan, "li-token"));
    support::start(&toml).await
}

/// `POST /api/upload` with the video given as `url`.
async fn upload_url(base: &str, url: &str) -> (u16, serde_json::Value) {
    let form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", "from a URL")
        .text("platform[]", "tiktok")
        .text("video", url.to_string());
    post(base, "/api/upload", KEY, form).await
}

/// `POST /api/upload_photos` with the photos given as `urls`.
async fn upload_photo_urls(base: &str, urls: &[String]) -> (u16, serde_json::Value) {
    let mut form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", "from URLs")
        .text("platform[]", "tiktok");
    for url in urls {
        form = form.text("photos[]", url.clone());
    }
    post(base, "/api/upload_photos", KEY, form).await
}

/// `POST /api/upload` with a video file.
async fn upload_file(base: &str) -> (u16, serde_json::Value) {
    post(
        base,
        "/api/upload",
        KEY,
        video_form(mp4_bytes(100_000), &["tiktok"]),
    )
    .await
}

fn message(body: &serde_json::Value) -> String {
    body["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn loopback_is_refused_in_every_spelling_unless_allowed() {
    let origin = Origin::start(
        "127.0.0.1:0",
        vec![("/internal.mp4", Reply::File(mp4_bytes(100_000)))],
    )
    .await;
    let port = origin.port();
    let running = server("monthly_uploads = 100", "allow = []").await;
    for url in [
        format!("http://127.0.0.1:{port}/internal.mp4"),
        format!("http://2130706433:{port}/internal.mp4"),
        format!("http://0x7f.1:{port}/internal.mp4"),
        format!("http://0.0.0.0:{port}/internal.mp4"),
        format!("http://127.1:{port}/internal.mp4"),
        format!("http://[::ffff:127.0.0.1]:{port}/internal.mp4"),
        format!("http://localhost:{port}/internal.mp4"),
    ] {
        let (status, body) = upload_url(&running.base_url, &url).await;
        assert_eq!(
            (status, message(&body)),
            (400, REFUSED.to_string()),
            "{url}"
        );
    }
    assert!(origin.seen().is_empty(), "{:?}", origin.seen());
    running.stop().await;

    // The sandbox allows loopback when [fetch] says nothing; so does `allow`.
    for fetch in ["", "allow = [\"127.0.0.0/8\"]"] {
        let running = server("monthly_uploads = 100", fetch).await;
        let url = format!("http://localhost:{port}/internal.mp4");
        let (status, body) = upload_url(&running.base_url, &url).await;
        assert_eq!(status, 200, "[fetch] {fetch}: {body}");
        assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
        assert_eq!(body["usage"]["count"], 1, "{body}");
        running.stop().await;
    }
}

#[tokio::test]
async fn a_redirect_is_checked_at_every_hop() {
    let target = Origin::start(
        "127.0.0.1:0",
        vec![("/internal.mp4", Reply::File(mp4_bytes(100_000)))],
    )
    .await;
    let to_target = format!("http://127.0.0.1:{}/internal.mp4", target.port());
    let to_decimal = format!("http://2130706433:{}/internal.mp4", target.port());
    // The redirector is on 127.0.0.2, the only address the server may fetch from.
    let redirector = Origin::start(
        "127.0.0.2:0",
        vec![
            ("/go", Reply::Redirect(to_target)),
            ("/go-decimal", Reply::Redirect(to_decimal)),
            ("/loop", Reply::Redirect("/loop".into())),
        ],
    )
    .await;
    let running = server("monthly_uploads = 100", "allow = [\"127.0.0.2/32\"]").await;
    let base = format!("http://127.0.0.2:{}", redirector.port());
    for path in ["/go", "/go-decimal"] {
        let (status, body) = upload_url(&running.base_url, &format!("{base}{path}")).await;
        assert_eq!(
            (status, message(&body)),
            (400, REFUSED.to_string()),
            "{path}"
        );
    }
    assert!(target.seen().is_empty(), "{:?}", target.seen());
    let (status, body) = upload_url(&running.base_url, &format!("{base}/loop")).await;
    assert_eq!(
        (status, message(&body)),
        (
            400,
            "The video could not be fetched: its URL redirects more than 5 times".to_string()
        )
    );
    let loops = redirector
        .seen()
        .iter()
        .filter(|s| s.path == "/loop")
        .count();
    assert_eq!(loops, 6, "the first request and five redirects");
    running.stop().await;
}

#[tokio::test]
async fn credentials_in_a_url_are_refused_and_never_sent() {
    let origin = Origin::start(
        "127.0.0.1:0",
        vec![("/internal.mp4", Reply::File(mp4_bytes(100_000)))],
    )
    .await;
    let port = origin.port();
    let with_credentials = format!("http://user:pass@127.0.0.1:{port}/internal.mp4");
    let redirector = Origin::start(
        "127.0.0.1:0",
        vec![("/to-credentials", Reply::Redirect(with_credentials.clone()))],
    )
    .await;
    let running = server("monthly_uploads = 100", "allow = [\"127.0.0.0/8\"]").await;
    let sentence =
        "The video could not be fetched: URLs with a user name or password are not accepted";
    let via_redirect = format!("http://127.0.0.1:{}/to-credentials", redirector.port());
    for url in [with_credentials, via_redirect] {
        let (status, body) = upload_url(&running.base_url, &url).await;
        assert_eq!(
            (status, message(&body)),
            (400, sentence.to_string()),
            "{url}"
        );
    }
    assert!(origin.seen().is_empty(), "{:?}", origin.seen());
    assert!(redirector.seen().iter().all(|s| !s.authorization));
    running.stop().await;
}

#[tokio::test]
async fn errors_do_not_tell_ports_or_paths_apart() {
    let open = Origin::start("127.0.0.1:0", vec![("/exists.mp4", Reply::NotFound)]).await;
    let closed = closed_port().await;
    let urls = [
        format!("http://127.0.0.1:{closed}/a/secret/path.mp4"),
        format!("http://127.0.0.1:{}/exists.mp4", open.port()),
        format!("http://127.0.0.1:{}/other/path", open.port()),
    ];
    for (fetch, expected) in [
        ("allow = []", REFUSED),
        ("allow = [\"127.0.0.0/8\"]", UNREACHABLE),
    ] {
        let running = server("monthly_uploads = 100", fetch).await;
        for url in &urls {
            let (status, body) = upload_url(&running.base_url, url).await;
            let text = message(&body);
            assert_eq!((status, text.as_str()), (400, expected), "{fetch}: {url}");
            assert!(!text.contains(&closed.to_string()));
            assert!(!text.contains(&open.port().to_string()));
            assert!(!text.contains("path") && !text.contains("exists"));
        }
        running.stop().await;
    }
}

#[tokio::test]
async fn an_account_at_its_limit_is_refused_before_anything_is_fetched() {
    let origin = Origin::start(
        "127.0.0.1:0",
        vec![("/clip.mp4", Reply::File(mp4_bytes(100_000)))],
    )
    .await;
    let running = server("monthly_uploads = 1", "allow = [\"127.0.0.0/8\"]").await;
    let (status, body) = upload_file(&running.base_url).await;
    assert_eq!(status, 200, "{body}");
    let url = format!("http://127.0.0.1:{}/clip.mp4", origin.port());
    let (status, body) = upload_url(&running.base_url, &url).await;
    assert_eq!(
        (status, message(&body)),
        (
            429,
            "You have reached your monthly limit of 1 uploads".to_string()
        )
    );
    assert!(origin.seen().is_empty(), "{:?}", origin.seen());
    running.stop().await;
}

#[tokio::test]
async fn a_failed_fetch_gives_its_count_back() {
    let origin = Origin::start("127.0.0.1:0", vec![("/slow", Reply::Trickle)]).await;
    let running = server(
        "monthly_uploads = 1\ndaily_uploads_per_account = 1",
        "allow = [\"127.0.0.0/8\"]\nmin_bytes_per_sec = 1000\nrate_window_secs = 1",
    )
    .await;
    for path in ["/missing.mp4", "/slow"] {
        let url = format!("http://127.0.0.1:{}{path}", origin.port());
        let (status, body) = upload_url(&running.base_url, &url).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
    assert_eq!(
        origin.seen().len(),
        2,
        "both were fetched, after the usage check"
    );
    let (status, body) = upload_file(&running.base_url).await;
    assert_eq!(status, 200, "the failed fetches counted nothing: {body}");
    assert_eq!(body["usage"]["count"], 1, "{body}");
    running.stop().await;
}

#[tokio::test]
async fn one_request_may_fetch_only_so_many_urls_and_bytes() {
    let origin = Origin::start(
        "127.0.0.1:0",
        vec![
            ("/a.jpg", Reply::File(vec![0xff; 600])),
            ("/b.jpg", Reply::File(vec![0xff; 600])),
            ("/c.jpg", Reply::File(vec![0xff; 600])),
        ],
    )
    .await;
    let running = server(
        "monthly_uploads = 100",
        "allow = [\"127.0.0.0/8\"]\nmax_urls = 2\nmax_total_bytes = 1000",
    )
    .await;
    let url = |name: &str| format!("http://127.0.0.1:{}/{name}", origin.port());
    let (status, body) = upload_photo_urls(
        &running.base_url,
        &[url("a.jpg"), url("b.jpg"), url("c.jpg")],
    )
    .await;
    assert_eq!(
        (status, message(&body)),
        (
            400,
            "A request may give at most 2 media as URLs; this one gives 3".to_string()
        )
    );
    assert!(origin.seen().is_empty(), "{:?}", origin.seen());
    let (status, body) = upload_photo_urls(&running.base_url, &[url("a.jpg"), url("b.jpg")]).await;
    assert_eq!(
        (status, message(&body)),
        (
            413,
            "The photo 2 could not be fetched: the media of one request may bring at most 1000 bytes in all"
                .to_string()
        )
    );
    let (status, body) = upload_file(&running.base_url).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["usage"]["count"], 1,
        "the refused requests counted nothing"
    );
    running.stop().await;
}

#[tokio::test]
async fn a_trickling_or_silent_url_fails_within_the_window() {
    let origin = Origin::start(
        "127.0.0.1:0",
        vec![("/trickle", Reply::Trickle), ("/silent", Reply::Silent)],
    )
    .await;
    let running = server(
        "monthly_uploads = 100",
        "allow = [\"127.0.0.0/8\"]\nmin_bytes_per_sec = 1000\nrate_window_secs = 1",
    )
    .await;
    for path in ["/trickle", "/silent"] {
        let started = Instant::now();
        let url = format!("http://127.0.0.1:{}{path}", origin.port());
        let (status, body) = upload_url(&running.base_url, &url).await;
        assert_eq!(
            (status, message(&body)),
            (
                400,
                "The video could not be fetched: it arrived slower than 1000 bytes per second"
                    .to_string()
            ),
            "{path}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} failed after {:?}",
            started.elapsed()
        );
    }
    running.stop().await;
}

#[test]
fn the_fetch_table_refuses_what_is_not_an_address_block() {
    let err = fanout_server::Config::from_toml("[fetch]\nallow = [\"localhost\"]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`localhost` is not an address block"), "{err}");
    let config = fanout_server::Config::from_toml("[fetch]\nallow = [\"10.1.2.3/8\"]").unwrap();
    let settings = config.fetch.settings(false);
    assert_eq!(settings.allow, vec!["10.0.0.0/8".parse().unwrap()]);
    assert!(fanout_server::Config::from_toml("")
        .unwrap()
        .fetch
        .settings(false)
        .allow
        .is_empty());
    assert_eq!(
        fanout_server::Config::from_toml("")
            .unwrap()
            .fetch
            .settings(true)
            .allow,
        fanout_core::IpCidr::loopback()
    );
}

#[tokio::test]
async fn a_url_that_keeps_the_rate_still_ends_at_the_fetch_timeout() {
    let origin = Origin::start("127.0.0.1:0", vec![("/trickle", Reply::Trickle)]).await;
    let running = server(
        "monthly_uploads = 100",
        "allow = [\"127.0.0.0/8\"]\nmin_bytes_per_sec = 1\nrate_window_secs = 1\ntimeout_secs = 2",
    )
    .await;
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{}/trickle", origin.port());
    let (status, body) = upload_url(&running.base_url, &url).await;
    assert_eq!(
        (status, message(&body)),
        (
            400,
            "The video could not be fetched: it took longer than 2 seconds".to_string()
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    running.stop().await;
}

#[tokio::test]
async fn a_platform_that_refuses_the_fetched_media_does_not_count_for_its_day() {
    let origin = Origin::start(
        "127.0.0.1:0",
        vec![(
            "/not-a-video.mp4",
            Reply::File(fanout_testkit::media::jpeg_bytes(20_000, 7)),
        )],
    )
    .await;
    let running = server(
        "monthly_uploads = 100\ndaily_uploads_per_account = 1",
        "allow = [\"127.0.0.0/8\"]",
    )
    .await;
    let url = format!("http://127.0.0.1:{}/not-a-video.mp4", origin.port());
    let (status, body) = upload_url(&running.base_url, &url).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], false, "{body}");
    assert_eq!(body["usage"]["count"], 1, "{body}");
    let (status, body) = upload_file(&running.base_url).await;
    assert_eq!(status, 200, "TikTok's day was given back: {body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    assert_eq!(body["usage"]["count"], 2, "{body}");
    running.stop().await;
}
