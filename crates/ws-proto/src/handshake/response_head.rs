//! The head of an HTTP/1.x response: status line and header fields.

use super::headers::Headers;

/// The status line and header fields of an HTTP/1.x response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code, such as 101, 200 or 403.
    pub status: u16,
    /// The reason phrase, such as "Switching Protocols".
    pub reason: String,
    /// Every header field.
    pub headers: Headers,
}
