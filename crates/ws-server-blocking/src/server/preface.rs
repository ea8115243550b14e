//! [`Preface`]: the raw bytes that go out before any frame (the handshake's answer or
//! refusal), in 8 bytes of the slot: most of a connection's life it has none, and a
//! `RefCell<Vec<u8>>` would cost 32 bytes of every idle connection.

use std::cell::Cell;
use std::ops::Deref;

/// Bytes to write before any frame; none most of the time. `Box<Vec>`: the point is to
/// keep the `Vec`'s 24 bytes out of every slot, behind one pointer.
#[derive(Default)]
#[allow(clippy::box_collection)]
pub(crate) struct Preface(Cell<Option<Box<Vec<u8>>>>);

impl Preface {
    /// Replaces the bytes to write (an empty `bytes` holds nothing).
    pub(crate) fn set(&self, bytes: Vec<u8>) {
        self.0.set((!bytes.is_empty()).then(|| Box::new(bytes)));
    }

    /// How many bytes are left to write.
    pub(crate) fn len(&self) -> usize {
        self.lend().len()
    }

    /// The bytes, lent until the returned value is dropped (then they are back here).
    pub(crate) fn lend(&self) -> Lent<'_> {
        Lent {
            home: self,
            bytes: self.0.take(),
        }
    }
}

/// The preface's bytes while they are being written; given back when dropped.
#[allow(clippy::box_collection)]
pub(crate) struct Lent<'a> {
    home: &'a Preface,
    bytes: Option<Box<Vec<u8>>>,
}

impl Lent<'_> {
    /// `n` bytes were written: drops them, and the storage once all are.
    pub(crate) fn consume(&mut self, n: usize) {
        if let Some(bytes) = &mut self.bytes {
            bytes.drain(..n.min(bytes.len()));
            if bytes.is_empty() {
                self.bytes = None;
            }
        }
    }
}

impl Deref for Lent<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        self.home.0.set(self.bytes.take());
    }
}

#[cfg(test)]
mod tests {
    use super::Preface;

    // Written in pieces, the bytes come out in order, and nothing is held once all are.
    #[test]
    fn bytes_go_out_in_order_and_free_their_storage() {
        let preface = Preface::default();
        assert_eq!(preface.len(), 0);
        preface.set(b"HTTP/1.1 101".to_vec());
        {
            let mut lent = preface.lend();
            assert_eq!(&*lent, b"HTTP/1.1 101");
            lent.consume(5);
        }
        assert_eq!(&*preface.lend(), b"1.1 101");
        preface.lend().consume(100);
        assert_eq!(preface.len(), 0);
        assert!(preface.0.take().is_none());
        preface.set(Vec::new());
        assert!(preface.0.take().is_none());
        assert_eq!(size_of::<Preface>(), 8);
    }
}
