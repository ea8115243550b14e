//! The PROXY protocol decoder against HAProxy's `proxy-protocol.txt`, grouped by its
//! sections. The v2 headers are built by hand here, byte by byte, not with the decoder's
//! crate.

use std::net::SocketAddr;

use ws_transport::proxy_protocol::{
    DEFAULT_MAX_V2_LEN, MAX_V1_LEN, MAX_V2_LEN, Parsed, ProxiedAddresses, ProxyHeader,
    ProxyHeaderError, ProxyHeaderParser, ProxyVersion, Tlv,
};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn complete(input: &[u8]) -> (ProxyHeader, usize) {
    match ProxyHeaderParser::new().parse(input) {
        Ok(Parsed::Complete { header, consumed }) => (header, consumed),
        other => panic!("expected a complete header, got {other:?}"),
    }
}

fn error(input: &[u8]) -> ProxyHeaderError {
    match ProxyHeaderParser::new().parse(input) {
        Err(err) => err,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Every strict prefix of a valid header is `Incomplete`, with a `needed` that never
/// reaches past the header; the whole is `Complete`.
fn check_every_split(header: &[u8]) {
    let parser = ProxyHeaderParser::new();
    for cut in 0..header.len() {
        match parser.parse(&header[..cut]) {
            Ok(Parsed::Incomplete { needed }) => {
                assert!(needed >= 1, "cut {cut}: needed 0");
                assert!(
                    cut + needed <= header.len(),
                    "cut {cut}: needed {needed} reads past the {}-byte header",
                    header.len()
                );
            }
            other => panic!("cut {cut} of {}: {other:?}", header.len()),
        }
    }
    let mut with_more = header.to_vec();
    with_more.extend_from_slice(b"GET / HTTP/1.1\r\n");
    match parser.parse(&with_more) {
        Ok(Parsed::Complete { consumed, .. }) => assert_eq!(consumed, header.len()),
        other => panic!("whole header: {other:?}"),
    }
}

/// Reading exactly `needed` bytes at a time reaches the end of the header exactly.
fn check_exact_reads(header: &[u8]) {
    let parser = ProxyHeaderParser::new();
    let mut have = 0;
    loop {
        match parser.parse(&header[..have]).unwrap() {
            Parsed::Incomplete { needed } => have += needed,
            Parsed::Complete { consumed, .. } => {
                assert_eq!(consumed, header.len());
                assert_eq!(have, header.len());
                return;
            }
        }
    }
}

/// A v2 header: signature, `ver_cmd`, `fam`, then `body` (addresses and TLVs) with its
/// length.
fn v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.push(ver_cmd);
    h.push(fam);
    h.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    h.extend_from_slice(body);
    h
}

fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut t = vec![kind];
    t.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
    t.extend_from_slice(value);
    t
}

fn ipv4_block() -> Vec<u8> {
    // 192.0.2.7:56324 -> 198.51.100.1:443
    let mut b = vec![192, 0, 2, 7, 198, 51, 100, 1];
    b.extend_from_slice(&56324u16.to_be_bytes());
    b.extend_from_slice(&443u16.to_be_bytes());
    b
}

fn ipv6_block() -> Vec<u8> {
    let src: std::net::Ipv6Addr = "2001:db8::7".parse().unwrap();
    let dst: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let mut b = src.octets().to_vec();
    b.extend_from_slice(&dst.octets());
    b.extend_from_slice(&40000u16.to_be_bytes());
    b.extend_from_slice(&8080u16.to_be_bytes());
    b
}

mod section_2_header_placement {
    //! Section 2: the header comes first; "the receiver MUST not try to guess whether
    //! the protocol header is present or not".
    use super::*;

    #[test]
    fn a_plain_http_request_is_a_missing_header() {
        let err = error(b"GET /chat HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\n\r\n");
        assert!(
            matches!(err, ProxyHeaderError::Missing { ref start } if start == "GET /chat HTTP/1")
        );
        assert!(
            err.to_string().starts_with("no PROXY protocol header"),
            "{err}"
        );
    }

    #[test]
    fn missing_is_seen_at_the_first_wrong_byte() {
        assert!(matches!(error(b"G"), ProxyHeaderError::Missing { .. }));
        assert!(matches!(error(b"PROXX"), ProxyHeaderError::Missing { .. }));
        assert!(matches!(
            error(b"\r\n\r\n\0\r\nQUIZ"),
            ProxyHeaderError::Missing { .. }
        ));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            error(&[0xff, 0x00, 0x13, 0x37]),
            ProxyHeaderError::Missing { .. }
        ));
        assert!(matches!(
            error(&[0x16, 0x03, 0x01, 0x02, 0x00]),
            ProxyHeaderError::Missing { .. }
        ));
    }

    #[test]
    fn nothing_yet_needs_at_most_the_shortest_header() {
        assert_eq!(
            ProxyHeaderParser::new().parse(b"").unwrap(),
            Parsed::Incomplete { needed: 15 }
        );
    }
}

mod section_2_1_version_1 {
    //! Section 2.1: the human-readable header.
    use super::*;

    #[test]
    fn tcp4() {
        let (header, consumed) = complete(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET");
        assert_eq!(consumed, 45);
        assert_eq!(header.version, ProxyVersion::V1);
        assert_eq!(
            header.addresses,
            ProxiedAddresses::Proxied {
                source: addr("192.0.2.7:56324"),
                destination: addr("198.51.100.1:443"),
            }
        );
        assert!(header.tlvs.is_empty());
    }

    #[test]
    fn tcp6() {
        let (header, _) = complete(b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 8080\r\n");
        assert_eq!(header.source(), Some(addr("[2001:db8::7]:40000")));
        assert_eq!(header.destination(), Some(addr("[2001:db8::1]:8080")));
    }

    #[test]
    fn the_longest_lines_of_the_spec() {
        complete(b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
        let six = b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assert_eq!(six.len(), 104);
        complete(six);
        let unknown = b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assert_eq!(unknown.len(), MAX_V1_LEN);
        let (header, consumed) = complete(unknown);
        assert_eq!(
            (header.addresses, consumed),
            (ProxiedAddresses::Unknown, 107)
        );
    }

    #[test]
    fn unknown_short_form_uses_the_real_endpoints() {
        let (header, consumed) = complete(b"PROXY UNKNOWN\r\n");
        assert_eq!(consumed, 15);
        assert_eq!(header.addresses, ProxiedAddresses::Unknown);
        let peer = addr("127.0.0.1:5000");
        assert_eq!(header.client_or(peer), peer);
    }

    #[test]
    fn truncated_at_every_split_point() {
        check_every_split(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n");
        check_every_split(b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 8080\r\n");
        check_every_split(b"PROXY UNKNOWN\r\n");
        check_exact_reads(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n");
        check_exact_reads(b"PROXY UNKNOWN\r\n");
    }

    #[test]
    fn no_crlf_in_107_bytes_is_too_long() {
        let mut line = b"PROXY TCP4 ".to_vec();
        line.resize(MAX_V1_LEN, b'1');
        assert_eq!(error(&line), ProxyHeaderError::V1TooLong);
        // A CR at the 107th byte would make a 108-byte line.
        line[MAX_V1_LEN - 1] = b'\r';
        assert_eq!(error(&line), ProxyHeaderError::V1TooLong);
        // 106 bytes without CRLF may still end well.
        assert!(matches!(
            ProxyHeaderParser::new().parse(&line[..MAX_V1_LEN - 1]),
            Ok(Parsed::Incomplete { .. })
        ));
    }

    #[test]
    fn a_single_cr_or_lf_does_not_end_the_line() {
        assert!(matches!(
            error(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\n"),
            ProxyHeaderError::V1Invalid { .. }
        ));
        assert!(matches!(
            error(b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\rX"),
            ProxyHeaderError::V1Invalid { .. }
        ));
    }

    #[test]
    fn lines_that_do_not_exactly_match_are_refused() {
        for bad in [
            &b"PROXY TCP5 192.0.2.7 198.51.100.1 56324 443\r\n"[..],
            b"PROXY tcp4 192.0.2.7 198.51.100.1 56324 443\r\n",
            b"PROXY TCP4 192.0.2.256 198.51.100.1 56324 443\r\n",
            b"PROXY TCP4 2001:db8::7 198.51.100.1 56324 443\r\n",
            b"PROXY TCP6 192.0.2.7 198.51.100.1 56324 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 056324 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443 extra\r\n",
            b"PROXY TCP4 192.0.2.7  198.51.100.1 56324 443\r\n",
            b"PROXY \r\n",
            b"PROXY TCP4 \xff\xfe 198.51.100.1 56324 443\r\n",
        ] {
            let err = error(bad);
            assert!(
                matches!(err, ProxyHeaderError::V1Invalid { .. }),
                "{:?}: {err:?}",
                String::from_utf8_lossy(bad)
            );
            assert!(err.to_string().starts_with("invalid PROXY v1 header: "));
        }
    }
}

mod section_2_2_version_2 {
    //! Section 2.2: the binary header.
    use super::*;

    #[test]
    fn proxy_tcp_over_ipv4() {
        let h = v2(0x21, 0x11, &ipv4_block());
        let mut input = h.clone();
        input.extend_from_slice(b"GET /");
        let (header, consumed) = complete(&input);
        assert_eq!(consumed, 28);
        assert_eq!(header.version, ProxyVersion::V2);
        assert_eq!(
            header.addresses,
            ProxiedAddresses::Proxied {
                source: addr("192.0.2.7:56324"),
                destination: addr("198.51.100.1:443"),
            }
        );
    }

    #[test]
    fn proxy_tcp_over_ipv6() {
        let (header, consumed) = complete(&v2(0x21, 0x21, &ipv6_block()));
        assert_eq!(consumed, 16 + 36);
        assert_eq!(header.source(), Some(addr("[2001:db8::7]:40000")));
        assert_eq!(header.destination(), Some(addr("[2001:db8::1]:8080")));
    }

    #[test]
    fn local_uses_the_real_endpoints_and_skips_its_block() {
        // "Receivers MUST always consider this field to skip the appropriate number of
        // bytes and must not assume zero is presented for LOCAL connections."
        let (header, consumed) = complete(&v2(0x20, 0x00, &[]));
        assert_eq!((header.addresses, consumed), (ProxiedAddresses::Local, 16));
        let (header, consumed) = complete(&v2(0x20, 0x11, &ipv4_block()));
        assert_eq!((header.addresses, consumed), (ProxiedAddresses::Local, 28));
        let (header, consumed) = complete(&v2(0x20, 0x00, &[1, 2, 3, 4, 5]));
        assert_eq!((header.addresses, consumed), (ProxiedAddresses::Local, 21));
        assert_eq!(header.client_or(addr("127.0.0.1:1")), addr("127.0.0.1:1"));
    }

    #[test]
    fn proxy_with_unspec_unix_or_udp_uses_the_real_endpoints() {
        assert_eq!(
            complete(&v2(0x21, 0x00, &[])).0.addresses,
            ProxiedAddresses::Unknown
        );
        assert_eq!(
            complete(&v2(0x21, 0x12, &ipv4_block())).0.addresses,
            ProxiedAddresses::Unknown
        );
        assert_eq!(
            complete(&v2(0x21, 0x31, &[0; 216])).0.addresses,
            ProxiedAddresses::Unknown
        );
    }

    #[test]
    fn tlvs_after_the_addresses() {
        let mut body = ipv4_block();
        body.extend(tlv(0x01, b"http/1.1")); // PP2_TYPE_ALPN, 2.2.1
        body.extend(tlv(0x02, b"example.com")); // PP2_TYPE_AUTHORITY, 2.2.2
        body.extend(tlv(0x04, &[])); // PP2_TYPE_NOOP, 2.2.4
        body.extend(tlv(0x05, b"id-42")); // PP2_TYPE_UNIQUE_ID, 2.2.5
        let h = v2(0x21, 0x11, &body);
        let (header, consumed) = complete(&h);
        assert_eq!(consumed, h.len());
        assert_eq!(header.source(), Some(addr("192.0.2.7:56324")));
        assert_eq!(
            header.tlvs,
            vec![
                Tlv {
                    kind: 1,
                    value: b"http/1.1".to_vec()
                },
                Tlv {
                    kind: 2,
                    value: b"example.com".to_vec()
                },
                Tlv {
                    kind: 4,
                    value: vec![]
                },
                Tlv {
                    kind: 5,
                    value: b"id-42".to_vec()
                },
            ]
        );
        // LOCAL with an address family and TLVs: the TLVs are read too.
        let mut body = ipv4_block();
        body.extend(tlv(0x05, b"check"));
        let (header, _) = complete(&v2(0x20, 0x11, &body));
        assert_eq!(header.addresses, ProxiedAddresses::Local);
        assert_eq!(
            header.tlvs,
            vec![Tlv {
                kind: 5,
                value: b"check".to_vec()
            }]
        );
    }

    #[test]
    fn a_truncated_tlv_is_refused() {
        let mut body = ipv4_block();
        let mut t = tlv(0x02, b"example.com");
        t.truncate(6);
        body.extend(t);
        assert!(matches!(
            error(&v2(0x21, 0x11, &body)),
            ProxyHeaderError::V2Invalid { .. }
        ));
        let mut body = ipv4_block();
        body.extend([0x04, 0x00]);
        assert!(matches!(
            error(&v2(0x21, 0x11, &body)),
            ProxyHeaderError::V2Invalid { .. }
        ));
    }

    #[test]
    fn truncated_at_every_split_point() {
        check_every_split(&v2(0x21, 0x11, &ipv4_block()));
        check_every_split(&v2(0x21, 0x21, &ipv6_block()));
        check_every_split(&v2(0x20, 0x00, &[]));
        let mut body = ipv4_block();
        body.extend(tlv(0x01, b"h2"));
        check_every_split(&v2(0x21, 0x11, &body));
        check_exact_reads(&v2(0x21, 0x11, &body));
        check_exact_reads(&v2(0x21, 0x21, &ipv6_block()));
    }

    #[test]
    fn version_other_than_2_is_refused() {
        // "it must always be sent as \x2 and the receiver must only accept this value"
        for ver_cmd in [0x11, 0x31, 0x01] {
            let err = error(&v2(ver_cmd, 0x11, &ipv4_block()));
            assert!(
                matches!(err, ProxyHeaderError::V2Invalid { .. }),
                "{ver_cmd:#x}: {err:?}"
            );
        }
    }

    #[test]
    fn unassigned_command_family_or_transport_is_refused() {
        // "Receivers must drop connections presenting unexpected values here."
        for (ver_cmd, fam) in [
            (0x22, 0x11),
            (0x2f, 0x11),
            (0x21, 0x41),
            (0x21, 0x13),
            (0x21, 0xf1),
        ] {
            let err = error(&v2(ver_cmd, fam, &ipv4_block()));
            assert!(
                matches!(err, ProxyHeaderError::V2Invalid { .. }),
                "{ver_cmd:#x} {fam:#x}: {err:?}"
            );
        }
        // Seen at the 16th byte, before the block arrives.
        let h = v2(0x23, 0x11, &ipv4_block());
        assert!(matches!(
            error(&h[..16]),
            ProxyHeaderError::V2Invalid { .. }
        ));
    }

    #[test]
    fn a_block_shorter_than_its_family_is_refused() {
        let err = error(&v2(0x21, 0x21, &ipv4_block()));
        assert!(matches!(err, ProxyHeaderError::V2Invalid { .. }), "{err:?}");
        assert!(err.to_string().starts_with("invalid PROXY v2 header: "));
    }

    #[test]
    fn oversize_is_refused_at_the_16th_byte() {
        let mut h = v2(0x21, 0x11, &ipv4_block());
        let announced = DEFAULT_MAX_V2_LEN - 16 + 1;
        h[14..16].copy_from_slice(&u16::try_from(announced).unwrap().to_be_bytes());
        assert_eq!(
            error(&h[..16]),
            ProxyHeaderError::V2TooLong {
                len: DEFAULT_MAX_V2_LEN + 1,
                max: DEFAULT_MAX_V2_LEN
            }
        );
        // Exactly at the cap is fine.
        let mut body = ipv4_block();
        body.extend(tlv(0x04, &vec![0; DEFAULT_MAX_V2_LEN - 16 - 12 - 3]));
        let h = v2(0x21, 0x11, &body);
        assert_eq!(h.len(), DEFAULT_MAX_V2_LEN);
        assert_eq!(complete(&h).1, DEFAULT_MAX_V2_LEN);
        let mut body = ipv4_block();
        body.extend(tlv(0x04, &vec![0; DEFAULT_MAX_V2_LEN - 16 - 12 - 3 + 1]));
        assert!(matches!(
            error(&v2(0x21, 0x11, &body)),
            ProxyHeaderError::V2TooLong { .. }
        ));
    }

    #[test]
    fn the_cap_is_a_setting_clamped_to_the_protocol() {
        let mut body = ipv4_block();
        body.extend(tlv(0x04, &vec![0; 60_000]));
        let h = v2(0x21, 0x11, &body);
        let big = ProxyHeaderParser::new().max_v2_len(MAX_V2_LEN);
        assert_eq!(big.max_v2(), MAX_V2_LEN);
        assert!(
            matches!(big.parse(&h), Ok(Parsed::Complete { consumed, .. }) if consumed == h.len())
        );
        assert_eq!(
            ProxyHeaderParser::new().max_v2_len(usize::MAX).max_v2(),
            MAX_V2_LEN
        );
        // Never below the largest address block: an AF_UNIX header always fits.
        let small = ProxyHeaderParser::new().max_v2_len(0);
        assert_eq!(small.max_v2(), 232);
        assert!(matches!(
            small.parse(&v2(0x21, 0x31, &[0; 216])),
            Ok(Parsed::Complete { .. })
        ));
        assert!(matches!(
            small.parse(&h[..16]),
            Err(ProxyHeaderError::V2TooLong { .. })
        ));
    }
}
