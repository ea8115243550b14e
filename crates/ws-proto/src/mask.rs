//! Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key, repeated.
//!
//! This is the hot path of every server: each byte a client sends goes through it.
//! The main loop works on aligned 64-byte blocks with a pre-rotated 64-byte key pattern,
//! which the compiler turns into SIMD XORs on any target, in safe code; short buffers
//! and the unaligned head go 8 bytes at a time. On x86-64 the same loop is also compiled
//! for AVX2 and chosen at run time when the CPU has it.

/// Bytes per block of the main loop; a multiple of 4 so the key pattern repeats exactly.
const BLOCK: usize = 64;

/// The alignment the main loop starts at, so its vector loads never straddle lines.
const ALIGN: usize = 32;

/// XORs `data` with `key` as if `data` started `offset` bytes into the payload.
///
/// Masking is its own inverse, and `offset` lets a payload be unmasked piece by piece as
/// it arrives: the piece starting at byte `n` of the payload is unmasked with offset `n`.
///
/// ```
/// use ws_proto::apply_mask;
/// // RFC 6455 5.7: "Hello" masked with 37 fa 21 3d.
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = *b"Hello";
/// apply_mask(&mut payload, key, 0);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// // The same bytes unmasked in two pieces.
/// let (head, tail) = payload.split_at_mut(2);
/// apply_mask(head, key, 0);
/// apply_mask(tail, key, 2);
/// assert_eq!(&payload, b"Hello");
/// ```
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    // Short buffers (most messages, every header-sized piece) first and inline; the
    // block loops live out of line, so that this path sets up no registers for them.
    if data.len() < 2 * BLOCK {
        mask_words(data, rotate(key, offset));
        return;
    }
    apply_mask_long(data, key, offset);
}

/// [`apply_mask`] for buffers of two blocks and more.
#[inline(never)]
fn apply_mask_long(data: &mut [u8], key: [u8; 4], offset: usize) {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= 4 * BLOCK && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above), which is all that calling a
        // function compiled with `target_feature(enable = "avx2")` requires.
        #[allow(unsafe_code)]
        unsafe {
            apply_mask_avx2(data, key, offset)
        };
        return;
    }
    apply_mask_portable(data, key, offset);
}

/// The same loop compiled for AVX2: 32-byte XORs instead of SSE2's 16, which doubles the
/// speed on large payloads (measured in `benches/mask.rs`). No intrinsics: only the code
/// generation differs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn apply_mask_avx2(data: &mut [u8], key: [u8; 4], offset: usize) {
    apply_mask_portable(data, key, offset);
}

#[inline(always)]
fn apply_mask_portable(data: &mut [u8], key: [u8; 4], offset: usize) {
    // Below two blocks, building the pattern and aligning cost more than they save.
    if data.len() < 2 * BLOCK {
        mask_words(data, rotate(key, offset));
        return;
    }
    // Payloads sit right after a 2-14 byte header, so they rarely start aligned: take
    // the bytes up to the next boundary one by one, then whole blocks from there.
    let head_len = (ALIGN - data.as_ptr().addr() % ALIGN) % ALIGN;
    let (head, body) = data.split_at_mut(head_len);
    mask_words(head, rotate(key, offset));
    let key = rotate(key, offset + head_len);
    let mut pattern = [0u8; BLOCK];
    for quad in pattern.as_chunks_mut::<4>().0 {
        *quad = key;
    }
    let (blocks, tail) = body.as_chunks_mut::<BLOCK>();
    for block in blocks {
        for (byte, k) in block.iter_mut().zip(pattern) {
            *byte ^= k;
        }
    }
    mask_words(tail, key);
}

/// The key as seen from byte `offset` of the payload: one rotation of a 32-bit word
/// (not four byte lookups through memory).
#[inline(always)]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    // Little-endian: byte i of the word is key[i], so rotating right by 8 bits moves
    // key[1] to the front.
    let shift = (offset % 4) as u32 * 8;
    u32::from_le_bytes(key).rotate_right(shift).to_le_bytes()
}

/// Masks a short buffer 16 bytes at a time, then 8, 4 and single bytes; `key` is
/// already rotated to `data[0]`. Every step but the last is a multiple of 4 bytes long,
/// so the key lines up again after each. The wide keys are the 32-bit one repeated
/// (shifts, not bytes assembled one by one), and there is no byte loop over a cycled
/// key for the bulk: for a small message this is all of its unmasking.
#[inline(always)]
fn mask_words(data: &mut [u8], key: [u8; 4]) {
    let k32 = u32::from_ne_bytes(key);
    // The same four bytes in each half, so the byte order of the halves is moot.
    let k64 = u64::from(k32) | (u64::from(k32) << 32);
    let k128 = u128::from(k64) | (u128::from(k64) << 64);
    let (quads, rest) = data.as_chunks_mut::<16>();
    for chunk in quads {
        *chunk = (u128::from_ne_bytes(*chunk) ^ k128).to_ne_bytes();
    }
    let rest = match rest.split_first_chunk_mut::<8>() {
        Some((word, rest)) => {
            *word = (u64::from_ne_bytes(*word) ^ k64).to_ne_bytes();
            rest
        }
        None => rest,
    };
    let rest = match rest.split_first_chunk_mut::<4>() {
        Some((word, rest)) => {
            *word = (u32::from_ne_bytes(*word) ^ k32).to_ne_bytes();
            rest
        }
        None => rest,
    };
    for (byte, k) in rest.iter_mut().zip(key) {
        *byte ^= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(data: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_bytewise_definition_at_every_offset_and_length() {
        let key = [0x01, 0x23, 0x45, 0x67];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        // Under Miri, fewer lengths: still every offset and both loops' boundaries.
        let lengths = if cfg!(miri) { 0..140 } else { 0..200 };
        for offset in 0..8 {
            for len in lengths.clone() {
                for start in 0..3 {
                    let mut fast = source[start..start + len].to_vec();
                    let mut slow = fast.clone();
                    apply_mask(&mut fast, key, offset);
                    naive(&mut slow, key, offset);
                    assert_eq!(fast, slow, "offset {offset} len {len} start {start}");
                }
            }
        }
    }

    #[test]
    fn every_path_matches_the_definition_on_long_buffers() {
        // Long enough for the AVX2 path (when the CPU has it) and the portable one.
        let source: Vec<u8> = (0..5000u32).map(|i| (i * 13) as u8).collect();
        for offset in 0..4 {
            for len in [255, 256, 257, 1000, 4999] {
                let mut expected = source[1..1 + len].to_vec();
                naive(&mut expected, [9, 8, 7, 6], offset);
                let mut fast = source[1..1 + len].to_vec();
                apply_mask(&mut fast, [9, 8, 7, 6], offset);
                assert_eq!(fast, expected, "dispatched, offset {offset} len {len}");
                let mut portable = source[1..1 + len].to_vec();
                apply_mask_portable(&mut portable, [9, 8, 7, 6], offset);
                assert_eq!(portable, expected, "portable, offset {offset} len {len}");
            }
        }
    }

    proptest! {

        #![proptest_config(crate::test_support::proptest_config())]

        #[test]
        fn masking_twice_is_identity(data in prop::collection::vec(any::<u8>(), 0..600),
                                     key in any::<[u8; 4]>(), offset in 0usize..1000) {
            let mut buf = data.clone();
            apply_mask(&mut buf, key, offset);
            apply_mask(&mut buf, key, offset);
            prop_assert_eq!(buf, data);
        }

        #[test]
        fn piecewise_equals_whole(data in prop::collection::vec(any::<u8>(), 0..600),
                                  key in any::<[u8; 4]>(), cut in 0usize..600) {
            let cut = cut.min(data.len());
            let mut whole = data.clone();
            apply_mask(&mut whole, key, 0);
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            prop_assert_eq!(whole, pieces);
        }
    }
}
