//! `Sec-WebSocket-Extensions` values (RFC 6455 section 9.1).
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//! A quoted value must be a token once unescaped. The parser is generic: it knows no
//! extension, it only splits offers into names and parameters.

use std::fmt;

use super::error::HandshakeError;
use super::headers::is_token;

/// One extension in an offer or an answer, such as
/// `permessage-deflate; client_max_window_bits`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The extension's registered name.
    pub name: String,
    /// Its parameters, in order.
    pub params: Vec<ExtensionParam>,
}

/// A parameter of an extension: a name and an optional value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionParam {
    /// The parameter name.
    pub name: String,
    /// The value, unquoted, if one was given.
    pub value: Option<String>,
}

impl Extension {
    /// An extension with no parameters.
    pub fn new(name: &str) -> Extension {
        Extension {
            name: name.to_owned(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter.
    pub fn param(mut self, name: &str, value: Option<&str>) -> Extension {
        self.params.push(ExtensionParam {
            name: name.to_owned(),
            value: value.map(str::to_owned),
        });
        self
    }
}

impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for param in &self.params {
            write!(f, "; {}", param.name)?;
            if let Some(value) = &param.value {
                write!(f, "={value}")?;
            }
        }
        Ok(())
    }
}

/// Parses one `Sec-WebSocket-Extensions` value into its extensions.
///
/// ```
/// use ws_proto::handshake::parse_extensions;
/// let offers = parse_extensions(
///     r#"permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10""#,
/// )?;
/// assert_eq!(offers.len(), 2);
/// assert_eq!(offers[0].params[0].value, None);
/// assert_eq!(offers[1].params[0].value.as_deref(), Some("10"));
/// assert!(parse_extensions("foo; =1").is_err());
/// # Ok::<(), ws_proto::Error>(())
/// ```
///
/// # Errors
///
/// [`HandshakeError::InvalidExtensionHeader`], carrying the whole value, when it does not
/// follow the grammar of RFC 6455 9.1: a missing or invalid token for an extension or
/// parameter name, a quoted value that is unterminated or whose content is not a token,
/// or a missing `,` or `;` between items. A server answers it with 400.
pub fn parse_extensions(value: &str) -> Result<Vec<Extension>, HandshakeError> {
    let mut cursor = Cursor {
        rest: value,
        whole: value,
    };
    let mut offers = Vec::new();
    loop {
        cursor.skip_space();
        // RFC 9110 5.6.1: recipients accept empty list elements.
        if cursor.eat(',') {
            continue;
        }
        if cursor.rest.is_empty() {
            break;
        }
        let mut offer = Extension::new(cursor.token()?);
        loop {
            cursor.skip_space();
            if cursor.eat(';') {
                cursor.skip_space();
                let name = cursor.token()?.to_owned();
                cursor.skip_space();
                let value = if cursor.eat('=') {
                    cursor.skip_space();
                    Some(cursor.value()?)
                } else {
                    None
                };
                offer.params.push(ExtensionParam { name, value });
            } else if cursor.eat(',') || cursor.rest.is_empty() {
                break;
            } else {
                return Err(cursor.error());
            }
        }
        offers.push(offer);
    }
    Ok(offers)
}

struct Cursor<'a> {
    rest: &'a str,
    whole: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn token(&mut self) -> Result<&'a str, HandshakeError> {
        let end = self
            .rest
            .find(|c: char| !c.is_ascii() || !is_token(c.encode_utf8(&mut [0; 4])))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(self.error());
        }
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        Ok(token)
    }

    /// A token or a quoted string whose content is a token.
    fn value(&mut self) -> Result<String, HandshakeError> {
        if !self.eat('"') {
            return self.token().map(str::to_owned);
        }
        let mut value = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return if is_token(&value) {
                        Ok(value)
                    } else {
                        Err(self.error())
                    };
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                c => value.push(c),
            }
        }
        Err(self.error())
    }

    fn error(&self) -> HandshakeError {
        HandshakeError::InvalidExtensionHeader(self.whole.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_several_offers_with_every_parameter_form() {
        let offers = parse_extensions(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10 ,\
             permessage-deflate;client_no_context_takeover, x-foo; a=\"b\\c\"",
        )
        .unwrap();
        assert_eq!(offers.len(), 3);
        assert_eq!(offers[0].name, "permessage-deflate");
        assert_eq!(offers[0].params.len(), 2);
        assert_eq!(offers[0].params[1].value.as_deref(), Some("10"));
        assert_eq!(offers[1].params[0].name, "client_no_context_takeover");
        assert_eq!(offers[2].params[0].value.as_deref(), Some("bc"));
    }

    #[test]
    fn refuses_malformed_values() {
        for bad in [
            "; a",
            "foo;",
            "foo; a=",
            "foo; a=\"unterminated",
            "foo; a=\"not a token\"",
            "foo bar",
            "foo; a=b c",
            "föö",
        ] {
            assert!(parse_extensions(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn empty_elements_are_skipped() {
        assert_eq!(
            parse_extensions(" , ,foo,,").unwrap(),
            vec![Extension::new("foo")]
        );
        assert!(parse_extensions("").unwrap().is_empty());
    }

    fn token() -> impl Strategy<Value = String> {
        "[a-z0-9_-]{1,12}"
    }

    proptest! {

        #![proptest_config(crate::test_support::proptest_config())]

        #[test]
        fn display_round_trips(name in token(),
                               params in prop::collection::vec((token(), prop::option::of(token())), 0..4)) {
            let mut offer = Extension::new(&name);
            for (n, v) in &params {
                offer = offer.param(n, v.as_deref());
            }
            prop_assert_eq!(parse_extensions(&offer.to_string()).unwrap(), vec![offer]);
        }

        #[test]
        fn never_panics(value in "\\PC{0,40}") {
            let _ = parse_extensions(&value);
        }
    }
}
