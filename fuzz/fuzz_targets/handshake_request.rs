//! The server's handshake parser on arbitrary bytes in arbitrary pieces: never panics;
//! an accepted request satisfies every RFC 6455 4.2.1 check and can be answered; a
//! refusal always has an HTTP status; nothing past the size limit is ever kept; the
//! target is normalised to a path starting with `/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::RecvBuffer;
use ws_proto::handshake::{Limits, Reject, RequestParser};

fuzz_target!(|data: &[u8]| {
    let Some((&piece, data)) = data.split_first() else { return };
    let piece = usize::from(piece).max(1);
    let limits = Limits::default();
    let mut parser = RequestParser::with_limits(limits);
    let mut input = RecvBuffer::new();
    for chunk in data.chunks(piece) {
        input.extend_from_slice(chunk);
        match parser.parse(&mut input) {
            Ok(None) => assert!(input.len() < limits.max_head_size + piece),
            Ok(Some(request)) => {
                let host = request.host();
                assert!(!host.is_empty());
                assert_eq!(request.key().len(), 24, "a 16-byte key is 24 base64 characters");
                assert!(request.resource().starts_with(request.path()));
                // RFC 9112 3.2: whichever form came, the path is an absolute path.
                assert!(request.path().starts_with('/'));
                let (answer, session) =
                    request.accept().finish().expect("an accepted request can be answered");
                assert!(answer.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
                assert!(!session.is_closed());
                return;
            }
            Err(err) => {
                // Every handshake error has a status, by type.
                let status = err.http_status();
                assert!((400..500).contains(&status));
                assert!(Reject::for_error(&err).to_bytes().is_ok());
                return;
            }
        }
    }
});
