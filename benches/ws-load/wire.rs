//! The little of the protocol a load generator needs, written here rather than taken
//! from ws-proto so that the generator measures the server and not our own session code:
//! a handshake request, pre-built masked frames, and a reader of unmasked server frames.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// A fixed masking key: masks only have to be unpredictable to browsers' scripts, and a
/// load generator is not one.
pub const MASK: [u8; 4] = [0x5a, 0x3c, 0x96, 0x0f];

pub fn handshake_request(host: &str, path: &str) -> Vec<u8> {
    handshake_request_with(host, path, "")
}

/// The offer of permessage-deflate, as browsers send it.
pub const DEFLATE_OFFER: &str =
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// The offer of permessage-deflate with no context takeover either way.
pub const DEFLATE_OFFER_NO_CONTEXT_TAKEOVER: &str = "Sec-WebSocket-Extensions: permessage-deflate; \
     server_no_context_takeover; client_no_context_takeover; client_max_window_bits\r\n";

/// A handshake request with extra header lines (each ending in CRLF).
pub fn handshake_request_with(host: &str, path: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// Whether `head` (bytes up to the blank line) is a 101 answer.
pub fn is_switching(head: &[u8]) -> bool {
    head.starts_with(b"HTTP/1.1 101")
}

/// The length of the HTTP head at the front of `bytes`, its ending empty line included.
///
/// RFC 9112 2.2: a recipient may take a bare LF for a line end, as httparse (and so
/// ws-proto and most servers' clients) does; the head ends at the first empty line,
/// `\r\n` or `\n`, after the status line.
pub fn head_len(bytes: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'\n') {
        let line = &bytes[line_start..at];
        if line_start > 0 && (line.is_empty() || line == b"\r") {
            return Some(at + 1);
        }
        line_start = at + 1;
    }
    None
}

/// Connects and completes a handshake, blocking; returns the stream (non-blocking) and
/// any bytes that came after the answer.
pub fn connect(addr: &str, host: &str, path: &str) -> io::Result<(TcpStream, Vec<u8>)> {
    connect_with(addr, &handshake_request(host, path))
}

/// Connects and sends `request`; as [`connect`].
pub fn connect_with(addr: &str, request: &[u8]) -> io::Result<(TcpStream, Vec<u8>)> {
    let mut tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    tcp.write_all(request)?;
    let mut got = Vec::with_capacity(256);
    let mut buf = [0u8; 1024];
    loop {
        let n = tcp.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed during the handshake",
            ));
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(len) = head_len(&got) {
            if !is_switching(&got) {
                return Err(io::Error::other(
                    String::from_utf8_lossy(&got[..len]).into_owned(),
                ));
            }
            tcp.set_nonblocking(true)?;
            return Ok((tcp, got.split_off(len)));
        }
    }
}

/// A complete masked client frame.
pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    let len = payload.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// A masked close frame with code 1000.
pub fn close_frame() -> Vec<u8> {
    masked_frame(0x8, &1000u16.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::head_len;

    #[test]
    fn head_ends_at_the_first_empty_line_with_either_line_end() {
        let crlf = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81";
        assert_eq!(head_len(crlf), Some(crlf.len() - 1));
        let lf = b"HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n\x81";
        assert_eq!(head_len(lf), Some(lf.len() - 1));
        assert_eq!(head_len(b"HTTP/1.1 101 OK\nA: b\n\r\n"), Some(23));
        assert_eq!(head_len(b"HTTP/1.1 101 OK\r\nA: b\r\n"), None);
    }
}
