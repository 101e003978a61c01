//! An error and its causes as one line, for messages that must fit a log line (HTTP clients' errors nest
//! their useful part several sources deep).

/// `error: cause: cause...`, each cause once (one already contained in the text so far is left out).
///
/// ```
/// let error = std::io::Error::new(std::io::ErrorKind::Other, "connection refused");
/// assert_eq!(migrate_core::error_chain(&error), "connection refused");
/// ```
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
