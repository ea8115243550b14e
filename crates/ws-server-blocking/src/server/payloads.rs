//! Storage a worker loop reuses on the message path, so that an echo makes no user-space
//! copy and no allocation per message:
//!
//! - large payloads the loop owns from the socket read to the socket write
//!   ([`Session::hand_over_payloads_from`](ws_proto::Session::hand_over_payloads_from)):
//!   the one a callback is running for, the ones being written after their frame's
//!   header ([`Session::send_binary_external`](ws_proto::Session::send_binary_external)),
//!   and the receive buffer that gathers the next one in the storage of the last;
//! - the output buffer lent to whichever session encodes
//!   ([`Session::lend_output_storage`](ws_proto::Session::lend_output_storage)).
//!
//! One of each per loop, never per connection: an idle connection holds none of it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use ws_proto::{RecvBuffer, Session};

use crate::transport::READ_CHUNK;

/// Single-frame messages from this size on are delivered in storage of their own, which
/// the loop owns: a callback that sends the same bytes back on the same connection has
/// them written from there.
pub(crate) const HAND_OVER_FROM: usize = 64 * 1024;

/// The most a read into the loop's shared receive buffer takes (a connection's own
/// partial frame reads all there is room for): a frame to hand over then never arrives
/// whole at an offset of that buffer (only a payload gathered at the front of its storage
/// can be handed over), and the bytes of its first read are moved there: a copy of at
/// most this much, 6% of a 1 MiB message (16 KiB would make it 1.6%, but would split
/// every message of 16 to 64 KiB over two reads).
pub(crate) const FIRST_READ_MAX: usize = HAND_OVER_FROM;

/// A connection left inside a frame keeps receive storage of up to this size whatever
/// its bytes fill of it (its own small buffer: moving bytes out of it would cost a copy
/// at every read that ends inside a frame); larger storage only while it gathers a
/// payload to hand over there or its bytes fill more than a quarter of it, else its few
/// bytes move to a buffer of their own (see [`Payloads::keep_partial`]).
///
/// A quarter of the loop's receive buffer (64 KiB), so that the loop's own buffer is
/// never kept for a few bytes: at twice it (128 KiB, before), each connection stalled a
/// byte into a frame or a handshake request held all 64 KiB of it, and the loop
/// allocated (and zero-filled) another for its next read: 800 such connections held
/// 50 MiB for 0.3 MiB of bytes (`tests/stalled_frames.rs`). Moving the bytes costs a copy
/// of at most a quarter of the buffer, less than the 64 KiB the loop would fill anew.
const PARTIAL_KEPT_MAX: usize = FIRST_READ_MAX / RecvBuffer::PARTIAL_SHARE;

/// The lent output buffer is dropped rather than kept when a message grew it past this.
const OUTPUT_KEPT_MAX: usize = 64 * 1024;

/// The message a callback is running for, when the loop owns its payload.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Delivering {
    /// The connection's slot index.
    index: usize,
    /// Where the payload is, and its length: a callback sending back exactly these bytes
    /// sends the message it got.
    addr: usize,
    len: usize,
}

/// A worker loop's reusable storage for the message path (see the module's docs).
#[derive(Default)]
pub(crate) struct Payloads {
    delivering: Cell<Option<Delivering>>,
    /// The callback sent the payload it got back on its connection.
    sent_back: Cell<bool>,
    /// Payloads written after their frame's header, by slot index, until written.
    external: RefCell<HashMap<usize, Vec<u8>>>,
    /// The receive buffer lent to whichever connection reads; after a large message, the
    /// storage of the last payload done with (the larger one is kept, so a loop holds at
    /// most its largest message here, as its receive buffer did before).
    scratch: Cell<RecvBuffer>,
    /// The output buffer lent to whichever session encodes.
    output: RefCell<Vec<u8>>,
}

impl Payloads {
    /// Storage for a loop whose receive buffer is allocated, and its pages written, now:
    /// the room its first plain read asks for (`READ_CHUNK`, 64 KiB; ws-proto adds what
    /// aligning it takes). Every loop that serves a connection needs it once, so it belongs to
    /// the loop's start, not to its first connection (issue 17: it was 64 KiB of the
    /// memory charged to the first 1,000 idle connections).
    pub(crate) fn with_read_buffer() -> Payloads {
        let payloads = Payloads::default();
        payloads
            .scratch
            .set(RecvBuffer::with_spare(READ_CHUNK.min(FIRST_READ_MAX)));
        payloads
    }

    /// Runs `deliver` with `payload`, owned by the loop; returns the payload when the
    /// callback sent it back on the same connection (it is written from there), and
    /// keeps its storage for the next large message otherwise.
    pub(crate) fn deliver(
        &self,
        index: usize,
        payload: Vec<u8>,
        deliver: impl FnOnce(&[u8]),
    ) -> Option<Vec<u8>> {
        self.delivering.set(Some(Delivering {
            index,
            addr: payload.as_ptr().addr(),
            len: payload.len(),
        }));
        deliver(&payload);
        self.delivering.set(None);
        if self.sent_back.replace(false) {
            Some(payload)
        } else {
            self.recycle(payload);
            None
        }
    }

    /// Whether `data` is the very payload being delivered to connection `index` (same
    /// place, same length: while the callback runs, no other live storage can be there).
    pub(crate) fn is_delivering(&self, index: usize, data: &[u8]) -> bool {
        self.delivering.get().is_some_and(|d| {
            d.index == index && d.addr == data.as_ptr().addr() && d.len == data.len()
        })
    }

    /// The payload being delivered was queued to be written from its own storage; a
    /// second send of it copies.
    pub(crate) fn mark_sent_back(&self) {
        self.delivering.set(None);
        self.sent_back.set(true);
    }

    /// Keeps `payload` until connection `index` has written it.
    pub(crate) fn hold(&self, index: usize, payload: Vec<u8>) {
        if let Some(old) = self.external.borrow_mut().insert(index, payload) {
            self.recycle(old);
        }
    }

    /// Runs `f` with the payload connection `index` is writing, if it holds one.
    pub(crate) fn with_external<R>(&self, index: usize, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        f(self.external.borrow().get(&index).map(Vec::as_slice))
    }

    /// Connection `index` has written its payload, or is gone: the storage is kept for
    /// the next large message.
    pub(crate) fn release(&self, index: usize) {
        let payload = self.external.borrow_mut().remove(&index);
        if let Some(payload) = payload {
            self.recycle(payload);
        }
    }

    /// Keeps `storage` to read the next large message into, if it is larger than what
    /// is kept.
    pub(crate) fn recycle(&self, storage: Vec<u8>) {
        if storage.capacity() < HAND_OVER_FROM {
            return;
        }
        let kept = self.scratch.take();
        if kept.capacity() < storage.capacity() {
            self.scratch.set(RecvBuffer::from_storage(storage));
        } else {
            self.scratch.set(kept);
        }
    }

    /// The loop's receive buffer, lent to a connection that holds none.
    pub(crate) fn lend_scratch(&self) -> RecvBuffer {
        self.scratch.take()
    }

    /// A lent receive buffer comes back empty: the larger one is kept.
    pub(crate) fn return_scratch(&self, rx: RecvBuffer) {
        let kept = self.scratch.replace(rx);
        // Usually the cell was left empty while `rx` was out; storage that came back
        // meanwhile (a shed partial frame, a recycled payload) competes with it.
        if kept.capacity() > 0 {
            let rx = self.scratch.take();
            self.scratch.set(if kept.capacity() >= rx.capacity() {
                kept
            } else {
                rx
            });
        }
    }

    /// What a connection keeps of `rx`, a receive buffer it read into and left inside a
    /// frame (or a handshake request), by ws-proto's rule
    /// ([`RecvBuffer::shed_partial`], with [`PARTIAL_KEPT_MAX`]): storage larger than
    /// that (the loop's buffer after a large message, up to that message's size) holding
    /// a few bytes is shed, the bytes moving to a buffer of their own and the storage
    /// going back to the loop, so that an idle connection never holds a large message's
    /// worth of memory for a few bytes; all of it is kept while it gathers a payload to
    /// hand over in that storage (`gathering`, see
    /// [`Session::is_gathering_payload`](ws_proto::Session::is_gathering_payload)), or
    /// while its bytes fill more than a quarter of it.
    pub(crate) fn keep_partial(&self, mut rx: RecvBuffer, gathering: bool) -> RecvBuffer {
        if let Some(storage) = rx.shed_partial(gathering, PARTIAL_KEPT_MAX) {
            self.return_scratch(RecvBuffer::from_storage(storage));
        }
        rx
    }

    /// Lends the output buffer to `session` if it holds no output (see
    /// [`Session::lend_output_storage`]).
    pub(crate) fn lend_output(&self, session: &mut Session) {
        session.lend_output_storage(&mut self.output.borrow_mut());
    }

    /// Marks `n` bytes of `session`'s output written; once it is all written, its
    /// storage comes back to the loop (unless a large message grew it: then it is freed).
    pub(crate) fn advance_output(&self, session: &mut Session, n: usize) {
        self.reclaim_output(|output| session.advance_and_reclaim(n, output));
    }

    /// Marks `n` bytes of the payload `session` writes from its own storage written
    /// ([`Session::advance_external_and_reclaim`]): once all of it is, the output
    /// storage (the frame header's, lent by [`lend_output`](Self::lend_output)) comes back
    /// to the loop as in [`advance_output`](Self::advance_output), so that a large echo
    /// does not cost the loop its output buffer (and the next message an allocation).
    pub(crate) fn advance_external(&self, session: &mut Session, n: usize) {
        self.reclaim_output(|output| session.advance_external_and_reclaim(n, output));
    }

    /// Runs `advance` with the loop's output buffer, which a drained session's storage
    /// may come back to; storage grown past [`OUTPUT_KEPT_MAX`] is freed.
    fn reclaim_output(&self, advance: impl FnOnce(&mut Vec<u8>)) {
        let mut output = self.output.borrow_mut();
        advance(&mut output);
        if output.capacity() > OUTPUT_KEPT_MAX {
            *output = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FIRST_READ_MAX, HAND_OVER_FROM, PARTIAL_KEPT_MAX, Payloads};
    use crate::transport::READ_CHUNK;
    use ws_proto::RecvBuffer;

    // After a large message written from its own storage, the loop's output buffer (which
    // held the frame's header) comes back to the loop: two echoes, one buffer.
    #[test]
    fn the_output_buffer_comes_back_after_large_external_echoes() {
        const LARGE: usize = 1 << 20;
        let payloads = Payloads::default();
        *payloads.output.borrow_mut() = Vec::with_capacity(4096);
        let at = payloads.output.borrow().as_ptr();
        let mut session =
            ws_proto::Session::new(ws_proto::Role::Server, ws_proto::Config::default(), None);
        for echo in 0..2 {
            payloads.lend_output(&mut session);
            assert_eq!(payloads.output.borrow().capacity(), 0, "echo {echo}: lent");
            assert!(session.send_binary_external(LARGE).expect("open"));
            let head = session.pending().len();
            payloads.advance_output(&mut session, head);
            payloads.advance_external(&mut session, LARGE);
            assert_eq!(session.queued_len(), 0);
            assert_eq!(payloads.output.borrow().as_ptr(), at, "echo {echo}: back");
        }
    }

    // A connection left a few bytes into a frame in the loop's large buffer: the bytes
    // move out, the buffer goes back to the loop. Its own small buffer, a payload being
    // gathered, and bytes filling over a quarter of the storage stay where they are.
    #[test]
    fn a_partial_frame_keeps_large_storage_only_when_it_fills_it() {
        const LARGE: usize = 1 << 20;
        let payloads = Payloads::default();
        let mut rx = RecvBuffer::from_storage(vec![0; LARGE]);
        rx.extend_from_slice(&[0x82, 0x85]);
        let kept = payloads.keep_partial(rx, false);
        assert_eq!(kept.data(), &[0x82, 0x85]);
        assert!(kept.capacity() < 1024, "in storage of its size");
        assert_eq!(
            payloads.lend_scratch().capacity(),
            LARGE,
            "back to the loop"
        );

        let mut small = RecvBuffer::from_storage(vec![0; PARTIAL_KEPT_MAX]);
        small.extend_from_slice(b"x");
        assert_eq!(
            payloads.keep_partial(small, false).capacity(),
            PARTIAL_KEPT_MAX
        );

        let mut gathering = RecvBuffer::from_storage(vec![0; LARGE]);
        gathering.extend_from_slice(b"x");
        assert_eq!(payloads.keep_partial(gathering, true).capacity(), LARGE);

        let mut filling = RecvBuffer::from_storage(vec![0; LARGE]);
        filling.extend_from_slice(&vec![1; LARGE / RecvBuffer::PARTIAL_SHARE + 1]);
        assert_eq!(payloads.keep_partial(filling, false).capacity(), LARGE);
        assert_eq!(payloads.lend_scratch().capacity(), 0, "nothing given back");
    }

    // The loop's receive buffer is there before the first connection: the first read
    // into it (the room a plain read asks for) neither grows nor moves it.
    #[test]
    fn the_first_read_finds_its_buffer_allocated() {
        let payloads = Payloads::with_read_buffer();
        let mut rx = payloads.lend_scratch();
        let capacity = rx.capacity();
        assert!(capacity > 0, "allocated at the loop's start");
        let at = rx.spare(0).as_ptr().addr();
        let room = rx.spare(READ_CHUNK.min(FIRST_READ_MAX)).len();
        assert!(room >= READ_CHUNK.min(FIRST_READ_MAX));
        assert_eq!(rx.capacity(), capacity, "the first read grew the buffer");
        assert_eq!(
            rx.spare(0).as_ptr().addr(),
            at,
            "the first read moved the buffer"
        );
    }

    // Only the very slice delivered, on its own connection, once, counts as sent back.
    #[test]
    fn only_the_delivered_slice_on_its_connection_is_sent_back() {
        let payloads = Payloads::default();
        let payload = vec![5u8; HAND_OVER_FROM];
        let copy = payload.clone();
        let back = payloads.deliver(3, payload, |data| {
            assert!(payloads.is_delivering(3, data));
            assert!(!payloads.is_delivering(4, data), "another connection");
            assert!(!payloads.is_delivering(3, &data[1..]), "a part");
            assert!(
                !payloads.is_delivering(3, &data[..data.len() - 1]),
                "a part"
            );
            assert!(!payloads.is_delivering(3, &copy), "equal bytes elsewhere");
            payloads.mark_sent_back();
            assert!(!payloads.is_delivering(3, data), "a second send copies");
        });
        assert_eq!(back.map(|b| b.len()), Some(HAND_OVER_FROM));
        assert!(!payloads.is_delivering(3, &copy));
    }

    // A payload not sent back, and one written, leave their storage for the next large
    // message; the larger storage is kept.
    #[test]
    fn storage_done_with_becomes_the_receive_buffer() {
        let payloads = Payloads::default();
        assert_eq!(payloads.deliver(1, vec![0; 100_000], |_| {}), None);
        assert!(payloads.lend_scratch().capacity() >= 100_000);
        payloads.hold(2, vec![0; 200_000]);
        assert_eq!(
            payloads.with_external(2, |p| p.map(<[u8]>::len)),
            Some(200_000)
        );
        payloads.release(2);
        assert_eq!(payloads.with_external(2, |p| p.map(<[u8]>::len)), None);
        payloads.recycle(vec![0; 70_000]);
        assert!(
            payloads.lend_scratch().capacity() >= 200_000,
            "the larger kept"
        );
    }
}
