//! The receiving half of a session: frames in, events out.
//!
//! Each frame's header is checked and consumed as soon as it is whole. Its payload then
//! goes one of four ways ([`Sink`]): control frames and single-frame messages wait in
//! the receive buffer until whole and are delivered in place; frames of a fragmented
//! message are appended to the message as their bytes arrive; frames of a compressed
//! message are inflated into it as they arrive. Payload bytes are unmasked, and text
//! validated, as soon as they arrive, so invalid UTF-8 is refused at the first bad byte
//! even in the middle of a frame.
//!
//! After our close frame, the peer's messages are still delivered: it may have sent them
//! before it saw our close, and RFC 6455 1.4 only discards data after *receiving* a close
//! ("after receiving a control frame indicating the connection should be closed, a peer
//! discards any further data received"). Its pings are no longer answered.

use std::borrow::Cow;

use super::{Session, State};
use crate::buffer::RecvBuffer;
use crate::close::parse_close_payload;
use crate::error::Error;
use crate::event::{Event, MessageKind};
use crate::frame::{FrameHeader, HeaderParse};
use crate::mask::apply_mask;
use crate::opcode::OpCode;
use crate::protocol_error::ProtocolError;
use crate::role::Role;
use crate::utf8::{self, Utf8Validator};

/// What the receiving half remembers between calls.
#[derive(Debug, Default)]
pub(super) struct RecvState {
    /// The frame whose header was consumed and whose payload is still arriving.
    frame: Option<Frame>,
    /// The data message in progress when it spans several frames (or is compressed).
    /// Boxed: most connections rarely have one, and every idle connection would hold
    /// its 48 bytes.
    message: Option<Box<Message>>,
    /// UTF-8 state of the text message (or single text frame) in progress.
    utf8: Utf8Validator,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    opcode: OpCode,
    /// For data frames, the kind of the message they belong to.
    kind: MessageKind,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload length.
    len: usize,
    /// Payload bytes already unmasked (and validated, for text). For `Sink::Whole` they
    /// are still at the front of the receive buffer; otherwise they were consumed.
    done: usize,
    sink: Sink,
}

/// Where a frame's payload goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// A control frame: handled once whole, from the receive buffer.
    Control,
    /// Delivered from the receive buffer once whole: a single-frame message, or any data
    /// frame when fragments are delivered one by one.
    Whole,
    /// Appended to the message being reassembled as its bytes arrive.
    Append,
    /// Inflated into the message as its bytes arrive (permessage-deflate).
    Inflate,
}

/// A data message that spans several frames, or is compressed.
#[derive(Debug)]
struct Message {
    kind: MessageKind,
    /// Payload bytes announced so far, over all its frames.
    size: u64,
    /// The payload reassembled (or inflated) so far; when fragments are delivered one by
    /// one, only the current fragment's.
    data: Vec<u8>,
    /// The message is compressed (RSV1 on its first frame).
    compressed: bool,
    /// Inflated bytes already delivered as fragments.
    delivered: usize,
}

/// What appending a piece of a fragmented message led to.
enum Appended {
    /// The frame needs more bytes.
    Incomplete,
    /// The frame is done; the message continues in another frame.
    FrameDone,
    /// The message is done.
    Message(Event<'static>),
}

impl Session {
    /// Whether the frame being received is a payload gathered whole in the receive
    /// buffer's storage, to be handed over in it once complete
    /// ([`hand_over_payloads_from`](Self::hand_over_payloads_from)): a driver that lends
    /// one receive buffer to many connections then leaves it with this one until the
    /// message is delivered. Otherwise the unconsumed bytes of a partial frame (part of
    /// a header, or of a payload smaller than the hand-over size) can move to storage of
    /// their own.
    pub fn is_gathering_payload(&self) -> bool {
        self.recv.frame.is_some_and(|frame| {
            frame.sink == Sink::Whole
                && !self.config.deliver_fragments
                && self.hand_over_from != u32::MAX
                && frame.len as u64 >= u64::from(self.hand_over_from)
        })
    }

    /// Returns the next event that the bytes in `input` complete, consuming them, or
    /// `Ok(None)` when more bytes are needed (or the session is closed).
    ///
    /// Call it in a loop until it returns `Ok(None)`, then read more bytes into `input`.
    /// Bytes that are not consumed stay at the front of `input` and are used on the next
    /// call. An empty `input` never completes an event (every frame, even an empty one,
    /// starts with a header): the call then returns `Ok(None)` at once, and a caller may
    /// stop its loop when `input` is empty instead of making that call. Responses the protocol requires (pongs, the closing handshake) are queued to
    /// [`pending`](Self::pending) along the way.
    ///
    /// On a protocol violation the session queues a close frame with the matching code
    /// (1002, 1007 or 1009), becomes [`Closed`](State::Closed), and returns the error;
    /// later calls return `Ok(None)`.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] for a violation by the peer, with its close code;
    /// [`Error::Local`] if the answer to a ping or close could not be queued (the secure
    /// random generator failed).
    pub fn decode<'b>(&mut self, input: &'b mut RecvBuffer) -> Result<Option<Event<'b>>, Error> {
        // An event is complete as soon as its last byte is consumed, in the call that
        // consumes it: with nothing left to consume, none can be.
        if input.is_empty() {
            return Ok(None);
        }
        // The one failure path: every error below ends the session here (RFC 6455 7.1.7).
        match self.next_event(input) {
            Ok(event) => Ok(event),
            Err(err) => Err(self.fail(err)),
        }
    }

    /// [`decode`](Self::decode) without the failure path.
    fn next_event<'b>(&mut self, input: &'b mut RecvBuffer) -> Result<Option<Event<'b>>, Error> {
        loop {
            if self.state == State::Closed {
                input.clear();
                return Ok(None);
            }
            let frame = match self.recv.frame {
                Some(frame) => frame,
                None => match FrameHeader::parse(input.data()) {
                    Ok(HeaderParse::Complete { header, len }) => {
                        let frame = self.start_frame(header)?;
                        input.consume(len);
                        // The common case, a small single-frame message that arrived
                        // whole with its header: delivered at once, the frame never
                        // recorded.
                        if self.is_small_and_whole(&frame, input) {
                            return small_message(frame, input).map(Some);
                        }
                        self.recv.frame = Some(frame);
                        frame
                    }
                    Ok(HeaderParse::Incomplete { .. }) => return Ok(None),
                    Err(err) => return Err(err.into()),
                },
            };
            match frame.sink {
                Sink::Control => return self.control_frame(frame, input),
                Sink::Whole => return self.whole_frame(frame, input),
                Sink::Append | Sink::Inflate => {
                    let appended = if frame.sink == Sink::Append {
                        self.append(frame, input)?
                    } else {
                        self.inflate(frame, input)?
                    };
                    match appended {
                        Appended::Incomplete => return Ok(None),
                        Appended::FrameDone => continue,
                        Appended::Message(event) => return Ok(Some(event)),
                    }
                }
            }
        }
    }

    /// Reports the end of the byte stream (the peer closed TCP, or a read failed).
    ///
    /// Returns [`Error::AbnormalClosure`] (1006) unless the closing handshake had
    /// completed or the connection had already failed. The session is closed afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::AbnormalClosure`] when the stream ends before the closing handshake completed
    /// and the connection had not already failed: the close code is 1006 (RFC 6455 7.1.5),
    /// which is reported, never sent.
    pub fn receive_eof(&mut self) -> Result<(), Error> {
        let was_closed = self.state == State::Closed;
        self.state = State::Closed;
        self.recv = RecvState::default();
        if was_closed {
            Ok(())
        } else {
            Err(Error::AbnormalClosure)
        }
    }

    /// Checks a header against the role, the limits and the message in progress, and
    /// decides where its payload goes.
    fn start_frame(&mut self, header: FrameHeader) -> Result<Frame, ProtocolError> {
        // RFC 6455 5.2: "MUST be 0 unless an extension is negotiated that defines
        // meanings for non-zero values". RFC 7692 6.1: with permessage-deflate, RSV1
        // marks the first frame of a compressed message, and nothing else.
        let compressed_start =
            header.rsv1 && matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if header.rsv2 || header.rsv3 || (header.rsv1 && self.deflate.is_none()) {
            return Err(ProtocolError::ReservedBits);
        }
        if header.rsv1 && !compressed_start {
            return Err(ProtocolError::MisplacedCompressedBit(header.opcode));
        }
        // RFC 6455 5.1: servers close on unmasked frames, clients on masked ones.
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) if !self.config.accept_unmasked_frames => {
                return Err(ProtocolError::UnmaskedFrame);
            }
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let mut frame = Frame {
            opcode: header.opcode,
            kind: MessageKind::Binary,
            fin: header.fin,
            mask: header.mask,
            len: 0,
            done: 0,
            sink: Sink::Control,
        };
        if header.opcode.is_control() {
            // At most 125 bytes: FrameHeader::parse refuses more.
            frame.len = header.payload_len as usize;
            return Ok(frame);
        }
        let max_frame = self.config.max_frame_size;
        if header.payload_len > max_frame as u64 {
            return Err(ProtocolError::FrameTooLarge {
                size: header.payload_len,
                max: max_frame,
            });
        }
        frame.len = header.payload_len as usize;
        let streaming = self.config.deliver_fragments;
        let max_message = self.config.max_message_size;
        if header.opcode == OpCode::Continuation {
            // RFC 6455 5.4: continuation frames only follow a first frame without FIN.
            let message = self
                .recv
                .message
                .as_mut()
                .ok_or(ProtocolError::UnexpectedContinuation)?;
            let size = message.size + header.payload_len;
            // A compressed message's limit is on its inflated size, checked as it grows.
            if size > max_message as u64 && !message.compressed {
                return Err(ProtocolError::MessageTooLarge {
                    size,
                    max: max_message,
                });
            }
            message.size = size;
            frame.kind = message.kind;
            frame.sink = match (message.compressed, streaming) {
                (true, _) => Sink::Inflate,
                (false, true) => Sink::Whole,
                (false, false) => Sink::Append,
            };
            return Ok(frame);
        }
        // RFC 6455 5.4: the fragments of one message are not interleaved with another's.
        if self.recv.message.is_some() {
            return Err(ProtocolError::ExpectedContinuation);
        }
        if header.payload_len > max_message as u64 && !compressed_start {
            return Err(ProtocolError::MessageTooLarge {
                size: header.payload_len,
                max: max_message,
            });
        }
        frame.kind = if header.opcode == OpCode::Text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        self.recv.utf8.reset();
        if !header.fin || compressed_start {
            self.recv.message = Some(Box::new(Message {
                kind: frame.kind,
                size: header.payload_len,
                data: Vec::new(),
                compressed: compressed_start,
                delivered: 0,
            }));
        }
        frame.sink = if compressed_start {
            Sink::Inflate
        } else if header.fin || streaming {
            Sink::Whole
        } else {
            Sink::Append
        };
        Ok(frame)
    }

    /// Bytes the session itself holds for a message being reassembled.
    #[cfg(test)]
    pub(super) fn reassembly_len(&self) -> usize {
        self.recv.message.as_ref().map_or(0, |m| m.data.len())
    }

    fn set_done(&mut self, done: usize) {
        if let Some(frame) = &mut self.recv.frame {
            frame.done = done;
        }
    }

    /// A ping, pong or close frame, once whole.
    fn control_frame<'b>(
        &mut self,
        frame: Frame,
        input: &'b mut RecvBuffer,
    ) -> Result<Option<Event<'b>>, Error> {
        if input.len() < frame.len {
            return Ok(None);
        }
        self.recv.frame = None;
        let payload = input.take(frame.len);
        if let Some(key) = frame.mask {
            apply_mask(payload, key, 0);
        }
        let payload: &'b [u8] = payload;
        match frame.opcode {
            OpCode::Ping => {
                // RFC 6455 5.5.2: answer a ping with a pong carrying the same payload,
                // unless our close frame is already out (then nothing more is sent).
                if self.config.auto_pong && self.state == State::Open {
                    self.queue_auto_pong(payload)?;
                }
                Ok(Some(Event::Ping(Cow::Borrowed(payload))))
            }
            OpCode::Pong => Ok(Some(Event::Pong(Cow::Borrowed(payload)))),
            _ => self.close_frame(payload).map(Some),
        }
    }

    /// The peer's close frame: validated, answered if we had not closed, and the end.
    fn close_frame<'b>(&mut self, payload: &'b [u8]) -> Result<Event<'b>, Error> {
        let frame = parse_close_payload(payload)?;
        if self.state == State::Open {
            // RFC 6455 5.5.1: send a close frame in response, "typically echoing the
            // status code it received".
            let code = frame.as_ref().map(|f| f.code);
            self.queue_close(code, "")?;
        }
        self.state = State::Closed;
        self.recv = RecvState::default();
        Ok(Event::Close(frame))
    }

    /// Whether `frame` is a small single-frame message (not compressed: `Sink::Whole`;
    /// fragments not delivered one by one) whose whole payload is at the front of
    /// `input`, none of it unmasked yet: [`small_message`] delivers it at once.
    #[inline(always)]
    fn is_small_and_whole(&self, frame: &Frame, input: &RecvBuffer) -> bool {
        frame.sink == Sink::Whole
            && !self.config.deliver_fragments
            && frame.done == 0
            && frame.len <= BLOCK
            && frame.len <= input.len()
    }

    /// A data frame delivered in place once whole.
    fn whole_frame<'b>(
        &mut self,
        frame: Frame,
        input: &'b mut RecvBuffer,
    ) -> Result<Option<Event<'b>>, Error> {
        // A small message whose payload is all here, none of it seen yet (its header
        // came in an earlier call), is delivered as one whose header came with it;
        // otherwise bytes are unmasked and validated as they arrive.
        if self.is_small_and_whole(&frame, input) {
            self.recv.frame = None;
            return small_message(frame, input).map(Some);
        }
        let streaming = self.config.deliver_fragments;
        let text = frame.kind == MessageKind::Text;
        let upto = input.len().min(frame.len);
        // A large payload to hand over: once its first bytes are here (not before: an
        // empty buffer may be realigned by the next read), gather it at the front of
        // storage of its own.
        let hand_over = !streaming
            && self.hand_over_from != u32::MAX
            && frame.len as u64 >= u64::from(self.hand_over_from);
        if hand_over && upto > 0 && upto < frame.len && !input.holds_from_front(frame.len) {
            input.isolate(frame.len);
        }
        if upto > frame.done {
            let fresh = &mut input.data_mut()[frame.done..upto];
            let utf8 = text.then_some(&mut self.recv.utf8);
            if unmask_and_validate(fresh, frame.mask, frame.done, utf8).is_err() {
                return Err(ProtocolError::InvalidUtf8.into());
            }
            self.set_done(upto);
        }
        if upto < frame.len {
            return Ok(None);
        }
        self.recv.frame = None;
        if hand_over && let Some(payload) = input.take_front(frame.len) {
            return self.owned_payload(frame.kind, payload).map(Some);
        }
        let payload: &'b [u8] = input.take(frame.len);
        if streaming {
            if frame.fin {
                self.recv.message = None;
                if text && self.recv.utf8.finish().is_err() {
                    return Err(ProtocolError::InvalidUtf8.into());
                }
            }
            return Ok(Some(Event::Fragment {
                kind: frame.kind,
                data: Cow::Borrowed(payload),
                last: frame.fin,
            }));
        }
        if !text {
            return Ok(Some(Event::Binary(Cow::Borrowed(payload))));
        }
        if self.recv.utf8.finish().is_err() {
            return Err(ProtocolError::InvalidUtf8.into());
        }
        // SAFETY: every byte of `payload` went through `self.recv.utf8`, in order, as it
        // arrived (above, on this call or earlier ones; the validator was reset when the
        // frame started), no feed failed, and `finish` succeeded.
        #[allow(unsafe_code)]
        let text = unsafe { utf8::str_from_validated(payload) };
        Ok(Some(Event::Text(Cow::Borrowed(text))))
    }

    /// A single-frame message handed over in the receive buffer's storage; every byte
    /// of it was unmasked and (for text) fed to the validator as it arrived.
    fn owned_payload(
        &mut self,
        kind: MessageKind,
        payload: Vec<u8>,
    ) -> Result<Event<'static>, Error> {
        match kind {
            MessageKind::Binary => Ok(Event::Binary(Cow::Owned(payload))),
            MessageKind::Text => {
                if self.recv.utf8.finish().is_err() {
                    return Err(ProtocolError::InvalidUtf8.into());
                }
                // SAFETY: every byte of `payload` went through `self.recv.utf8`, in
                // order, as it arrived (whole_frame, on this call or earlier ones; the
                // validator was reset when the frame started, and hand-over is never
                // used for the small frames validated in one call), no feed failed, and
                // `finish` succeeded.
                #[allow(unsafe_code)]
                let text = unsafe { utf8::string_from_validated(payload) };
                Ok(Event::Text(Cow::Owned(text)))
            }
        }
    }

    /// Moves the bytes of a fragmented message's frame into the message as they arrive.
    fn append(&mut self, frame: Frame, input: &mut RecvBuffer) -> Result<Appended, Error> {
        let n = input.len().min(frame.len - frame.done);
        let chunk = input.take(n);
        let text = frame.kind == MessageKind::Text;
        if unmask_and_validate(
            chunk,
            frame.mask,
            frame.done,
            text.then_some(&mut self.recv.utf8),
        )
        .is_err()
        {
            return Err(ProtocolError::InvalidUtf8.into());
        }
        let Some(message) = self.recv.message.as_mut() else {
            // start_frame only chooses Append with a message in progress.
            return Err(ProtocolError::UnexpectedContinuation.into());
        };
        message.data.extend_from_slice(chunk);
        if frame.done + n < frame.len {
            self.set_done(frame.done + n);
            return Ok(Appended::Incomplete);
        }
        self.recv.frame = None;
        if !frame.fin {
            return Ok(Appended::FrameDone);
        }
        self.finish_message(frame.kind)
    }

    /// Inflates the bytes of a compressed message's frame into the message as they
    /// arrive; the message limit applies to the inflated size as it grows.
    fn inflate(&mut self, frame: Frame, input: &mut RecvBuffer) -> Result<Appended, Error> {
        let n = input.len().min(frame.len - frame.done);
        let chunk = input.take(n);
        if let Some(key) = frame.mask {
            apply_mask(chunk, key, frame.done);
        }
        let frame_done = frame.done + n == frame.len;
        let streaming = self.config.deliver_fragments;
        let max_message = self.config.max_message_size;
        let inflated = match (self.recv.message.as_mut(), self.deflate.as_mut()) {
            (Some(message), Some(deflate)) => {
                let before = message.data.len();
                let limit = max_message.saturating_sub(message.delivered);
                let last = frame_done && frame.fin;
                deflate
                    .decompressor
                    .decompress(chunk, &mut message.data, limit, last)
                    .map(|()| before)
            }
            // start_frame only chooses Inflate for a compressed message.
            _ => Err(ProtocolError::UnexpectedContinuation),
        };
        let before = inflated?;
        if frame.kind == MessageKind::Text {
            let fresh = self
                .recv
                .message
                .as_ref()
                .map_or(&[][..], |m| &m.data[before..]);
            if self.recv.utf8.feed(fresh).is_err() {
                return Err(ProtocolError::InvalidUtf8.into());
            }
        }
        if !frame_done {
            self.set_done(frame.done + n);
            return Ok(Appended::Incomplete);
        }
        self.recv.frame = None;
        if streaming {
            return self.deliver_fragment(frame);
        }
        if !frame.fin {
            return Ok(Appended::FrameDone);
        }
        self.finish_message(frame.kind)
    }

    /// One inflated frame of a compressed message, when fragments are delivered.
    fn deliver_fragment(&mut self, frame: Frame) -> Result<Appended, Error> {
        let data = match self.recv.message.as_mut() {
            Some(message) => {
                let data = std::mem::take(&mut message.data);
                message.delivered += data.len();
                data
            }
            None => Vec::new(),
        };
        if frame.fin {
            self.recv.message = None;
            if frame.kind == MessageKind::Text && self.recv.utf8.finish().is_err() {
                return Err(ProtocolError::InvalidUtf8.into());
            }
        }
        Ok(Appended::Message(Event::Fragment {
            kind: frame.kind,
            data: Cow::Owned(data),
            last: frame.fin,
        }))
    }

    /// Hands over a reassembled (or inflated) message.
    fn finish_message(&mut self, kind: MessageKind) -> Result<Appended, Error> {
        let data = self.recv.message.take().map(|m| m.data).unwrap_or_default();
        let event = match kind {
            MessageKind::Binary => Event::Binary(Cow::Owned(data)),
            MessageKind::Text => {
                if self.recv.utf8.finish().is_err() {
                    return Err(ProtocolError::InvalidUtf8.into());
                }
                // SAFETY: every byte of `data` went through `self.recv.utf8`, in order, as
                // it was appended or inflated (the validator was reset when the message
                // started), no feed failed, and `finish` succeeded.
                #[allow(unsafe_code)]
                let text = unsafe { utf8::string_from_validated(data) };
                Event::Text(Cow::Owned(text))
            }
        };
        Ok(Appended::Message(event))
    }
}

/// A single-frame message of at most [`BLOCK`] bytes, whole at the front of `input`
/// (see `Session::is_small_and_whole`): unmasked, and validated in one call if text
/// (cheaper than the incremental validator for a few bytes, and it yields the text),
/// then delivered in place.
fn small_message<'b>(frame: Frame, input: &'b mut RecvBuffer) -> Result<Event<'b>, Error> {
    let payload = input.take(frame.len);
    if let Some(key) = frame.mask {
        apply_mask(payload, key, 0);
    }
    let payload: &'b [u8] = payload;
    match frame.kind {
        MessageKind::Binary => Ok(Event::Binary(Cow::Borrowed(payload))),
        // RFC 6455 8.1: a text message is UTF-8; invalid data fails the connection
        // (1007).
        MessageKind::Text => match utf8::validate(payload) {
            Ok(text) => Ok(Event::Text(Cow::Borrowed(text))),
            Err(_) => Err(ProtocolError::InvalidUtf8.into()),
        },
    }
}

/// Bytes per step of [`unmask_and_validate`]: small enough to stay in L1 between the two.
const BLOCK: usize = 16 * 1024;

/// Unmasks newly arrived payload bytes and, for text, validates them, block by block, so
/// that each block is validated while still in cache from being unmasked: one pass over
/// memory instead of two.
fn unmask_and_validate(
    bytes: &mut [u8],
    mask: Option<[u8; 4]>,
    offset: usize,
    mut utf8: Option<&mut Utf8Validator>,
) -> Result<(), utf8::Utf8Error> {
    for (i, block) in bytes.chunks_mut(BLOCK).enumerate() {
        if let Some(key) = mask {
            apply_mask(block, key, offset + i * BLOCK);
        }
        if let Some(validator) = utf8.as_deref_mut() {
            validator.feed(block)?;
        }
    }
    Ok(())
}
