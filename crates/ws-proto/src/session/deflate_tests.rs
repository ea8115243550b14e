//! Sessions with permessage-deflate: RFC 7692 7.2.3's examples on the wire, the errors,
//! decompression bombs, memory between messages, and round trips over every combination
//! of parameters and split points.

use std::borrow::Cow;

use proptest::prelude::*;

use super::*;
use crate::ProtocolError;
use crate::{CloseCode, DeflateParams, Event, MessageKind, OpCode, RecvBuffer, apply_mask};

fn params() -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        level: 6,
        min_size: 0,
    }
}

fn deflate_session(role: Role, params: DeflateParams) -> Session {
    Session::new(role, Config::default(), Some(params))
}

fn decode_all(session: &mut Session, bytes: &[u8]) -> (Vec<Event<'static>>, Option<Error>) {
    let mut input = RecvBuffer::new();
    input.extend_from_slice(bytes);
    let mut events = Vec::new();
    loop {
        match session.decode(&mut input) {
            Ok(Some(event)) => events.push(event.into_owned()),
            Ok(None) => return (events, None),
            Err(err) => return (events, Some(err)),
        }
    }
}

fn masked(bytes: &[u8]) -> Vec<u8> {
    // Adds a zero mask to a server-style frame (header of 2 bytes).
    let mut frame = vec![bytes[0], bytes[1] | 0x80, 0, 0, 0, 0];
    frame.extend_from_slice(&bytes[2..]);
    frame
}

fn text(s: &str) -> Event<'static> {
    Event::Text(Cow::Owned(s.to_owned()))
}

#[test]
fn rfc_7692_hello_on_the_wire_with_context_takeover() {
    // 7.2.3.1 and 7.2.3.2: "Hello" twice from a server; the second message is a
    // back-reference into the first.
    let mut server = deflate_session(Role::Server, params());
    server.send_text("Hello").unwrap();
    assert_eq!(
        server.pending(),
        [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
    let n = server.pending().len();
    server.advance(n);
    server.send_text("Hello").unwrap();
    assert_eq!(server.pending(), [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);

    let mut client = deflate_session(Role::Client, params());
    let wire = [
        0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00,
        0x00,
    ];
    assert_eq!(
        decode_all(&mut client, &wire).0,
        vec![text("Hello"), text("Hello")]
    );
}

#[test]
fn rfc_7692_uncompressed_block_and_two_fragments() {
    let mut client = deflate_session(Role::Client, params());
    // 7.2.3.3 (a stored block) and 7.2.3.4 (the message in two frames, RSV1 on the first).
    let wire = [
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x41, 0x03,
        0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(
        decode_all(&mut client, &wire).0,
        vec![text("Hello"), text("Hello")]
    );
    // And a server reads the same from a (masked) client.
    let mut server = deflate_session(Role::Server, params());
    let mut wire = masked(&[0x41, 0x03, 0xf2, 0x48, 0xcd]);
    wire.extend(masked(&[0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]));
    assert_eq!(decode_all(&mut server, &wire).0, vec![text("Hello")]);
}

#[test]
fn rsv1_anywhere_but_a_first_data_frame_is_a_protocol_error() {
    let cases: [(&[u8], OpCode); 3] = [
        // RSV1 on a continuation.
        (
            &[
                0x41, 0x03, 0xf2, 0x48, 0xcd, 0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00,
            ],
            OpCode::Continuation,
        ),
        // RSV1 on a ping.
        (&[0xc9, 0x00], OpCode::Ping),
        // RSV1 on a close.
        (&[0xc8, 0x00], OpCode::Close),
    ];
    for (wire, opcode) in cases {
        let mut client = deflate_session(Role::Client, params());
        let (_, err) = decode_all(&mut client, wire);
        assert!(
            matches!(err, Some(Error::Protocol(ProtocolError::MisplacedCompressedBit(op))) if op == opcode),
            "{wire:02x?}: {err:?}"
        );
        let err = err.unwrap();
        assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
        // The close reason names the rule broken: RFC 7692 6.1, not "no extension".
        let reason = err.to_string();
        assert!(reason.contains("RFC 7692 6.1"), "{reason}");
        assert!(!reason.contains("negotiated extension"), "{reason}");
        assert!(reason.len() <= crate::MAX_REASON_LEN, "{reason}");
    }
    // Without the extension RSV1 is refused even on a data frame.
    let mut plain = Session::new(Role::Client, Config::default(), None);
    assert!(matches!(
        decode_all(&mut plain, &[0xc1, 0x01, 0x00]).1,
        Some(Error::Protocol(ProtocolError::ReservedBits))
    ));
}

#[test]
fn bad_compressed_data_and_bad_inflated_text_close_with_1007() {
    let mut client = deflate_session(Role::Client, params());
    let (_, err) = decode_all(&mut client, &[0xc1, 0x04, 0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(
        err,
        Some(Error::Protocol(ProtocolError::InvalidCompressedData))
    ));
    assert_eq!(err.unwrap().close_code(), Some(CloseCode::INVALID_PAYLOAD));

    // Valid deflate of bytes that are not UTF-8, sent as text.
    let mut sender = deflate_session(Role::Server, params());
    let mut raw = Vec::new();
    sender
        .deflate
        .as_mut()
        .unwrap()
        .compressor
        .compress(&[b'a', 0xff], &mut raw, true)
        .unwrap();
    let mut wire = vec![0xc1, raw.len() as u8];
    wire.extend(raw);
    let (_, err) = decode_all(&mut deflate_session(Role::Client, params()), &wire);
    assert!(matches!(
        err,
        Some(Error::Protocol(ProtocolError::InvalidUtf8))
    ));
}

#[test]
#[cfg_attr(miri, ignore = "deflates 2 MiB and inflates 16 MiB: hours under Miri")]
fn a_one_gibibyte_bomb_is_refused_at_the_limit_with_bounded_memory() {
    // 1 MiB of zeros compresses to about 1 KiB; the chunk after the first repeats, as the
    // window is all zeros: 1,024 chunks inflate to 1 GiB from about 1 MiB on the wire.
    let mut c = crate::deflate::Deflate::new(&params(), Role::Server);
    let mut first = Vec::new();
    c.compressor
        .compress(&vec![0u8; 1 << 20], &mut first, false)
        .unwrap();
    let mut next = Vec::new();
    c.compressor
        .compress(&vec![0u8; 1 << 20], &mut next, false)
        .unwrap();
    let mut payload = first;
    for _ in 1..1024 {
        payload.extend_from_slice(&next);
    }
    assert!(
        payload.len() < 2 << 20,
        "{} bytes on the wire",
        payload.len()
    );
    let mut wire = vec![0xc2, 127];
    wire.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    wire.extend_from_slice(&payload);

    let config = Config {
        max_message_size: 16 << 20,
        ..Config::default()
    };
    let mut client = Session::new(Role::Client, config, Some(params()));
    let mut input = RecvBuffer::new();
    let mut refused = None;
    for piece in wire.chunks(64 * 1024) {
        input.extend_from_slice(piece);
        match client.decode(&mut input) {
            Ok(_) => assert!(
                client.reassembly_len() <= (16 << 20) + 1,
                "held {}",
                client.reassembly_len()
            ),
            Err(err) => {
                refused = Some(err);
                break;
            }
        }
    }
    let err = refused.expect("refused before the end");
    assert!(
        matches!(err, Error::Protocol(ProtocolError::MessageTooLarge { max, .. }) if max == 16 << 20),
        "{err:?}"
    );
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
}

#[test]
fn without_context_takeover_the_compressor_is_freed_between_messages() {
    let agreed = DeflateParams {
        server_no_context_takeover: true,
        ..params()
    };
    let mut server = deflate_session(Role::Server, agreed);
    server.send_text("Hello").unwrap();
    assert!(!server.deflate.as_ref().unwrap().compressor.is_allocated());
    let n = server.pending().len();
    server.advance(n);
    server.send_text("Hello").unwrap();
    // Each message compresses on its own: the same bytes twice.
    assert_eq!(
        server.pending(),
        [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
    // With takeover it stays (that is the point of it).
    let mut server = deflate_session(Role::Server, params());
    server.send_text("Hello").unwrap();
    assert!(server.deflate.as_ref().unwrap().compressor.is_allocated());
    // And a session that has sent nothing compressed holds no compressor at all.
    assert!(
        !deflate_session(Role::Server, params())
            .deflate
            .unwrap()
            .compressor
            .is_allocated()
    );
}

#[test]
fn small_messages_go_uncompressed() {
    let agreed = DeflateParams {
        min_size: 32,
        ..params()
    };
    let mut server = deflate_session(Role::Server, agreed);
    server.send_text("short").unwrap();
    assert_eq!(server.pending()[0], 0x81, "no RSV1");
    let n = server.pending().len();
    server.advance(n);
    server
        .send_text(&"long enough to compress ".repeat(4))
        .unwrap();
    assert_eq!(server.pending()[0], 0xc1, "RSV1");
    let mut client = deflate_session(Role::Client, agreed);
    assert_eq!(
        decode_all(&mut client, server.pending()).0,
        vec![text(&"long enough to compress ".repeat(4))]
    );
}

#[test]
fn compressed_fragments_delivered_one_by_one() {
    let config = Config {
        deliver_fragments: true,
        ..Config::default()
    };
    let mut sender = deflate_session(Role::Server, params());
    let message = "fragment ".repeat(500);
    let (a, b) = message.as_bytes().split_at(1234);
    sender.send_fragment(MessageKind::Text, a, false).unwrap();
    sender.send_fragment(MessageKind::Text, b, true).unwrap();
    let mut receiver = Session::new(Role::Client, config, Some(params()));
    let (events, err) = decode_all(&mut receiver, sender.pending());
    assert!(err.is_none());
    let mut joined = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let Event::Fragment { kind, data, last } = event else {
            panic!("{event:?}")
        };
        assert_eq!((*kind, *last), (MessageKind::Text, i == events.len() - 1));
        joined.extend_from_slice(data);
    }
    assert_eq!(joined, message.as_bytes());
}

#[derive(Clone, Debug)]
enum Msg {
    Text(String),
    Binary(Vec<u8>),
    Fragmented(Vec<String>),
    Ping(Vec<u8>),
}

fn any_msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        "(ab|cd|\\PC){0,300}".prop_map(Msg::Text),
        prop::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..2000).prop_map(Msg::Binary),
        prop::collection::vec("(xy|\\PC){0,50}", 1..4).prop_map(Msg::Fragmented),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Msg::Ping),
    ]
}

fn any_params() -> impl Strategy<Value = DeflateParams> {
    (
        any::<bool>(),
        any::<bool>(),
        8u8..=15,
        8u8..=15,
        0u32..=9,
        prop_oneof![Just(0usize), Just(32)],
    )
        .prop_map(
            |(server_nct, client_nct, server_bits, client_bits, level, min_size)| DeflateParams {
                server_no_context_takeover: server_nct,
                client_no_context_takeover: client_nct,
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
                level,
                min_size,
            },
        )
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config())]

    #[test]
    fn compressed_round_trips_in_both_roles(
        msgs in prop::collection::vec(any_msg(), 0..8),
        agreed in any_params(),
        client_sends in any::<bool>(),
        reads in prop::collection::vec(1usize..500, 1..5),
    ) {
        let (from, to) = if client_sends { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
        let mut sender = deflate_session(from, agreed);
        let mut expected = Vec::new();
        for msg in &msgs {
            match msg {
                Msg::Text(t) => { sender.send_text(t).unwrap(); expected.push(text(t)); }
                Msg::Binary(b) => { sender.send_binary(b).unwrap(); expected.push(Event::Binary(Cow::Owned(b.clone()))); }
                Msg::Fragmented(parts) => {
                    for (i, part) in parts.iter().enumerate() {
                        sender.send_fragment(MessageKind::Text, part.as_bytes(), i + 1 == parts.len()).unwrap();
                    }
                    expected.push(text(&parts.concat()));
                }
                Msg::Ping(p) => { sender.send_ping(p).unwrap(); expected.push(Event::Ping(Cow::Owned(p.clone()))); }
            }
        }
        let wire = sender.pending().to_vec();
        let mut receiver = deflate_session(to, agreed);
        let mut input = RecvBuffer::new();
        let mut events = Vec::new();
        let mut at = 0;
        for size in reads.iter().cycle() {
            if at == wire.len() { break; }
            let end = (at + size).min(wire.len());
            input.extend_from_slice(&wire[at..end]);
            at = end;
            while let Some(event) = receiver.decode(&mut input).unwrap() {
                events.push(event.into_owned());
            }
        }
        // Pings the receiver answers are irrelevant here; messages must match exactly.
        prop_assert_eq!(events, expected);
    }
}

#[test]
fn masking_of_compressed_client_frames_is_undone() {
    // A client's compressed frame is masked over the compressed bytes.
    let mut client = deflate_session(Role::Client, params());
    client.send_text("Hello").unwrap();
    let mut frame = client.pending().to_vec();
    assert_eq!(frame[0], 0xc1);
    let key = [frame[2], frame[3], frame[4], frame[5]];
    apply_mask(&mut frame[6..], key, 0);
    assert_eq!(&frame[6..], [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    let mut server = deflate_session(Role::Server, params());
    assert_eq!(
        decode_all(&mut server, client.pending()).0,
        vec![text("Hello")]
    );
}

#[test]
fn messages_that_would_be_compressed_are_never_sent_external() {
    let mut s = deflate_session(
        Role::Server,
        DeflateParams {
            min_size: 100,
            ..params()
        },
    );
    // RFC 7692 6: a compressed payload is not the caller's bytes, so it is not theirs
    // to write.
    assert!(!s.send_binary_external(100).unwrap());
    assert!(s.pending().is_empty());
    // Below min_size, messages go uncompressed: the caller may write it.
    assert!(s.send_binary_external(99).unwrap());
    assert_eq!(s.pending(), b"\x82\x63");
    assert_eq!(s.external_pending(), 99);
}
