//! The post's commentary in LinkedIn's "little text" format.

use fanout_core::Post;

/// The characters little text reserves; each is sent with a backslash before it.
pub const RESERVED: &[char] = &[
    '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];

/// Escapes `text` for little text: a backslash before each reserved character, so
/// LinkedIn shows the text exactly as written instead of cutting or rejecting it.
///
/// ```
/// use fanout_linkedin::escape_little_text;
/// assert_eq!(escape_little_text("C# (beta) #1"), r"C\# \(beta\) \#1");
/// ```
pub fn escape_little_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The commentary of `post`: its description when given (not blank), else its title,
/// escaped.
pub(crate) fn commentary(post: &Post) -> String {
    let text = post
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(&post.title);
    escape_little_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanout_core::{FormFields, PostMedia};

    #[test]
    fn escapes_every_reserved_character() {
        assert_eq!(
            escape_little_text(r"\|{}@[]()<>#*_~"),
            r"\\\|\{\}\@\[\]\(\)\<\>\#\*\_\~"
        );
    }

    #[test]
    fn leaves_other_text_alone() {
        assert_eq!(
            escape_little_text("Hello, world! 50% off: café ✓ \"quoted\" 'x' $5 & more."),
            "Hello, world! 50% off: café ✓ \"quoted\" 'x' $5 & more."
        );
        assert_eq!(escape_little_text(""), "");
    }

    #[test]
    fn mentions_and_hashtags_become_plain_text() {
        assert_eq!(
            escape_little_text("ping @[Acme](urn:li:organization:1) #rust"),
            r"ping \@\[Acme\]\(urn:li:organization:1\) \#rust"
        );
    }

    fn post(title: &str, description: Option<&str>) -> Post {
        Post {
            title: title.into(),
            description: description.map(Into::into),
            media: PostMedia::Photos(Vec::new()),
            fields: FormFields::default(),
        }
    }

    #[test]
    fn description_first_then_title() {
        assert_eq!(commentary(&post("T_1", Some("D #2"))), r"D \#2");
        assert_eq!(commentary(&post("T_1", None)), r"T\_1");
        assert_eq!(commentary(&post("T_1", Some("   "))), r"T\_1");
    }
}
