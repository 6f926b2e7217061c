//! Every row of the README's contract table, on both upload endpoints: 401, 404, 400,
//! 413, 415, 429 in their order, and the envelope of an accepted upload.

use std::time::Duration;

use chrono::{Datelike, Utc};
use fanout_core::{Account, AccountDirectory, ApiKeyHash, Plan};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

use super::harness::*;
use super::Serve;

const ENDPOINTS: [&str; 2] = ["/api/upload", "/api/upload_photos"];

/// A valid form for `endpoint` with `fields`.
fn form_for(endpoint: &str, fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    if endpoint == "/api/upload" {
        multipart(fields, &[("video", "clip.mp4", mp4(4000))])
    } else {
        multipart(
            fields,
            &[
                ("photos[]", "a.jpg", crate::media::jpeg_bytes(3000, 1)),
                ("photos[]", "b.jpg", crate::media::jpeg_bytes(3000, 2)),
            ],
        )
    }
}

const GOOD: &[(&str, &str)] = &[
    ("user", "main"),
    ("title", "Hello"),
    ("platform[]", "alpha"),
];

fn fail(message: &str) -> serde_json::Value {
    json!({"success": false, "message": message})
}

fn jwt(sub: &str, exp: i64, secret: &str) -> String {
    encode(
        &Header::default(),
        &json!({"sub": sub, "exp": exp}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("a test JWT encodes")
}

/// No `Authorization` header: 401 `Authorization header required`, nothing published.
pub async fn missing_authorization_is_401(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    for endpoint in ENDPOINTS {
        let (ct, body) = form_for(endpoint, GOOD);
        let (status, json) = send(&h.http, endpoint, None, Some(&ct), body).await;
        assert_eq!(
            (status, json),
            (401, fail("Authorization header required")),
            "{endpoint}"
        );
    }
    assert_eq!(h.alpha.calls(), 0);
}

/// An unknown API key: 401 `Invalid API key`.
pub async fn unknown_api_key_is_401(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    for endpoint in ENDPOINTS {
        let (ct, body) = form_for(endpoint, GOOD);
        let (status, json) =
            send(&h.http, endpoint, Some("Apikey ak_wrong"), Some(&ct), body).await;
        assert_eq!((status, json), (401, fail("Invalid API key")), "{endpoint}");
    }
}

/// An API key past its expiry: 401 `API key expired`.
pub async fn expired_api_key_is_401(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let mut account = h.directory.find_by_name("acme").await.unwrap().unwrap();
    account.api_key_expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
    h.directory.upsert(account).await.unwrap();
    for endpoint in ENDPOINTS {
        let (ct, body) = form_for(endpoint, GOOD);
        let (status, json) = send(&h.http, endpoint, Some(&apikey()), Some(&ct), body).await;
        assert_eq!((status, json), (401, fail("API key expired")), "{endpoint}");
    }
}

/// Bearer JWTs: a valid one works; forged, expired or malformed ones are 401; one naming no account is 404.
pub async fn bearer_tokens_valid_forged_expired_and_orphaned(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let future = Utc::now().timestamp() + 600;
    for endpoint in ENDPOINTS {
        let good = format!("Bearer {}", jwt("acme", future, JWT_SECRET));
        let (ct, body) = form_for(endpoint, GOOD);
        let (status, json) = send(&h.http, endpoint, Some(&good), Some(&ct), body).await;
        assert_eq!(status, 200, "{endpoint}: {json}");

        for bad in [
            jwt("acme", future, "some-other-secret"),
            jwt("acme", Utc::now().timestamp() - 5, JWT_SECRET),
            "not.a.jwt".to_string(),
        ] {
            let (ct, body) = form_for(endpoint, GOOD);
            let (status, json) = send(
                &h.http,
                endpoint,
                Some(&format!("Bearer {bad}")),
                Some(&ct),
                body,
            )
            .await;
            assert_eq!(
                (status, json),
                (401, fail("Invalid or expired token")),
                "{endpoint}"
            );
        }

        let ghost = format!("Bearer {}", jwt("ghost", future, JWT_SECRET));
        let (ct, body) = form_for(endpoint, GOOD);
        let (status, json) = send(&h.http, endpoint, Some(&ghost), Some(&ct), body).await;
        assert_eq!((status, json), (404, fail("User not found")), "{endpoint}");
    }
}

/// A removed account: its API key is unknown (401), its still-valid JWT is 404 `User not found`.
pub async fn a_removed_account_is_404_for_its_still_valid_jwt(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let token = format!(
        "Bearer {}",
        jwt("acme", Utc::now().timestamp() + 600, JWT_SECRET)
    );
    h.directory.remove("acme").await.unwrap();
    let (status, json) = upload(&h, video_form(&["alpha"])).await;
    assert_eq!((status, json), (401, fail("Invalid API key")));
    let (ct, body) = video_form(&["alpha"]);
    let (status, json) = send(&h.http, "/api/upload", Some(&token), Some(&ct), body).await;
    assert_eq!((status, json), (404, fail("User not found")));
}

/// No media or no title: 400 with each endpoint's sentence.
pub async fn missing_media_or_title_is_400(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let no_title = [("user", "main"), ("platform[]", "alpha")];
    let (ct, body) = multipart(&no_title, &[("video", "v.mp4", mp4(100))]);
    assert_eq!(
        send(&h.http, "/api/upload", Some(&apikey()), Some(&ct), body).await,
        (400, fail("Video file and title are required"))
    );
    let (ct, body) = multipart(GOOD, &[]);
    assert_eq!(
        send(&h.http, "/api/upload", Some(&apikey()), Some(&ct), body).await,
        (400, fail("Video file and title are required"))
    );
    let (ct, body) = multipart(GOOD, &[]);
    assert_eq!(
        send(
            &h.http,
            "/api/upload_photos",
            Some(&apikey()),
            Some(&ct),
            body
        )
        .await,
        (400, fail("Photos and title are required"))
    );
    let (ct, body) = form_for("/api/upload_photos", &no_title);
    assert_eq!(
        send(
            &h.http,
            "/api/upload_photos",
            Some(&apikey()),
            Some(&ct),
            body
        )
        .await,
        (400, fail("Photos and title are required"))
    );
}

/// Form errors are 400 in the contract's order, touch no platform and count nothing.
pub async fn field_errors_are_400_in_contract_order_on_both_endpoints(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("user", "main"), ("title", "   "), ("platform[]", "alpha")],
            "Title cannot be empty",
        ),
        (
            &[("title", "Hello"), ("platform[]", "alpha")],
            "Username required",
        ),
        (
            &[
                ("user", "main"),
                ("title", "Hello"),
                ("platform[]", "alpha"),
                ("platform[]", "myspace"),
                ("platform[]", "friendster"),
            ],
            "Invalid platforms: myspace, friendster",
        ),
        (
            &[
                ("user", "nobody"),
                ("title", "Hello"),
                ("platform[]", "alpha"),
            ],
            "Username not associated with any profile",
        ),
        (
            &[("user", "main"), ("title", "Hello")],
            "At least one platform is required: send platform[]",
        ),
    ];
    for endpoint in ENDPOINTS {
        for (fields, message) in cases {
            let (ct, body) = form_for(endpoint, fields);
            let got = send(&h.http, endpoint, Some(&apikey()), Some(&ct), body).await;
            assert_eq!(got, (400, fail(message)), "{endpoint} {fields:?}");
        }
    }
    assert_eq!(
        h.alpha.calls(),
        0,
        "no platform is touched before validation passes"
    );
    // Nothing was counted: the first accepted upload is number 1.
    let (status, json) = upload(&h, video_form(&["alpha"])).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["usage"]["count"], 1);
}

/// The 200 envelope, exactly: per-platform results (with overrides) and the usage.
pub async fn success_envelope_is_exact(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let video = mp4(5000);
    let sha = crate::ReceivedMedia::of(&video).sha256;
    let (ct, body) = multipart(
        &[
            ("user", "main"),
            ("title", "Hello"),
            ("platform[]", "alpha"),
            ("platform[]", "beta"),
            ("beta_title", "For Beta"),
        ],
        &[("video", "clip.mp4", video)],
    );
    let (status, json) = send(&h.http, "/api/upload", Some(&apikey()), Some(&ct), body).await;
    let now = Utc::now();
    let month = format!("{:04}-{:02}-01T00:00:00.000Z", now.year(), now.month());
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json,
        json!({
            "success": true,
            "results": {
                "alpha": {"success": true, "post_id": "alpha-Hello", "bytes": 5000, "sha256": sha},
                "beta": {"success": true, "post_id": "beta-For Beta", "bytes": 5000, "sha256": sha},
            },
            "usage": {"count": 1, "limit": 100, "last_reset": month},
        })
    );
}

/// Photos publish, and the spooled temporary files are gone afterwards.
pub async fn photos_succeed_and_spool_files_are_removed(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let (ct, body) = form_for("/api/upload_photos", GOOD);
    let (status, json) = send(
        &h.http,
        "/api/upload_photos",
        Some(&apikey()),
        Some(&ct),
        body,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["results"]["alpha"]["bytes"], 6000);
    assert_eq!(
        std::fs::read_dir(h.spool.path()).unwrap().count(),
        0,
        "temporary files must be gone"
    );
}

/// A 6 MiB video through the adapter (many body chunks) reaches the platform intact.
pub async fn a_large_upload_streams_through(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            max_upload_bytes: 8 << 20,
            ..Setup::default()
        },
    )
    .await;
    let video = mp4(6 << 20);
    let sha = crate::ReceivedMedia::of(&video).sha256;
    let (ct, body) = multipart(GOOD, &[("video", "big.mp4", video)]);
    let (status, json) = send(&h.http, "/api/upload", Some(&apikey()), Some(&ct), body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["results"]["alpha"]["bytes"], 6 << 20);
    assert_eq!(json["results"]["alpha"]["sha256"], sha);
}

/// An expired platform token fails that platform alone, with the reconnect sentence.
pub async fn expired_platform_token_fails_that_platform_alone(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            beta_token: "expired-123",
            ..Setup::default()
        },
    )
    .await;
    let (status, json) = upload(&h, video_form(&["alpha", "beta"])).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["success"], true);
    assert_eq!(json["results"]["alpha"]["success"], true);
    assert_eq!(
        json["results"]["beta"],
        json!({"success": false, "error": "Your Beta session has expired. Please reconnect your Beta account. Go to Manage Users, remove the account, and connect it again."})
    );
}

/// A platform the profile never connected fails alone, untouched.
pub async fn an_unconnected_platform_fails_alone(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let (status, json) = upload(&h, video_form(&["alpha", "gamma"])).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["results"]["alpha"]["success"], true);
    assert_eq!(
        json["results"]["gamma"],
        json!({"success": false, "error": "No Gamma account is connected to this profile. Connect your Gamma account and try again."})
    );
    assert_eq!(h.gamma.calls(), 0);
}

/// A panicking or too slow publisher changes nothing for the others.
pub async fn a_panicking_or_slow_publisher_changes_nothing_for_the_others(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            alpha_token: "panic",
            beta_token: "slow",
            // Long enough that a loaded machine cannot make the panic look like a
            // timeout, short enough to keep the suite quick.
            timeout: Duration::from_secs(2),
            ..Setup::default()
        },
    )
    .await;
    // gamma unconnected, alpha panics, beta is too slow: still a 200 with three answers.
    let (status, json) = upload(&h, video_form(&["alpha", "beta", "gamma"])).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json["results"]["alpha"],
        json!({"success": false, "error": "The Alpha publisher failed unexpectedly; the other platforms were not affected."})
    );
    assert_eq!(json["results"]["beta"]["success"], false);
    assert_eq!(
        json["results"]["beta"]["error"],
        "Beta did not answer within 2 seconds; the post may still appear. Check the account before uploading again."
    );
    assert_eq!(json["results"]["gamma"]["success"], false);
}

/// Media outside a platform's capabilities fails that platform before anything is sent.
pub async fn capability_limits_fail_the_platform_before_publishing(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    // A PNG is not among the scripted publisher's photo formats.
    let (ct, body) = multipart(GOOD, &[("photos[]", "x.jpg", crate::media::png_bytes(500))]);
    let (status, json) = send(
        &h.http,
        "/api/upload_photos",
        Some(&apikey()),
        Some(&ct),
        body,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json["results"]["alpha"],
        json!({"success": false, "error": "Alpha does not accept image/png photos; it takes image/jpeg."})
    );
    assert_eq!(
        h.alpha.calls(),
        0,
        "nothing may be sent for media outside the limits"
    );
}

/// The monthly plan limit: 429 on both endpoints, and nothing more is published.
pub async fn monthly_limit_is_429_and_counts_stop(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            plan: Plan {
                monthly_uploads: 2,
                daily_uploads_per_account: None,
            },
            ..Setup::default()
        },
    )
    .await;
    for n in 1..=2 {
        let (status, json) = upload(&h, video_form(&["alpha"])).await;
        assert_eq!((status, json["usage"]["count"].clone()), (200, json!(n)));
    }
    for endpoint in ENDPOINTS {
        let (ct, body) = form_for(endpoint, GOOD);
        let got = send(&h.http, endpoint, Some(&apikey()), Some(&ct), body).await;
        assert_eq!(
            got,
            (
                429,
                fail("You have reached your monthly limit of 2 uploads")
            )
        );
    }
    assert_eq!(h.alpha.calls(), 2);
}

/// The daily per-account limit: 429 naming the platform and the account.
pub async fn daily_limit_names_platform_and_account(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            plan: Plan {
                monthly_uploads: 100,
                daily_uploads_per_account: Some(5),
            },
            ..Setup::default()
        },
    )
    .await;
    for _ in 0..5 {
        assert_eq!(upload(&h, video_form(&["alpha"])).await.0, 200);
    }
    // beta's own counter is untouched: beta alone still works.
    assert_eq!(upload(&h, video_form(&["beta"])).await.0, 200);
    let got = upload(&h, video_form(&["beta", "alpha"])).await;
    assert_eq!(
        got,
        (
            429,
            fail("You have reached the daily limit of 5 uploads for: Alpha (acme_alpha)")
        )
    );
}

/// Sixty concurrent uploads against a limit of twenty: exactly twenty 200s.
pub async fn sixty_concurrent_requests_against_a_limit_of_twenty(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            plan: Plan {
                monthly_uploads: 20,
                daily_uploads_per_account: None,
            },
            ..Setup::default()
        },
    )
    .await;
    let mut tasks = Vec::new();
    for _ in 0..60 {
        let app = h.http.clone();
        tasks.push(tokio::spawn(async move {
            let (ct, body) = video_form(&["alpha"]);
            send(&app, "/api/upload", Some(&apikey()), Some(&ct), body)
                .await
                .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40);
    assert_eq!(h.alpha.calls(), 20);
}

/// Bad bodies: 415, malformed multipart 400s and 413, as JSON, leaving no spooled file.
pub async fn bad_bodies_get_json_errors(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            max_upload_bytes: 20_000,
            ..Setup::default()
        },
    )
    .await;
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (Some("application/json"), b"{\"title\":\"x\"}".to_vec(), 415,
         "Unsupported body: send multipart/form-data (or application/x-www-form-urlencoded when every medium is a URL)"),
        (Some("multipart/form-data"), b"whatever".to_vec(), 400,
         "Malformed multipart body: multipart boundary not found in Content-Type"),
        (Some("multipart/form-data; boundary=abc"), b"--abc\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\nAAAA".to_vec(), 400,
         "Malformed multipart body: field \"video\" received with incomplete data"),
        (Some("multipart/form-data; boundary=abc"), b"garbage without boundaries".to_vec(), 400,
         "Malformed multipart body: incomplete multipart stream"),
    ];
    for endpoint in ENDPOINTS {
        for (ct, body, status, message) in &cases {
            let got = send(&h.http, endpoint, Some(&apikey()), *ct, body.clone()).await;
            assert_eq!(got, (*status, fail(message)), "{endpoint} {ct:?}");
        }
        let (ct, body) = multipart(GOOD, &[("video", "big.mp4", mp4(50_000))]);
        let got = send(&h.http, endpoint, Some(&apikey()), Some(&ct), body).await;
        assert_eq!(
            got,
            (413, fail("Upload too large: the limit is 20000 bytes")),
            "{endpoint}"
        );
    }
    assert_eq!(std::fs::read_dir(h.spool.path()).unwrap().count(), 0);
    assert_eq!(h.alpha.calls(), 0);
}

/// A URL-encoded upload whose media URL cannot be fetched: a 400 that does not echo the URL.
pub async fn urlencoded_with_unreachable_url_is_a_clear_400(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let body = b"user=main&title=Hi&platform%5B%5D=alpha&video=http%3A%2F%2F127.0.0.1%3A9%2Fv.mp4"
        .to_vec();
    let (status, json) = send(
        &h.http,
        "/api/upload",
        Some(&apikey()),
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await;
    assert_eq!(status, 400);
    let message = json["message"].as_str().unwrap();
    assert!(
        message.starts_with("The video could not be fetched"),
        "{message}"
    );
    assert!(
        !message.contains("127.0.0.1"),
        "the URL is not echoed: {message}"
    );
    let body = b"user=main&title=Hi&platform%5B%5D=alpha&video=ftp%3A%2F%2Fx%2Fv.mp4".to_vec();
    let got = send(
        &h.http,
        "/api/upload",
        Some(&apikey()),
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await;
    assert_eq!(
        got,
        (400, fail("The video must be a file or an http(s) URL"))
    );
}

/// Accounts are isolated: one account's limit does not count another's uploads.
pub async fn a_second_account_is_isolated(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            plan: Plan {
                monthly_uploads: 1,
                daily_uploads_per_account: None,
            },
            ..Setup::default()
        },
    )
    .await;
    let mut other = h.directory.find_by_name("acme").await.unwrap().unwrap();
    other.name = "other".into();
    other.api_key_hash = Some(ApiKeyHash::of("ak_other"));
    h.directory.upsert(Account { ..other }).await.unwrap();
    assert_eq!(upload(&h, video_form(&["alpha"])).await.0, 200);
    assert_eq!(upload(&h, video_form(&["alpha"])).await.0, 429);
    let (ct, body) = video_form(&["alpha"]);
    let (status, json) = send(
        &h.http,
        "/api/upload",
        Some("Apikey ak_other"),
        Some(&ct),
        body,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["usage"]["count"], 1);
}
