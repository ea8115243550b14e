//! Compressing and decompressing message payloads (RFC 7692 7.2), with flate2's pure
//! Rust zlib (`zlib-rs`).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::local_error::LocalError;
use crate::protocol_error::ProtocolError;

/// RFC 7692 7.2.1: a compressed message ends with a sync flush, whose last four bytes
/// are removed before sending and put back before inflating.
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// zlib cannot build an 8-bit window, but a 9-bit one serves: zlib never emits a distance
/// beyond the window size minus 262 bytes (250 for 9 bits), which an 8-bit (256-byte)
/// window holds; and a decompressor with a larger window than the peer's is always safe.
fn zlib_bits(bits: u8) -> u8 {
    bits.clamp(9, 15)
}

/// One side's compression context, kept between messages unless the agreement says to
/// reset it (then it is freed, to save its memory between messages).
pub(crate) struct Compressor {
    /// Boxed: flate2's stream header is a few hundred bytes, which an idle connection
    /// that agreed to compress should not pay for.
    state: Option<Box<Compress>>,
    bits: u8,
    level: u32,
    reset_each_message: bool,
}

impl Compressor {
    pub(crate) fn new(bits: u8, level: u32, no_context_takeover: bool) -> Compressor {
        Compressor {
            state: None,
            bits,
            level,
            reset_each_message: no_context_takeover,
        }
    }

    /// Appends the compressed form of the next piece of a message to `out`; `last` ends
    /// the message.
    pub(crate) fn compress(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        last: bool,
    ) -> Result<(), LocalError> {
        let (bits, level) = (zlib_bits(self.bits), Compression::new(self.level));
        let state = self
            .state
            .get_or_insert_with(|| Box::new(Compress::new_with_window_bits(level, false, bits)));
        let start = out.len();
        // Doubled on each turn, so that zlib's pending output never trickles out in
        // small pieces.
        let mut room = input.len() / 2 + 64;
        loop {
            // Output goes into `room` zeroed bytes past the end, cut back to what was
            // written. (flate2's `compress_vec` would zero all of the spare capacity on
            // each call: for a send buffer with room left from a large message, many
            // times the bytes written.)
            let end = out.len();
            out.resize(end + room, 0);
            let (before_in, before_out) = (state.total_in(), state.total_out());
            let status = state.compress(input, &mut out[end..], FlushCompress::Sync);
            let produced = (state.total_out() - before_out) as usize;
            out.truncate(end + produced);
            status.map_err(|_| LocalError::Compression)?;
            input = &input[(state.total_in() - before_in) as usize..];
            // The flush is complete once all input is in and output space is left over.
            if input.is_empty() && produced < room {
                break;
            }
            room = room.saturating_mul(2);
        }
        if last {
            if out[start..].ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            } else {
                // zlib skips a flush that would repeat the previous one (no input since),
                // so an empty last piece yields nothing, but the peer will append the
                // tail. RFC 7692 7.2.1: append an empty stored block (the stream is byte
                // aligned after a flush) whose last four bytes are then removed: 0x00.
                debug_assert!(out.len() == start, "a sync flush ends with the tail");
                out.push(0x00);
            }
            if self.reset_each_message {
                self.state = None;
            }
        }
        Ok(())
    }

    /// Whether the compression state is allocated (for tests of memory use).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.state.is_some()
    }
}

/// The peer's compression context, mirrored: kept between messages unless the peer
/// resets its own after each one.
pub(crate) struct Decompressor {
    /// Boxed, as the compressor's.
    state: Option<Box<Decompress>>,
    bits: u8,
    reset_each_message: bool,
    /// The peer ended its stream with a final block: the next message starts afresh.
    ended: bool,
}

impl Decompressor {
    pub(crate) fn new(bits: u8, no_context_takeover: bool) -> Decompressor {
        Decompressor {
            state: None,
            bits,
            reset_each_message: no_context_takeover,
            ended: false,
        }
    }

    /// Inflates the next piece of a compressed message into `out`, which never grows past
    /// `limit` bytes in all: a small frame that would inflate to more is refused when the
    /// limit is reached, not after (close 1009). `last` ends the message.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
        last: bool,
    ) -> Result<(), ProtocolError> {
        self.inflate(input, out, limit)?;
        if last {
            self.inflate(&TAIL, out, limit)?;
            if self.reset_each_message || self.ended {
                self.state = None;
                self.ended = false;
            }
        }
        Ok(())
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        let bits = zlib_bits(self.bits);
        let state = self
            .state
            .get_or_insert_with(|| Box::new(Decompress::new_with_window_bits(false, bits)));
        let mut wanted = input.len().saturating_mul(4).max(1024);
        loop {
            if self.ended {
                // The peer ended its deflate stream with a final block: the message is
                // complete, and what follows (RFC 7692 7.2.3.3's example has a byte of
                // padding, then comes our tail) means nothing, as zlib treats it.
                return Ok(());
            }
            // Room for what this input likely inflates to, growing geometrically but
            // never past one byte over the limit (so that passing it is seen).
            let ceiling = limit.saturating_add(1);
            if out.len() >= ceiling {
                return Err(too_large(out.len(), limit));
            }
            let room = wanted.min(ceiling - out.len());
            if out.capacity() - out.len() < room {
                // Exact, so that the buffer never holds more than the limit allows.
                out.reserve_exact(out.capacity().max(room).min(ceiling - out.len()));
            }
            // As in `compress`: zero only the room offered, not all the spare capacity
            // (`decompress_vec` would, for each frame of a message in many frames).
            let end = out.len();
            out.resize(end + room, 0);
            let (before_in, before_out) = (state.total_in(), state.total_out());
            let status = state.decompress(input, &mut out[end..], FlushDecompress::Sync);
            let consumed = (state.total_in() - before_in) as usize;
            let produced = (state.total_out() - before_out) as usize;
            out.truncate(end + produced);
            let status = status.map_err(|_| ProtocolError::InvalidCompressedData)?;
            input = &input[consumed..];
            if out.len() > limit {
                return Err(too_large(out.len(), limit));
            }
            if status == Status::StreamEnd {
                self.ended = true;
                continue;
            }
            // Done with this input once it is all in and inflate left room unused.
            if input.is_empty() && produced < room {
                return Ok(());
            }
            if consumed == 0 && produced == 0 {
                // No progress with room to spare: the data is not deflate.
                return Err(ProtocolError::InvalidCompressedData);
            }
            wanted = wanted.saturating_mul(2);
        }
    }

    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.state.is_some()
    }
}

fn too_large(size: usize, max: usize) -> ProtocolError {
    ProtocolError::MessageTooLarge {
        size: size as u64,
        max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(d: &mut Decompressor, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        d.decompress(input, &mut out, 1 << 20, true).unwrap();
        out
    }

    #[test]
    fn rfc_7692_7_2_3_1_hello_with_and_without_context_takeover() {
        // "Hello" compressed, as the RFC gives it, then the same message again: with
        // context takeover the second is a back-reference.
        let mut c = Compressor::new(15, 6, false);
        let mut first = Vec::new();
        c.compress(b"Hello", &mut first, true).unwrap();
        assert_eq!(first, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        let mut second = Vec::new();
        c.compress(b"Hello", &mut second, true).unwrap();
        assert_eq!(second, [0xf2, 0x00, 0x11, 0x00, 0x00]);

        let mut d = Decompressor::new(15, false);
        assert_eq!(inflate(&mut d, &first), b"Hello");
        assert_eq!(inflate(&mut d, &second), b"Hello");

        // Without context takeover, both messages compress alike and the state is freed.
        let mut c = Compressor::new(15, 6, true);
        for _ in 0..2 {
            let mut out = Vec::new();
            c.compress(b"Hello", &mut out, true).unwrap();
            assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
            assert!(!c.is_allocated());
        }
        let mut d = Decompressor::new(15, true);
        assert_eq!(
            inflate(&mut d, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            b"Hello"
        );
        assert!(!d.is_allocated());
    }

    #[test]
    fn rfc_7692_7_2_3_2_and_3_uncompressed_block_and_final_block() {
        // 7.2.3.2: "Hello" in a stored (uncompressed) block.
        let mut d = Decompressor::new(15, false);
        assert_eq!(
            inflate(
                &mut d,
                &[
                    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00
                ]
            ),
            b"Hello"
        );
        // 7.2.3.3: "Hello" in a block with BFINAL set; the next message starts afresh.
        let mut d = Decompressor::new(15, false);
        assert_eq!(
            inflate(&mut d, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]),
            b"Hello"
        );
        assert_eq!(
            inflate(&mut d, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            b"Hello"
        );
    }

    #[test]
    fn rfc_7692_7_2_3_4_two_deflate_blocks_in_one_message() {
        let mut d = Decompressor::new(15, false);
        let bytes = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        assert_eq!(inflate(&mut d, &bytes), b"Hello");
        // The same message split across two frames.
        let mut d = Decompressor::new(15, false);
        let mut out = Vec::new();
        d.decompress(&bytes[..5], &mut out, 100, false).unwrap();
        d.decompress(&bytes[5..], &mut out, 100, true).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn empty_messages_and_empty_last_fragments_inflate() {
        // With context takeover, zlib emits nothing for an empty message after another
        // message, nor for an empty last piece after a flushed one.
        let mut c = Compressor::new(15, 6, false);
        let mut d = Decompressor::new(15, false);
        let mut first = Vec::new();
        c.compress(b"Hello", &mut first, true).unwrap();
        assert_eq!(inflate(&mut d, &first), b"Hello");
        let mut empty = Vec::new();
        c.compress(b"", &mut empty, true).unwrap();
        assert_eq!(empty, [0x00]);
        assert_eq!(inflate(&mut d, &empty), b"");
        let (mut piece, mut tail) = (Vec::new(), Vec::new());
        c.compress(b"Hello", &mut piece, false).unwrap();
        c.compress(b"", &mut tail, true).unwrap();
        let mut out = Vec::new();
        d.decompress(&piece, &mut out, 100, false).unwrap();
        d.decompress(&tail, &mut out, 100, true).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn eight_bit_windows_interoperate() {
        // Several times the window, so that matches reach across it; smaller under Miri.
        let len = if cfg!(miri) { 2_000 } else { 20_000 };
        let text: Vec<u8> = (0..len).map(|i: u32| b'a' + (i * i % 26) as u8).collect();
        let mut c = Compressor::new(8, 9, false);
        let mut out = Vec::new();
        c.compress(&text, &mut out, true).unwrap();
        let mut d = Decompressor::new(8, false);
        assert_eq!(inflate(&mut d, &out), text);
    }

    #[test]
    #[cfg_attr(miri, ignore = "deflates 10 MiB: hours under Miri")]
    fn a_bomb_is_refused_at_the_limit() {
        // About 10 KiB of compressed zeros that would inflate to 10 MiB (deflate's
        // ratio tops out near 1,000:1).
        let mut c = Compressor::new(15, 9, false);
        let mut bomb = Vec::new();
        c.compress(&vec![0u8; 10 << 20], &mut bomb, true).unwrap();
        assert!(bomb.len() < 20 << 10, "{} bytes", bomb.len());
        let mut d = Decompressor::new(15, false);
        let mut out = Vec::new();
        let err = d.decompress(&bomb, &mut out, 1 << 20, true).unwrap_err();
        assert!(matches!(err, ProtocolError::MessageTooLarge { max, .. } if max == 1 << 20));
        assert!(
            out.capacity() <= (1 << 20) + 1,
            "never allocated past the limit: {}",
            out.capacity()
        );
    }

    #[test]
    fn garbage_is_invalid_compressed_data() {
        let mut d = Decompressor::new(15, false);
        let mut out = Vec::new();
        assert!(matches!(
            d.decompress(&[0xff; 16], &mut out, 1000, true),
            Err(ProtocolError::InvalidCompressedData)
        ));
    }
}
