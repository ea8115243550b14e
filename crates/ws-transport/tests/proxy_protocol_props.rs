//! Properties of the PROXY protocol decoder over generated input: no input panics, the
//! answers are consistent with each other, and an error is final (more bytes never turn
//! it into a header).

use proptest::prelude::*;
use ws_transport::proxy_protocol::{MAX_V2_LEN, Parsed, ProxyHeaderParser};

/// Bytes that look like the start of a header often enough to reach the deep branches:
/// one of the prefixes, then characters from the headers' alphabets and anything else.
fn headerish() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop_oneof![
        Just(Vec::new()),
        Just(b"PROXY ".to_vec()),
        Just(b"PROXY TCP4 ".to_vec()),
        Just(b"PROXY TCP6 ".to_vec()),
        Just(b"PROXY UNKNOWN".to_vec()),
        Just(b"\r\n\r\n\0\r\nQUIT\n".to_vec()),
        Just(b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec()),
        Just(b"\r\n\r\n\0\r\nQUIT\n\x20\x00".to_vec()),
    ];
    let byte = prop_oneof![
        4 => prop::sample::select(b"0123456789.: abcdef\r\n".to_vec()),
        1 => any::<u8>(),
    ];
    (prefix, prop::collection::vec(byte, 0..160)).prop_map(|(mut p, rest)| {
        p.extend(rest);
        p
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn answers_are_consistent(input in headerish()) {
        match ProxyHeaderParser::new().parse(&input) {
            Ok(Parsed::Complete { consumed, .. }) => {
                prop_assert!(consumed <= input.len());
                prop_assert!(consumed >= 15);
            }
            Ok(Parsed::Incomplete { needed }) => {
                prop_assert!(needed >= 1);
                prop_assert!(input.len() + needed <= MAX_V2_LEN);
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    #[test]
    fn an_error_is_final_and_a_header_is_stable(input in headerish(), cut in 0usize..200) {
        let parser = ProxyHeaderParser::new();
        let cut = cut.min(input.len());
        let whole = parser.parse(&input);
        match parser.parse(&input[..cut]) {
            // The same kind of error (`Missing` quotes more of the longer input).
            Err(err) => match whole {
                Err(later) => prop_assert_eq!(
                    std::mem::discriminant(&later),
                    std::mem::discriminant(&err)
                ),
                Ok(parsed) => prop_assert!(false, "{err} at {cut} bytes, then {parsed:?}"),
            },
            Ok(Parsed::Complete { header, consumed }) => {
                prop_assert_eq!(whole, Ok(Parsed::Complete { header, consumed }));
            }
            Ok(Parsed::Incomplete { needed }) => {
                // Reading `needed` more never passes the end of a header in the input.
                if let Ok(Parsed::Complete { consumed, .. }) = whole {
                    prop_assert!(cut + needed <= consumed, "cut {} needed {} consumed {}", cut, needed, consumed);
                }
            }
        }
    }
}
