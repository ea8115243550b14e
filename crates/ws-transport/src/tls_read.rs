//! The read half of the rustls pump: records the caller has handed to rustls are
//! processed, and the plaintext they carry moves into a [`RecvBuffer`].

use std::io::{self, Read as _};

use rustls::ConnectionCommon;
use ws_proto::RecvBuffer;

/// What processing the records brought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plaintext {
    /// Plaintext bytes added to the buffer (0: handshake progress only).
    pub bytes: usize,
    /// The peer sent its close_notify: no more plaintext will come.
    pub peer_closed: bool,
}

/// Why processing failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsReadError {
    /// The records break TLS (a bad record, a failed handshake); rustls has queued an
    /// alert for the caller to send before closing.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// rustls could not hand over plaintext it had announced.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Processes the records handed to `tls` (with `read_tls`) and appends the plaintext
/// they carry to `rx`.
///
/// # Errors
///
/// [`TlsReadError::Tls`] if the records break TLS.
pub fn read_plaintext<D>(
    tls: &mut ConnectionCommon<D>,
    rx: &mut RecvBuffer,
) -> Result<Plaintext, TlsReadError> {
    let state = tls.process_new_packets()?;
    let available = state.plaintext_bytes_to_read();
    let peer_closed = state.peer_has_closed();
    let mut bytes = 0;
    if available > 0 {
        let spare = rx.spare(available);
        bytes = tls.reader().read(&mut spare[..available])?;
        rx.commit(bytes);
    }
    Ok(Plaintext { bytes, peer_closed })
}
