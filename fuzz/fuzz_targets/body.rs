//! The body parser (`fanout_core::form::parse_body`), multipart and URL-encoded, fed
//! in pieces of a fuzzed size: it must never panic, answer only the contract's
//! statuses, stay within its caps, and leave no spool file behind.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use fanout_core::form::{parse_body, BodyLimits, MediaSource};
use libfuzzer_sys::fuzz_target;

/// The first byte picks the content type.
const CONTENT_TYPES: [&str; 6] = [
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data; boundary=\"XyZ\"",
    "application/x-www-form-urlencoded",
    "",
    "multipart/form-data",
    "text/plain",
];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

fn spool() -> &'static tempfile::TempDir {
    static SPOOL: OnceLock<tempfile::TempDir> = OnceLock::new();
    SPOOL.get_or_init(|| tempfile::tempdir().expect("a spool directory"))
}

fuzz_target!(|data: &[u8]| {
    let [kind, piece, rest @ ..] = data else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(*kind) % CONTENT_TYPES.len()];
    let piece = usize::from(*piece).max(1);
    let chunks: Vec<Result<Bytes, std::io::Error>> = rest
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut limits = BodyLimits::default();
    limits.max_upload_bytes = 1 << 20;
    limits.max_text_field_bytes = 512;
    limits.max_text_bytes = 4096;
    limits.max_fields = 16;
    limits.max_field_name_bytes = 32;
    limits.max_part_header_bytes = 256;
    limits.max_preamble_bytes = 64;
    let declared = (kind & 0x80 != 0).then_some(rest.len() as u64);
    let parsed = runtime().block_on(parse_body(
        Some(content_type).filter(|ct| !ct.is_empty()),
        declared,
        futures::stream::iter(chunks),
        &limits,
        spool().path(),
    ));
    match parsed {
        Ok(form) => {
            let text: usize = form
                .fields
                .iter()
                .map(|(name, value)| {
                    assert!(name.len() <= limits.max_field_name_bytes);
                    assert!(value.len() <= limits.max_text_field_bytes);
                    value.len()
                })
                .sum();
            assert!(text <= limits.max_text_bytes);
            let media = form.video.len() + form.photos.len();
            assert!(form.fields.iter().count() + media <= limits.max_fields);
            for source in form.video.iter().chain(&form.photos) {
                if let MediaSource::File(file) = source {
                    assert!(file.len() <= limits.max_upload_bytes);
                }
            }
        }
        Err(err) => assert!(
            [400, 408, 413, 415].contains(&err.status),
            "{}: {}",
            err.status,
            err.message
        ),
    }
    // Spooled files go with the form (or with the error).
    let left = std::fs::read_dir(spool().path()).map_or(0, |d| d.count());
    assert_eq!(left, 0, "spool files left behind");
});
