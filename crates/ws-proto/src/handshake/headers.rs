//! Header fields of a handshake message, and the comma-separated token lists in them.

use crate::local_error::LocalError;

/// The header fields of a request or response, in the order received.
///
/// Names compare case-insensitively. Values are kept as bytes, since HTTP allows
/// non-UTF-8 values; the `&str` accessors skip values that are not UTF-8.
///
/// Stored in three allocations whatever the number of fields (the names one after the
/// other in one string, the values in one buffer, and where each field ends in both),
/// rather than two per field: a handshake's request is read once per connection.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every name, one after the other.
    names: String,
    /// Every value, one after the other.
    values: Vec<u8>,
    /// Where each field's name ends in `names` and its value in `values`; each starts
    /// where the one before ended.
    ends: Vec<(usize, usize)>,
}

impl Headers {
    pub(crate) fn from_httparse(raw: &[httparse::Header<'_>]) -> Headers {
        // Sized first, so that neither buffer grows (and copies itself) while filled.
        let names = raw.iter().map(|h| h.name.len()).sum();
        let values = raw.iter().map(|h| h.value.len()).sum();
        let mut headers = Headers {
            names: String::with_capacity(names),
            values: Vec::with_capacity(values),
            ends: Vec::with_capacity(raw.len()),
        };
        headers.extend(raw.iter().map(|h| (h.name, h.value)));
        headers
    }

    pub(crate) fn from_pairs<'h>(pairs: impl IntoIterator<Item = (&'h str, &'h [u8])>) -> Headers {
        let pairs = pairs.into_iter();
        let mut headers = Headers {
            names: String::new(),
            values: Vec::new(),
            ends: Vec::with_capacity(pairs.size_hint().0),
        };
        headers.extend(pairs);
        headers
    }

    /// Appends fields.
    fn extend<'h>(&mut self, pairs: impl Iterator<Item = (&'h str, &'h [u8])>) {
        for (name, value) in pairs {
            self.names.push_str(name);
            self.values.extend_from_slice(value);
            self.ends.push((self.names.len(), self.values.len()));
        }
    }

    /// Every field as (name, value), in order.
    fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let starts = std::iter::once((0, 0)).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|((name_at, value_at), &(name_end, value_end))| {
                (
                    &self.names[name_at..name_end],
                    &self.values[value_at..value_end],
                )
            })
    }

    /// The first value of a field, if present and UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).find_map(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of a field, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        // Names compared as bytes, with no `str` slicing (and its char boundary checks):
        // the handshake's checks look up every field this way several times.
        let names = self.names.as_bytes();
        self.ends
            .iter()
            .scan((0, 0), |at, &end| Some((std::mem::replace(at, end), end)))
            .filter(move |&((name_at, _), (name_end, _))| {
                names[name_at..name_end].eq_ignore_ascii_case(name.as_bytes())
            })
            .map(|((_, value_at), (_, value_end))| &self.values[value_at..value_end])
    }

    /// Every field as (name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The elements of a comma-separated list field, across every occurrence of the
    /// field (RFC 9110 5.3), trimmed, empty elements skipped.
    pub fn tokens<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.get_all(name)
            .filter_map(|v| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// Whether a list field contains `token`, compared case-insensitively.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }
}

/// Headers from (name, value) pairs, in order, for a head another parser read.
///
/// ```
/// use ws_proto::handshake::Headers;
/// let headers: Headers = [("Host", &b"example.com"[..]), ("Upgrade", b"websocket")]
///     .into_iter()
///     .collect();
/// assert_eq!(headers.get("host"), Some("example.com"));
/// assert!(headers.has_token("upgrade", "WebSocket"));
/// ```
impl<'h> FromIterator<(&'h str, &'h [u8])> for Headers {
    fn from_iter<I: IntoIterator<Item = (&'h str, &'h [u8])>>(pairs: I) -> Headers {
        Headers::from_pairs(pairs)
    }
}

/// The fields as a map of name to value, in order (values that are not UTF-8 shown
/// lossily), as `http::HeaderMap` prints, rather than the packed storage.
///
/// ```
/// use ws_proto::handshake::Headers;
/// let headers: Headers = [("Content-Length", &b"0"[..])].into_iter().collect();
/// assert_eq!(format!("{headers:?}"), r#"{"Content-Length": "0"}"#);
/// ```
impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.fields()
                    .map(|(name, value)| (name, String::from_utf8_lossy(value))),
            )
            .finish()
    }
}

/// Whether `name` is an HTTP token (RFC 9110 5.6.2), so it can be written as a field name.
pub fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` can be written as a field value (RFC 9110 5.5: visible characters,
/// obs-text, spaces and tabs; no CR, LF, NUL or other control character), so that it
/// cannot split or end the header block.
pub fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7F))
}

/// Appends `name: value\r\n`, refusing anything that could split the header block.
pub(crate) fn write_field(out: &mut Vec<u8>, name: &str, value: &str) -> Result<(), LocalError> {
    if !is_token(name) || !is_field_value(value) {
        return Err(LocalError::InvalidHeader(name.to_owned()));
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&str, &str)]) -> Headers {
        Headers::from_pairs(fields.iter().map(|(n, v)| (*n, v.as_bytes())))
    }

    #[test]
    fn fields_keep_their_order_names_and_bytes() {
        let h = headers(&[
            ("Host", "a"),
            ("X-Empty", ""),
            ("host", "b\u{e9}"),
            ("", "v"),
        ]);
        let all: Vec<(&str, &[u8])> = h.iter().collect();
        assert_eq!(
            all,
            [
                ("Host", &b"a"[..]),
                ("X-Empty", b""),
                ("host", "b\u{e9}".as_bytes()),
                ("", b"v")
            ]
        );
        assert_eq!(h.len(), 4);
        assert_eq!(
            h.get_all("HOST").collect::<Vec<_>>(),
            [&b"a"[..], "b\u{e9}".as_bytes()]
        );
        assert_eq!(h.get("x-empty"), Some(""));
        assert_eq!(h.get("missing"), None);
        assert!(Headers::default().is_empty());
        assert_eq!(Headers::default().iter().count(), 0);
        // Equal fields, equal headers, however they were made.
        assert_eq!(h, h.clone());
        assert_ne!(h, headers(&[("Host", "a")]));
    }

    #[test]
    fn tokens_span_repeated_fields_and_ignore_case() {
        let h = headers(&[("Connection", "keep-alive, "), ("connection", " Upgrade")]);
        assert_eq!(
            h.tokens("CONNECTION").collect::<Vec<_>>(),
            ["keep-alive", "Upgrade"]
        );
        assert!(h.has_token("connection", "upgrade"));
        assert!(!h.has_token("connection", "upgrad"));
    }

    #[test]
    fn field_values_cannot_inject_lines() {
        let mut out = Vec::new();
        assert!(write_field(&mut out, "X-Ok", "fine\tvalue").is_ok());
        assert!(write_field(&mut out, "X-Bad", "a\r\nSet-Cookie: x").is_err());
        assert!(write_field(&mut out, "Bad Name", "v").is_err());
        assert!(write_field(&mut out, "", "v").is_err());
        assert_eq!(out, b"X-Ok: fine\tvalue\r\n");
    }

    #[test]
    fn field_values_are_visible_characters_spaces_tabs_and_obs_text() {
        assert!(is_field_value("text/html; charset=utf-8"));
        assert!(is_field_value("caf\u{e9}\t \"quoted\""));
        assert!(is_field_value(""));
        for control in ["\r", "\n", "\0", "\x07", "\x1b[31m", "\x7f"] {
            assert!(!is_field_value(control), "{control:?}");
        }
    }
}
