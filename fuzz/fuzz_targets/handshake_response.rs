//! The client's check of the server's answer, on arbitrary bytes in arbitrary pieces.
//! Occurrences of `$ACCEPT` in the input are replaced by the right accept value for the
//! request's key, so the fuzzer can reach the checks past the accept key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::handshake::{ClientRequest, Extension, HandshakeError, accept_key};
use ws_proto::RecvBuffer;

fuzz_target!(|data: &[u8]| {
    let Some((&piece, data)) = data.split_first() else { return };
    let piece = usize::from(piece).max(1);
    let (mut handshake, request) = ClientRequest::new("example.com", "/chat")
        .protocol("chat")
        .protocol("superchat")
        .extension(Extension::new("permessage-deflate"))
        .build()
        .unwrap();
    let request = String::from_utf8(request).unwrap();
    let key = request.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap();
    let accept = accept_key(key.as_bytes());
    let text = String::from_utf8_lossy(data).replace("$ACCEPT", &accept);
    let mut input = RecvBuffer::new();
    for chunk in text.as_bytes().chunks(piece) {
        input.extend_from_slice(chunk);
        match handshake.parse(&mut input) {
            Ok(None) => {}
            Ok(Some((response, _session))) => {
                assert!(matches!(response.protocol(), None | Some("chat") | Some("superchat")));
                assert!(response.extensions().iter().all(|e| e.name == "permessage-deflate"));
                return;
            }
            Err(HandshakeError::Rejected(head)) => {
                assert_ne!(head.status, 101);
                return;
            }
            Err(_) => return,
        }
    }
});
