//! What a connection that stopped reading inside a frame (or inside its handshake
//! request) keeps of its receive storage as it goes idle: the one rule that every driver
//! which lends or recycles receive storage applies (ws-server-blocking's loop, ws-tokio's
//! thread pool).
//!
//! A driver lends a reading connection storage it recycled from a large message (1 MiB
//! after a 1 MiB echo, say). A connection whose read stops a few bytes into the next
//! frame must not keep all of it for those bytes: memory per idle connection would then
//! be a large message's size (issue 17). But a connection in the middle of a large frame
//! must not copy its bytes out at every read either, and a payload gathered in place to
//! be handed over ([`Session::is_gathering_payload`](crate::Session::is_gathering_payload))
//! must stay where it is. [`RecvBuffer::shed_partial`] decides, and moves the bytes.

use crate::buffer::RecvBuffer;

impl RecvBuffer {
    /// The share of its storage that unconsumed bytes must fill, at least, for
    /// [`shed_partial`](Self::shed_partial) to leave large storage with them: 4, a
    /// quarter. Bytes that fill more (a large frame being read whole, in storage grown
    /// for it: a fragment delivered as such, with
    /// [`Config::deliver_fragments`](crate::Config::deliver_fragments) on) stay where they are, so that a frame arriving in many reads is not copied again at
    /// every one of them: after a move the storage is as large as the bytes, and grows by
    /// doubling, so they never fall back under a quarter of it before they are consumed.
    /// A connection so keeps at most four times the bytes it holds (beyond `keep_max`).
    pub const PARTIAL_SHARE: usize = 4;

    /// Sheds large storage that holds only the start of a frame (or of a handshake
    /// request), for a connection that goes idle with unconsumed bytes: returns the
    /// storage, for the driver to recycle or free, after moving the bytes into a buffer
    /// of their own (as large as they are, plus at most 64 bytes of alignment); the
    /// bytes stay the same, in the same order.
    ///
    /// `None`, and the buffer left exactly as it is, when any of these holds:
    ///
    /// - the buffer is empty (nothing partial: a driver takes empty storage back whole);
    /// - its capacity is at most `keep_max` bytes: storage small enough for the
    ///   connection to keep whatever it holds (ws-tokio passes 64 KiB; ws-server-blocking
    ///   16 KiB, a quarter of its loop's shared receive buffer, so that a connection
    ///   never keeps that buffer for a few bytes);
    /// - `gathering`: the connection's session is gathering a payload to hand over in
    ///   this very storage ([`Session::is_gathering_payload`](crate::Session::is_gathering_payload);
    ///   `false` during the handshake, when there is no session yet);
    /// - the bytes fill more than `capacity / `[`PARTIAL_SHARE`](Self::PARTIAL_SHARE)
    ///   of it.
    ///
    /// ```
    /// use ws_proto::RecvBuffer;
    /// // Recycled 1 MiB storage, one byte of a frame header in it.
    /// let mut input = RecvBuffer::from_storage(vec![0; 1 << 20]);
    /// input.extend_from_slice(&[0x82]);
    /// let storage = input.shed_partial(false, 64 * 1024).expect("shed");
    /// assert_eq!(storage.capacity(), 1 << 20, "back to the driver");
    /// assert_eq!(input.data(), &[0x82], "the byte, kept");
    /// assert!(input.capacity() < 1024, "in storage of its size");
    /// // Its own small buffer: kept.
    /// assert_eq!(input.shed_partial(false, 64 * 1024), None);
    /// ```
    pub fn shed_partial(&mut self, gathering: bool, keep_max: usize) -> Option<Vec<u8>> {
        if self.is_empty()
            || self.capacity() <= keep_max
            || gathering
            || self.len() > self.capacity() / Self::PARTIAL_SHARE
        {
            return None;
        }
        let mut own = RecvBuffer::new();
        own.extend_from_slice(self.data());
        Some(std::mem::replace(self, own).into_storage())
    }
}

#[cfg(test)]
mod tests {
    use crate::RecvBuffer;

    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    const KEEP_MAX: usize = 64 * KIB;

    /// `len` bytes (0, 1, 2, ...) in recycled storage of `capacity` bytes.
    fn holding(capacity: usize, len: usize) -> RecvBuffer {
        let mut input = RecvBuffer::from_storage(vec![0xAA; capacity]);
        let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
        input.extend_from_slice(&bytes);
        input
    }

    // Large storage with a few bytes in it: shed, the bytes moved whole and exact, the
    // storage (the very allocation) returned.
    #[test]
    fn a_few_bytes_in_large_storage_move_out_of_it() {
        let recycled = vec![0xAA; MIB];
        let at = recycled.as_ptr();
        let mut input = RecvBuffer::from_storage(recycled);
        input.extend_from_slice(&[9; 100]);
        let before = input.data().to_vec();
        let storage = input.shed_partial(false, KEEP_MAX).expect("shed");
        assert_eq!(storage.capacity(), MIB);
        assert_eq!(storage.as_ptr(), at, "the same allocation");
        assert_eq!(input.data(), before);
        assert!(input.capacity() <= 100 + 64, "as large as the bytes");
        assert_eq!(input.shed_partial(false, KEEP_MAX), None, "once");
    }

    // The thresholds, each at its edge: `keep_max` (inclusive), a quarter of the storage
    // (bytes filling exactly a quarter still move; one more byte stays).
    #[test]
    fn storage_up_to_keep_max_and_bytes_over_a_quarter_stay() {
        let mut small = holding(KEEP_MAX, 1);
        assert_eq!(small.capacity(), KEEP_MAX);
        assert_eq!(small.shed_partial(false, KEEP_MAX), None, "at keep_max");
        assert_eq!(small.capacity(), KEEP_MAX);
        let mut over = holding(KEEP_MAX + 1, 1);
        assert!(
            over.shed_partial(false, KEEP_MAX).is_some(),
            "past keep_max"
        );

        let quarter = MIB / RecvBuffer::PARTIAL_SHARE;
        let mut at_quarter = holding(MIB, quarter);
        assert!(at_quarter.shed_partial(false, KEEP_MAX).is_some());
        assert_eq!(at_quarter.len(), quarter);
        let mut past_quarter = holding(MIB, quarter + 1);
        let before = past_quarter.data().to_vec();
        assert_eq!(past_quarter.shed_partial(false, KEEP_MAX), None);
        assert_eq!(past_quarter.capacity(), MIB);
        assert_eq!(past_quarter.data(), before);
    }

    // A payload gathered in place to be handed over, and an empty buffer: left as they are.
    #[test]
    fn a_gathered_payload_and_an_empty_buffer_stay() {
        let mut gathering = holding(MIB, 1);
        assert_eq!(gathering.shed_partial(true, KEEP_MAX), None);
        assert_eq!(gathering.capacity(), MIB);
        assert_eq!(gathering.data(), &[0]);
        let mut empty = RecvBuffer::from_storage(vec![0; MIB]);
        assert_eq!(empty.shed_partial(false, KEEP_MAX), None);
        assert_eq!(empty.capacity(), MIB);
    }

    // A large frame read in many pieces into storage that was shed once is not copied
    // out again: after the move the bytes fill their storage, which grows by doubling.
    #[test]
    fn a_frame_read_in_many_pieces_moves_at_most_once() {
        let mut input = holding(4 * MIB, 10);
        assert!(input.shed_partial(false, KEEP_MAX).is_some());
        let mut moves = 0;
        for _ in 0..200 {
            input.extend_from_slice(&[7; 16 * KIB]);
            if input.shed_partial(false, KEEP_MAX).is_some() {
                moves += 1;
            }
        }
        assert_eq!(moves, 0, "never again");
        assert_eq!(input.len(), 10 + 200 * 16 * KIB);
    }
}
