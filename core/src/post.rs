//! What one publisher is asked to publish: the post for its platform.

use std::sync::Arc;

use crate::media::MediaFile;

/// The media of a post: one video, or one or more photos.
#[derive(Debug, Clone)]
pub enum PostMedia {
    /// A single video.
    Video(Arc<MediaFile>),
    /// Photos, in the order the client sent them.
    Photos(Vec<Arc<MediaFile>>),
}

impl PostMedia {
    /// Every file of the post.
    pub fn files(&self) -> &[Arc<MediaFile>] {
        match self {
            PostMedia::Video(file) => std::slice::from_ref(file),
            PostMedia::Photos(files) => files,
        }
    }
}

/// The post one platform receives, with that platform's overrides already applied:
/// `title` is `<platform>_title` when the client sent one, likewise `description`.
#[derive(Debug, Clone)]
pub struct Post {
    /// The title (or caption) for this platform.
    pub title: String,
    /// The longer description for this platform, when given.
    pub description: Option<String>,
    /// The media.
    pub media: PostMedia,
    /// Every other form field the client sent (`privacy_level`, `disable_comment`,
    /// `media_type`, …), for the publisher to read with typed accessors.
    pub fields: FormFields,
}

/// The form fields of a request in the order they arrived; repeated names keep every
/// value.
///
/// ```
/// use fanout_core::FormFields;
/// let fields = FormFields::from_pairs([("disable_comment", "true"), ("visibility", "PUBLIC")]);
/// assert_eq!(fields.bool("disable_comment"), Ok(Some(true)));
/// assert_eq!(fields.get("visibility"), Some("PUBLIC"));
/// assert_eq!(fields.get("missing"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct FormFields {
    pairs: Vec<(String, String)>,
}

/// A form field whose value has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` must be {expected}, got \"{value}\"")]
pub struct FieldError {
    /// The field's name.
    pub name: String,
    /// What it should look like.
    pub expected: &'static str,
    /// What arrived (truncated to a readable length).
    pub value: String,
}

impl FormFields {
    /// Builds fields from name/value pairs.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self {
            pairs: pairs
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }

    /// Appends one field.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((name.into(), value.into()));
    }

    /// The last value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last non-blank value of `name`, trimmed.
    pub fn get_trimmed(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` as a boolean (`true`/`false`/`1`/`0`, case-insensitive); `Ok(None)` when
    /// absent or blank.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, FieldError> {
        let Some(value) = self.get_trimmed(name) else {
            return Ok(None);
        };
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(self.error(name, "true or false", value)),
        }
    }

    /// `name` as an unsigned integer; `Ok(None)` when absent or blank.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, FieldError> {
        let Some(value) = self.get_trimmed(name) else {
            return Ok(None);
        };
        value
            .parse()
            .map(Some)
            .map_err(|_| self.error(name, "a whole number", value))
    }

    /// Every pair, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    fn error(&self, name: &str, expected: &'static str, value: &str) -> FieldError {
        FieldError {
            name: name.to_string(),
            expected,
            value: value.chars().take(64).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_accessors() {
        let f = FormFields::from_pairs([
            ("a", "TRUE"),
            ("b", "nope"),
            ("n", "42"),
            ("n2", "x"),
            ("p", "1"),
            ("p", "2"),
        ]);
        assert_eq!(f.bool("a"), Ok(Some(true)));
        assert_eq!(f.bool("zz"), Ok(None));
        assert_eq!(
            f.bool("b").unwrap_err().to_string(),
            "`b` must be true or false, got \"nope\""
        );
        assert_eq!(f.u64("n"), Ok(Some(42)));
        assert!(f.u64("n2").is_err());
        assert_eq!(f.get("p"), Some("2"));
        assert_eq!(f.get_all("p").collect::<Vec<_>>(), vec!["1", "2"]);
    }
}
