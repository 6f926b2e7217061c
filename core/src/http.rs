//! What may be shown of a platform's own words.

/// Cuts a platform's message to a readable length and strips anything that looks like
/// a credential or a URL, so it can be shown to people.
///
/// ```
/// use fanout_core::http::sanitize_platform_message;
/// assert_eq!(
///     sanitize_platform_message("bad token EAAB123 at https://x.test/?sig=abc"),
///     "bad token EAAB123 at [url]"
/// );
/// ```
pub fn sanitize_platform_message(message: &str) -> String {
    let cleaned: Vec<String> = message
        .split_whitespace()
        .map(|word| {
            if word.contains("://") {
                "[url]".to_string()
            } else if word.to_ascii_lowercase().contains("token=")
                || word.to_ascii_lowercase().starts_with("bearer")
            {
                "[redacted]".to_string()
            } else {
                word.to_string()
            }
        })
        .collect();
    let joined = cleaned.join(" ");
    if joined.chars().count() > 300 {
        let cut: String = joined.chars().take(300).collect();
        format!("{cut}…")
    } else {
        joined
    }
}
