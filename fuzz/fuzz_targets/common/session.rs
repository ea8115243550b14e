//! A session of either role fed arbitrary bytes in arbitrary pieces (what a hostile peer
//! could send after the handshake), with or without permessage-deflate: it never panics,
//! stays within its limits (the message limit applying to inflated sizes), and reports
//! only what the bytes can mean.

use ws_proto::{CloseCode, Config, DeflateConfig, Event, RecvBuffer, Role, Session, State};

const MAX_FRAME: usize = 4096;
const MAX_MESSAGE: usize = 16384;

pub fn run(role: Role, data: &[u8]) {
    let Some((&split, data)) = data.split_first() else { return };
    let mut config = Config::default();
    config.max_frame_size = MAX_FRAME;
    config.max_message_size = MAX_MESSAGE;
    config.deliver_fragments = split & 1 == 1;
    // Lets the fuzzer reach past the first header of a server with unmasked frames.
    config.accept_unmasked_frames = split & 2 == 2;
    // Bit 2: permessage-deflate, with context takeover or (bit 7) without.
    let deflate = split & 4 == 4;
    let mut session = if deflate {
        let mut offer = DeflateConfig::default();
        offer.client_no_context_takeover = split & 0x80 != 0;
        let (params, _) = DeflateConfig::default().accept(&[offer.offer()]).unwrap();
        Session::new(role, config, Some(params))
    } else {
        Session::new(role, config, None)
    };
    let mut input = RecvBuffer::new();
    let piece = usize::from((split >> 3) & 0x0f).max(1);
    // A delivered fragment of a compressed message is what its frame inflates to.
    let max_fragment = if deflate { MAX_MESSAGE } else { MAX_FRAME };
    let mut closed_seen = false;
    for chunk in data.chunks(piece) {
        input.extend_from_slice(chunk);
        loop {
            match session.decode(&mut input) {
                Ok(Some(event)) => {
                    assert!(!closed_seen, "nothing after the peer's close");
                    match event {
                        Event::Text(text) => assert!(text.len() <= MAX_MESSAGE),
                        Event::Binary(bytes) => assert!(bytes.len() <= MAX_MESSAGE),
                        Event::Fragment { data, .. } => assert!(data.len() <= max_fragment),
                        Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= 125),
                        Event::Close(frame) => {
                            if let Some(frame) = frame {
                                assert!(CloseCode::is_sendable(frame.code.as_u16()));
                                assert!(frame.reason.len() <= 123);
                            }
                            closed_seen = true;
                            assert_eq!(session.state(), State::Closed);
                        }
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    assert!(session.is_closed());
                    if let Some(code) = err.close_code() {
                        assert!([1002, 1007, 1009].contains(&code.as_u16()));
                    }
                    break;
                }
            }
        }
        assert!(input.len() <= MAX_FRAME + 14 + piece, "at most one frame and one read are held");
        // At most 16 pongs wait (each at most 131 bytes with a client's mask), plus the
        // close frame.
        assert!(session.pending().len() <= 17 * 131 + 131);
    }
}
