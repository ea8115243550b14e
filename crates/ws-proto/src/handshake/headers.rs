//! Header fields of a handshake message, and the comma-separated token lists in them.

use crate::local_error::LocalError;

/// The header fields of a request or response, in the order received.
///
/// Names compare case-insensitively. Values are kept as bytes, since HTTP allows
/// non-UTF-8 values; the `&str` accessors skip values that are not UTF-8.
///
/// Stored in two allocations whatever the number of fields (every name and value one
/// after the other in one buffer, and where each name and value ends in it), rather
/// than two per field: a handshake's request is read once per connection.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Each field's name then its value, field after field. Names are UTF-8: they come
    /// as `&str`.
    text: Vec<u8>,
    /// Where each field's name and value end in `text`; a name starts where the value
    /// before it ended.
    ends: Vec<(usize, usize)>,
}

impl Headers {
    pub(crate) fn from_httparse(raw: &[httparse::Header<'_>]) -> Headers {
        // Sized first, so that the buffer does not grow (and copy itself) while filled.
        let len = raw.iter().map(|h| h.name.len() + h.value.len()).sum();
        let mut headers = Headers {
            text: Vec::with_capacity(len),
            ends: Vec::with_capacity(raw.len()),
        };
        headers.extend(raw.iter().map(|h| (h.name, h.value)));
        headers
    }

    pub(crate) fn from_pairs<'h>(pairs: impl IntoIterator<Item = (&'h str, &'h [u8])>) -> Headers {
        let pairs = pairs.into_iter();
        let mut headers = Headers {
            text: Vec::new(),
            ends: Vec::with_capacity(pairs.size_hint().0),
        };
        headers.extend(pairs);
        headers
    }

    /// Appends fields.
    fn extend<'h>(&mut self, pairs: impl Iterator<Item = (&'h str, &'h [u8])>) {
        for (name, value) in pairs {
            self.text.extend_from_slice(name.as_bytes());
            let name_end = self.text.len();
            self.text.extend_from_slice(value);
            self.ends.push((name_end, self.text.len()));
        }
    }

    /// Calls `f` with every field's name (as bytes: no `str` checks) and value, in
    /// order: a plain loop, a fraction of the instructions of an iterator chain such as
    /// [`iter`](Self::iter)'s.
    pub(crate) fn for_each_field<'a>(&'a self, mut f: impl FnMut(&'a [u8], &'a [u8])) {
        let mut at = 0;
        for &(name_end, value_end) in &self.ends {
            f(&self.text[at..name_end], &self.text[name_end..value_end]);
            at = value_end;
        }
    }

    /// Every field as (name bytes, value), in order.
    fn byte_fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.ends.iter().scan(0, |at, &(name_end, value_end)| {
            let name_at = std::mem::replace(at, value_end);
            Some((
                &self.text[name_at..name_end],
                &self.text[name_end..value_end],
            ))
        })
    }

    /// Every field as (name, value), in order.
    fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> {
        // Names were `&str` when stored: never empty for want of UTF-8.
        self.byte_fields()
            .map(|(name, value)| (std::str::from_utf8(name).unwrap_or_default(), value))
    }

    /// The first value of a field, if present and UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).find_map(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of a field, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        // Names compared as bytes, with no `str` checks.
        self.byte_fields()
            .filter(move |(field, _)| field.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| value)
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
        self.get_all(name).flat_map(list_elements)
    }

    /// Whether a list field contains `token`, compared case-insensitively.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).any(|value| list_has_token(value, token))
    }
}

/// The elements of one value of a comma-separated list field (RFC 9110 5.6.1), trimmed,
/// empty elements skipped; none if the value is not UTF-8.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &str> {
    std::str::from_utf8(value)
        .ok()
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Whether one value of a comma-separated list field holds `token` (compared
/// case-insensitively): as `list_elements(value).any(|t| t.eq_ignore_ascii_case(token))`,
/// without the UTF-8 decoding on the usual, ASCII values.
pub(crate) fn list_has_token(value: &[u8], token: &str) -> bool {
    if !value.is_ascii() {
        return list_elements(value).any(|t| t.eq_ignore_ascii_case(token));
    }
    // The ASCII characters `str::trim` trims (`char::is_whitespace`: U+0009 to U+000D
    // and the space; `u8::is_ascii_whitespace` leaves out U+000B).
    let is_space = |b: &u8| matches!(b, b'\t'..=b'\r' | b' ');
    value.split(|&b| b == b',').any(|element| {
        let start = element.iter().position(|b| !is_space(b));
        let end = element.iter().rposition(|b| !is_space(b));
        match (start, end) {
            (Some(start), Some(end)) => element[start..=end].eq_ignore_ascii_case(token.as_bytes()),
            // Empty, or spaces only: skipped, as `list_elements` skips it.
            _ => false,
        }
    })
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

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config())]

        /// The ASCII shortcut finds a token exactly where the elements do.
        #[test]
        fn list_has_token_agrees_with_list_elements(
            value in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(b"uUpgradeGRADE, \t\x0b\x0c\r\n,,".to_vec()),
                proptest::prelude::any::<u8>(),
            ], 0..24),
            token in proptest::sample::select(vec!["upgrade", "UpGrade", "u", "websocket"]),
        ) {
            let mut value = value;
            // Valid UTF-8 with non-ASCII whitespace, sometimes.
            if value.first() == Some(&b'u') {
                value.extend_from_slice("\u{a0}\u{85}".as_bytes());
            }
            proptest::prop_assert_eq!(
                list_has_token(&value, token),
                list_elements(&value).any(|t| t.eq_ignore_ascii_case(token)),
                "{:?}", String::from_utf8_lossy(&value)
            );
        }
    }

    #[test]
    fn list_has_token_trims_as_str_trim() {
        for (value, found) in [
            (&b"upgrade"[..], true),
            (b" \t\x0b\x0c\r\nUpgrade\x0b ", true),
            (b"keep-alive,upgrade", true),
            (b"upgrade-x", false),
            (b"", false),
            (b" , ,", false),
            ("upgrade\u{a0}".as_bytes(), true),
            (b"\xffupgrade", false),
            (b"upgrade, \xff", false),
        ] {
            assert_eq!(list_has_token(value, "upgrade"), found, "{value:?}");
        }
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
