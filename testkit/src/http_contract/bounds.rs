//! Hardening checks: every answer is JSON with `nosniff` (the framework's own 404, 405,
//! 414 and 431 included), an over-cap `Content-Length` is refused at once, multipart
//! part headers are capped, file names of any bytes keep a file a file, and Bearer
//! tokens not yet valid or of an expired key are refused.

use std::time::Duration;

use chrono::Utc;
use fanout_core::AccountDirectory;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::harness::*;
use super::Serve;

fn fail(message: &str) -> Value {
    json!({"success": false, "message": message})
}

/// How long an answer that must come "at once" may take at most (the server's idle
/// timeout is a minute).
const AT_ONCE: Duration = Duration::from_secs(10);

/// One request and its expected answer: method, path, headers, status, body (`null`:
/// any JSON).
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, u16, Value);

/// Every answer — the adapter's own for unknown paths and methods, overlong targets and
/// oversized headers, and the routes' — is `{"success": false, "message": …}` JSON
/// (or the route's JSON) and carries `X-Content-Type-Options: nosniff`.
pub async fn every_answer_is_json_with_nosniff(serve: Serve) {
    for prefix in ["", "/fanout/v1"] {
        let h = harness(
            serve,
            Setup {
                prefix,
                ..Setup::default()
            },
        )
        .await;
        let key = apikey();
        let long_query = format!("/api/uploadposts/history?page={}", "1".repeat(9000));
        let long_header = "h".repeat(40 * 1024);
        let many: Vec<(String, String)> = (0..70)
            .map(|i| (format!("x-extra-{i}"), "1".to_string()))
            .collect();
        let mut many_headers: Vec<(&str, &str)> =
            many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        many_headers.push(("authorization", &key));
        let cases: Vec<Case<'_>> = vec![
            (
                "GET",
                "/api/nope",
                vec![("authorization", &key)],
                404,
                fail("Not found"),
            ),
            ("POST", "/media/x/y", vec![], 404, fail("Not found")),
            (
                "GET",
                "/api/upload",
                vec![("authorization", &key)],
                405,
                fail("Method not allowed"),
            ),
            (
                "PUT",
                "/api/uploadposts/schedule/x",
                vec![("authorization", &key)],
                405,
                fail("Method not allowed"),
            ),
            (
                "GET",
                &long_query,
                vec![("authorization", &key)],
                414,
                fail("Request URI too long: the limit is 8192 bytes"),
            ),
            (
                "GET",
                "/api/nope",
                vec![("x-long", &long_header)],
                431,
                fail("Request headers too large: at most 64 headers of 32768 bytes together"),
            ),
            (
                "GET",
                "/api/uploadposts/history",
                many_headers,
                431,
                fail("Request headers too large: at most 64 headers of 32768 bytes together"),
            ),
            (
                "GET",
                "/api/uploadposts/status",
                vec![("authorization", &key)],
                400,
                json!(null),
            ),
            ("GET", "/healthz", vec![], 200, json!({"status": "ok"})),
        ];
        for (method, path, headers, status, body) in cases {
            let response = h.http.raw(method, path, &headers, Vec::new()).await;
            let (got, headers, json) = json_answer(response).await;
            let what = format!("{prefix} {method} {}", &path[..path.len().min(60)]);
            assert_eq!(got, status, "{what}: {json}");
            if !body.is_null() {
                assert_eq!(json, body, "{what}");
            }
            assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
            if status == 405 {
                assert!(headers.contains_key("allow"), "{what}: {headers:?}");
            }
        }
        let (status, headers, _) = json_answer(
            h.http
                .raw(
                    "GET",
                    "/api/uploadposts/schedule/x",
                    &[("authorization", &key)],
                    Vec::new(),
                )
                .await,
        )
        .await;
        assert_eq!(status, 405);
        assert_eq!(headers["allow"], "DELETE,PATCH");
        let (status, headers, _) =
            json_answer(h.http.raw("POST", "/healthz", &[], Vec::new()).await).await;
        assert_eq!(
            (status, &headers["allow"]),
            (405, &"GET,HEAD".parse().unwrap())
        );
    }
}

/// `host:port` of the server under test.
fn authority(h: &Harness) -> String {
    let base = h.http.base().trim_start_matches("http://");
    base.split('/').next().unwrap_or(base).to_string()
}

/// Writes `head` and then `body` (from another task, ignoring write errors: the server
/// may answer and close first) over a raw socket, and reads the answer: status, the
/// head's lines and the JSON body.
async fn raw_request(h: &Harness, head: String, body: Vec<u8>) -> (u16, String, Value) {
    let stream = tokio::net::TcpStream::connect(authority(h)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        if write.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for piece in body.chunks(16 * 1024) {
            if write.write_all(piece).await.is_err() {
                return;
            }
        }
        // Keep the socket open: the answer must not wait for the rest.
        tokio::time::sleep(Duration::from_secs(120)).await;
        drop(write);
    });
    let mut answer = Vec::new();
    let read_answer = async {
        let mut buf = [0u8; 8192];
        loop {
            let n = read.read(&mut buf).await.unwrap_or(0);
            answer.extend_from_slice(&buf[..n]);
            if let Some(end) = find(&answer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&answer[..end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if answer.len() >= end + 4 + len || n == 0 {
                    return (head, answer[end + 4..].to_vec());
                }
            }
            assert!(n > 0, "the connection closed before an answer: {answer:?}");
        }
    };
    let (head, body) = tokio::time::timeout(AT_ONCE, read_answer)
        .await
        .expect("an answer at once");
    writer.abort();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, head, json)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An upload whose `Content-Length` is past `max_upload_bytes` is a 413 at once, before
/// its body is read (it used to wait for the idle timeout and answer 408).
pub async fn a_declared_length_past_the_cap_is_413_at_once(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n",
        authority(&h),
        apikey(),
        (1u64 << 20) + 1,
    );
    let (status, head, json) = raw_request(&h, head, Vec::new()).await;
    assert_eq!(
        (status, json),
        (413, fail("Upload too large: the limit is 1048576 bytes")),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("x-content-type-options: nosniff"),
        "{head}"
    );
}

/// Multipart part headers that never end, and a boundary that never comes, are a 413
/// after a few kilobytes: the server does not read (or buffer) the rest.
pub async fn endless_part_headers_and_preambles_are_413_at_once(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let declared = 1u64 << 20; // the cap: accepted as a length
    for (opening, message) in [
        (
            &b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\nX-Pad: "[..],
            "Multipart part headers are longer than 8192 bytes",
        ),
        (
            b"",
            "Malformed multipart body: no boundary within the first 4096 bytes",
        ),
    ] {
        let mut body = opening.to_vec();
        body.resize(256 * 1024, b'a');
        let head = format!(
            "POST /api/upload HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {declared}\r\n\r\n",
            authority(&h),
            apikey(),
        );
        let (status, head, json) = raw_request(&h, head, body).await;
        assert_eq!((status, json), (413, fail(message)), "{head}");
    }
    assert_eq!(h.alpha.calls(), 0);
}

/// A file part whose name is not UTF-8, or given only as RFC 8187 `filename*=`, is a
/// file: the upload succeeds.
pub async fn any_file_name_keeps_a_file_a_file(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    for disposition in [
        &b"form-data; name=\"video\"; filename=\"clip\xe9.mp4\""[..],
        b"form-data; name=\"video\"; filename*=UTF-8''%E2%82%AC%20clip.mp4",
    ] {
        let (ct, mut body) = multipart(
            &[
                ("user", "main"),
                ("title", "Hello"),
                ("platform[]", "alpha"),
            ],
            &[],
        );
        // Put the video part before the closing boundary.
        let closing = body.len() - b"--fanoutTestBoundary7MA4YWxk--\r\n".len();
        let tail = body.split_off(closing);
        body.extend_from_slice(b"--fanoutTestBoundary7MA4YWxk\r\nContent-Disposition: ");
        body.extend_from_slice(disposition);
        body.extend_from_slice(b"\r\nContent-Type: video/mp4\r\n\r\n");
        body.extend_from_slice(&mp4(4000));
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&tail);
        let (status, json) = send(&h.http, "/api/upload", Some(&apikey()), Some(&ct), body).await;
        assert_eq!(
            status,
            200,
            "{}: {json}",
            String::from_utf8_lossy(disposition)
        );
        assert_eq!(json["results"]["alpha"]["success"], true, "{json}");
    }
}

/// A Bearer token whose `nbf` is in the future is refused, and so is a valid token of
/// an account whose API key has expired.
pub async fn bearer_tokens_not_yet_valid_or_of_an_expired_key_are_401(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let now = Utc::now().timestamp();
    let token = |claims: Value| {
        format!(
            "Bearer {}",
            encode(
                &Header::default(),
                &claims,
                &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
            )
            .unwrap()
        )
    };
    let early = token(json!({"sub": "acme", "exp": now + 600, "nbf": now + 300}));
    let (ct, body) = video_form(&["alpha"]);
    let (status, json) = send(&h.http, "/api/upload", Some(&early), Some(&ct), body).await;
    assert_eq!((status, json), (401, fail("Invalid or expired token")));

    let good = token(json!({"sub": "acme", "exp": now + 600, "nbf": now - 5}));
    let (ct, body) = video_form(&["alpha"]);
    let (status, json) = send(&h.http, "/api/upload", Some(&good), Some(&ct), body).await;
    assert_eq!(status, 200, "{json}");

    let mut account = h.directory.find_by_name("acme").await.unwrap().unwrap();
    account.api_key_expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
    h.directory.upsert(account).await.unwrap();
    let (ct, body) = video_form(&["alpha"]);
    let (status, json) = send(&h.http, "/api/upload", Some(&good), Some(&ct), body).await;
    assert_eq!((status, json), (401, fail("API key expired")));
    let (status, json) = get(&h.http, "/api/uploadposts/history").await;
    assert_eq!((status, json), (401, fail("API key expired")));
}
