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
const HOST: &[u8] = b"host";
const UPGRADE: &[u8] = b"upgrade";
const CONNECTION: &[u8] = b"connection";
const KEY: &[u8] = b"sec-websocket-key";
const VERSION: &[u8] = b"sec-websocket-version";
const PROTOCOL: &[u8] = b"sec-websocket-protocol";
const EXTENSIONS: &[u8] = b"sec-websocket-extensions";

impl<'a> UpgradeFields<'a> {
    /// Finds the fields in `headers`, in one pass; names compare case-insensitively.
    pub(crate) fn find(headers: &'a Headers) -> UpgradeFields<'a> {
        let mut fields = UpgradeFields::default();
        headers.for_each_field(|name, value| {
            let (wanted, seen) = match name.len() {
                4 => (HOST, &mut fields.host),
                7 => (UPGRADE, &mut fields.upgrade),
                10 => (CONNECTION, &mut fields.connection),
                17 => (KEY, &mut fields.key),
                21 => (VERSION, &mut fields.version),
                22 => (PROTOCOL, &mut fields.protocol),
                24 => (EXTENSIONS, &mut fields.extensions),
                _ => return,
            };
            if is_name(name, wanted) {
                seen.add(value);
            }
        });
        fields
    }
}

/// Whether `name` (a field name, or a value) is `lower`, lowercase, in any case: as
/// `eq_ignore_ascii_case`, eight bytes at a time (byte by byte, the seven names cost
/// about 400 instructions per request).
fn is_name(name: &[u8], lower: &[u8]) -> bool {
    if name.len() != lower.len() {
        return false;
    }
    let (name_words, name_rest) = name.as_chunks::<8>();
    let (lower_words, lower_rest) = lower.as_chunks::<8>();
    let mut differ = 0;
    for (n, l) in name_words.iter().zip(lower_words) {
        differ |= lowercase_word(u64::from_ne_bytes(*n)) ^ u64::from_ne_bytes(*l);
    }
    for (n, l) in name_rest.iter().zip(lower_rest) {
        differ |= u64::from(n.to_ascii_lowercase() ^ l);
    }
    differ == 0
}

/// Eight bytes, each made lowercase as [`u8::to_ascii_lowercase`] makes it (`A` to `Z`
/// gain 0x20; every other byte stays).
fn lowercase_word(word: u64) -> u64 {
    const ONES: u64 = u64::MAX / 0xFF; // 0x01 in every byte
    // Each byte's low seven bits plus a constant below 0x80 cannot carry into the next
    // byte, and sets the byte's high bit exactly when the bits reach a bound.
    let low7 = word & (ONES * 0x7F);
    let at_least_a = low7 + ONES * (0x80 - u64::from(b'A'));
    let past_z = low7 + ONES * (0x80 - u64::from(b'Z') - 1);
    // High bit of each byte that is ASCII (its own high bit clear) and in `A..=Z`.
    let upper = at_least_a & !past_z & !word & (ONES * 0x80);
    word | (upper >> 2)
}

/// Whether the list field `name`, seen as `seen` in `headers`, holds `token` (compared
/// case-insensitively), across all its occurrences: as [`Headers::has_token`]. `token` is
/// a lowercase token (RFC 9110 5.6.2: no comma, no space).
pub(crate) fn has_token(headers: &Headers, seen: Seen<'_>, name: &str, token: &str) -> bool {
    match seen {
        Seen::Absent => false,
        // The usual value is the token alone (`Upgrade: websocket`), which is then its
        // list's one element.
        Seen::Once(value) => is_name(value, token.as_bytes()) || list_has_token(value, token),
        Seen::Repeated => headers.has_token(name, token),
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

    #[test]
    fn words_are_lowercased_as_each_byte_is() {
        for byte in 0..=u8::MAX {
            for lane in 0..8 {
                // The byte in one lane, the others holding other bytes around it.
                let mut bytes = [
                    byte.wrapping_add(0x40),
                    b'Z',
                    b'@',
                    b'[',
                    b'a',
                    0xC1,
                    b'`',
                    b'{',
                ];
                bytes[lane] = byte;
                let expected = bytes.map(|b| b.to_ascii_lowercase());
                assert_eq!(
                    lowercase_word(u64::from_ne_bytes(bytes)).to_ne_bytes(),
                    expected,
                    "{bytes:?}"
                );
            }
        }
    }

    #[test]
    fn names_compare_as_eq_ignore_ascii_case() {
        for lower in [
            HOST, UPGRADE, CONNECTION, KEY, VERSION, PROTOCOL, EXTENSIONS,
        ] {
            assert!(is_name(lower, lower));
            assert!(is_name(&lower.to_ascii_uppercase(), lower));
            // Each byte changed to each other byte: equal exactly when
            // eq_ignore_ascii_case says so (`\r` is `-` with one bit less, `@` is `` ` ``).
            for at in 0..lower.len() {
                for byte in 0..=u8::MAX {
                    let mut name = lower.to_vec();
                    name[at] = byte;
                    assert_eq!(is_name(&name, lower), name.eq_ignore_ascii_case(lower));
                }
            }
            assert!(!is_name(&lower[1..], lower));
        }
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
            for token in ["upgrade", "keep-alive", "Upgrade"] {
                assert_eq!(
                    has_token(&h, seen, "connection", token),
                    h.has_token("connection", token),
                    "{fields:?} {token}"
                );
            }
        }
    }
}
