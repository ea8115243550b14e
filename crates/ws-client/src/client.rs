//! The connected client, and its two halves.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ws_proto::handshake::Response;
use ws_proto::{CloseCode, CloseFrame, MessageKind};

use crate::conn::{Read, ReadSide, Shared};
use crate::error::Error;

/// Something received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping; the pong is already sent.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The server's close frame (`None`: no status code). The closing handshake is done;
    /// the next `recv` waits for the server to close TCP and returns
    /// [`Error::ConnectionClosed`].
    Close(Option<CloseFrame<'static>>),
    /// One frame of a message, when [`ClientBuilder::deliver_fragments`](crate::ClientBuilder::deliver_fragments)
    /// is on.
    Fragment {
        /// The kind of the message.
        kind: MessageKind,
        /// The frame's payload.
        data: Vec<u8>,
        /// Whether it ends the message.
        last: bool,
    },
}

/// A connected WebSocket client.
///
/// ```no_run
/// let mut client = ws_client::connect("ws://127.0.0.1:8080/")?;
/// client.send_text("Hello")?;
/// println!("{:?}", client.recv()?);
/// client.close(ws_client::CloseCode::NORMAL, "bye")?;
/// # Ok::<(), ws_client::Error>(())
/// ```
pub struct Client {
    reader: Reader,
    writer: Writer,
}

impl Client {
    pub(crate) fn new(read_side: ReadSide, response: Response, peer: SocketAddr) -> Client {
        let shared = read_side.shared.clone();
        let info = Arc::new(Info { response, peer });
        Client {
            reader: Reader {
                side: read_side,
                ended: false,
                info: info.clone(),
            },
            writer: Writer { shared, info },
        }
    }

    /// The next message; answers pings on the way. See [`Error`] for how each way of
    /// ending is reported.
    pub fn recv(&mut self) -> Result<Message, Error> {
        self.reader.recv()
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.writer.send_text(text)
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.writer.send_binary(data)
    }

    /// Sends one frame of a message sent in pieces; `last` ends it.
    pub fn send_fragment(&self, kind: MessageKind, data: &[u8], last: bool) -> Result<(), Error> {
        self.writer.send_fragment(kind, data, last)
    }

    /// Sends a ping (at most 125 bytes); its pong arrives through `recv`.
    pub fn send_ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.writer.send_ping(payload)
    }

    /// Sends a pong (a one-way heartbeat; pings are answered without it).
    pub fn send_pong(&self, payload: &[u8]) -> Result<(), Error> {
        self.writer.send_pong(payload)
    }

    /// Starts the closing handshake; keep calling `recv` until it returns
    /// `Message::Close` and then `Err(Error::ConnectionClosed)`.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.writer.close(code, reason)
    }

    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.writer.info.response.protocol()
    }

    /// Whether permessage-deflate was agreed in the handshake.
    pub fn is_compressing(&self) -> bool {
        self.writer.shared.state().session.is_compressing()
    }

    /// The server's handshake answer (headers included).
    pub fn response(&self) -> &Response {
        &self.writer.info.response
    }

    /// The server's address (or the proxy's).
    pub fn peer_addr(&self) -> SocketAddr {
        self.writer.info.peer
    }

    /// Changes the read timeout; `None` blocks for ever.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), Error> {
        self.reader.set_read_timeout(timeout)
    }

    /// Splits the client into a reader and a writer that work from two threads at once:
    /// a thread blocked in [`Reader::recv`] does not hold up sends.
    ///
    /// ```no_run
    /// let (mut reader, writer) = ws_client::connect("ws://127.0.0.1:8080/")?.split();
    /// std::thread::spawn(move || {
    ///     while let Ok(message) = reader.recv() {
    ///         println!("{message:?}");
    ///     }
    /// });
    /// writer.send_text("sent while the reader waits")?;
    /// # Ok::<(), ws_client::Error>(())
    /// ```
    pub fn split(self) -> (Reader, Writer) {
        (self.reader, self.writer)
    }
}

struct Info {
    response: Response,
    peer: SocketAddr,
}

impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("protocol", &self.response.protocol())
            .finish()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Client").field(&self.writer.info).finish()
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("connection", &self.info)
            .field("ended", &self.ended)
            .finish()
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Writer").field(&self.info).finish()
    }
}

/// The receiving half of a [`Client`].
pub struct Reader {
    side: ReadSide,
    ended: bool,
    info: Arc<Info>,
}

impl Reader {
    /// The next message; see [`Client::recv`].
    pub fn recv(&mut self) -> Result<Message, Error> {
        loop {
            if self.ended {
                return Err(Error::ConnectionClosed);
            }
            match self.side.decode() {
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {}
                Err(err) => {
                    self.ended = true;
                    return Err(err);
                }
            }
            match self.side.read_more() {
                Ok(Read::Data) => {}
                Ok(Read::Eof) | Err(Error::AbnormalClosure) => {
                    self.ended = true;
                    return Err(self.side.end_of_stream());
                }
                Err(Error::Timeout) => return Err(Error::Timeout),
                Err(err) => {
                    self.ended = true;
                    return Err(err);
                }
            }
        }
    }

    /// Changes the read timeout; `None` blocks for ever.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), Error> {
        Ok(self.side.tcp.set_read_timeout(timeout)?)
    }

    /// The server's handshake answer.
    pub fn response(&self) -> &Response {
        &self.info.response
    }
}

/// The sending half of a [`Client`]; clone it to send from several threads.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
    info: Arc<Info>,
}

impl Writer {
    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.shared.send(|s| s.send_text(text))
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.shared.send(|s| s.send_binary(data))
    }

    /// Sends one frame of a message sent in pieces; `last` ends it.
    pub fn send_fragment(&self, kind: MessageKind, data: &[u8], last: bool) -> Result<(), Error> {
        self.shared.send(|s| s.send_fragment(kind, data, last))
    }

    /// Sends a ping (at most 125 bytes).
    pub fn send_ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.shared.send(|s| s.send_ping(payload))
    }

    /// Sends a pong (a one-way heartbeat; pings are answered without it).
    pub fn send_pong(&self, payload: &[u8]) -> Result<(), Error> {
        self.shared.send(|s| s.send_pong(payload))
    }

    /// Starts the closing handshake with a code and a reason (at most 123 bytes).
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.shared.send(|s| s.close(code, reason))
    }

    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.info.response.protocol()
    }
}
