//! The connected client, and its two halves.

use std::cell::Cell;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_proto::handshake::Response;
use ws_proto::{CloseCode, MessageKind};

use crate::conn::{Read, ReadSide, Shared};
use crate::error::Error;
use crate::timers::{Due, KEEPALIVE_PAYLOAD};
use ws_proto::Message;

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
                read_timeout: Cell::new(read_side.timeouts.read),
                side: read_side,
                ended: false,
                info: info.clone(),
            },
            writer: Writer { shared, info },
        }
    }

    /// The next message; answers pings on the way. See [`Error`] for how each way of
    /// ending is reported.
    ///
    /// # Errors
    ///
    /// Each way the connection ends is an error of its own, listed on [`Error`]:
    /// [`Error::ConnectionClosed`] (a clean end, or any call after the end),
    /// [`Error::AbnormalClosure`], [`Error::Protocol`], [`Error::CloseTimeout`],
    /// [`Error::KeepaliveTimeout`], [`Error::Io`]; [`Error::Timeout`] when the read
    /// timeout passes (the connection stays usable).
    pub fn recv(&mut self) -> Result<Message, Error> {
        self.reader.recv()
    }

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a whole message while a
    /// fragmented one is unfinished);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.writer.send_text(text)
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a whole message while a
    /// fragmented one is unfinished);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.writer.send_binary(data)
    }

    /// Sends one frame of a message sent in pieces; `last` ends it.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a text fragment that is not UTF-8; see
    /// [`Session::send_fragment`](ws_proto::Session::send_fragment));
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_fragment(&self, kind: MessageKind, data: &[u8], last: bool) -> Result<(), Error> {
        self.writer.send_fragment(kind, data, last)
    }

    /// Sends a ping (at most 125 bytes); its pong arrives through `recv`.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a payload over 125 bytes);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.writer.send_ping(payload)
    }

    /// Sends a pong (a one-way heartbeat; pings are answered without it).
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a payload over 125 bytes);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_pong(&self, payload: &[u8]) -> Result<(), Error> {
        self.writer.send_pong(payload)
    }

    /// Starts the closing handshake; keep calling `recv` until it returns
    /// `Message::Close` and then `Err(Error::ConnectionClosed)`.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a code that may not be sent, a reason over 123 bytes);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
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

    /// Changes the limit on each `recv` call ([`Error::Timeout`]); `None`: no limit
    /// (the keepalive and close timeouts still apply).
    ///
    /// # Errors
    ///
    /// None today: the timeout is applied at the next `recv`. The `Result` leaves room
    /// for a socket option that fails.
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
    /// The limit on one `recv` call.
    read_timeout: Cell<Option<Duration>>,
    info: Arc<Info>,
}

impl Reader {
    /// The next message; see [`Client::recv`].
    ///
    /// While it waits it keeps the connection's deadlines (see the `timers` module): the
    /// read timeout, the keepalive (a ping after silence; [`Error::KeepaliveTimeout`] if
    /// silence goes on), and the close timeout ([`Error::CloseTimeout`]).
    ///
    /// # Errors
    ///
    /// Each way the connection ends is an error of its own, listed on [`Error`]:
    /// [`Error::ConnectionClosed`] (a clean end, or any call after the end),
    /// [`Error::AbnormalClosure`], [`Error::Protocol`], [`Error::CloseTimeout`],
    /// [`Error::KeepaliveTimeout`], [`Error::Io`]; [`Error::Timeout`] when the read
    /// timeout passes (the connection stays usable).
    pub fn recv(&mut self) -> Result<Message, Error> {
        let started = Instant::now();
        loop {
            if self.ended {
                return Err(Error::ConnectionClosed);
            }
            match self.side.decode() {
                Ok(Some(Message::Pong(data))) if data == KEEPALIVE_PAYLOAD => continue,
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {}
                Err(err) => {
                    self.ended = true;
                    return Err(err);
                }
            }
            let (closing_since, open) = {
                let state = self.side.shared.state();
                (
                    state.closing_since,
                    state.session.state() == ws_proto::State::Open,
                )
            };
            let mut timeouts = self.side.timeouts;
            timeouts.read = self.read_timeout.get();
            let next = timeouts.next(&self.side.clock, started, closing_since, open);
            let now = Instant::now();
            let wait = match next {
                Some((at, due)) if at <= now => {
                    match due {
                        Due::Read => return Err(Error::Timeout),
                        Due::Ping => {
                            log::debug!(
                                "silent for {:?}: keepalive ping",
                                now - self.side.clock.last_heard
                            );
                            self.side.clock.ping_sent = Some(now);
                            self.side.send_keepalive_ping()?;
                        }
                        Due::Dead => {
                            self.ended = true;
                            self.side.shutdown();
                            return Err(Error::KeepaliveTimeout {
                                silent: now - self.side.clock.last_heard,
                            });
                        }
                        Due::Watch => {}
                        Due::Close => {
                            self.ended = true;
                            self.side.shutdown();
                            return Err(Error::CloseTimeout {
                                answered: !open_or_sent(&self.side),
                            });
                        }
                    }
                    continue;
                }
                Some((at, _)) => Some(at - now),
                None => None,
            };
            self.side.set_socket_timeout(wait)?;
            match self.side.read_more() {
                Ok(Read::Data) => self.side.clock.heard(),
                Ok(Read::Eof) | Err(Error::AbnormalClosure) => {
                    self.ended = true;
                    return Err(self.side.end_of_stream());
                }
                // A deadline passed: the top of the loop sees which.
                Err(Error::Timeout) => {}
                Err(err) => {
                    self.ended = true;
                    return Err(err);
                }
            }
        }
    }

    /// Changes the limit on each `recv` call; see [`Client::set_read_timeout`].
    ///
    /// # Errors
    ///
    /// None today: the timeout is applied at the next `recv`. The `Result` leaves room
    /// for a socket option that fails.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), Error> {
        self.read_timeout.set(timeout);
        Ok(())
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
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a whole message while a
    /// fragmented one is unfinished);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.shared.send(|s| s.send_text(text))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a whole message while a
    /// fragmented one is unfinished);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.shared.send(|s| s.send_binary(data))
    }

    /// Sends one frame of a message sent in pieces; `last` ends it.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a text fragment that is not UTF-8; see
    /// [`Session::send_fragment`](ws_proto::Session::send_fragment));
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_fragment(&self, kind: MessageKind, data: &[u8], last: bool) -> Result<(), Error> {
        self.shared.send(|s| s.send_fragment(kind, data, last))
    }

    /// Sends a ping (at most 125 bytes).
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a payload over 125 bytes);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.shared.send(|s| s.send_ping(payload))
    }

    /// Sends a pong (a one-way heartbeat; pings are answered without it).
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a payload over 125 bytes);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn send_pong(&self, payload: &[u8]) -> Result<(), Error> {
        self.shared.send(|s| s.send_pong(payload))
    }

    /// Starts the closing handshake with a code and a reason (at most 123 bytes).
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] once the closing handshake has started (or the
    /// connection is over); [`Error::Send`] for what ws-proto refuses to send (a code that may not be sent, a reason over 123 bytes);
    /// [`Error::Timeout`] past the write timeout (the connection cannot send any more);
    /// [`Error::AbnormalClosure`] or [`Error::Io`] if the socket fails.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.shared.send(|s| s.close(code, reason))
    }

    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.info.response.protocol()
    }
}

/// Whether the server's close frame has not arrived yet (the session is open, or only our
/// close is out).
fn open_or_sent(side: &ReadSide) -> bool {
    side.shared.state().session.state() != ws_proto::State::Closed
}
