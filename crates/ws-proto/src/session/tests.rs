//! Session behaviour: RFC 6455 examples, every protocol error with the close code it
//! queues, the closing handshake, pings, limits, and property tests over arbitrary
//! message sequences and arbitrary bytes.

use std::borrow::Cow;

use proptest::prelude::*;

use super::*;
use crate::{
    CloseCode, CloseFrame, Event, FrameHeader, HeaderParse, MessageKind, OpCode, RecvBuffer,
    apply_mask, parse_close_payload,
};
use crate::{LocalError, ProtocolError};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn server() -> Session {
    Session::new(Role::Server, Config::default(), None)
}

fn client() -> Session {
    Session::new(Role::Client, Config::default(), None)
}

/// A frame as a client would send it: masked with `KEY`.
fn masked(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut header = [0u8; crate::MAX_HEADER_LEN];
    let mut h = FrameHeader::new(
        OpCode::from_bits(first_byte & 0x0F).unwrap_or(OpCode::Binary),
        payload.len() as u64,
    );
    h.mask = Some(KEY);
    let n = h.encode(&mut header);
    // Write the first byte as given, so tests can set any flag and any opcode.
    header[0] = first_byte;
    let mut frame = header[..n].to_vec();
    let start = frame.len();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[start..], KEY, 0);
    frame
}

/// A frame as a server would send it: unmasked.
fn unmasked(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = masked(first_byte, payload);
    // Drop the mask bit and key, and unmask the payload.
    let HeaderParse::Complete { len, .. } = FrameHeader::parse(&frame).unwrap() else {
        unreachable!()
    };
    let start = len;
    apply_mask(&mut frame[start..], KEY, 0);
    frame[1] &= 0x7F;
    frame.drain(len - 4..len);
    frame
}

/// Feeds `bytes` and collects events until the session wants more or fails.
fn feed(session: &mut Session, bytes: &[u8]) -> (Vec<Event<'static>>, Option<Error>) {
    let mut input = RecvBuffer::new();
    input.extend_from_slice(bytes);
    drain(session, &mut input)
}

fn drain(session: &mut Session, input: &mut RecvBuffer) -> (Vec<Event<'static>>, Option<Error>) {
    let mut events = Vec::new();
    loop {
        match session.decode(input) {
            Ok(Some(event)) => events.push(event.into_owned()),
            Ok(None) => return (events, None),
            Err(err) => return (events, Some(err)),
        }
    }
}

/// The close frame at the end of what a server queued: its code, or None if empty.
fn queued_close_code(session: &Session) -> Option<Option<u16>> {
    let out = session.pending();
    let mut at = 0;
    let mut last = None;
    while at < out.len() {
        let HeaderParse::Complete { header, len } = FrameHeader::parse(&out[at..]).unwrap() else {
            panic!("truncated output")
        };
        let mut payload = out[at + len..at + len + header.payload_len as usize].to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        if header.opcode == OpCode::Close {
            last = Some(
                parse_close_payload(&payload)
                    .unwrap()
                    .map(|f| f.code.as_u16()),
            );
        }
        at += len + header.payload_len as usize;
    }
    last
}

fn text(s: &str) -> Event<'static> {
    Event::Text(Cow::Owned(s.to_owned()))
}

// ----- RFC 6455 section 5.7 -----

#[test]
fn rfc_single_frame_unmasked_text() {
    let (events, err) = feed(&mut client(), &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!((events, err.is_none()), (vec![text("Hello")], true));
}

#[test]
fn rfc_single_frame_masked_text() {
    let bytes = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(masked(0x81, b"Hello"), bytes);
    let (events, _) = feed(&mut server(), &bytes);
    assert_eq!(events, vec![text("Hello")]);
}

#[test]
fn rfc_fragmented_unmasked_text() {
    let bytes = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let (events, _) = feed(&mut client(), &bytes);
    assert_eq!(events, vec![text("Hello")]);
    let mut s = server();
    s.send_fragment(MessageKind::Text, b"Hel", false).unwrap();
    s.send_fragment(MessageKind::Text, b"lo", true).unwrap();
    assert_eq!(s.pending(), bytes);
}

#[test]
fn rfc_ping_and_masked_pong() {
    let mut c = client();
    let (events, _) = feed(&mut c, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(events, vec![Event::Ping(Cow::Owned(b"Hello".to_vec()))]);
    // The automatic answer is a masked pong with the same payload; the server reads it.
    let (events, _) = feed(&mut server(), c.pending());
    assert_eq!(events, vec![Event::Pong(Cow::Owned(b"Hello".to_vec()))]);
    // The RFC's masked pong, byte for byte.
    let pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(masked(0x8a, b"Hello"), pong);
    let (events, _) = feed(&mut server(), &pong);
    assert_eq!(events, vec![Event::Pong(Cow::Owned(b"Hello".to_vec()))]);
    let mut s = server();
    s.send_ping(b"Hello").unwrap();
    assert_eq!(s.pending(), &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
}

#[test]
fn rfc_256_and_65536_byte_binary() {
    for (len, header) in [
        (256usize, vec![0x82, 0x7E, 0x01, 0x00]),
        (65536, vec![0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
    ] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut s = server();
        s.send_binary(&payload).unwrap();
        assert_eq!(&s.pending()[..header.len()], header.as_slice());
        assert_eq!(&s.pending()[header.len()..], payload.as_slice());
        let (events, _) = feed(&mut client(), s.pending());
        assert_eq!(events, vec![Event::Binary(Cow::Owned(payload))]);
    }
}

#[test]
fn client_frames_are_masked_with_fresh_keys() {
    let mut c = client();
    c.send_text("Hello").unwrap();
    c.send_text("Hello").unwrap();
    let out = c.pending().to_vec();
    let HeaderParse::Complete { header: first, len } = FrameHeader::parse(&out).unwrap() else {
        panic!()
    };
    let HeaderParse::Complete { header: second, .. } = FrameHeader::parse(&out[len + 5..]).unwrap()
    else {
        panic!()
    };
    assert!(first.mask.is_some() && second.mask.is_some());
    assert_ne!(first.mask, second.mask);
    let (events, _) = feed(&mut server(), &out);
    assert_eq!(events, vec![text("Hello"), text("Hello")]);
}

#[test]
fn single_frame_messages_are_delivered_in_place() {
    let mut s = server();
    let mut input = RecvBuffer::new();
    input.extend_from_slice(&masked(0x81, b"zero copy"));
    assert!(matches!(
        s.decode(&mut input).unwrap(),
        Some(Event::Text(Cow::Borrowed("zero copy")))
    ));
    input.extend_from_slice(&masked(0x01, b"a"));
    input.extend_from_slice(&masked(0x80, b"b"));
    assert!(matches!(s.decode(&mut input).unwrap(), Some(Event::Text(Cow::Owned(t))) if t == "ab"));
}

#[test]
fn large_text_is_validated_across_block_and_read_boundaries() {
    // 3-byte code points: the 16 KiB validation blocks and the reads below split them.
    let text = "\u{2603}".repeat(40 * 1024 / 3);
    let frame = masked(0x81, text.as_bytes());
    for read in [frame.len(), 7919, 16 * 1024 + 1] {
        let mut s = server();
        let mut input = RecvBuffer::new();
        let mut events = Vec::new();
        for piece in frame.chunks(read) {
            input.extend_from_slice(piece);
            events.extend(drain(&mut s, &mut input).0);
        }
        assert_eq!(
            events,
            vec![Event::Text(Cow::Owned(text.clone()))],
            "reads of {read}"
        );
    }
    // And a bad byte deep inside is still refused.
    let mut bad = text.clone().into_bytes();
    bad[30_000] = 0xFF;
    assert_fails(
        server(),
        &masked(0x81, &bad),
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
        1007,
    );
}

// ----- Hand-over of large payloads (Session::hand_over_payloads_from) -----

/// A server that hands over payloads of 16 KiB and more.
fn handing_over_server() -> Session {
    let mut s = server();
    s.hand_over_payloads_from(Some(16 * 1024));
    s
}

#[test]
fn large_messages_are_handed_over_in_the_buffer_storage() {
    let big_text = "\u{2603}".repeat(40 * 1024 / 3);
    let binary: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut wire = masked(0x81, big_text.as_bytes());
    wire.extend_from_slice(&masked(0x82, &binary));
    wire.extend_from_slice(&masked(0x81, b"small"));
    // 2 (and 8): the header arrives alone; the others cut frames and code points anywhere.
    // (A frame that arrives whole behind other bytes is delivered in place, borrowed.)
    // Under Miri (which checks the unchecked `String` made of a handed-over text), one
    // read size: byte-sized reads of 150 KB take it hours.
    let reads: &[usize] = if cfg!(miri) {
        &[7919]
    } else {
        &[2, 8, 7919, 16 * 1024 + 1]
    };
    for &read in reads {
        let mut s = handing_over_server();
        let mut input = RecvBuffer::new();
        let mut events = Vec::new();
        let mut largest = 0;
        for piece in wire.chunks(read) {
            input.extend_from_slice(piece);
            largest = largest.max(input.capacity());
            loop {
                match s.decode(&mut input) {
                    Ok(Some(event)) => {
                        let owned = matches!(
                            &event,
                            Event::Text(Cow::Owned(_)) | Event::Binary(Cow::Owned(_))
                        );
                        events.push((event.into_owned(), owned));
                    }
                    Ok(None) => break,
                    Err(err) => panic!("reads of {read}: {err}"),
                }
            }
        }
        let expected = vec![
            (Event::Text(Cow::Owned(big_text.clone())), true),
            (Event::Binary(Cow::Owned(binary.clone())), true),
            (text("small"), false),
        ];
        // (Not assert_eq: the payloads would fill the screen.)
        assert!(events == expected, "reads of {read}");
        // Sized once for the frame (plus one read's room), never doubled past it.
        assert!(
            largest <= 100_000 + 2 * 16 * 1024 + 64,
            "reads of {read}: the buffer reached {largest} bytes"
        );
    }
}

// A driver asks whether the partial frame in a buffer it lent is being gathered there
// for a hand-over (keep the storage with the connection) or is a few bytes it can move.
#[test]
fn only_a_partial_payload_to_hand_over_is_being_gathered() {
    let large = masked(0x82, &vec![1u8; 20_000]);
    let small = masked(0x82, &vec![2u8; 1_000]);
    let fragments = Config {
        deliver_fragments: true,
        ..Config::default()
    };
    let cases: Vec<(&str, Session, &[u8], bool)> = vec![
        (
            "part of a header",
            handing_over_server(),
            &large[..1],
            false,
        ),
        (
            "part of a large payload",
            handing_over_server(),
            &large[..100],
            true,
        ),
        (
            "part of a small payload",
            handing_over_server(),
            &small[..100],
            false,
        ),
        ("hand-over off", server(), &large[..100], false),
        (
            "fragments delivered one by one",
            {
                let mut s = Session::new(Role::Server, fragments, None);
                s.hand_over_payloads_from(Some(16 * 1024));
                s
            },
            &large[..100],
            false,
        ),
    ];
    for (what, mut session, bytes, gathering) in cases {
        let mut input = RecvBuffer::new();
        input.extend_from_slice(bytes);
        while let Ok(Some(_)) = session.decode(&mut input) {}
        assert_eq!(session.is_gathering_payload(), gathering, "{what}");
    }
    // Once the payload is whole and delivered, nothing is.
    let mut session = handing_over_server();
    let mut input = RecvBuffer::new();
    input.extend_from_slice(&large);
    assert!(matches!(
        session.decode(&mut input),
        Ok(Some(Event::Binary(_)))
    ));
    assert!(!session.is_gathering_payload());
}

#[test]
fn hand_over_is_off_by_default_and_below_its_size() {
    let binary = vec![5u8; 20_000];
    let wire = masked(0x82, &binary);
    for threshold in [None, Some(20_001)] {
        let mut s = server();
        s.hand_over_payloads_from(threshold);
        let mut input = RecvBuffer::new();
        input.extend_from_slice(&wire[..100]);
        assert!(s.decode(&mut input).unwrap().is_none());
        input.extend_from_slice(&wire[100..]);
        assert!(
            matches!(s.decode(&mut input).unwrap(), Some(Event::Binary(Cow::Borrowed(b))) if b == binary),
            "{threshold:?}"
        );
    }
}

#[test]
fn handed_over_text_is_still_validated() {
    let mut bad = "\u{2603}".repeat(40 * 1024 / 3).into_bytes();
    bad[30_000] = 0xFF;
    let wire = masked(0x81, &bad);
    let mut s = handing_over_server();
    let mut input = RecvBuffer::new();
    let mut failed = None;
    for piece in wire.chunks(5000) {
        input.extend_from_slice(piece);
        if let (events, Some(err)) = drain(&mut s, &mut input) {
            assert!(events.is_empty());
            failed = Some(err);
            break;
        }
    }
    assert!(matches!(
        failed,
        Some(Error::Protocol(ProtocolError::InvalidUtf8))
    ));
    assert_eq!(queued_close_code(&s), Some(Some(1007)));
    // A 16 KiB text frame that arrives whole is validated in one call, never handed over
    // unvalidated.
    let mut bad = vec![b'a'; 16 * 1024];
    bad[100] = 0xC0;
    assert_fails(
        handing_over_server(),
        &masked(0x81, &bad),
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
        1007,
    );
}

// ----- Payloads the caller writes itself (Session::send_binary_external) -----

/// Everything `s` queued, with `payload` written where the session asks for it.
fn wire_with_external(s: &mut Session, payload: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut written = 0;
    loop {
        let pending = s.pending().to_vec();
        wire.extend_from_slice(&pending);
        s.advance(pending.len());
        let n = s.external_pending();
        if n == 0 && s.pending().is_empty() {
            return wire;
        }
        wire.extend_from_slice(&payload[written..written + n]);
        written += n;
        s.advance_external(n);
    }
}

#[test]
fn an_external_payload_goes_out_as_send_binary_would_send_it() {
    let payload: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
    let mut copied = server();
    copied.send_binary(&payload).unwrap();
    copied.send_text("next").unwrap();
    let mut external = server();
    assert!(external.send_binary_external(payload.len()).unwrap());
    external.send_text("next").unwrap();
    assert_eq!(
        external.pending().len(),
        10,
        "the header only (RFC 6455 5.2: 127 and a 64-bit length)"
    );
    assert!(wire_with_external(&mut external, &payload) == copied.pending());
}

#[test]
fn answers_and_closes_queued_meanwhile_follow_the_external_payload() {
    let payload = vec![3u8; 1000];
    let mut s = server();
    assert!(s.send_binary_external(payload.len()).unwrap());
    // A second one waits for the first: the caller copies it instead.
    assert!(!s.send_binary_external(10).unwrap());
    // The peer pings, then we close.
    let (events, err) = feed(&mut s, &masked(0x89, b"hi"));
    assert!(err.is_none());
    assert_eq!(events, vec![Event::Ping(Cow::Owned(b"hi".to_vec()))]);
    s.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(
        matches!(s.send_binary_external(5), Err(LocalError::Closed)),
        "nothing is sent after our close"
    );
    let wire = wire_with_external(&mut s, &payload);
    let mut expected = vec![0x82, 0x7e, 0x03, 0xe8];
    expected.extend_from_slice(&payload);
    expected.extend_from_slice(b"\x8a\x02hi\x88\x05\x03\xe8bye");
    assert_eq!(wire, expected);
}

#[test]
fn external_payloads_only_where_no_copy_is_needed() {
    // RFC 6455 5.3: a client masks, which needs a copy.
    let mut c = client();
    assert!(!c.send_binary_external(100).unwrap());
    assert!(c.pending().is_empty() && c.external_pending() == 0);
    // Inside a fragmented message, as send_binary.
    let mut s = server();
    s.send_fragment(MessageKind::Binary, b"a", false).unwrap();
    assert!(matches!(
        s.send_binary_external(100),
        Err(LocalError::MessageInProgress)
    ));
}

// A driver that lends its output buffer gets it back after a large message sent from
// external storage, so that echo after echo reuses it (no allocation per message);
// without a buffer to return it to (or with `advance_external`), it is freed, so an
// idle session holds no output storage.
#[test]
fn lent_output_storage_is_kept_across_large_external_echoes() {
    const LARGE: usize = 1 << 20;
    let mut scratch = Vec::with_capacity(4096);
    let at = scratch.as_ptr();
    let mut s = server();
    for echo in 0..2 {
        s.lend_output_storage(&mut scratch);
        assert_eq!(scratch.capacity(), 0, "echo {echo}: lent");
        assert!(s.send_binary_external(LARGE).unwrap());
        assert_eq!(s.pending().as_ptr(), at, "echo {echo}: the header in it");
        let head = s.pending().len();
        s.advance_and_reclaim(head, &mut scratch);
        assert_eq!(
            scratch.capacity(),
            0,
            "echo {echo}: the payload is unwritten"
        );
        s.advance_external_and_reclaim(LARGE / 2, &mut scratch);
        s.advance_external_and_reclaim(LARGE / 2, &mut scratch);
        assert_eq!(s.queued_len(), 0);
        assert_eq!(scratch.as_ptr(), at, "echo {echo}: the same storage back");
        assert!(scratch.capacity() >= 4096 && scratch.is_empty());
    }
    // Storage to return it to is held already: the session's is freed, not kept.
    let mut other = Vec::with_capacity(64);
    s.lend_output_storage(&mut scratch);
    assert!(s.send_binary_external(LARGE).unwrap());
    let head = s.pending().len();
    s.advance(head);
    s.advance_external_and_reclaim(LARGE, &mut other);
    assert_eq!(other.capacity(), 64, "the held storage is untouched");
    assert_eq!(s.queued_len(), 0);
    let mut probe = Vec::new();
    s.advance_and_reclaim(0, &mut probe);
    assert_eq!(probe.capacity(), 0, "the session holds no output storage");
    // `advance_external` frees it too.
    let mut s = server();
    s.lend_output_storage(&mut other);
    assert!(s.send_binary_external(LARGE).unwrap());
    let head = s.pending().len();
    s.advance(head);
    s.advance_external(LARGE);
    s.advance_and_reclaim(0, &mut probe);
    assert_eq!(probe.capacity(), 0, "freed");
}

// ----- Every protocol error, with the close code it queues -----

fn assert_fails(mut session: Session, bytes: &[u8], expected: fn(&Error) -> bool, code: u16) {
    let (events, err) = feed(&mut session, bytes);
    let err = err.unwrap_or_else(|| panic!("no error for {bytes:02x?}; events {events:?}"));
    assert!(expected(&err), "unexpected error {err:?}");
    assert_eq!(err.close_code().map(CloseCode::as_u16), Some(code));
    assert_eq!(
        queued_close_code(&session),
        Some(Some(code)),
        "close frame queued"
    );
    assert_eq!(session.state(), State::Closed);
    // Nothing more is delivered, and nothing more is queued.
    let before = session.pending().len();
    let (events, err) = feed(&mut session, &masked(0x81, b"late"));
    assert!(events.is_empty() && err.is_none());
    assert_eq!(session.pending().len(), before);
    assert!(matches!(session.send_text("x"), Err(LocalError::Closed)));
}

#[test]
fn reserved_opcodes() {
    for op in [0x3, 0x7, 0xB, 0xF] {
        assert_fails(
            server(),
            &masked(0x80 | op, b""),
            |e| matches!(e, Error::Protocol(ProtocolError::ReservedOpcode(_))),
            1002,
        );
    }
}

#[test]
fn rsv_bits_without_extension() {
    for bit in [0x40, 0x20, 0x10] {
        assert_fails(
            server(),
            &masked(0x81 | bit, b"x"),
            |e| matches!(e, Error::Protocol(ProtocolError::ReservedBits)),
            1002,
        );
    }
}

#[test]
fn fragmented_control_frame() {
    assert_fails(
        server(),
        &masked(0x09, b""),
        |e| matches!(e, Error::Protocol(ProtocolError::FragmentedControlFrame)),
        1002,
    );
}

#[test]
fn control_frame_over_125_bytes() {
    assert_fails(
        server(),
        &masked(0x89, &[0; 126]),
        |e| matches!(e, Error::Protocol(ProtocolError::ControlFrameTooLong)),
        1002,
    );
}

#[test]
fn length_with_top_bit_set() {
    let bytes = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    assert_fails(
        server(),
        &bytes,
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidLength)),
        1002,
    );
}

#[test]
fn unmasked_frame_to_server() {
    assert_fails(
        server(),
        &unmasked(0x81, b"hi"),
        |e| matches!(e, Error::Protocol(ProtocolError::UnmaskedFrame)),
        1002,
    );
}

#[test]
fn unmasked_frames_accepted_when_opted_in() {
    let config = Config {
        accept_unmasked_frames: true,
        ..Config::default()
    };
    let (events, err) = feed(
        &mut Session::new(Role::Server, config, None),
        &unmasked(0x81, b"legacy"),
    );
    assert_eq!((events, err.is_none()), (vec![text("legacy")], true));
}

#[test]
fn masked_frame_to_client() {
    assert_fails(
        client(),
        &masked(0x81, b"hi"),
        |e| matches!(e, Error::Protocol(ProtocolError::MaskedFrame)),
        1002,
    );
}

#[test]
fn continuation_without_message() {
    assert_fails(
        server(),
        &masked(0x80, b"x"),
        |e| matches!(e, Error::Protocol(ProtocolError::UnexpectedContinuation)),
        1002,
    );
}

#[test]
fn new_message_inside_fragmented_one() {
    let mut bytes = masked(0x01, b"a");
    bytes.extend(masked(0x81, b"b"));
    assert_fails(
        server(),
        &bytes,
        |e| matches!(e, Error::Protocol(ProtocolError::ExpectedContinuation)),
        1002,
    );
}

#[test]
fn close_with_one_byte_payload() {
    assert_fails(
        server(),
        &masked(0x88, &[0x03]),
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidClosePayload)),
        1002,
    );
}

#[test]
fn close_with_invalid_codes() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        assert_fails(
            server(),
            &masked(0x88, &code.to_be_bytes()),
            |e| matches!(e, Error::Protocol(ProtocolError::InvalidCloseCode(_))),
            1002,
        );
    }
}

#[test]
fn close_reason_not_utf8() {
    assert_fails(
        server(),
        &masked(0x88, &[0x03, 0xE8, 0xC0, 0x80]),
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
        1007,
    );
}

#[test]
fn invalid_utf8_text() {
    assert_fails(
        server(),
        &masked(0x81, &[b'a', 0xFF]),
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
        1007,
    );
    // A message that ends inside a code point.
    assert_fails(
        server(),
        &masked(0x81, &[0xE2, 0x98]),
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
        1007,
    );
    let mut bytes = masked(0x01, &[0xE2]);
    bytes.extend(masked(0x80, &[0x98]));
    assert_fails(
        server(),
        &bytes,
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
        1007,
    );
}

#[test]
fn invalid_utf8_fails_before_the_message_ends() {
    // Fragmented: the first fragment is bad; the rest never needs to arrive.
    let mut s = server();
    let (_, err) = feed(&mut s, &masked(0x01, &[b'o', b'k', 0xED, 0xA0, 0x80]));
    assert!(matches!(
        err,
        Some(Error::Protocol(ProtocolError::InvalidUtf8))
    ));
    // One frame, arriving in pieces: refused as soon as the bad byte is in.
    let mut s = server();
    let frame = masked(
        0x81,
        "κόσμε\u{1}"
            .as_bytes()
            .iter()
            .chain(&[0xF4, 0x90, 0x80, 0x80, b'x', b'y'])
            .copied()
            .collect::<Vec<_>>()
            .as_slice(),
    );
    let bad_at = frame.len() - 5; // index of 0x90 in the frame
    let mut input = RecvBuffer::new();
    input.extend_from_slice(&frame[..bad_at]);
    assert!(drain(&mut s, &mut input).1.is_none(), "valid so far");
    input.extend_from_slice(&frame[bad_at..bad_at + 1]);
    assert!(matches!(
        drain(&mut s, &mut input).1,
        Some(Error::Protocol(ProtocolError::InvalidUtf8))
    ));
    assert_eq!(queued_close_code(&s), Some(Some(1007)));
}

#[test]
fn frame_over_the_limit_is_refused_at_its_header() {
    let config = Config {
        max_frame_size: 1000,
        ..Config::default()
    };
    // Only the header is sent: the refusal does not wait for (or buffer) the payload.
    let header = [0x82, 0xFE, 0x03, 0xE9, 1, 2, 3, 4];
    assert_fails(
        Session::new(Role::Server, config, None),
        &header,
        |e| {
            matches!(
                e,
                Error::Protocol(ProtocolError::FrameTooLarge {
                    size: 1001,
                    max: 1000
                })
            )
        },
        1009,
    );
}

#[test]
fn message_over_the_limit_is_refused_at_the_frame_that_passes_it() {
    let config = Config {
        max_message_size: 10,
        ..Config::default()
    };
    let mut bytes = masked(0x02, &[0; 6]);
    bytes.extend(masked(0x00, &[0; 4]));
    bytes.extend(&masked(0x80, &[0; 1])[..6]); // header only
    assert_fails(
        Session::new(Role::Server, config.clone(), None),
        &bytes,
        |e| {
            matches!(
                e,
                Error::Protocol(ProtocolError::MessageTooLarge { size: 11, max: 10 })
            )
        },
        1009,
    );
    assert_fails(
        Session::new(Role::Server, config, None),
        &masked(0x82, &[0; 11]),
        |e| matches!(e, Error::Protocol(ProtocolError::MessageTooLarge { .. })),
        1009,
    );
}

#[test]
fn limits_can_change_after_the_handshake() {
    let mut s = server();
    s.set_max_frame_size(4);
    s.set_max_message_size(8);
    assert_eq!(
        (s.config().max_frame_size, s.config().max_message_size),
        (4, 8)
    );
    assert_fails(
        s,
        &masked(0x82, &[0; 5]),
        |e| {
            matches!(
                e,
                Error::Protocol(ProtocolError::FrameTooLarge { size: 5, max: 4 })
            )
        },
        1009,
    );
}

// ----- Closing handshake -----

#[test]
fn we_close_first() {
    let mut s = server();
    s.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(s.state(), State::CloseSent);
    assert_eq!(s.pending(), b"\x88\x05\x03\xe8bye");
    assert!(matches!(s.send_text("more"), Err(LocalError::Closed)));
    assert!(matches!(
        s.close(CloseCode::NORMAL, ""),
        Err(LocalError::Closed)
    ));
    // Messages the peer sent before seeing our close are still delivered (RFC 6455 1.4
    // only discards after *receiving* a close); pings are not answered; a message left
    // unfinished by the peer's close is dropped.
    let mut bytes = masked(0x81, b"late data");
    bytes.extend(masked(0x01, b"frag"));
    bytes.extend(masked(0x89, b"ping"));
    bytes.extend(masked(0x88, &[0x03, 0xE8]));
    let (events, err) = feed(&mut s, &bytes);
    assert!(err.is_none());
    assert_eq!(
        events,
        vec![
            text("late data"),
            Event::Ping(Cow::Owned(b"ping".to_vec())),
            Event::Close(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: Cow::Owned(String::new())
            })),
        ]
    );
    assert_eq!(s.state(), State::Closed);
    assert_eq!(
        s.pending(),
        b"\x88\x05\x03\xe8bye",
        "nothing queued after our close"
    );
    assert!(s.receive_eof().is_ok());
}

#[test]
fn peer_closes_first_and_we_echo_the_code() {
    let mut s = server();
    let mut payload = 1001u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"away");
    let (events, _) = feed(&mut s, &masked(0x88, &payload));
    assert_eq!(
        events,
        vec![Event::Close(Some(CloseFrame {
            code: CloseCode::GOING_AWAY,
            reason: Cow::Owned("away".into())
        }))]
    );
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.pending(), b"\x88\x02\x03\xe9");
    assert!(matches!(s.send_text("x"), Err(LocalError::Closed)));
}

#[test]
fn empty_close_is_answered_with_an_empty_close() {
    let mut s = server();
    let (events, _) = feed(&mut s, &masked(0x88, b""));
    assert_eq!(events, vec![Event::Close(None)]);
    assert_eq!(s.pending(), b"\x88\x00");
}

#[test]
fn eof_before_close_is_abnormal() {
    let mut s = server();
    let (events, _) = feed(&mut s, &masked(0x01, b"half a mess"));
    assert!(events.is_empty());
    assert!(matches!(s.receive_eof(), Err(Error::AbnormalClosure)));
    assert_eq!(s.state(), State::Closed);
    assert!(
        s.pending().is_empty(),
        "nothing can be sent on a dead connection"
    );
}

#[test]
fn close_reason_over_123_bytes_is_refused() {
    let mut s = server();
    assert!(matches!(
        s.close(CloseCode::NORMAL, &"x".repeat(124)),
        Err(LocalError::CloseReasonTooLong(124))
    ));
    assert_eq!(s.state(), State::Open);
    assert!(
        s.close(CloseCode::new(4242).unwrap(), &"x".repeat(123))
            .is_ok()
    );
}

// ----- Pings -----

#[test]
fn pings_inside_a_fragmented_message() {
    let mut bytes = masked(0x01, b"frag");
    bytes.extend(masked(0x89, b"p"));
    bytes.extend(masked(0x80, b"ment"));
    let mut s = server();
    let (events, _) = feed(&mut s, &bytes);
    assert_eq!(
        events,
        vec![Event::Ping(Cow::Owned(b"p".to_vec())), text("fragment")]
    );
    assert_eq!(s.pending(), b"\x8a\x01p");
}

#[test]
fn every_one_of_ten_pings_is_answered() {
    let mut s = server();
    let bytes: Vec<u8> = (0..10)
        .flat_map(|i| masked(0x89, format!("payload-{i}").as_bytes()))
        .collect();
    feed(&mut s, &bytes);
    let (events, _) = feed(&mut client(), s.pending());
    let expected: Vec<Event<'static>> = (0..10)
        .map(|i| Event::Pong(Cow::Owned(format!("payload-{i}").into_bytes())))
        .collect();
    assert_eq!(events, expected);
}

#[test]
fn a_ping_flood_does_not_grow_the_output() {
    let mut s = server();
    let bytes: Vec<u8> = (0..1000)
        .flat_map(|i| masked(0x89, format!("{i:0>100}").as_bytes()))
        .collect();
    feed(&mut s, &bytes);
    let (events, _) = feed(&mut client(), s.pending());
    assert_eq!(events.len(), 16, "only the latest pongs stay queued");
    assert_eq!(
        events.last(),
        Some(&Event::Pong(Cow::Owned(
            format!("{:0>100}", 999).into_bytes()
        )))
    );
    // Once the caller drains, answering starts afresh.
    let n = s.pending().len();
    s.advance(n);
    feed(&mut s, &masked(0x89, b"again"));
    assert_eq!(s.pending(), b"\x8a\x05again");
}

#[test]
fn auto_pong_can_be_turned_off() {
    let config = Config {
        auto_pong: false,
        ..Config::default()
    };
    let mut s = Session::new(Role::Server, config, None);
    let (events, _) = feed(&mut s, &masked(0x89, b"p"));
    assert_eq!(events.len(), 1);
    assert!(s.pending().is_empty());
}

// ----- Sending errors -----

#[test]
fn local_misuse_is_an_error_and_queues_nothing() {
    let mut s = server();
    assert!(matches!(
        s.send_ping(&[0; 126]),
        Err(LocalError::ControlPayloadTooLong(126))
    ));
    assert!(matches!(
        s.send_pong(&[0; 126]),
        Err(LocalError::ControlPayloadTooLong(126))
    ));
    s.send_fragment(MessageKind::Binary, b"a", false).unwrap();
    assert!(matches!(
        s.send_text("x"),
        Err(LocalError::MessageInProgress)
    ));
    assert!(matches!(
        s.send_fragment(MessageKind::Text, b"x", true),
        Err(LocalError::MessageInProgress)
    ));
    s.send_ping(b"between fragments is fine").unwrap();
    s.send_fragment(MessageKind::Binary, b"b", true).unwrap();
    let (events, err) = feed(&mut client(), s.pending());
    assert!(err.is_none());
    assert_eq!(events.len(), 2);

    let mut s = server();
    let before = s.pending().len();
    assert!(matches!(
        s.send_fragment(MessageKind::Text, &[0xFF], false),
        Err(LocalError::InvalidText)
    ));
    assert_eq!(s.pending().len(), before);
    // A code point split across fragments is fine.
    s.send_fragment(MessageKind::Text, &[0xE2, 0x98], false)
        .unwrap();
    assert!(matches!(
        s.send_fragment(MessageKind::Text, b"", true),
        Err(LocalError::InvalidText)
    ));
    s.send_fragment(MessageKind::Text, &[0x83], true).unwrap();
    let (events, _) = feed(&mut client(), s.pending());
    assert_eq!(events, vec![text("☃")]);
}

// ----- Frame-by-frame delivery -----

#[test]
fn fragments_delivered_one_by_one() {
    let config = Config {
        deliver_fragments: true,
        ..Config::default()
    };
    let mut s = Session::new(Role::Server, config, None);
    let mut bytes = masked(0x01, &[b'a', 0xE2]);
    bytes.extend(masked(0x80, &[0x98, 0x83]));
    bytes.extend(masked(0x82, b"one"));
    let (events, err) = feed(&mut s, &bytes);
    assert!(err.is_none());
    let fragment = |kind, data: &[u8], last| Event::Fragment {
        kind,
        data: Cow::Owned(data.to_vec()),
        last,
    };
    assert_eq!(
        events,
        vec![
            fragment(MessageKind::Text, &[b'a', 0xE2], false),
            fragment(MessageKind::Text, &[0x98, 0x83], true),
            fragment(MessageKind::Binary, b"one", true),
        ]
    );
    // Text validity is still checked across fragments.
    let mut bytes = masked(0x01, &[0xE2]);
    bytes.extend(masked(0x80, b"x"));
    assert_fails(
        s,
        &bytes,
        |e| matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)),
        1007,
    );
}

// ----- Properties -----

#[derive(Clone, Debug)]
enum Msg {
    Text(String),
    Binary(Vec<u8>),
    /// A message sent in fragments, split at the given byte offsets.
    Fragmented(MessageKind, Vec<u8>, Vec<usize>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn any_msg() -> impl Strategy<Value = Msg> {
    let bytes = prop::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        ".{0,100}".prop_map(Msg::Text),
        bytes.clone().prop_map(Msg::Binary),
        (".{0,100}", prop::collection::vec(0usize..400, 0..4))
            .prop_map(|(t, cuts)| Msg::Fragmented(MessageKind::Text, t.into_bytes(), cuts)),
        (bytes, prop::collection::vec(0usize..400, 0..4)).prop_map(|(b, cuts)| Msg::Fragmented(
            MessageKind::Binary,
            b,
            cuts
        )),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Msg::Ping),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Msg::Pong),
    ]
}

/// Queues `msg` on `s` and returns the event the peer should see.
fn send(s: &mut Session, msg: &Msg) -> Event<'static> {
    match msg {
        Msg::Text(t) => {
            s.send_text(t).unwrap();
            Event::Text(Cow::Owned(t.clone()))
        }
        Msg::Binary(b) => {
            s.send_binary(b).unwrap();
            Event::Binary(Cow::Owned(b.clone()))
        }
        Msg::Fragmented(kind, data, cuts) => {
            let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut start = 0;
            for cut in cuts {
                s.send_fragment(*kind, &data[start..cut], false).unwrap();
                start = cut;
            }
            s.send_fragment(*kind, &data[start..], true).unwrap();
            match kind {
                MessageKind::Text => {
                    Event::Text(Cow::Owned(String::from_utf8(data.clone()).unwrap()))
                }
                MessageKind::Binary => Event::Binary(Cow::Owned(data.clone())),
            }
        }
        Msg::Ping(p) => {
            s.send_ping(p).unwrap();
            Event::Ping(Cow::Owned(p.clone()))
        }
        Msg::Pong(p) => {
            s.send_pong(p).unwrap();
            Event::Pong(Cow::Owned(p.clone()))
        }
    }
}

/// Decodes `wire` in pieces cut at `cuts` (each piece at least one byte).
fn receive_in_pieces(s: &mut Session, wire: &[u8], sizes: &[usize]) -> Vec<Event<'static>> {
    let mut input = RecvBuffer::new();
    let mut events = Vec::new();
    let mut at = 0;
    let mut sizes = sizes.iter().cycle();
    while at < wire.len() {
        let size = sizes.next().copied().unwrap_or(wire.len()).max(1);
        let end = (at + size).min(wire.len());
        input.extend_from_slice(&wire[at..end]);
        at = end;
        let (mut got, err) = drain(s, &mut input);
        assert!(err.is_none(), "{err:?}");
        events.append(&mut got);
    }
    events
}

fn round_trip(sender_role: Role, msgs: &[Msg], sizes: &[usize]) -> Result<(), TestCaseError> {
    let receiver_role = if sender_role == Role::Client {
        Role::Server
    } else {
        Role::Client
    };
    let mut sender = Session::new(sender_role, Config::default(), None);
    let mut receiver = Session::new(receiver_role, Config::default(), None);
    let expected: Vec<Event<'static>> = msgs.iter().map(|m| send(&mut sender, m)).collect();
    sender.close(CloseCode::NORMAL, "end").unwrap();
    let wire = sender.pending().to_vec();
    let mut events = receive_in_pieces(&mut receiver, &wire, sizes);
    let close = events.pop();
    prop_assert_eq!(events, expected);
    prop_assert_eq!(
        close,
        Some(Event::Close(Some(CloseFrame {
            code: CloseCode::NORMAL,
            reason: Cow::Owned("end".into())
        })))
    );
    prop_assert_eq!(receiver.state(), State::Closed);
    Ok(())
}

proptest! {

    #![proptest_config(crate::test_support::proptest_config())]

    #[test]
    fn client_to_server_round_trip(msgs in prop::collection::vec(any_msg(), 0..8),
                                   sizes in prop::collection::vec(1usize..600, 1..6)) {
        round_trip(Role::Client, &msgs, &sizes)?;
    }

    #[test]
    fn server_to_client_round_trip(msgs in prop::collection::vec(any_msg(), 0..8),
                                   sizes in prop::collection::vec(1usize..600, 1..6)) {
        round_trip(Role::Server, &msgs, &sizes)?;
    }

    #[test]
    fn round_trip_byte_by_byte(msgs in prop::collection::vec(any_msg(), 0..4), client_sends in any::<bool>()) {
        round_trip(if client_sends { Role::Client } else { Role::Server }, &msgs, &[1])?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_pass_limits(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..20),
        is_server in any::<bool>(),
        deliver_fragments in any::<bool>(),
    ) {
        let config = Config {
            max_frame_size: 256,
            max_message_size: 1024,
            deliver_fragments,
            accept_unmasked_frames: true,
            ..Config::default()
        };
        let mut s = Session::new(if is_server { Role::Server } else { Role::Client }, config, None);
        let mut input = RecvBuffer::new();
        for chunk in chunks {
            input.extend_from_slice(&chunk);
            loop {
                match s.decode(&mut input) {
                    Ok(Some(Event::Text(t))) => prop_assert!(t.len() <= 1024),
                    Ok(Some(Event::Binary(b))) => prop_assert!(b.len() <= 1024),
                    Ok(Some(Event::Fragment { data, .. })) => prop_assert!(data.len() <= 256),
                    Ok(Some(Event::Close(frame))) => {
                        if let Some(frame) = frame {
                            prop_assert!(CloseCode::is_sendable(frame.code.as_u16()));
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(err) => {
                        prop_assert!(s.is_closed());
                        if let Some(code) = err.close_code() {
                            prop_assert!([1002, 1007, 1009].contains(&code.as_u16()));
                        }
                        break;
                    }
                }
            }
            // What the session holds or lets the caller hold stays within the limits:
            // at most one frame (plus one chunk) unconsumed, one message reassembled,
            // and a bounded number of queued pongs plus a close frame.
            prop_assert!(input.len() <= 256 + crate::MAX_HEADER_LEN + 200);
            prop_assert!(s.reassembly_len() <= 1024);
            prop_assert!(s.pending().len() <= 17 * (125 + crate::MAX_HEADER_LEN));
        }
        let _ = s.receive_eof();
        prop_assert!(s.is_closed());
    }
}

/// `decode`'s contract that an empty buffer completes no event: a caller that stops as
/// soon as its buffer is empty (ws-server does, saving a call per read) gets every event
/// that one calling until `Ok(None)` gets, with the bytes arriving one at a time or all
/// at once, zero-length frames of every kind included.
#[test]
fn a_caller_stopping_at_an_empty_buffer_misses_no_event() {
    let mut stream = Vec::new();
    stream.extend(masked(0x81, b""));
    stream.extend(masked(0x82, b""));
    stream.extend(masked(0x81, "h\u{e9}llo".as_bytes()));
    stream.extend(masked(0x89, b""));
    stream.extend(masked(0x01, b"frag"));
    stream.extend(masked(0x8A, b"pong"));
    stream.extend(masked(0x00, b""));
    stream.extend(masked(0x80, b"ment"));
    stream.extend(masked(0x02, b""));
    stream.extend(masked(0x80, b""));
    stream.extend(masked(0x88, &[0x03, 0xE8]));
    let (expected, error) = feed(&mut server(), &stream);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(expected.len(), 8, "{expected:?}");
    for step in [1, 2, 3, 7, stream.len()] {
        let mut session = server();
        let mut input = RecvBuffer::new();
        let mut events = Vec::new();
        for piece in stream.chunks(step) {
            input.extend_from_slice(piece);
            while !input.is_empty() {
                match session.decode(&mut input) {
                    Ok(Some(event)) => events.push(event.into_owned()),
                    Ok(None) => break,
                    Err(err) => panic!("step {step}: {err}"),
                }
            }
            assert_eq!(session.decode(&mut input).unwrap(), None, "step {step}");
        }
        assert_eq!(events, expected, "step {step}");
    }
}

/// A frame with any first byte (flags, reserved opcodes), masked or not, and a payload
/// that is valid UTF-8 or arbitrary bytes.
fn any_raw_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(0x81u8),
            Just(0x82u8),
            Just(0x01u8),
            Just(0x00u8),
            Just(0x80u8),
            Just(0x88u8),
            Just(0x89u8),
            any::<u8>()
        ],
        prop_oneof![
            "\\PC{0,40}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..160)
        ],
        any::<bool>(),
        0u8..4,
    )
        .prop_map(|(first, payload, mask, form)| {
            // The length in its minimal form (most of the time), or in the 16- or
            // 64-bit form whatever its size (RFC 6455 5.2 asks senders for the minimal
            // one): both paths share the header parser, and must agree either way.
            let len = payload.len() as u64;
            let mut frame = vec![first];
            let mask_bit = if mask { 0x80 } else { 0 };
            match form {
                2 => {
                    frame.push(mask_bit | 126);
                    frame.extend_from_slice(&(len as u16).to_be_bytes());
                }
                3 => {
                    frame.push(mask_bit | 127);
                    frame.extend_from_slice(&len.to_be_bytes());
                }
                _ => {
                    let mut header = [0u8; crate::MAX_HEADER_LEN];
                    let n = FrameHeader::new(OpCode::Binary, len).encode(&mut header);
                    frame.extend_from_slice(&header[1..n]);
                    frame[1] |= mask_bit;
                }
            }
            if mask {
                frame.extend_from_slice(&KEY);
            }
            let start = frame.len();
            frame.extend_from_slice(&payload);
            if mask {
                apply_mask(&mut frame[start..], KEY, 0);
            }
            frame
        })
}

/// What a session made of a byte stream: its events, its error, whether it closed, and
/// the close code it queued.
type Outcome = (
    Vec<Event<'static>>,
    Option<String>,
    bool,
    Option<Option<u16>>,
);

fn outcome(role: Role, config: &Config, stream: &[u8], step: usize) -> Outcome {
    let mut session = Session::new(role, config.clone(), None);
    let mut input = RecvBuffer::new();
    let mut events = Vec::new();
    let mut error = None;
    'feed: for piece in stream.chunks(step.max(1)) {
        input.extend_from_slice(piece);
        loop {
            match session.decode(&mut input) {
                Ok(Some(event)) => events.push(event.into_owned()),
                Ok(None) => break,
                Err(err) => {
                    error = Some(err.to_string());
                    break 'feed;
                }
            }
        }
    }
    let closed = session.is_closed();
    (events, error, closed, queued_close_code(&session))
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config())]

    /// `small_message` (a frame whole with its header) and `whole_frame` (the header
    /// decoded in an earlier call, as when bytes arrive one at a time) reach the same
    /// events and the same failures, for any frames, either role, any limits.
    #[test]
    fn small_message_path_matches_the_piecewise_path(
        frames in prop::collection::vec(any_raw_frame(), 0..8),
        is_server in any::<bool>(),
        accept_unmasked in any::<bool>(),
        max_message_size in prop_oneof![Just(usize::MAX), 0usize..200],
        max_frame_size in prop_oneof![Just(usize::MAX), 0usize..200],
        step in 2usize..40,
    ) {
        let config = Config {
            max_frame_size,
            max_message_size,
            accept_unmasked_frames: accept_unmasked,
            ..Config::default()
        };
        let role = if is_server { Role::Server } else { Role::Client };
        let stream = frames.concat();
        let whole = outcome(role, &config, &stream, stream.len());
        prop_assert_eq!(&outcome(role, &config, &stream, 1), &whole);
        prop_assert_eq!(&outcome(role, &config, &stream, step), &whole);
    }
}

/// `apply_mask` against a byte-by-byte reference: every length up to 600 (the short
/// path below two blocks, the portable and AVX2 block loops above), every offset, every
/// start alignment in the slice.
#[test]
fn apply_mask_matches_bytewise_reference_for_short_and_unaligned_slices() {
    let key = [0x01, 0x5a, 0xc3, 0xfe];
    for start in 0..8 {
        for len in 0..=600 {
            for offset in 0..=7 {
                let original: Vec<u8> = (0..start + len).map(|i| (i * 31 + 7) as u8).collect();
                let mut data = original.clone();
                apply_mask(&mut data[start..], key, offset);
                for i in 0..len {
                    let want = original[start + i] ^ key[(offset + i) % 4];
                    assert_eq!(
                        data[start + i],
                        want,
                        "start {start} len {len} offset {offset} byte {i}"
                    );
                }
                assert_eq!(data[..start], original[..start]);
            }
        }
    }
}
