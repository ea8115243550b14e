//! The header fields RFC 6455 4.2.1 checks in an upgrade request, found in one pass
//! over the request's fields.
//!
//! Looking each of them up among all the fields (seven lookups, some twice) cost about a
//! thousand instructions per handshake; one pass that sorts every field by the length of
//! its name (the seven names have seven different lengths) and then compares it with
//! the one name of that length finds them all, with how often each came.

use super::headers::{Headers, list_has_token};

/// How often a field came in a request, and its value when it came once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Seen<'a> {
    /// Not sent.
    #[default]
    Absent,
    /// Sent once, with this value.
    Once(&'a [u8]),
    /// Sent more than once: the values are read from the [`Headers`] when needed.
    Repeated,
}

impl<'a> Seen<'a> {
    /// One more occurrence of the field, with `value`.
    fn add(&mut self, value: &'a [u8]) {
        *self = match self {
            Seen::Absent => Seen::Once(value),
            Seen::Once(_) | Seen::Repeated => Seen::Repeated,
        };
    }
}

/// The fields of RFC 6455 4.2.1 in a request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct UpgradeFields<'a> {
    pub(crate) host: Seen<'a>,
    pub(crate) upgrade: Seen<'a>,
    pub(crate) connection: Seen<'a>,
    pub(crate) version: Seen<'a>,
    pub(crate) key: Seen<'a>,
    pub(crate) protocol: Seen<'a>,
    pub(crate) extensions: Seen<'a>,
}

/// The names, by their length (each is the only one of its length).
const HOST: &[u8; 4] = b"host";
const UPGRADE: &[u8; 7] = b"upgrade";
const CONNECTION: &[u8; 10] = b"connection";
const KEY: &[u8; 17] = b"sec-websocket-key";
const VERSION: &[u8; 21] = b"sec-websocket-version";
const PROTOCOL: &[u8; 22] = b"sec-websocket-protocol";
const EXTENSIONS: &[u8; 24] = b"sec-websocket-extensions";

impl<'a> UpgradeFields<'a> {
    /// Finds the fields in `headers`, in one pass; names compare case-insensitively.
    pub(crate) fn find(headers: &'a Headers) -> UpgradeFields<'a> {
        let mut fields = UpgradeFields::default();
        headers.for_each_field(|name, value| {
            let seen = match name.len() {
                4 if is_name(name, HOST) => &mut fields.host,
                7 if is_name(name, UPGRADE) => &mut fields.upgrade,
                10 if is_name(name, CONNECTION) => &mut fields.connection,
                17 if is_name(name, KEY) => &mut fields.key,
                21 if is_name(name, VERSION) => &mut fields.version,
                22 if is_name(name, PROTOCOL) => &mut fields.protocol,
                24 if is_name(name, EXTENSIONS) => &mut fields.extensions,
                _ => return,
            };
            seen.add(value);
        });
        fields
    }
}

/// Whether `name` (a field name, or a value) is `lower`, lowercase, in any case: as
/// `eq_ignore_ascii_case`, on `N` bytes known when compiled, with no early exit, so that
/// the comparison is unrolled and done many bytes at a time (byte by byte, the seven
/// names cost about 700 instructions per request).
fn is_name<const N: usize>(name: &[u8], lower: &[u8; N]) -> bool {
    let Ok(name) = <&[u8; N]>::try_from(name) else {
        return false;
    };
    name.iter()
        .zip(lower)
        .fold(0, |differ, (n, l)| differ | (n.to_ascii_lowercase() ^ l))
        == 0
}

/// Whether the list field `name`, seen as `seen` in `headers`, holds `token` (compared
/// case-insensitively), across all its occurrences: as [`Headers::has_token`]. `token` is
/// a lowercase token (RFC 9110 5.6.2: ASCII, no comma, no space).
pub(crate) fn has_token<const N: usize>(
    headers: &Headers,
    seen: Seen<'_>,
    name: &str,
    token: &[u8; N],
) -> bool {
    let as_str = || std::str::from_utf8(token).unwrap_or_default();
    match seen {
        Seen::Absent => false,
        // The usual value is the token alone (`Upgrade: websocket`), which is then its
        // list's one element.
        Seen::Once(value) => is_name(value, token) || list_has_token(value, as_str()),
        Seen::Repeated => headers.has_token(name, as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&str, &str)]) -> Headers {
        fields.iter().map(|(n, v)| (*n, v.as_bytes())).collect()
    }

    #[test]
    fn each_field_is_found_in_any_case_with_how_often_it_came() {
        let h = headers(&[
            ("HOST", "a"),
            ("Upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("Connection", "keep-alive"),
            ("Sec-WebSocket-Key", "k"),
            ("sec-websocket-version", "13"),
            ("Sec-WebSocket-Protocol", "chat"),
            ("Sec-WebSocket-Extensions", "x"),
            ("Sec-WebSocket-Extensions", "y"),
            // Same lengths as the names above, other names: not taken for them.
            ("hast", "no"),
            ("upgradd", "no"),
            ("sec-websocket-kez", "no"),
            ("sec-websocket-protocox", "no"),
            ("X-Other", "no"),
        ]);
        let f = UpgradeFields::find(&h);
        assert_eq!(f.host, Seen::Once(b"a"));
        assert_eq!(f.upgrade, Seen::Once(b"websocket"));
        assert_eq!(f.connection, Seen::Repeated);
        assert_eq!(f.key, Seen::Once(b"k"));
        assert_eq!(f.version, Seen::Once(b"13"));
        assert_eq!(f.protocol, Seen::Once(b"chat"));
        assert_eq!(f.extensions, Seen::Repeated);
        let empty = Headers::default();
        let none = UpgradeFields::find(&empty);
        assert_eq!(none.host, Seen::Absent);
        assert_eq!(none.extensions, Seen::Absent);
    }

    /// `is_name` against `eq_ignore_ascii_case` for every byte at every position of `lower`.
    fn check_is_name<const N: usize>(lower: &[u8; N]) {
        assert!(is_name(lower, lower));
        assert!(is_name(&lower.to_ascii_uppercase(), lower));
        // `\r` is `-` with one bit less, `@` is `` ` `` with one bit less.
        for at in 0..N {
            for byte in 0..=u8::MAX {
                let mut name = *lower;
                name[at] = byte;
                assert_eq!(is_name(&name, lower), name.eq_ignore_ascii_case(lower));
            }
        }
        assert!(!is_name(&lower[1..], lower));
        assert!(!is_name(&[lower.as_slice(), b"x"].concat(), lower));
    }

    #[test]
    fn names_compare_as_eq_ignore_ascii_case() {
        check_is_name(HOST);
        check_is_name(UPGRADE);
        check_is_name(CONNECTION);
        check_is_name(KEY);
        check_is_name(VERSION);
        check_is_name(PROTOCOL);
        check_is_name(EXTENSIONS);
        check_is_name(b"websocket");
    }

    #[test]
    fn has_token_agrees_with_the_headers_lookup() {
        let cases: &[&[(&str, &[u8])]] = &[
            &[],
            &[("Connection", b"Upgrade")],
            &[("Connection", b" keep-alive ,  upgrade ,")],
            &[("Connection", b"upgrades")],
            &[("Connection", b"")],
            &[("Connection", b",,")],
            &[("Connection", b"keep-alive"), ("connection", b"UPGRADE")],
            &[("Connection", b"\xff upgrade")],
            &[("Connection", b"\xff"), ("Connection", b"upgrade")],
            &[("Connection", "upgrade\u{a0}".as_bytes())],
            &[("Connection", b"upgrade\x0b")],
        ];
        for fields in cases {
            let h: Headers = fields.iter().copied().collect();
            let seen = UpgradeFields::find(&h).connection;
            assert_eq!(
                has_token(&h, seen, "connection", b"upgrade"),
                h.has_token("connection", "upgrade"),
                "{fields:?}"
            );
            assert_eq!(
                has_token(&h, seen, "connection", b"keep-alive"),
                h.has_token("connection", "keep-alive"),
                "{fields:?}"
            );
        }
    }
}
