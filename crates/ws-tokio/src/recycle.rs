//! Storage reuse, per thread: one receive buffer lent to whichever connection reads
//! next, the storage of large messages once they were sent, kept for the next large
//! message to be read into, and one output buffer lent to whichever session encodes
//! next. A connection that is idle holds none of them.
//!
//! The receive scratch is the blocking server's loop in async form: a connection holds
//! no receive buffer while it waits, and a busy one neither allocates nor clears one per
//! read; a connection reading its handshake does not allocate and zero one of its own
//! (16 KiB, once per connection otherwise) either. [`lend_input`] gives a connection
//! about to read a buffer; [`take_back_input`] takes it back as the connection goes
//! idle: all of it once it has nothing left in it, and the scratch or larger storage
//! holding the start of a frame (or of a handshake request) too, its few bytes moved to a
//! buffer of their own (a connection one byte into a frame keeps neither the 16 KiB
//! scratch nor a recycled 1 MiB for it), unless a payload to hand over is being gathered
//! in that storage or the bytes fill over a quarter of it.
//!
//! A large single-frame message is read into storage of its own and delivered in it
//! (ws-proto's hand-over): new storage is zero-filled first (safe Rust cannot read into
//! uninitialised memory), which for 1 MiB costs more than everything else the message
//! needs in user space. An echo hands that storage straight back (its `Bytes` is written
//! from where it was received); once written, and held by no one else, the storage goes
//! to this thread's pool, and the next connection that starts reading is lent it: its
//! bytes are initialised already, so nothing is cleared again. The pool holds at most
//! [`Settings::recycle_limit`](crate::Settings::recycle_limit) bytes.
//!
//! The output buffer is the same idea for small messages: a session frees its output
//! storage once drained (so an idle connection holds none); lending it the thread's
//! buffer instead saves a `malloc` and a `free` per message. So is the storage of one
//! small sent text message: the next small text received on the thread is copied into
//! it rather than into a new allocation, when it fits (at most twice its length plus 32
//! bytes of capacity, so that a message never holds much more than its bytes). Small
//! binary payloads are not kept: turning a sent `Bytes` back into a vector and the
//! vector into the next `Bytes` costs more than the `malloc` and `free` it saves (about
//! 350 instructions against 230 per 20-byte message, callgrind; benches/README.md).

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use ws_proto::{RecvBuffer, Session};

/// How much room each read offers at least (as ws-proto's `RecvBuffer::read_from`): the
/// thread's receive scratch is this large (plus 64 bytes of alignment).
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// A connection left inside a frame (or inside its handshake request) keeps receive
/// storage of up to this size whatever its bytes fill of it; larger storage (the
/// thread's scratch, recycled storage, a buffer grown for a large frame) only while it
/// gathers a payload to hand over there or its bytes fill more than a quarter of it,
/// else its few bytes move to a buffer of their own: ws-proto's rule,
/// [`RecvBuffer::shed_partial`], as ws-server-blocking applies it.
///
/// A quarter of the scratch ([`READ_CHUNK`]), so that the scratch is never kept for a
/// few bytes: at [`SCRATCH_MAX`] (before), each connection stalled a byte into a frame
/// or a handshake request held all 16 KiB of it, and the thread allocated (and
/// zero-filled) another for its next read: 800 such connections held 12.5 MiB for a
/// few KiB of bytes (tests/partial_frame_storage.rs). The connection's next read grows
/// its own buffer (a 16 KiB allocation, as a connection without storage gets when the
/// scratch is out): the cost falls on a connection that stalled, not on every read
/// (lending the scratch back instead, the bytes copied in, cost every message 10 to 30
/// instructions more in `echo1`, callgrind, from the check alone and the code around it).
const PARTIAL_KEPT_MAX: usize = READ_CHUNK / RecvBuffer::PARTIAL_SHARE;

/// The largest receive buffer kept as the thread's scratch; larger ones (grown for a big
/// frame, or recycled storage) go to the pool.
pub(crate) const SCRATCH_MAX: usize = 64 * 1024;

/// Storage below this is not kept in the pool: the thread's receive scratch (16 KiB)
/// serves reads of smaller messages, which are copied out of it rather than handed over.
pub(crate) const RECYCLE_FROM: usize = SCRATCH_MAX;

/// The largest output buffer kept for lending; one grown past it is freed.
const OUTPUT_MAX: usize = 64 * 1024;

/// The largest small text message whose storage is kept for the next one.
const SMALL_MAX: usize = 4 * 1024;

/// Large storage kept for reuse, and how many bytes it holds in all.
struct Pool {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

thread_local! {
    /// The receive scratch: one receive buffer, lent to whichever connection reads next.
    static SCRATCH: Cell<RecvBuffer> = const { Cell::new(RecvBuffer::new()) };
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            buffers: Vec::new(),
            bytes: 0,
        })
    };
    /// How many buffers `POOL` holds: one load tells a reading connection that there is
    /// nothing to borrow, which is the common case.
    static POOLED: Cell<usize> = const { Cell::new(0) };
    /// The storage small messages pass through: one thread-local, so that sending a text
    /// reaches both of its parts in one access (each access checks that the thread's
    /// storage is alive, and moves through `RefCell`'s flag).
    static SMALL: RefCell<Small> = const {
        RefCell::new(Small {
            output: Vec::new(),
            text: String::new(),
        })
    };
}

/// The thread's storage for small messages.
struct Small {
    /// The output buffer lent to sessions ([`ws_proto::Session::lend_output_storage`]).
    output: Vec<u8>,
    /// A small sent text message's storage, for the next one received.
    text: String,
}

/// A received text as an owned `String`: in the thread's kept text storage when it fits
/// (see the module's documentation), else in a new one.
#[inline]
pub(crate) fn text_from(text: &str) -> String {
    SMALL.with_borrow_mut(|Small { text: kept, .. }| {
        let cap = kept.capacity();
        if cap >= text.len() && cap <= 2 * text.len() + 32 {
            let mut owned = std::mem::take(kept);
            owned.clear();
            owned.push_str(text);
            owned
        } else {
            text.to_owned()
        }
    })
}

/// Queues `text` in `session` with the thread's output buffer lent to it (as
/// [`lend_output`]), then keeps the text's storage: a small one for the next text received
/// on the thread, if the thread keeps none (in the same access to the thread's storage),
/// a large one as [`keep_text`] says.
#[inline]
pub(crate) fn send_text(
    session: &mut Session,
    text: String,
    limit: usize,
) -> Result<(), ws_proto::LocalError> {
    if text.len() >= RECYCLE_FROM {
        lend_output(session);
        let sent = session.send_text(&text);
        keep_text(text, limit);
        return sent;
    }
    SMALL.with_borrow_mut(|small| {
        if small.output.capacity() > 0 {
            session.lend_output_storage(&mut small.output);
        }
        let sent = session.send_text(&text);
        if small.text.capacity() == 0 && text.capacity() <= SMALL_MAX {
            small.text = text;
        }
        sent
    })
}

/// Lends `input` storage to read into if it has none: the thread's recycled large
/// storage if it holds some (the most recently kept: a large frame that starts in it is
/// read in place, without new zero-filled storage), else the thread's receive scratch
/// (which has no storage before the thread's first read: the read allocates it then).
/// A connection whose few bytes were parked in a buffer of their own
/// ([`take_back_input`]) reads into that buffer, which the read grows.
///
/// The check is inline (every read makes it; a busy connection's second read of a
/// message finds its buffer lent already), the lending out of line.
#[inline(always)]
pub(crate) fn lend_input(input: &mut RecvBuffer) {
    if input.capacity() == 0 {
        lend_storage(input);
    }
}

/// The lending of [`lend_input`].
#[inline(never)]
fn lend_storage(input: &mut RecvBuffer) {
    *input = match take() {
        Some(storage) => RecvBuffer::from_storage(storage),
        None => SCRATCH.take(),
    };
}

/// Takes back a connection's receive buffer as it goes idle (its read returned
/// `Pending`), within `limit` bytes
/// ([`Settings::recycle_limit`](crate::Settings::recycle_limit)):
///
/// - every byte in it consumed: all of it, and `input` is left without storage;
/// - holding the start of a frame (or of a handshake request) in storage larger than
///   [`PARTIAL_KEPT_MAX`] (the thread's scratch, recycled storage, or a buffer grown
///   for a large frame): the bytes are copied into a buffer of their own (as large as
///   they are) and the storage goes back, unless `session` (the connection's, `None`
///   during the handshake) is gathering a payload to hand over there
///   ([`Session::is_gathering_payload`]), or the bytes take more than a quarter of it:
///   ws-proto's rule, [`RecvBuffer::shed_partial`] (with [`PARTIAL_KEPT_MAX`] as what a
///   connection may keep whatever it holds);
/// - otherwise `input` is left as it is.
///
/// Storage given back goes to the thread's scratch slot up to [`SCRATCH_MAX`] if that is
/// free, larger to the thread's pool within `limit`; otherwise it is freed.
#[inline]
pub(crate) fn take_back_input(input: &mut RecvBuffer, session: Option<&Session>, limit: usize) {
    if input.is_empty() {
        if input.capacity() > 0 {
            give_back(std::mem::take(input), limit);
        }
    } else if input.capacity() > PARTIAL_KEPT_MAX {
        take_back_partial(input, session, limit);
    }
}

/// The partial case of [`take_back_input`]: out of line, as an idle connection seldom
/// holds bytes in large storage.
#[cold]
#[inline(never)]
fn take_back_partial(input: &mut RecvBuffer, session: Option<&Session>, limit: usize) {
    let gathering = session.is_some_and(Session::is_gathering_payload);
    if let Some(storage) = input.shed_partial(gathering, PARTIAL_KEPT_MAX) {
        give_back(RecvBuffer::from_storage(storage), limit);
    }
}

/// Gives a receive buffer's storage back to the thread, dropping any bytes still in it
/// (a connection that reads no more): as [`give_back`].
pub(crate) fn give_back_input(input: RecvBuffer, limit: usize) {
    if input.is_empty() {
        give_back(input, limit);
    } else {
        // Emptied first: the scratch is lent as it is.
        give_back(RecvBuffer::from_storage(input.into_storage()), limit);
    }
}

/// Takes `idle`, an empty receive buffer: up to [`SCRATCH_MAX`] to the thread's scratch
/// slot if that is free, larger to the pool within `limit` bytes, else freed.
#[inline]
fn give_back(idle: RecvBuffer, limit: usize) {
    if idle.capacity() <= SCRATCH_MAX {
        SCRATCH.with(|scratch| {
            let held = scratch.take();
            scratch.set(if held.capacity() == 0 { idle } else { held });
        });
    } else {
        keep(idle.into_storage(), limit);
    }
}

/// Recycled storage to read into, if this thread holds some (the most recently kept).
#[inline]
fn take() -> Option<Vec<u8>> {
    if POOLED.get() == 0 {
        return None;
    }
    take_pooled()
}

fn take_pooled() -> Option<Vec<u8>> {
    POOLED.set(POOLED.get() - 1);
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let storage = pool.buffers.pop()?;
        pool.bytes -= storage.len();
        Some(storage)
    })
}

/// Keeps `storage` for reuse if it is large enough to be worth it and the thread's pool
/// stays within `limit` bytes with it; otherwise frees it.
pub(crate) fn keep(storage: Vec<u8>, limit: usize) {
    if storage.len() < RECYCLE_FROM {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.bytes + storage.len() <= limit {
            pool.bytes += storage.len();
            pool.buffers.push(storage);
            POOLED.set(pool.buffers.len());
        }
    });
}

/// A sent message's payload: large storage is kept (see [`keep`]) when nothing else
/// holds it; the part of its capacity past its length is cleared once, so that all of it
/// can be read into. A small payload is dropped (see the module's documentation).
#[inline]
pub(crate) fn keep_payload(data: Bytes, limit: usize) {
    if data.len() >= RECYCLE_FROM && limit >= RECYCLE_FROM {
        keep_unique(data, limit);
    }
}

fn keep_unique(data: Bytes, limit: usize) {
    if let Ok(unique) = data.try_into_mut() {
        let mut storage = Vec::from(unique);
        storage.resize(storage.capacity(), 0);
        keep(storage, limit);
    }
}

/// A sent large text message's storage, as [`keep_payload`] (a `String` is never
/// shared); small ones are kept by [`send_text`].
fn keep_text(text: String, limit: usize) {
    if text.len() >= RECYCLE_FROM && limit >= RECYCLE_FROM {
        let mut storage = text.into_bytes();
        storage.resize(storage.capacity(), 0);
        keep(storage, limit);
    }
}

/// Lends the thread's output buffer to `session` if its output is empty and holds no
/// storage (see [`ws_proto::Session::lend_output_storage`]).
pub(crate) fn lend_output(session: &mut ws_proto::Session) {
    SMALL.with_borrow_mut(
        |Small {
             output: storage, ..
         }| {
            if storage.capacity() > 0 {
                session.lend_output_storage(storage);
            }
        },
    );
}

/// Marks `n` bytes of `session`'s output as written; once all is written, its storage
/// becomes the thread's output buffer again (if the thread holds none, and it did not
/// grow past 64 KiB).
pub(crate) fn advance_output(session: &mut ws_proto::Session, n: usize) {
    reclaim_output(|storage| session.advance_and_reclaim(n, storage));
}

/// Marks `n` bytes of the payload `session` writes from its own storage as written; once
/// all of it is, the output storage (the frame header's) becomes the thread's output
/// buffer again, as in [`advance_output`] (a large echo does not cost an allocation).
pub(crate) fn advance_external(session: &mut ws_proto::Session, n: usize) {
    reclaim_output(|storage| session.advance_external_and_reclaim(n, storage));
}

/// Runs `advance` with the thread's output buffer, which a drained session's storage may
/// come back to; storage grown past [`OUTPUT_MAX`] is freed.
fn reclaim_output(advance: impl FnOnce(&mut Vec<u8>)) {
    SMALL.with_borrow_mut(
        |Small {
             output: storage, ..
         }| {
            advance(storage);
            if storage.capacity() > OUTPUT_MAX {
                *storage = Vec::new();
            }
        },
    );
}

/// Bytes of large messages' storage this thread keeps for reuse (at most the largest
/// [`Settings::recycle_limit`](crate::Settings::recycle_limit) of the streams that gave
/// it back): what ws-tokio holds on a runtime thread beside its connections.
///
/// ```
/// assert_eq!(ws_tokio::recycled_bytes(), 0, "nothing was received on this thread");
/// ```
pub fn recycled_bytes() -> usize {
    POOL.with(|pool| pool.borrow().bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_stays_within_its_limit() {
        let limit = 3 * RECYCLE_FROM;
        keep(vec![0; RECYCLE_FROM], limit);
        keep(vec![0; 2 * RECYCLE_FROM], limit);
        assert_eq!(recycled_bytes(), 3 * RECYCLE_FROM);
        keep(vec![0; RECYCLE_FROM], limit);
        assert_eq!(recycled_bytes(), 3 * RECYCLE_FROM, "over the limit: freed");
        keep(vec![0; RECYCLE_FROM - 1], usize::MAX);
        assert_eq!(recycled_bytes(), 3 * RECYCLE_FROM, "too small to keep");
        assert_eq!(
            take().map(|s| s.len()),
            Some(2 * RECYCLE_FROM),
            "last kept first"
        );
        assert_eq!(recycled_bytes(), RECYCLE_FROM);
        assert_eq!(take().map(|s| s.len()), Some(RECYCLE_FROM));
        assert_eq!(take(), None);
        assert_eq!(recycled_bytes(), 0);
    }

    #[test]
    fn an_idle_receive_buffer_goes_to_the_scratch_or_the_pool() {
        // Small: to the scratch slot, and lent back when the pool holds nothing.
        let mut input = RecvBuffer::new();
        input.spare(READ_CHUNK);
        let small = input.capacity();
        assert!(small > 0 && small <= SCRATCH_MAX);
        take_back_input(&mut input, None, usize::MAX);
        assert_eq!(input.capacity(), 0, "the connection holds none");
        lend_input(&mut input);
        assert_eq!(input.capacity(), small, "the scratch");
        // Holding a few bytes: they move to a buffer of their own, the scratch goes
        // back; the next read grows that buffer, and the scratch stays free.
        input.extend_from_slice(b"y");
        take_back_input(&mut input, None, usize::MAX);
        assert_eq!(input.data(), b"y");
        assert!(input.capacity() < 1024, "not the scratch");
        lend_input(&mut input);
        assert!(input.capacity() < 1024, "its own buffer is read into");
        assert!(
            input.spare(READ_CHUNK).len() >= READ_CHUNK,
            "grown for the read"
        );
        assert_eq!(input.data(), b"y", "with the bytes");
        let mut scratch = RecvBuffer::new();
        lend_input(&mut scratch);
        assert_eq!(scratch.capacity(), small, "the scratch is free");
        // Holding more than a quarter of it: kept (not copied out at every read).
        let mut input = scratch;
        input.extend_from_slice(&vec![b'z'; small / 4 + 1]);
        take_back_input(&mut input, None, usize::MAX);
        assert_eq!(input.capacity(), small, "kept");
        let scratch = RecvBuffer::from_storage(std::mem::take(&mut input).into_storage());
        give_back(scratch, usize::MAX);
        let mut input = RecvBuffer::new();
        lend_input(&mut input);
        assert_eq!(input.capacity(), small);
        // Large: to the pool (not freed), and lent before the scratch.
        let mut large = RecvBuffer::from_storage(vec![0; 2 * SCRATCH_MAX]);
        take_back_input(&mut large, None, usize::MAX);
        assert_eq!(large.capacity(), 0);
        assert_eq!(recycled_bytes(), 2 * SCRATCH_MAX, "kept in the pool");
        let mut next = RecvBuffer::new();
        lend_input(&mut next);
        assert!(
            next.capacity() >= 2 * SCRATCH_MAX,
            "the pool's storage first"
        );
        assert_eq!(recycled_bytes(), 0);
        // Over the pool's limit: freed.
        take_back_input(&mut next, None, SCRATCH_MAX);
        assert_eq!(recycled_bytes(), 0, "over the limit: freed");
    }

    /// A server session that gathers payloads of [`SCRATCH_MAX`] bytes or more in place
    /// to hand them over, as ws-tokio's.
    fn handing_over_server() -> Session {
        let mut session = Session::new(ws_proto::Role::Server, ws_proto::Config::default(), None);
        session.hand_over_payloads_from(Some(SCRATCH_MAX));
        session
    }

    /// The header of a masked binary frame (as a client sends it) with a 64-bit length.
    fn binary_header(len: u64) -> Vec<u8> {
        let mut header = vec![0x82, 0x80 | 127];
        header.extend_from_slice(&len.to_be_bytes());
        header.extend_from_slice(&[1, 2, 3, 4]);
        header
    }

    #[test]
    fn large_storage_holding_the_start_of_a_frame_goes_back_without_it() {
        const LARGE: usize = 1 << 20;
        let storage = vec![0xAA; LARGE];
        let at = storage.as_ptr();
        // One byte of a frame header in recycled 1 MiB storage: the byte moves to a buffer
        // of its own, the storage goes to the pool.
        let mut input = RecvBuffer::from_storage(storage);
        input.extend_from_slice(&[0x82]);
        let mut session = handing_over_server();
        assert!(matches!(session.decode(&mut input), Ok(None)));
        assert!(!session.is_gathering_payload());
        take_back_input(&mut input, Some(&session), usize::MAX);
        assert_eq!(input.data(), &[0x82], "the byte is kept, exactly");
        assert!(input.capacity() < 1024, "in storage of its size");
        assert_eq!(recycled_bytes(), LARGE, "the storage is back in the pool");
        // The rest of the frame completes it there.
        input.extend_from_slice(&[0x83, 1, 2, 3, 4]);
        input.extend_from_slice(&[b'o' ^ 1, b'k' ^ 2, b'!' ^ 3]);
        let event = session.decode(&mut input).expect("valid frame");
        assert!(
            matches!(event, Some(ws_proto::Event::Binary(ref data)) if data[..] == b"ok!"[..]),
            "{event:?}"
        );

        // Part of a handshake request (no session yet): the same.
        let mut input = RecvBuffer::from_storage(take().expect("pooled"));
        let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        input.extend_from_slice(request);
        take_back_input(&mut input, None, usize::MAX);
        assert_eq!(input.data(), request);
        assert_eq!(recycled_bytes(), LARGE);

        // A payload to hand over, gathered in that storage: left where it is.
        let mut input = RecvBuffer::from_storage(take().expect("pooled"));
        input.extend_from_slice(&binary_header(200_000));
        input.extend_from_slice(&[9; 1000]);
        let mut session = handing_over_server();
        assert!(matches!(session.decode(&mut input), Ok(None)));
        assert!(session.is_gathering_payload());
        let gathered = input.data().to_vec();
        take_back_input(&mut input, Some(&session), usize::MAX);
        assert_eq!(input.capacity(), LARGE, "the storage stays");
        assert_eq!(input.data(), gathered);
        assert_eq!(recycled_bytes(), 0);
        let storage = input.into_storage();
        assert_eq!(storage.as_ptr(), at, "the same storage all along");

        // Bytes filling more than a quarter of it: left where they are (not copied again
        // at every read of a large frame).
        let mut input = RecvBuffer::from_storage(storage);
        let bulk = vec![5; LARGE / RecvBuffer::PARTIAL_SHARE + 1];
        input.extend_from_slice(&bulk);
        take_back_input(&mut input, None, usize::MAX);
        assert_eq!(input.capacity(), LARGE);
        assert_eq!(input.data(), bulk);
        assert_eq!(recycled_bytes(), 0);

        // Over the pool's limit: the bytes still move, the storage is freed.
        let mut input = RecvBuffer::from_storage(input.into_storage());
        input.extend_from_slice(b"xy");
        take_back_input(&mut input, None, LARGE - 1);
        assert_eq!(input.data(), b"xy");
        assert!(input.capacity() < 1024);
        assert_eq!(recycled_bytes(), 0, "over the limit: freed");
    }

    #[test]
    fn a_connection_that_reads_no_more_gives_back_its_storage_with_bytes_in_it() {
        let mut input = RecvBuffer::from_storage(vec![0; 2 * SCRATCH_MAX]);
        input.extend_from_slice(b"dropped");
        give_back_input(input, usize::MAX);
        assert_eq!(recycled_bytes(), 2 * SCRATCH_MAX);
        let mut next = RecvBuffer::new();
        lend_input(&mut next);
        assert!(next.is_empty(), "its bytes are not presented as received");
        // The scratch too: emptied before it is lent again.
        let mut small = RecvBuffer::new();
        small.extend_from_slice(b"dropped");
        give_back_input(small, usize::MAX);
        let mut next = RecvBuffer::new();
        lend_input(&mut next);
        assert!(next.is_empty() && next.capacity() > 0, "the scratch, empty");
    }

    #[test]
    fn a_payload_is_kept_only_when_no_one_else_holds_it() {
        let data = Bytes::from(vec![7; RECYCLE_FROM]);
        let held = data.clone();
        keep_payload(data, usize::MAX);
        assert_eq!(recycled_bytes(), 0, "shared: not recycled");
        let at = held.as_ptr();
        keep_payload(held, usize::MAX);
        assert_eq!(recycled_bytes(), RECYCLE_FROM);
        assert_eq!(take().map(|s| s.as_ptr()), Some(at), "the same storage");
        keep_payload(Bytes::from(vec![7; RECYCLE_FROM]), 0);
        assert_eq!(recycled_bytes(), 0, "a limit of 0 turns recycling off");
    }

    #[test]
    fn a_small_sent_text_takes_the_next_received_one_that_fits() {
        let mut session = Session::new(ws_proto::Role::Server, ws_proto::Config::default(), None);
        let sent = "s".repeat(100);
        let at = sent.as_ptr();
        send_text(&mut session, sent, 0).unwrap();
        let received = text_from("hello");
        assert_ne!(
            received.as_ptr(),
            at,
            "100 bytes of room for 5: too much, not used"
        );
        assert_eq!(received, "hello");
        let long = "r".repeat(60);
        let received = text_from(&long);
        assert_eq!(received, long);
        assert_eq!(received.as_ptr(), at, "fits: the sent message's storage");
        let again = text_from("no storage kept now");
        assert_ne!(again.as_ptr(), at);
        send_text(&mut session, "x".repeat(SMALL_MAX + 1), usize::MAX).unwrap();
        assert_eq!(
            SMALL.with_borrow(|small| small.text.capacity()),
            0,
            "too large to keep"
        );
    }

    #[test]
    fn a_payload_shorter_than_its_storage_gives_all_of_it() {
        let mut storage = vec![3; 2 * RECYCLE_FROM];
        storage.truncate(RECYCLE_FROM);
        keep_payload(Bytes::from(storage), usize::MAX);
        let storage = take().expect("kept");
        assert_eq!(
            storage.len(),
            2 * RECYCLE_FROM,
            "its whole capacity, initialised"
        );
    }
}
