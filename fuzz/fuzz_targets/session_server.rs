//! A server session fed arbitrary bytes in arbitrary pieces: never panics, and what it
//! holds and queues stays within its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::{Config, Event, RecvBuffer, Role, Session};

const MAX_FRAME: usize = 4096;
const MAX_MESSAGE: usize = 16384;

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else { return };
    let mut config = Config::default();
    config.max_frame_size = MAX_FRAME;
    config.max_message_size = MAX_MESSAGE;
    config.deliver_fragments = split & 1 == 1;
    let mut session = Session::new(Role::Server, config);
    let mut input = RecvBuffer::new();
    let piece = usize::from(split >> 1).max(1);
    for chunk in data.chunks(piece) {
        input.extend_from_slice(chunk);
        loop {
            match session.decode(&mut input) {
                Ok(Some(Event::Text(text))) => assert!(text.len() <= MAX_MESSAGE),
                Ok(Some(Event::Binary(bytes))) => assert!(bytes.len() <= MAX_MESSAGE),
                Ok(Some(Event::Fragment { data, .. })) => assert!(data.len() <= MAX_FRAME),
                Ok(Some(_)) => {}
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
        assert!(input.len() <= MAX_FRAME + 14 + piece);
        assert!(session.pending().len() <= 17 * 139);
    }
});
