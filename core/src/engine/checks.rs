//! Per-platform preparation: the post with that platform's overrides, checked against
//! its capabilities before any byte is sent.

use crate::error::PublishError;
use crate::post::{FormFields, Post, PostMedia};
use crate::publisher::Publisher;

/// The post for platform `id`: `<id>_title` / `<id>_description` win over `title` /
/// `description`.
pub(crate) fn post_for(id: &str, fields: &FormFields, media: &PostMedia) -> Post {
    let title = fields
        .get_trimmed(&format!("{id}_title"))
        .or_else(|| fields.get_trimmed("title"))
        .unwrap_or_default()
        .to_string();
    let description = fields
        .get_trimmed(&format!("{id}_description"))
        .or_else(|| fields.get_trimmed("description"))
        .map(str::to_string);
    Post {
        title,
        description,
        media: media.clone(),
        fields: fields.clone(),
    }
}

/// Whether `post` is within what `publisher` declares it accepts; the error names the
/// limit.
pub(crate) fn check_capabilities(
    publisher: &dyn Publisher,
    post: &Post,
) -> Result<(), PublishError> {
    let caps = publisher.capabilities();
    let name = publisher.display_name();
    match &post.media {
        PostMedia::Video(file) => {
            let Some(limits) = &caps.video else {
                return Err(PublishError::media_rejected(format!(
                    "{name} does not accept videos through fanout."
                )));
            };
            check_format(
                name,
                "videos",
                file.content_type(),
                &limits.formats,
                "video/",
            )?;
            if file.len() < limits.min_bytes || file.len() > limits.max_bytes {
                return Err(PublishError::media_rejected(format!(
                    "{name} accepts videos from {} to {}; this one is {}.",
                    human_bytes(limits.min_bytes),
                    human_bytes(limits.max_bytes),
                    human_bytes(file.len())
                )));
            }
        }
        PostMedia::Photos(files) => {
            let Some(limits) = &caps.photos else {
                return Err(PublishError::media_rejected(format!(
                    "{name} does not accept photo posts through fanout."
                )));
            };
            if files.len() < limits.min_count || files.len() > limits.max_count {
                return Err(PublishError::media_rejected(format!(
                    "{name} takes {} to {} photos per post; this post has {}.",
                    limits.min_count,
                    limits.max_count,
                    files.len()
                )));
            }
            for (index, file) in files.iter().enumerate() {
                check_format(
                    name,
                    "photos",
                    file.content_type(),
                    &limits.formats,
                    "image/",
                )?;
                if file.len() > limits.max_bytes_each {
                    return Err(PublishError::media_rejected(format!(
                        "{name} accepts photos up to {}; photo {} is {}.",
                        human_bytes(limits.max_bytes_each),
                        index + 1,
                        human_bytes(file.len())
                    )));
                }
            }
        }
    }
    check_length(name, "titles", &post.title, caps.max_title_chars)?;
    if let Some(description) = &post.description {
        check_length(
            name,
            "descriptions",
            description,
            caps.max_description_chars,
        )?;
    }
    Ok(())
}

fn check_format(
    name: &str,
    what: &str,
    content_type: &str,
    formats: &[&'static str],
    family: &str,
) -> Result<(), PublishError> {
    let accepted = if formats.is_empty() {
        content_type.starts_with(family)
    } else {
        formats.contains(&content_type)
    };
    if accepted {
        return Ok(());
    }
    let takes = if formats.is_empty() {
        format!("{family}*")
    } else {
        formats.join(", ")
    };
    Err(PublishError::media_rejected(format!(
        "{name} does not accept {content_type} {what}; it takes {takes}."
    )))
}

fn check_length(
    name: &str,
    what: &str,
    text: &str,
    max: Option<usize>,
) -> Result<(), PublishError> {
    let Some(max) = max else { return Ok(()) };
    let chars = text.chars().count();
    if chars > max {
        return Err(PublishError::rejected(format!(
            "{name} {what} are limited to {max} characters; this one has {chars}."
        )));
    }
    Ok(())
}

/// `1.5 MB`, `300 KB`, `12 bytes`.
fn human_bytes(n: u64) -> String {
    const KB: f64 = 1000.0;
    let f = n as f64;
    if f >= KB * KB * KB {
        format!("{:.1} GB", f / (KB * KB * KB))
    } else if f >= KB * KB {
        format!("{:.1} MB", f / (KB * KB))
    } else if f >= KB {
        format!("{:.0} KB", f / KB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win() {
        let fields = FormFields::from_pairs([
            ("title", "General"),
            ("tiktok_title", "For TikTok"),
            ("description", "Desc"),
        ]);
        let media = PostMedia::Photos(Vec::new());
        let tt = post_for("tiktok", &fields, &media);
        assert_eq!(tt.title, "For TikTok");
        assert_eq!(tt.description.as_deref(), Some("Desc"));
        let li = post_for("linkedin", &fields, &media);
        assert_eq!(li.title, "General");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(75_000), "75 KB");
        assert_eq!(human_bytes(500_000_000), "500.0 MB");
        assert_eq!(human_bytes(12), "12 bytes");
    }
}
