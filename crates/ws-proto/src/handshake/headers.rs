//! Header fields of a handshake message, and the comma-separated token lists in them.

use crate::local_error::LocalError;

/// The header fields of a request or response, in the order received.
///
/// Names compare case-insensitively. Values are kept as bytes, since HTTP allows
/// non-UTF-8 values; the `&str` accessors skip values that are not UTF-8.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, Vec<u8>)>,
}

impl Headers {
    pub(crate) fn from_httparse(raw: &[httparse::Header<'_>]) -> Headers {
        Headers {
            fields: raw
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
        }
    }

    pub(crate) fn from_pairs<'h>(pairs: impl IntoIterator<Item = (&'h str, &'h [u8])>) -> Headers {
        Headers {
            fields: pairs
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_vec()))
                .collect(),
        }
    }

    /// The first value of a field, if present and UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).find_map(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of a field, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every field as (name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
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
        Headers {
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
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
