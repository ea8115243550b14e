//! The tokio floor: `floor-echo`'s work (`floor/wire.rs`) driven by tokio as ws-tokio and
//! the async baselines are driven, so that the load tests can say what tokio itself costs
//! per message and per connection, and so what is left to win for any WebSocket crate on
//! tokio. **It is not a WebSocket server** (see `floor-echo.rs`).
//!
//! `floor-tokio [ADDR]` (default 127.0.0.1:9004): a current-thread runtime, one task per
//! connection, `TCP_NODELAY` inherited from the listener. Per message it makes what
//! ws-tokio's echo makes: one `read` (tokio's `TcpStream` remembers that a short read
//! drained the socket, so the next `read` waits without a system call) and one `write` of
//! every answer to the bytes read; a frame of 64 KiB or more is written from where it was
//! received (`write_vectored` of header and payload). After answering a close frame it
//! closes the socket.

use std::io::{self, IoSlice};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[path = "floor/wire.rs"]
mod wire;

/// The read room kept behind the bytes held, and the first buffer's size.
const READ_ROOM: usize = 4096;
/// Frames at least this long are written from where they were received.
const LARGE: usize = 64 * 1024;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".into());
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?
        .block_on(async {
            let listener = TcpListener::bind(&addr).await?;
            // Accepted sockets inherit TCP_NODELAY from the listener on Linux.
            socket2::SockRef::from(&listener).set_tcp_nodelay(true)?;
            println!("floor-tokio: listening on ws://{}/", listener.local_addr()?);
            loop {
                let (tcp, _) = listener.accept().await?;
                tokio::spawn(async move {
                    let _ = serve(tcp).await;
                });
            }
        })
}

/// Received bytes: `bytes[start..end]` are held, `bytes[end..]` is read room.
struct Input {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl Input {
    /// Reads once into the room, keeping at least `READ_ROOM / 2` of it; `Err` at the end
    /// of the stream.
    async fn read(&mut self, tcp: &mut TcpStream) -> io::Result<()> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        if self.bytes.len() - self.end < READ_ROOM / 2 {
            self.make_room(READ_ROOM);
        }
        match tcp.read(&mut self.bytes[self.end..]).await? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.end += n;
                Ok(())
            }
        }
    }

    /// Moves the held bytes to the front and keeps at least `room` bytes of read room.
    fn make_room(&mut self, room: usize) {
        self.bytes.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.bytes.len() < self.end + room {
            self.bytes.resize(self.end + room, 0);
        }
    }
}

/// One connection: the handshake, then echo until a close frame is answered.
async fn serve(mut tcp: TcpStream) -> io::Result<()> {
    let mut input = Input {
        bytes: vec![0; READ_ROOM],
        start: 0,
        end: 0,
    };
    let mut output = Vec::new();
    loop {
        input.read(&mut tcp).await?;
        let held = &input.bytes[input.start..input.end];
        if let Some(head_len) = wire::answer_handshake(held, &mut output)? {
            input.start += head_len;
            break;
        }
    }
    loop {
        let closing = answer_frames(&mut input, &mut output, &mut tcp).await?;
        if !output.is_empty() {
            tcp.write_all(&output).await?;
            output.clear();
        }
        if closing {
            return Ok(()); // dropping the socket closes it
        }
        input.read(&mut tcp).await?;
    }
}

/// Answers every complete frame held: small answers are gathered in `output`, a large one
/// is written from `input` after what `output` holds. Whether a close frame was answered.
async fn answer_frames(
    input: &mut Input,
    output: &mut Vec<u8>,
    tcp: &mut TcpStream,
) -> io::Result<bool> {
    loop {
        match wire::next_frame(&mut input.bytes, input.start, input.end) {
            wire::Frame::Incomplete(None) => return Ok(false),
            wire::Frame::Incomplete(Some(frame_len)) => {
                // Room for the whole frame, so that its payload arrives where it is
                // echoed from.
                if input.bytes.len() - input.start < frame_len {
                    input.make_room(frame_len - (input.end - input.start));
                }
                return Ok(false);
            }
            wire::Frame::TooLong => return Err(io::Error::other("frame too long")),
            wire::Frame::Skip { to } => input.start = to,
            wire::Frame::Answer {
                header,
                header_len,
                from,
                to,
                close,
            } => {
                if to - from >= LARGE {
                    if !output.is_empty() {
                        tcp.write_all(output).await?;
                        output.clear();
                    }
                    write_large(tcp, &header[..header_len], &input.bytes[from..to]).await?;
                } else {
                    output.extend_from_slice(&header[..header_len]);
                    output.extend_from_slice(&input.bytes[from..to]);
                }
                input.start = to;
                if close {
                    return Ok(true);
                }
            }
        }
    }
}

/// Writes `header` then `payload` with as few `writev`s as the socket allows.
async fn write_large(tcp: &mut TcpStream, mut header: &[u8], mut payload: &[u8]) -> io::Result<()> {
    while !header.is_empty() || !payload.is_empty() {
        let n = tcp
            .write_vectored(&[IoSlice::new(header), IoSlice::new(payload)])
            .await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let from_header = n.min(header.len());
        header = &header[from_header..];
        payload = &payload[n - from_header..];
    }
    Ok(())
}
