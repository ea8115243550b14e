//! Random bytes for masking keys and handshake keys, from the operating system's
//! cryptographically secure generator (RFC 6455 5.3: masking keys must not be
//! predictable; 4.1: the handshake nonce must be randomly selected).
//!
//! A client draws a fresh masking key for every frame. Asking the kernel for 4 bytes per
//! frame would cost a system call each, so keys are drawn from a per-thread pool that is
//! refilled from `getrandom` 256 bytes at a time. The pool never hands out a byte twice.

use std::cell::RefCell;

use crate::local_error::LocalError;

const POOL_SIZE: usize = 256;

struct Pool {
    bytes: [u8; POOL_SIZE],
    /// Bytes before `next` were handed out already.
    next: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; POOL_SIZE], next: POOL_SIZE })
    };
}

/// A fresh masking key.
pub(crate) fn mask_key() -> Result<[u8; 4], LocalError> {
    POOL.with_borrow_mut(|pool| {
        if pool.next + 4 > POOL_SIZE {
            getrandom::fill(&mut pool.bytes)?;
            pool.next = 0;
        }
        let mut key = [0u8; 4];
        key.copy_from_slice(&pool.bytes[pool.next..pool.next + 4]);
        // Forget the bytes once used.
        pool.bytes[pool.next..pool.next + 4].fill(0);
        pool.next += 4;
        Ok(key)
    })
}

/// Fills `buf` directly from the operating system's generator.
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), LocalError> {
    Ok(getrandom::fill(buf)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_do_not_repeat_across_refills() {
        // 3 pool refills' worth of keys; a repeat of 32-bit values among 200 draws has a
        // probability around 5e-6, so a repeat here means the pool reuses bytes.
        let keys: HashSet<[u8; 4]> = (0..200).map(|_| mask_key().unwrap()).collect();
        assert_eq!(keys.len(), 200);
    }
}
