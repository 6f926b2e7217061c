//! Fidelity checks: what a client asks for is what the platform gets, and what the
//! platform answers is what the client reads.
//!
//! - Options carried: every [`OptionCase`] the fake lists is published and each JSON
//!   pointer into the recorded [`crate::PublishedPost::options`] holds its value.
//! - Every mapped error code: each [`crate::ErrorCase`] is answered once (or, for a retryable
//!   kind, more often than any retry policy tries) and the publish fails with its kind.
//! - Limits refused before upload: through an [`fanout_core::Engine`], a post outside
//!   the publisher's capabilities fails that platform and the fake records nothing.
//! - Processing past the budget: with the fake holding the post in processing, the
//!   publish answers `PROCESSING` and exactly one post appears later.
//!
//! A fake that lists no cases (or cannot hold processing) skips the check.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fanout_core::{Endpoint, ErrorKind, FormFields, MediaFile, PostMedia};
use serde_json::{json, Value};

use super::tokens::{engine_with, upload, PROFILE};
use super::{post, posts_for, publish, resume, Harness};
use crate::fake::{OptionCase, OptionMedia};
use crate::faults::Fault;
use crate::media::{jpeg_bytes, spooled_jpeg, spooled_mp4};

/// How often a retryable error is answered: more than any conformance publisher's
/// `max_attempts`.
const RETRYABLE_TIMES: u32 = 12;
/// How long the fake holds a post in processing: past the conformance publishers' poll
/// budget (`poll_budget_secs` = 1).
const PROCESSING_HOLD: Duration = Duration::from_millis(1500);
/// How long the processing check waits for the post to appear.
const PROCESSING_WAIT: Duration = Duration::from_secs(15);

/// Runs every fidelity check, in order.
pub async fn run_fidelity_checks(h: &Harness<'_>) {
    options_are_carried(h).await;
    every_mapped_error_code_reads_as_its_kind(h).await;
    limits_are_refused_before_upload(h).await;
    processing_past_the_budget_answers_processing(h).await;
}

async fn media_for(h: &Harness<'_>, media: OptionMedia) -> PostMedia {
    match media {
        OptionMedia::Video => PostMedia::Video(spooled_mp4(h.dir, 200_000).await),
        OptionMedia::Photos(n) => {
            let mut files: Vec<Arc<MediaFile>> = Vec::new();
            for i in 0..n {
                files.push(spooled_jpeg(h.dir, 40_000 + i * 100, i as u8 + 1).await);
            }
            PostMedia::Photos(files)
        }
    }
}

/// Each of the fake's [`OptionCase`]s reaches the platform where the case says.
pub async fn options_are_carried(h: &Harness<'_>) {
    let id = h.publisher.id();
    for (i, case) in h.fake.option_cases().into_iter().enumerate() {
        h.fake.clear_faults();
        let OptionCase {
            media,
            fields,
            expect,
        } = case;
        let account = format!("conformance-options-{i}");
        let post = post(
            media_for(h, media).await,
            FormFields::from_pairs(fields.clone()),
        );
        publish(h, &post, &account)
            .await
            .unwrap_or_else(|e| panic!("{id}: publishing with options {fields:?} failed: {e}"));
        let posts = posts_for(h, &account);
        assert_eq!(
            posts.len(),
            1,
            "{id}: options {fields:?} gave {} posts",
            posts.len()
        );
        for (pointer, want) in expect {
            assert_eq!(
                posts[0].options.pointer(&pointer),
                Some(&want),
                "{id}: with {fields:?}, {pointer} of the recorded options {} is not {want}",
                posts[0].options
            );
        }
    }
}

/// Each of the fake's [`crate::ErrorCase`]s fails the publish with its kind and
/// publishes nothing.
pub async fn every_mapped_error_code_reads_as_its_kind(h: &Harness<'_>) {
    let id = h.publisher.id();
    for (i, case) in h.fake.error_cases().into_iter().enumerate() {
        h.fake.clear_faults();
        let before = h.fake.published().len();
        let status = axum::http::StatusCode::from_u16(case.status)
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let retryable = matches!(case.kind, ErrorKind::RateLimited | ErrorKind::Transient);
        let times = if retryable { RETRYABLE_TIMES } else { 1 };
        h.fake
            .inject(Fault::respond(case.route, status, case.body.clone()).times(times));
        let sample = super::sample_for(h).await;
        let outcome = publish(h, &sample, &format!("conformance-error-{i}")).await;
        h.fake.clear_faults();
        let err = match outcome {
            Ok(receipt) => panic!(
                "{id}: {} {} on {} did not fail the publish: {:?}",
                case.status,
                case.body,
                case.route,
                receipt.fields()
            ),
            Err(err) => err,
        };
        assert_eq!(
            err.kind(),
            case.kind,
            "{id}: {} {} on {} read as {err}",
            case.status,
            case.body,
            case.route
        );
        assert_eq!(
            h.fake.published().len(),
            before,
            "{id}: {} {} published something",
            case.status,
            case.body
        );
    }
}

/// A file part of a form: field name, file name, bytes.
type FormFile = (&'static str, &'static str, Vec<u8>);

/// A multipart body of the profile field, `platform[]` and `files`.
fn form(platform: &str, files: &[FormFile]) -> (String, Bytes) {
    const BOUNDARY: &str = "fanoutConformanceFidelity9QxZ";
    let mut body = Vec::new();
    for (name, value) in [
        ("user", PROFILE),
        ("title", "fanout conformance title"),
        ("platform[]", platform),
    ] {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={BOUNDARY}"),
        Bytes::from(body),
    )
}

/// A small PNG: the signature and an `IHDR` chunk, then filler.
fn png_bytes(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02\0\0\0".to_vec();
    bytes.resize(len.max(bytes.len()), 0x5a);
    bytes
}

/// A post outside the publisher's capabilities (too many photos, a photo format it
/// does not take, a JPEG as the video) fails that platform through the engine, and
/// the fake records nothing.
pub async fn limits_are_refused_before_upload(h: &Harness<'_>) {
    let id = h.publisher.id();
    let caps = h.publisher.capabilities();
    let mut cases: Vec<(&str, Endpoint, Vec<FormFile>)> = Vec::new();
    if let Some(photos) = &caps.photos {
        let too_many = (0..=photos.max_count)
            .map(|i| ("photos[]", "photo.jpg", jpeg_bytes(20_000, i as u8 + 1)))
            .collect();
        cases.push(("more photos than max_count", Endpoint::Photos, too_many));
        if !photos.formats.contains(&"image/png") {
            let pngs = (0..photos.min_count)
                .map(|_| ("photos[]", "photo.png", png_bytes(20_000)))
                .collect();
            cases.push(("a PNG photo", Endpoint::Photos, pngs));
        }
    }
    if caps.video.is_some() {
        cases.push((
            "a JPEG as the video",
            Endpoint::Video,
            vec![("video", "photo.jpg", jpeg_bytes(200_000, 7))],
        ));
    }
    for (what, endpoint, files) in cases {
        h.fake.clear_faults();
        let before = h.fake.published().len();
        let (engine, _) = engine_with(h, h.fake.connection("conformance-limits")).await;
        let (content_type, body) = form(id, &files);
        let result = upload(&engine, id, endpoint, &content_type, body).await;
        assert_eq!(
            result["success"],
            json!(false),
            "{id}: {what} was not refused: {result}"
        );
        assert_eq!(
            h.fake.published().len(),
            before,
            "{id}: {what} published something"
        );
    }
}

/// A video the platform still processes past the poll budget answers `PROCESSING`
/// with a follow-up checkpoint and posts nothing on its own (no detached work: a
/// restart must not lose it); [`Publisher::resume`] with that checkpoint then finishes
/// the post, exactly once.
///
/// [`Publisher::resume`]: fanout_core::Publisher::resume
pub async fn processing_past_the_budget_answers_processing(h: &Harness<'_>) {
    let id = h.publisher.id();
    if h.publisher.capabilities().video.is_none() {
        return;
    }
    h.fake.clear_faults();
    if !h.fake.hold_processing(PROCESSING_HOLD) {
        return;
    }
    let account = "conformance-processing";
    let post = post(
        PostMedia::Video(spooled_mp4(h.dir, 200_000).await),
        FormFields::default(),
    );
    let before = posts_for(h, account).len();
    let outcome = publish(h, &post, account).await;
    h.fake.hold_processing(Duration::ZERO);
    let mut receipt =
        outcome.unwrap_or_else(|e| panic!("{id}: a video still processing failed: {e}"));
    assert_eq!(
        receipt.get("status"),
        Some(&Value::from("PROCESSING")),
        "{id}: a video processing past the budget must answer PROCESSING: {:?}",
        receipt.fields()
    );
    let deadline = tokio::time::Instant::now() + PROCESSING_WAIT;
    while let Some(checkpoint) = receipt.take_follow_up() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: still PROCESSING after {PROCESSING_WAIT:?} of follow-ups"
        );
        receipt = resume(h, &post, account, &checkpoint)
            .await
            .unwrap_or_else(|e| panic!("{id}: the follow-up of a processing video failed: {e}"));
    }
    assert_ne!(
        receipt.get("status"),
        Some(&Value::from("PROCESSING")),
        "{id}: a receipt without a follow-up must be final: {:?}",
        receipt.fields()
    );
    let posts = posts_for(h, account);
    assert_eq!(
        posts.len() - before,
        1,
        "{id}: a video processing past the budget led to {} posts",
        posts.len() - before
    );
}
