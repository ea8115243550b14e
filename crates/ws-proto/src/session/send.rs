//! The sending half of a session: messages in, encoded frames queued for the caller.

use std::io;

use super::{Role, Session, State};
use crate::buffer::SendBuffer;
use crate::close::{check_reason, truncate_reason};
use crate::close_code::CloseCode;
use crate::event::MessageKind;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::local_error::LocalError;
use crate::mask::apply_mask;
use crate::opcode::OpCode;
use crate::random;
use crate::utf8::Utf8Validator;

/// How many automatic pongs may wait unsent before new ones replace the last.
const MAX_QUEUED_PONGS: usize = 16;

/// What the sending half remembers.
#[derive(Debug, Default)]
pub(super) struct SendState {
    out: SendBuffer,
    /// The kind of the fragmented message being sent, if one is open, and whether it is
    /// compressed.
    fragmented: Option<(MessageKind, bool)>,
    /// UTF-8 state of the text message being sent in fragments.
    utf8: Utf8Validator,
    /// Unsent automatic pongs at the tail of the output: how many were queued since the
    /// caller last drained (at most `MAX_QUEUED_PONGS`; a byte, so that it shares a word
    /// with the two fields above: a session's size is an idle connection's memory)...
    pong_count: u8,
    /// ...and the offset of the last one in the output (meaningful while the count is
    /// not 0).
    pong_last: usize,
}

impl Session {
    /// Queues a text message in one frame.
    ///
    /// # Errors
    ///
    /// [`LocalError::Closed`] once [`close`](Self::close) was called or the peer's close
    /// frame arrived; [`LocalError::MessageInProgress`] while a message sent with
    /// [`send_fragment`](Self::send_fragment) is open (RFC 6455 5.4: frames of messages are not
    /// interleaved); [`LocalError::Compression`] if permessage-deflate fails (a bug or an
    /// allocation failure); [`LocalError::Random`] for a client whose secure random generator
    /// fails to give a masking key (RFC 6455 5.3). Nothing is queued then.
    pub fn send_text(&mut self, text: &str) -> Result<(), LocalError> {
        self.send_message(MessageKind::Text, text.as_bytes())
    }

    /// Queues a binary message in one frame.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), LocalError> {
        self.send_message(MessageKind::Binary, data)
    }

    fn send_message(&mut self, kind: MessageKind, payload: &[u8]) -> Result<(), LocalError> {
        self.check_open()?;
        if self.send.fragmented.is_some() {
            return Err(LocalError::MessageInProgress);
        }
        let mut header = FrameHeader::new(kind.opcode(), payload.len() as u64);
        match self
            .deflate
            .as_mut()
            .filter(|d| payload.len() >= d.min_size)
        {
            Some(deflate) => {
                // RFC 7692 6.1: RSV1 on the (first) frame of a compressed message.
                let mut compressed = Vec::new();
                deflate
                    .compressor
                    .compress(payload, &mut compressed, true)?;
                header.payload_len = compressed.len() as u64;
                header.rsv1 = true;
                self.push_frame(header, &compressed)
            }
            None => self.push_frame(header, payload),
        }
    }

    /// Queues the header of a binary message of `len` bytes whose payload the caller
    /// writes itself, from its own storage, without a copy into the session's output;
    /// `Ok(false)` (nothing queued) where that cannot be done, and the caller sends it
    /// with [`send_binary`](Self::send_binary) instead.
    ///
    /// Only an unmasked, uncompressed frame can go out this way: `Ok(false)` for a
    /// client (RFC 6455 5.3: its frames are masked, which needs a copy), when
    /// permessage-deflate would compress this message, and while an earlier external
    /// payload is unwritten (one at a time).
    ///
    /// The payload belongs right after [`pending`](Self::pending), which stops there:
    /// once `pending` is written, write [`external_pending`](Self::external_pending) bytes
    /// of the payload and acknowledge them with
    /// [`advance_external`](Self::advance_external); what is queued later (pongs, a
    /// close frame) then shows in `pending`. Output is drained when both are empty.
    ///
    /// ```
    /// use ws_proto::{Config, Role, Session};
    /// let mut s = Session::new(Role::Server, Config::default(), None);
    /// let payload = vec![7u8; 200];
    /// assert!(s.send_binary_external(payload.len())?);
    /// s.send_pong(b"")?; // queued later, written after the payload
    /// let mut wire = s.pending().to_vec(); // the header
    /// s.advance(wire.len());
    /// assert_eq!(s.external_pending(), 200);
    /// wire.extend_from_slice(&payload); // "written" by the caller, from its own storage
    /// s.advance_external(200);
    /// wire.extend_from_slice(s.pending());
    /// assert_eq!(&wire[..2], b"\x82\x7e");
    /// assert_eq!(&wire[4 + 200..], b"\x8a\x00");
    /// # Ok::<(), ws_proto::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send_binary`](Self::send_binary): [`LocalError::Closed`] once closing,
    /// [`LocalError::MessageInProgress`] inside a message sent in fragments.
    pub fn send_binary_external(&mut self, len: usize) -> Result<bool, LocalError> {
        self.check_open()?;
        if self.send.fragmented.is_some() {
            return Err(LocalError::MessageInProgress);
        }
        let compressed = self.deflate.as_ref().is_some_and(|d| len >= d.min_size);
        if self.role == Role::Client || compressed || self.send.out.external_pending() > 0 {
            return Ok(false);
        }
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = FrameHeader::new(OpCode::Binary, len as u64).encode(&mut head);
        self.send.out.reserve_aligned(head_len);
        self.send.out.vec().extend_from_slice(&head[..head_len]);
        self.send.out.open_hole(len);
        self.send.pong_count = 0;
        Ok(true)
    }

    /// Bytes of the payload queued with [`send_binary_external`](Self::send_binary_external)
    /// that the caller has yet to write, right after [`pending`](Self::pending); 0 when
    /// none is outstanding.
    #[inline]
    pub fn external_pending(&self) -> usize {
        self.send.out.external_pending()
    }

    /// Every byte of output not yet written: [`pending`](Self::pending), the unwritten
    /// part of an external payload ([`external_pending`](Self::external_pending)), and
    /// what was queued after it (which `pending` shows only once the payload is
    /// written). Without an external payload, `pending().len()`. What a cap on a
    /// connection's unsent output should count.
    #[inline]
    pub fn queued_len(&self) -> usize {
        self.send.out.queued_len()
    }

    /// Marks `n` bytes of the external payload as written. Ignored while
    /// [`pending`](Self::pending) (the bytes that go before it) is not empty. When
    /// everything is written, the output storage is freed, as by
    /// [`advance`](Self::advance).
    pub fn advance_external(&mut self, n: usize) {
        self.send.out.advance_external(n, &mut Vec::new());
    }

    /// Marks `n` bytes of the external payload as written, like
    /// [`advance_external`](Self::advance_external); when everything is written, the
    /// output storage (the frame header's, often storage lent with
    /// [`lend_output_storage`](Self::lend_output_storage)) goes back to `storage` if that
    /// holds none (its capacity is 0), and is freed otherwise, as with
    /// [`advance_and_reclaim`](Self::advance_and_reclaim): a driver that echoes large
    /// messages from their own storage then reuses one output buffer across them instead
    /// of allocating one per message. As there, a driver that keeps the storage should
    /// drop it when it grew past what it wants to hold.
    ///
    /// ```
    /// use ws_proto::{Config, Role, Session};
    /// let mut scratch = Vec::with_capacity(4096);
    /// let mut s = Session::new(Role::Server, Config::default(), None);
    /// s.lend_output_storage(&mut scratch);
    /// assert!(s.send_binary_external(200_000)?);
    /// let head = s.pending().len(); // written to the socket, then the payload
    /// s.advance_and_reclaim(head, &mut scratch);
    /// s.advance_external_and_reclaim(200_000, &mut scratch);
    /// assert!(scratch.capacity() >= 4096, "back, for the next message");
    /// # Ok::<(), ws_proto::Error>(())
    /// ```
    pub fn advance_external_and_reclaim(&mut self, n: usize, storage: &mut Vec<u8>) {
        self.send.out.advance_external(n, storage);
    }

    /// Queues one frame of a message sent in pieces; `last` ends the message.
    ///
    /// The first call opens a message of `kind`; later calls must give the same kind
    /// until `last`. Control frames (ping, pong, close) may be sent in between (RFC 6455
    /// 5.4); whole messages may not. Text may be split anywhere, even inside a code
    /// point: the UTF-8 is checked across pieces, and a piece that makes it invalid is
    /// refused without being queued.
    ///
    /// ```
    /// use ws_proto::{Config, MessageKind, Role, Session};
    /// let mut s = Session::new(Role::Server, Config::default(), None);
    /// s.send_fragment(MessageKind::Text, b"Hel", false)?;
    /// s.send_fragment(MessageKind::Text, b"lo", true)?;
    /// // RFC 6455 5.7: a fragmented unmasked text message.
    /// assert_eq!(s.pending(), b"\x01\x03Hel\x80\x02lo");
    /// # Ok::<(), ws_proto::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalError::Closed`] once closing; [`LocalError::MessageInProgress`] when a message
    /// of the other kind is open (RFC 6455 5.4); [`LocalError::InvalidText`] for a text piece
    /// that makes the message invalid UTF-8, or a last piece that ends inside a code point
    /// (RFC 6455 5.6); [`LocalError::Compression`] and [`LocalError::Random`] as for
    /// [`send_text`](Self::send_text). Nothing is queued then, and no message is opened or
    /// ended.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), LocalError> {
        self.check_open()?;
        // With permessage-deflate, a message sent in pieces is compressed piece by piece
        // (its size is not known when it starts).
        let (opcode, compressed) = match self.send.fragmented {
            None => (kind.opcode(), self.deflate.is_some()),
            Some((open, compressed)) if open == kind => (OpCode::Continuation, compressed),
            Some(_) => return Err(LocalError::MessageInProgress),
        };
        let mut utf8 = self.send.utf8;
        if kind == MessageKind::Text {
            utf8.feed(data).map_err(|_| LocalError::InvalidText)?;
            if last {
                utf8.finish().map_err(|_| LocalError::InvalidText)?;
            }
        }
        let mut header = FrameHeader::new(opcode, data.len() as u64);
        header.fin = last;
        match self.deflate.as_mut().filter(|_| compressed) {
            Some(deflate) => {
                let mut piece = Vec::new();
                deflate.compressor.compress(data, &mut piece, last)?;
                header.payload_len = piece.len() as u64;
                header.rsv1 = opcode != OpCode::Continuation;
                self.push_frame(header, &piece)?;
            }
            None => self.push_frame(header, data)?,
        }
        self.send.utf8 = utf8;
        self.send.fragmented = (!last).then_some((kind, compressed));
        Ok(())
    }

    /// Queues a ping; the payload is at most 125 bytes.
    ///
    /// # Errors
    ///
    /// [`LocalError::Closed`] once closing; [`LocalError::ControlPayloadTooLong`] for a
    /// payload over 125 bytes (RFC 6455 5.5); [`LocalError::Random`] for a client whose secure
    /// random generator fails (RFC 6455 5.3).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues a pong (an answer to a ping, or a one-way heartbeat, RFC 6455 5.5.3).
    ///
    /// # Errors
    ///
    /// As [`send_ping`](Self::send_ping).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), LocalError> {
        self.check_open()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(LocalError::ControlPayloadTooLong(payload.len()));
        }
        self.push_frame(FrameHeader::new(opcode, payload.len() as u64), payload)
    }

    /// Starts the closing handshake: queues a close frame and moves to
    /// [`CloseSent`](State::CloseSent). The reason is at most 123 bytes.
    ///
    /// Keep calling [`decode`](Self::decode): the peer's close frame moves the session to
    /// [`Closed`](State::Closed). Messages the peer sent before it saw our close are
    /// still delivered meanwhile.
    ///
    /// # Errors
    ///
    /// [`LocalError::Closed`] if the closing handshake already started (a second close, or
    /// after the peer's close frame); [`LocalError::CloseReasonTooLong`] for a reason over
    /// 123 bytes (RFC 6455 5.5: a control payload is at most 125 bytes, 2 of them the code);
    /// [`LocalError::Random`] for a client whose secure random generator fails (RFC 6455
    /// 5.3). The state does not change then.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), LocalError> {
        self.check_open()?;
        check_reason(reason)?;
        self.queue_close(Some(code), reason)?;
        self.state = State::CloseSent;
        Ok(())
    }

    /// The encoded bytes waiting to be written, oldest first (up to an external
    /// payload, if one is outstanding: see
    /// [`send_binary_external`](Self::send_binary_external)).
    #[inline]
    pub fn pending(&self) -> &[u8] {
        self.send.out.pending()
    }

    /// Marks the first `n` bytes of [`pending`](Self::pending) as written.
    ///
    /// When everything is written, the output storage is freed.
    pub fn advance(&mut self, n: usize) {
        self.send.out.advance(n);
        self.send.pong_count = 0;
    }

    /// Lends the session storage for its output, so that a driver serving many sessions
    /// can reuse one buffer instead of each session allocating one per message and
    /// freeing it once drained (which keeps an idle session at zero bytes of output).
    ///
    /// When nothing is queued and the session holds no output storage, `storage`
    /// (cleared) becomes the output and `storage` is left empty, without capacity;
    /// otherwise nothing changes. Take it back with
    /// [`advance_and_reclaim`](Self::advance_and_reclaim). The session grows the storage
    /// as it needs: a driver that keeps it between sessions should drop storage grown past
    /// what it wants to hold (a 1 MiB message leaves a 1 MiB buffer).
    ///
    /// ```
    /// use ws_proto::{Config, Role, Session};
    /// let mut scratch = Vec::with_capacity(4096);
    /// let mut session = Session::new(Role::Server, Config::default(), None);
    /// session.lend_output_storage(&mut scratch);
    /// session.send_text("hi").unwrap();
    /// let n = session.pending().len(); // written to the socket here
    /// session.advance_and_reclaim(n, &mut scratch);
    /// assert!(scratch.capacity() >= 4096, "back, for the next session");
    /// ```
    pub fn lend_output_storage(&mut self, storage: &mut Vec<u8>) {
        self.send.out.lend(storage);
    }

    /// Marks the first `n` bytes of [`pending`](Self::pending) as written, like
    /// [`advance`](Self::advance); when everything is written, the output storage goes
    /// back to `storage` if that holds none (its capacity is 0), and is freed otherwise.
    pub fn advance_and_reclaim(&mut self, n: usize, storage: &mut Vec<u8>) {
        self.send.out.advance_and_reclaim(n, storage);
        self.send.pong_count = 0;
    }

    /// Writes pending bytes to `writer` until none are left or it fails.
    ///
    /// A convenience for blocking callers; with a non-blocking writer, an
    /// `ErrorKind::WouldBlock` error leaves the unwritten rest pending. It stops at an
    /// external payload ([`send_binary_external`](Self::send_binary_external)), which
    /// it does not have.
    ///
    /// # Errors
    ///
    /// The writer's error, `ErrorKind::WriteZero` if it accepts no bytes, and `flush`'s
    /// error. What was not written stays pending; `ErrorKind::Interrupted` is retried.
    pub fn write_to<W: io::Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<()> {
        while !self.pending().is_empty() {
            match writer.write(self.pending()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.advance(n),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        writer.flush()
    }

    fn check_open(&self) -> Result<(), LocalError> {
        if self.state == State::Open {
            Ok(())
        } else {
            Err(LocalError::Closed)
        }
    }

    /// Queues a close frame without changing state: for `close`, for answering the
    /// peer's close, and for failing the connection.
    pub(super) fn queue_close(
        &mut self,
        code: Option<CloseCode>,
        reason: &str,
    ) -> Result<(), LocalError> {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                let reason = truncate_reason(reason).as_bytes();
                payload[..2].copy_from_slice(&code.as_u16().to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
            None => 0,
        };
        self.push_frame(FrameHeader::new(OpCode::Close, len as u64), &payload[..len])
    }

    /// Queues the answer to a ping, replacing the last unsent one when too many wait.
    pub(super) fn queue_auto_pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        let mut count = self.send.pong_count;
        if usize::from(count) >= MAX_QUEUED_PONGS {
            // RFC 6455 5.5.3: an endpoint "MAY elect to send a Pong frame for only the
            // most recently processed Ping frame". The run is reset by every other frame
            // and by `advance`, so the last pong is at the tail and unwritten.
            self.send.out.truncate(self.send.pong_last);
            count -= 1;
        }
        let at = self.send.out.end();
        self.push_frame(
            FrameHeader::new(OpCode::Pong, payload.len() as u64),
            payload,
        )?;
        self.send.pong_count = count + 1;
        self.send.pong_last = at;
        Ok(())
    }

    /// Encodes one frame into the output; clients mask it with a fresh key.
    fn push_frame(&mut self, mut header: FrameHeader, payload: &[u8]) -> Result<(), LocalError> {
        if self.role == Role::Client {
            header.mask = Some(random::mask_key()?);
        }
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        self.send.out.reserve_aligned(head_len + payload.len());
        let out = self.send.out.vec();
        out.extend_from_slice(&head[..head_len]);
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = header.mask {
            apply_mask(&mut out[start..], key, 0);
        }
        self.send.pong_count = 0;
        Ok(())
    }
}
