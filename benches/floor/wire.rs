//! What both floors do to the bytes (`floor-echo` on mio, `floor-tokio` on tokio): answer
//! the upgrade request and unmask and answer frames, the least ws-load's workloads need.
//! **Not a WebSocket implementation**: no UTF-8 validation, no fragmentation rules, no
//! control-frame checks, no compression (see `floor-echo.rs`). One copy, so that the two
//! floors differ only in what drives them.

use std::io;

/// Longer frames drop the connection (ws-load sends at most a few MiB).
pub const MAX_FRAME: usize = 64 << 20;

/// Answers the request head held in `held` once it is complete: appends the 101 to
/// `output` and returns the head's length (with its blank line); `Ok(None)` while the head
/// is incomplete; `Err` for a request without `Sec-WebSocket-Key`.
pub fn answer_handshake(held: &[u8], output: &mut Vec<u8>) -> io::Result<Option<usize>> {
    let Some(head_end) = held.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let key = held[..head_end]
        .split(|&b| b == b'\n')
        .find_map(|line| {
            let (name, value) = line.split_at(line.iter().position(|&b| b == b':')?);
            name.eq_ignore_ascii_case(b"sec-websocket-key")
                .then(|| value[1..].trim_ascii())
        })
        .ok_or_else(|| io::Error::other("no Sec-WebSocket-Key"))?;
    let accept = ws_proto::handshake::accept_key(key);
    output.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    output.extend_from_slice(accept.as_bytes());
    output.extend_from_slice(b"\r\n\r\n");
    Ok(Some(head_end + 4))
}

/// The frame at the front of the held bytes (RFC 6455 5.2's header; masked, as clients
/// send), after [`next_frame`].
pub enum Frame {
    /// Not all of it is held yet: its whole length from the front once the header is
    /// (`None` while the header itself is incomplete).
    Incomplete(Option<usize>),
    /// Longer than [`MAX_FRAME`]: drop the connection without an answer.
    TooLong,
    /// A pong, not answered: the held bytes start at `to` after it.
    Skip { to: usize },
    /// A frame to answer: the answer's header (`header[..header_len]`, the same opcode, a
    /// pong for a ping) and its payload, unmasked in place at `input[from..to]`. `close`:
    /// it answers a close frame, after which the connection closes.
    Answer {
        header: [u8; 10],
        header_len: usize,
        from: usize,
        to: usize,
        close: bool,
    },
}

/// Reads the frame held at `input[start..end]` and unmasks its payload in place once all
/// of it is there.
pub fn next_frame(input: &mut [u8], start: usize, end: usize) -> Frame {
    let held = &input[start..end];
    if held.len() < 2 {
        return Frame::Incomplete(None);
    }
    let first = held[0];
    let (len, at) = match held[1] & 0x7f {
        126 if held.len() >= 4 => (u16::from_be_bytes([held[2], held[3]]) as usize, 4),
        127 if held.len() >= 10 => (
            u64::from_be_bytes(held[2..10].try_into().expect("8 bytes")) as usize,
            10,
        ),
        126 | 127 => return Frame::Incomplete(None),
        len => (len as usize, 2),
    };
    if len > MAX_FRAME {
        return Frame::TooLong;
    }
    let payload_at = at + 4;
    if held.len() < payload_at + len {
        return Frame::Incomplete(Some(payload_at + len));
    }
    let mask: [u8; 4] = held[at..payload_at].try_into().expect("4 bytes");
    let from = start + payload_at;
    let to = from + len;
    ws_proto::apply_mask(&mut input[from..to], mask, 0);
    let mut header = [0u8; 10];
    header[0] = first;
    let header_len = if len < 126 {
        header[1] = len as u8;
        2
    } else if len <= 0xffff {
        header[1] = 126;
        header[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    match first & 0x0f {
        // A ping is answered with a pong carrying its payload (RFC 6455 5.5.2); a pong is
        // not answered.
        0x9 => header[0] = (first & 0xf0) | 0xa,
        0xa => return Frame::Skip { to },
        _ => {}
    }
    Frame::Answer {
        header,
        header_len,
        from,
        to,
        close: first & 0x0f == 0x8,
    }
}
