//! The byte buffers between the caller's I/O and the protocol.
//!
//! [`RecvBuffer`] holds bytes received and not yet consumed. The caller owns it and fills
//! it; the handshake parsers and the [`Session`](crate::Session) consume from its front.
//! Events borrow their payloads from it, so a single-frame message is delivered without
//! a copy (it is unmasked in place). Bytes a parser did not consume stay at the front and
//! are presented again, with more behind them, on the next call.
//!
//! [`SendBuffer`] is the session's queue of encoded frames that the caller drains.

use std::io;

/// How much spare room [`RecvBuffer::read_from`] offers a reader at least.
const READ_CHUNK: usize = 16 * 1024;

/// Where an empty receive buffer starts its bytes, and a large frame in a send buffer its
/// first: a 64-byte boundary (a cache line), which the kernel's copies run faster from.
const ALIGN: usize = 64;

/// Bytes received from the peer and not yet consumed by the protocol.
///
/// Memory is allocated on first use and can be returned with [`release`](Self::release)
/// once the buffer is empty, so an idle connection holds no buffer at all.
///
/// ```
/// use ws_proto::RecvBuffer;
/// let mut buf = RecvBuffer::new();
/// buf.extend_from_slice(b"abc");
/// let spare = buf.spare(2);
/// spare[..2].copy_from_slice(b"de");
/// buf.commit(2);
/// assert_eq!(buf.data(), b"abcde");
/// ```
#[derive(Clone, Debug, Default)]
pub struct RecvBuffer {
    /// Initialized storage; its length only grows until `release`.
    storage: Vec<u8>,
    /// Unconsumed bytes are `storage[start..end]`.
    start: usize,
    end: usize,
}

impl RecvBuffer {
    /// An empty buffer; nothing is allocated.
    pub const fn new() -> RecvBuffer {
        RecvBuffer {
            storage: Vec::new(),
            start: 0,
            end: 0,
        }
    }

    /// An empty buffer that reads into `storage`: a payload handed over by
    /// [`Session::hand_over_payloads_from`](crate::Session::hand_over_payloads_from)
    /// (or any `Vec`), once its owner is done with it, so that the next large payload (as
    /// large as it, or smaller) is gathered there instead of in fresh memory that must be
    /// allocated and zero-filled.
    ///
    /// The whole capacity becomes room to read into: bytes past the `Vec`'s length are
    /// zero-filled here, once (a handed-over payload's storage has one read's worth,
    /// 16 KiB, past its length). Its old contents are never presented as received: they
    /// are only ever overwritten by reads. [`into_storage`](Self::into_storage) gives
    /// the storage back.
    ///
    /// ```
    /// use ws_proto::RecvBuffer;
    /// let recycled = vec![0xAA; 1 << 20];
    /// let at = recycled.as_ptr();
    /// let mut buf = RecvBuffer::from_storage(recycled);
    /// assert!(buf.is_empty());
    /// assert!(buf.capacity() >= 1 << 20);
    /// buf.extend_from_slice(b"abc");
    /// assert_eq!(buf.data(), b"abc");
    /// assert_eq!(buf.into_storage().as_ptr(), at, "the same storage, not a copy");
    /// ```
    pub fn from_storage(mut storage: Vec<u8>) -> RecvBuffer {
        let capacity = storage.capacity();
        storage.resize(capacity, 0);
        RecvBuffer {
            storage,
            start: 0,
            end: 0,
        }
    }

    /// An empty buffer whose storage is allocated and zero-filled now, large enough that
    /// a [`spare`](Self::spare) of up to `min` bytes neither grows nor moves it (the room
    /// includes what aligning the first byte takes): for a driver that wants its read
    /// buffer's memory at its start rather than at its first read.
    ///
    /// ```
    /// use ws_proto::RecvBuffer;
    /// let mut buf = RecvBuffer::with_spare(64 * 1024);
    /// let capacity = buf.capacity();
    /// let at = buf.spare(0).as_ptr();
    /// assert!(buf.spare(64 * 1024).len() >= 64 * 1024);
    /// assert_eq!(buf.capacity(), capacity, "not grown");
    /// assert_eq!(buf.spare(0).as_ptr(), at, "not moved");
    /// ```
    ///
    /// # Panics
    ///
    /// As `Vec::with_capacity` ("capacity overflow"), if `min` plus the alignment room
    /// exceeds `isize::MAX` bytes; the sum saturates, so that a `min` near `usize::MAX`
    /// never wraps around to a small buffer that breaks the promise above.
    pub fn with_spare(min: usize) -> RecvBuffer {
        RecvBuffer::from_storage(Vec::with_capacity(min.saturating_add(ALIGN)))
    }

    /// The bytes not yet consumed.
    pub fn data(&self) -> &[u8] {
        &self.storage[self.start..self.end]
    }

    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.end]
    }

    /// The number of bytes not yet consumed.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether every received byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Bytes allocated.
    pub fn capacity(&self) -> usize {
        self.storage.len()
    }

    /// Appends received bytes.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        let spare = self.spare(bytes.len());
        spare[..bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Room for at least `min` more bytes, to read into; follow with [`commit`](Self::commit).
    ///
    /// Unconsumed bytes are moved to the front first when that makes room, so the buffer
    /// only grows when it holds more than it can take.
    ///
    /// # Panics
    ///
    /// As [`with_spare`](Self::with_spare), if the storage needed exceeds `isize::MAX`
    /// bytes.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.start == self.end {
            self.align_empty(min);
        }
        if self.storage.len() - self.end < min {
            self.make_room(min);
        }
        &mut self.storage[self.end..]
    }

    /// Starts an empty buffer's bytes at a 64-byte boundary: the kernel's copy into it is
    /// faster aligned, and the allocator alone would leave that to chance (see
    /// `SendBuffer::reserve_aligned`).
    fn align_empty(&mut self, min: usize) {
        // (Wrapping in the check, which every read into an empty buffer makes; a `min`
        // that wraps is caught by `make_room`, which saturates.)
        if self.storage.len() < min.wrapping_add(ALIGN) {
            self.storage.resize(min.saturating_add(ALIGN), 0);
        }
        let pad = (ALIGN - self.storage.as_ptr().addr() % ALIGN) % ALIGN;
        self.start = pad;
        self.end = pad;
    }

    #[cold]
    fn make_room(&mut self, min: usize) {
        if self.start > 0 {
            self.storage.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.storage.len() - self.end < min {
            let wanted = self.end.saturating_add(min).max(self.storage.len() * 2);
            self.storage.resize(wanted, 0);
        }
    }

    /// Marks `n` bytes of the last [`spare`](Self::spare) slice as received.
    ///
    /// `n` is clamped to the spare room, so a wrong count cannot expose bytes that were
    /// never written.
    pub fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.storage.len());
    }

    /// Reads once from `reader` into the buffer; returns what `read` returned.
    ///
    /// A convenience for blocking callers; `Ok(0)` means end of stream.
    ///
    /// # Errors
    ///
    /// Whatever `reader.read` returns, unchanged; the buffer is untouched then.
    pub fn read_from<R: io::Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<usize> {
        let n = reader.read(self.spare(READ_CHUNK))?;
        self.commit(n);
        Ok(n)
    }

    /// Frees the storage if every byte was consumed; returns whether it did.
    ///
    /// Call it when a connection goes idle to keep its memory near zero.
    pub fn release(&mut self) -> bool {
        if self.is_empty() {
            *self = RecvBuffer::new();
            true
        } else {
            false
        }
    }

    /// Drops `n` bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Consumes `n` bytes from the front and returns them, still readable and writable
    /// until the buffer is next modified.
    pub(crate) fn take(&mut self, n: usize) -> &mut [u8] {
        let n = n.min(self.len());
        let from = self.start;
        self.start += n;
        if self.start == self.end {
            // Empty: the next bytes go to the front again (the returned slice keeps the
            // storage borrowed, so nothing can overwrite it meanwhile). Without this, the
            // next large frame would start at the old end and soon need compacting.
            self.start = 0;
            self.end = 0;
        }
        &mut self.storage[from..from + n]
    }

    /// Whether the unconsumed bytes start at the very front of the storage and the
    /// storage can hold `total` of them plus one read's room (so that reading the rest
    /// never grows it): a payload gathered there can be handed over as the storage
    /// itself ([`take_front`](Self::take_front)).
    pub(crate) fn holds_from_front(&self, total: usize) -> bool {
        self.start == 0 && self.storage.len() >= total.saturating_add(READ_CHUNK)
    }

    /// Moves the unconsumed bytes (the first part of a large payload) to the front of
    /// storage sized for `total` bytes plus one read's room, so that the rest of the
    /// payload is read in place behind them, without the buffer growing (and copying
    /// itself) step by step, and can then be handed over without a copy.
    ///
    /// The buffer's own storage is kept when it is that large already (storage a driver
    /// recycled, [`from_storage`](Self::from_storage)): its
    /// bytes are initialised, so nothing is cleared. Otherwise the storage is new.
    pub(crate) fn isolate(&mut self, total: usize) {
        let len = self.len();
        let wanted = total.max(len).saturating_add(READ_CHUNK);
        if self.storage.len() >= wanted {
            self.storage.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = len;
            return;
        }
        // `vec!` of zeros is `calloc`: memory fresh from the kernel is not cleared twice.
        let mut storage = vec![0; wanted];
        storage[..len].copy_from_slice(self.data());
        *self = RecvBuffer {
            storage,
            start: 0,
            end: len,
        };
    }

    /// Consumes the first `n` bytes and returns them as the storage itself (no copy),
    /// if they start at its front ([`holds_from_front`](Self::holds_from_front)) and
    /// have all arrived; the bytes after them (the start of the next frame) are copied
    /// into fresh storage. `None` leaves the buffer as it was.
    ///
    /// Storage more than twice as large as the payload (a recycled buffer that a smaller
    /// payload landed in) is shrunk to it, so a message never holds far more memory than
    /// its bytes (shrinking gives the tail back to the allocator without a copy).
    pub(crate) fn take_front(&mut self, n: usize) -> Option<Vec<u8>> {
        if self.start != 0 || self.len() < n {
            return None;
        }
        let end = self.end;
        let mut storage = std::mem::take(&mut self.storage);
        *self = RecvBuffer::new();
        if end > n {
            self.extend_from_slice(&storage[n..end]);
        }
        storage.truncate(n);
        if storage.capacity() / 2 > n.max(READ_CHUNK) {
            storage.shrink_to_fit();
        }
        Some(storage)
    }

    /// Gives the buffer's storage back (all of it initialised, its unconsumed bytes
    /// included), leaving the buffer empty; for drivers that recycle storage.
    pub fn into_storage(self) -> Vec<u8> {
        self.storage
    }

    /// Drops every unconsumed byte.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// Frames at least this large start at an aligned address (see `reserve_aligned`).
const ALIGNED_WRITES_FROM: usize = 16 * 1024;

/// Encoded frames waiting to be written, drained from the front.
///
/// The storage is freed whenever it is drained completely, so an idle connection holds
/// none; a driver can lend it storage and take it back when drained instead
/// (`Session::lend_output_storage`), to reuse one buffer across many sessions.
#[derive(Clone, Debug, Default)]
pub(crate) struct SendBuffer {
    bytes: Vec<u8>,
    /// Bytes before `start` were written already.
    start: usize,
    /// A payload the caller writes itself, from its own storage, at this point of the
    /// output (see `Session::send_binary_external`). Boxed: it is rare (large messages
    /// only), and every idle connection would pay for its two words.
    hole: Option<Box<Hole>>,
}

/// Where an external payload belongs in the output, and how much of it is unwritten.
#[derive(Clone, Copy, Debug)]
struct Hole {
    /// Offset in `bytes`: the payload goes before the byte at `at`.
    at: usize,
    /// Payload bytes not yet written.
    left: usize,
}

impl SendBuffer {
    /// The bytes to write next: up to the external payload, if one is outstanding.
    #[inline]
    pub(crate) fn pending(&self) -> &[u8] {
        &self.bytes[self.start..self.pending_end()]
    }

    #[inline]
    fn pending_end(&self) -> usize {
        self.hole.as_ref().map_or(self.bytes.len(), |hole| hole.at)
    }

    /// Every byte not yet written: `pending`, an external payload's unwritten part, and
    /// what was queued after it.
    #[inline]
    pub(crate) fn queued_len(&self) -> usize {
        self.bytes.len() - self.start + self.external_pending()
    }

    /// Payload bytes the caller still has to write itself, right after `pending`.
    #[inline]
    pub(crate) fn external_pending(&self) -> usize {
        self.hole.as_ref().map_or(0, |hole| hole.left)
    }

    /// Marks the end of the output as the place of an external payload of `len` bytes;
    /// false (and nothing marked) while another one is outstanding.
    pub(crate) fn open_hole(&mut self, len: usize) -> bool {
        if self.hole.is_some() {
            return false;
        }
        if len > 0 {
            self.hole = Some(Box::new(Hole {
                at: self.bytes.len(),
                left: len,
            }));
        }
        true
    }

    /// Marks `n` bytes of the external payload as written (once `pending` is empty);
    /// once everything is written, the storage goes to `storage` as in
    /// [`advance_and_reclaim`](Self::advance_and_reclaim).
    pub(crate) fn advance_external(&mut self, n: usize, storage: &mut Vec<u8>) {
        if self.start < self.pending_end() {
            return; // the bytes before the payload come first
        }
        if let Some(hole) = &mut self.hole {
            hole.left -= n.min(hole.left);
            if hole.left == 0 {
                self.hole = None;
                if self.start == self.bytes.len() {
                    self.reclaim(storage);
                }
            }
        }
    }

    /// Whether nothing at all is queued (no bytes, no external payload).
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.bytes.len() && self.hole.is_none()
    }

    /// Where the next byte appended will be, as an offset stable until `advance`.
    pub(crate) fn end(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn vec(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Makes room for `additional` bytes; when the buffer is empty and the bytes are many,
    /// the first one will sit at a 64-byte boundary.
    ///
    /// The kernel copies a socket write with `rep movsb`, which on some CPUs runs at half
    /// speed or worse when the source is not aligned like the destination; a buffer's
    /// address otherwise depends on the allocator's history (down to the length of the
    /// program's arguments), which made large writes fast or slow from one run to the
    /// next (measured with the 1 MiB echo load test). Padding is counted as written.
    pub(crate) fn reserve_aligned(&mut self, additional: usize) {
        if self.is_empty() && additional >= ALIGNED_WRITES_FROM {
            self.bytes.clear();
            self.bytes.reserve(additional + ALIGN);
            let pad = (ALIGN - self.bytes.as_ptr().addr() % ALIGN) % ALIGN;
            self.bytes.resize(pad, 0);
            self.start = pad;
        } else {
            self.bytes.reserve(additional);
        }
    }

    /// Drops everything from `offset` on (to replace the last queued frame).
    pub(crate) fn truncate(&mut self, offset: usize) {
        let floor = self.start.max(self.hole.as_ref().map_or(0, |hole| hole.at));
        self.bytes.truncate(offset.max(floor));
    }

    /// Takes `storage` as the output's storage when the output is empty and holds none;
    /// `storage` is left empty then. Otherwise nothing changes.
    pub(crate) fn lend(&mut self, storage: &mut Vec<u8>) {
        if self.is_empty() && self.bytes.capacity() == 0 {
            storage.clear();
            std::mem::swap(&mut self.bytes, storage);
            self.start = 0;
        }
    }

    /// Empties the output, drained: its storage goes to `storage` if that holds none
    /// (its capacity is 0), and is freed otherwise.
    fn reclaim(&mut self, storage: &mut Vec<u8>) {
        let drained = std::mem::take(self);
        if storage.capacity() == 0 {
            *storage = drained.bytes;
            storage.clear();
        }
    }

    /// Marks `n` bytes as written.
    pub(crate) fn advance(&mut self, n: usize) {
        self.advance_and_reclaim(n, &mut Vec::new());
    }

    /// Marks `n` bytes as written; once everything is written, the storage goes to
    /// `storage` if that holds none, and is freed otherwise.
    pub(crate) fn advance_and_reclaim(&mut self, n: usize, storage: &mut Vec<u8>) {
        self.start = (self.start + n).min(self.pending_end());
        if self.is_empty() {
            self.reclaim(storage);
        } else if self.start >= self.bytes.len() / 2 && self.start >= READ_CHUNK {
            // Keep the written prefix from growing without bound when the caller
            // drains slowly while frames keep being queued.
            self.bytes.drain(..self.start);
            if let Some(hole) = &mut self.hole {
                hole.at -= self.start;
            }
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A room near `usize::MAX` cannot be had: the sizes saturate, so the request fails
    // as `Vec`'s do ("capacity overflow"), rather than wrapping around to a small buffer
    // (release builds) or failing on the sum (debug builds).
    #[test]
    #[should_panic(expected = "capacity overflow")]
    fn with_spare_near_usize_max_fails_as_vec_does() {
        let _ = RecvBuffer::with_spare(usize::MAX - 1);
    }

    #[test]
    #[should_panic(expected = "capacity overflow")]
    fn spare_near_usize_max_fails_as_vec_does() {
        RecvBuffer::new().spare(usize::MAX - 1);
    }

    #[test]
    fn spare_compacts_before_growing() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(&[1; 100]);
        let cap = buf.capacity();
        buf.consume(90);
        buf.spare(cap - 10);
        assert_eq!(
            buf.capacity(),
            cap,
            "moving 10 bytes to the front made enough room"
        );
        assert_eq!(buf.data(), &[1; 10]);
    }

    #[test]
    fn commit_is_clamped() {
        let mut buf = RecvBuffer::new();
        let room = buf.spare(4).len();
        buf.commit(room + 1000);
        assert_eq!(buf.len(), room);
    }

    #[test]
    fn release_only_when_empty() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(b"xy");
        assert!(!buf.release());
        buf.consume(2);
        assert!(buf.release());
        assert_eq!(buf.capacity(), 0);
    }

    #[test]
    fn take_returns_consumed_bytes() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(b"hello world");
        assert_eq!(buf.take(5), b"hello");
        assert_eq!(buf.data(), b" world");
        assert_eq!(buf.take(100), b" world");
        assert!(buf.is_empty());
    }

    #[test]
    fn taking_everything_rewinds_to_the_front() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(&[7; 1000]);
        let cap = buf.capacity();
        assert_eq!(buf.take(1000).len(), 1000);
        // The next bytes land at the front (past at most 64 bytes of alignment padding):
        // filling the rest of the capacity needs no new room.
        buf.extend_from_slice(&vec![1; cap - 64]);
        assert_eq!(buf.capacity(), cap);
        assert_eq!(
            buf.data().as_ptr().addr() % 64,
            0,
            "an empty buffer refills aligned"
        );
    }

    #[test]
    fn isolate_then_take_front_hands_over_the_storage() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(b"xxhead");
        buf.consume(2);
        assert!(!buf.holds_from_front(100));
        buf.isolate(100);
        assert!(buf.holds_from_front(100));
        assert_eq!(buf.data(), b"head");
        let room = buf.spare(READ_CHUNK).len();
        assert!(
            room >= 96 + READ_CHUNK,
            "room for the rest and a read: {room}"
        );
        let storage_at = buf.data().as_ptr();
        buf.extend_from_slice(&[7; 96]);
        buf.extend_from_slice(b"next");
        assert_eq!(buf.take_front(105), None, "not all there: untouched");
        let payload = buf.take_front(100).expect("at the front");
        assert_eq!(
            payload.as_ptr(),
            storage_at,
            "the storage itself, not a copy"
        );
        assert_eq!(&payload[..4], b"head");
        assert_eq!(payload.len(), 100);
        assert_eq!(buf.data(), b"next", "the next frame's bytes stay");
    }

    // A handed-over payload's storage, given back, gathers the next large payload: no
    // new allocation, the first bytes moved to its front.
    #[test]
    fn recycled_storage_gathers_the_next_payload_in_place() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(b"xxhead");
        buf.consume(2);
        buf.isolate(100);
        buf.extend_from_slice(&[7; 96]);
        let payload = buf.take_front(100).expect("at the front");
        let storage_at = payload.as_ptr();
        let mut again = RecvBuffer::from_storage(payload);
        assert!(again.is_empty(), "old contents are not received bytes");
        again.extend_from_slice(b"yyhead");
        again.consume(2);
        assert!(!again.holds_from_front(100));
        again.isolate(100);
        assert!(again.holds_from_front(100));
        assert_eq!(again.data(), b"head");
        again.extend_from_slice(&[8; 96]);
        let next = again.take_front(100).expect("at the front");
        assert_eq!(next.as_ptr(), storage_at, "the same storage, not a new one");
        assert_eq!(&next[..4], b"head");
        assert!(next[4..].iter().all(|&b| b == 8));
    }

    #[test]
    fn isolate_reuses_recycled_storage_without_clearing_it() {
        let recycled = vec![0xAA; 4 * READ_CHUNK];
        let at = recycled.as_ptr();
        let mut buf = RecvBuffer::from_storage(recycled);
        assert!(buf.is_empty(), "recycled bytes are room, not data");
        // A read that does not start at the front (the empty buffer aligns itself).
        buf.extend_from_slice(b"xxhead");
        buf.consume(2);
        buf.isolate(2 * READ_CHUNK);
        assert_eq!(buf.data(), b"head");
        assert_eq!(
            buf.data().as_ptr(),
            at,
            "moved to the front of the same storage"
        );
        assert_eq!(buf.capacity(), 4 * READ_CHUNK, "nothing allocated");
        assert!(buf.holds_from_front(2 * READ_CHUNK));
        // Past where "xxhead" was written (at most 63 bytes of alignment padding in): the
        // recycled bytes are still there.
        assert_eq!(buf.spare(READ_CHUNK)[200], 0xAA, "not cleared");
        // Too large for it: new storage.
        buf.isolate(4 * READ_CHUNK);
        assert_eq!(buf.data(), b"head");
        assert!(buf.capacity() >= 5 * READ_CHUNK);
    }

    #[test]
    fn holds_from_front_needs_room_for_one_more_read() {
        let mut buf = RecvBuffer::from_storage(vec![0; 100 + READ_CHUNK]);
        buf.extend_from_slice(b"x");
        buf.isolate(10); // to the front
        assert!(buf.holds_from_front(100));
        assert!(
            !buf.holds_from_front(101),
            "reading the rest would grow the buffer"
        );
    }

    #[test]
    fn take_front_shrinks_storage_far_larger_than_the_payload() {
        let mut buf = RecvBuffer::from_storage(vec![0; 64 * READ_CHUNK]);
        buf.extend_from_slice(&[5; 10]);
        buf.isolate(2 * READ_CHUNK);
        buf.extend_from_slice(&vec![5; 2 * READ_CHUNK - 10]);
        let payload = buf.take_front(2 * READ_CHUNK).expect("whole, at the front");
        assert_eq!(payload.len(), 2 * READ_CHUNK);
        assert_eq!(
            payload.capacity(),
            2 * READ_CHUNK,
            "the recycled tail given back"
        );
        assert!(payload.iter().all(|&b| b == 5));
    }

    #[test]
    fn into_storage_gives_the_storage_back() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(b"abc");
        let at = buf.data().as_ptr();
        let storage = buf.into_storage();
        assert!(storage.as_ptr_range().contains(&at));
    }

    #[test]
    fn take_front_refuses_bytes_not_at_the_front() {
        let mut buf = RecvBuffer::new();
        buf.extend_from_slice(b"abcdef");
        buf.consume(1);
        assert_eq!(buf.take_front(2), None);
        assert_eq!(buf.data(), b"bcdef");
    }

    #[test]
    fn large_frames_start_aligned_and_padding_counts_as_written() {
        let mut out = SendBuffer::default();
        out.reserve_aligned(100_000);
        assert!(out.pending().is_empty());
        out.vec().extend_from_slice(&[9; 100_000]);
        assert_eq!(out.pending().as_ptr().addr() % 64, 0);
        assert_eq!(out.pending(), &[9; 100_000][..]);
        // A small frame, or one behind queued bytes, is just appended.
        out.reserve_aligned(50);
        out.vec().extend_from_slice(&[1; 50]);
        assert_eq!(out.pending().len(), 100_050);
    }

    #[test]
    fn an_external_payload_splits_the_output() {
        let mut out = SendBuffer::default();
        out.vec().extend_from_slice(b"head");
        assert!(out.open_hole(3));
        assert!(!out.open_hole(1), "one at a time");
        out.vec().extend_from_slice(b"tail");
        assert_eq!(out.pending(), b"head");
        assert_eq!(out.external_pending(), 3);
        assert_eq!(
            out.queued_len(),
            4 + 3 + 4,
            "what follows the payload counts"
        );
        out.advance_external(3, &mut Vec::new());
        assert_eq!(
            out.external_pending(),
            3,
            "not before the bytes ahead of it"
        );
        out.advance(100);
        assert_eq!(out.pending(), b"", "the written part stops at the payload");
        out.advance_external(2, &mut Vec::new());
        assert_eq!(out.external_pending(), 1);
        assert_eq!(out.queued_len(), 1 + 4);
        out.advance_external(1, &mut Vec::new());
        assert_eq!(out.pending(), b"tail");
        out.advance(4);
        assert!(out.is_empty());
        assert_eq!(out.bytes.capacity(), 0);
        // Replacing the last frame (a pong) never cuts below the payload's place.
        out.vec().extend_from_slice(b"head");
        assert!(out.open_hole(1));
        out.truncate(0);
        assert_eq!(out.pending(), b"head");
    }

    #[test]
    fn compaction_moves_the_external_payload_along() {
        let mut out = SendBuffer::default();
        out.vec().extend_from_slice(&[1; 3 * READ_CHUNK]);
        assert!(out.open_hole(10));
        out.vec().extend_from_slice(b"after");
        out.advance(2 * READ_CHUNK);
        assert_eq!(out.pending(), &[1; READ_CHUNK][..]);
        out.advance(READ_CHUNK);
        out.advance_external(10, &mut Vec::new());
        assert_eq!(out.pending(), b"after");
    }

    #[test]
    fn lent_storage_is_used_then_handed_back_once_drained() {
        let mut spare = Vec::with_capacity(256);
        spare.extend_from_slice(b"stale");
        let lent_at = spare.as_ptr();
        let mut out = SendBuffer::default();
        out.lend(&mut spare);
        assert_eq!(spare.capacity(), 0, "the storage moved into the output");
        assert!(out.pending().is_empty(), "lent bytes are cleared");
        out.vec().extend_from_slice(b"abcdef");
        assert_eq!(out.pending().as_ptr(), lent_at);
        out.advance_and_reclaim(2, &mut spare);
        assert_eq!(spare.capacity(), 0, "not before everything is written");
        out.advance_and_reclaim(4, &mut spare);
        assert_eq!((spare.as_ptr(), spare.len()), (lent_at, 0));
        assert_eq!(out.bytes.capacity(), 0, "the drained output holds nothing");
    }

    #[test]
    fn lending_leaves_an_output_with_storage_alone() {
        let mut out = SendBuffer::default();
        out.vec().extend_from_slice(b"queued");
        let mut spare = Vec::with_capacity(64);
        out.lend(&mut spare);
        assert_eq!(spare.capacity(), 64, "kept by the lender");
        assert_eq!(out.pending(), b"queued");
        // Reclaiming into a lender that has storage again frees the output's instead.
        out.advance_and_reclaim(6, &mut spare);
        assert_eq!(spare.capacity(), 64);
        assert_eq!(out.bytes.capacity(), 0);
    }

    #[test]
    fn send_buffer_frees_when_drained() {
        let mut out = SendBuffer::default();
        out.vec().extend_from_slice(b"abcdef");
        out.advance(2);
        assert_eq!(out.pending(), b"cdef");
        out.advance(10);
        assert!(out.pending().is_empty());
        assert_eq!(out.bytes.capacity(), 0);
    }
}
