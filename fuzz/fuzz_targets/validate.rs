//! The form validation (`fanout_core::fuzzing::validate`) on fuzzed fields: it must
//! never panic; an accepted form names known platforms once each; a refused one is a
//! 400 whose message stays short, however many names were sent.
#![no_main]

use std::collections::BTreeMap;

use fanout_core::form::{MediaSource, ParsedForm};
use fanout_core::fuzzing::{validate, Endpoint};
use fanout_core::{Account, FormFields, Plan, Profile};
use libfuzzer_sys::fuzz_target;

const KNOWN: [&str; 3] = ["tiktok", "instagram", "linkedin"];

fuzz_target!(|data: &[u8]| {
    let [flags, rest @ ..] = data else {
        return;
    };
    // The rest is the fields, URL-encoded (the parser's other half).
    let fields = FormFields::from_pairs(
        form_pairs(rest)
            .into_iter()
            .filter(|(name, _)| !matches!(name.as_str(), "video" | "photos" | "photos[]")),
    );
    let url = || MediaSource::Url("https://cdn.example/v.mp4".into());
    let form = ParsedForm {
        fields,
        video: (0..flags % 3).map(|_| url()).collect(),
        photos: (0..(flags >> 2) % 4).map(|_| url()).collect(),
    };
    let endpoint = if flags & 0x40 == 0 {
        Endpoint::Video
    } else {
        Endpoint::Photos
    };
    let account = Account {
        name: "acme".into(),
        api_key_hash: None,
        api_key_expires_at: None,
        plan: Plan {
            monthly_uploads: 10,
            daily_uploads_per_account: None,
        },
        profiles: BTreeMap::from([(
            "main".to_string(),
            Profile {
                username: "main".into(),
                connections: BTreeMap::new(),
            },
        )]),
    };
    match validate(endpoint, form, &account, |name| KNOWN.contains(&name)) {
        Ok(platforms) => {
            assert!(!platforms.is_empty());
            for (i, p) in platforms.iter().enumerate() {
                assert!(KNOWN.contains(&p.as_str()), "{p}");
                assert!(!platforms[..i].contains(p), "{p} twice");
            }
        }
        Err(err) => {
            assert_eq!(err.status, 400, "{}", err.message);
            // Five names of at most 32 characters (4 bytes each), and a count.
            assert!(err.message.len() < 1024, "{} bytes", err.message.len());
        }
    }
});

fn form_pairs(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    text.split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.to_string(), value.replace('+', " ")))
        })
        .collect()
}
