//! Storage recycling, per thread: the storage of large messages once they were sent,
//! kept for the next large message to be read into, and one output buffer lent to
//! whichever session encodes next.
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
//! buffer instead saves a `malloc` and a `free` per message.

use std::cell::{Cell, RefCell};

use bytes::Bytes;

/// Storage below this is not kept: the thread's receive scratch (16 KiB) serves reads
/// of smaller messages, which are copied out of it rather than handed over.
pub(crate) const RECYCLE_FROM: usize = 64 * 1024;

/// The largest output buffer kept for lending; one grown past it is freed.
const OUTPUT_MAX: usize = 64 * 1024;

/// Large storage kept for reuse, and how many bytes it holds in all.
struct Pool {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            buffers: Vec::new(),
            bytes: 0,
        })
    };
    /// How many buffers `POOL` holds: one load tells a reading connection that there is
    /// nothing to borrow, which is the common case.
    static POOLED: Cell<usize> = const { Cell::new(0) };
    /// The output buffer lent to sessions ([`ws_proto::Session::lend_output_storage`]).
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Recycled storage to read into, if this thread holds some (the most recently kept).
#[inline]
pub(crate) fn take() -> Option<Vec<u8>> {
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

/// A sent message's payload: its storage is kept (see [`keep`]) when nothing else holds
/// it; the part of its capacity past its length is cleared once, so that all of it can
/// be read into.
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

/// A sent text message's storage, as [`keep_payload`] (a `String` is never shared).
#[inline]
pub(crate) fn keep_text(text: String, limit: usize) {
    if text.len() >= RECYCLE_FROM && limit >= RECYCLE_FROM {
        keep_string(text, limit);
    }
}

fn keep_string(text: String, limit: usize) {
    let mut storage = text.into_bytes();
    storage.resize(storage.capacity(), 0);
    keep(storage, limit);
}

/// Lends the thread's output buffer to `session` if its output is empty and holds no
/// storage (see [`ws_proto::Session::lend_output_storage`]).
pub(crate) fn lend_output(session: &mut ws_proto::Session) {
    OUTPUT.with_borrow_mut(|storage| {
        if storage.capacity() > 0 {
            session.lend_output_storage(storage);
        }
    });
}

/// Marks `n` bytes of `session`'s output as written; once all is written, its storage
/// becomes the thread's output buffer again (if the thread holds none, and it did not
/// grow past 64 KiB).
pub(crate) fn advance_output(session: &mut ws_proto::Session, n: usize) {
    OUTPUT.with_borrow_mut(|storage| {
        session.advance_and_reclaim(n, storage);
        if storage.capacity() > OUTPUT_MAX {
            *storage = Vec::new();
        }
    });
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
