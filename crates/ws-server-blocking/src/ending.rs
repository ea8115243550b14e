//! How a connection ended: what its `disconnect` callback is told.

/// How a connection ended. The first one recorded wins: later ones are consequences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// A close frame settled it (the peer's or ours), or the server ended a connection
    /// with a code of its own before it was open (1011 when `on_connect` failed, 1001 at
    /// shutdown): this code and reason.
    Closed { code: u16, reason: String },
    /// The peer's close frame had no status code: reported as 1005 (RFC 6455 7.1.5).
    NoStatus,
    /// No closing handshake took place (I/O error, timeout, refusal, end of stream):
    /// reported as 1006 (RFC 6455 7.1.5), with why, for the log.
    Abnormal(String),
}

impl Ending {
    /// Ended by a close frame, or by the server with `code`.
    pub(crate) fn closed(code: u16, reason: &str) -> Ending {
        Ending::Closed {
            code,
            reason: reason.to_owned(),
        }
    }

    /// Ended without a closing handshake.
    pub(crate) fn abnormal(why: &str) -> Ending {
        Ending::Abnormal(why.to_owned())
    }

    /// The close code reported: the frame's, 1005 or 1006.
    pub(crate) fn code(&self) -> u16 {
        match self {
            Ending::Closed { code, .. } => *code,
            Ending::NoStatus => 1005,
            Ending::Abnormal(_) => 1006,
        }
    }

    /// The reason reported (the reason of a closing handshake; for 1006, why).
    pub(crate) fn reason(&self) -> &str {
        match self {
            Ending::Closed { reason, .. } | Ending::Abnormal(reason) => reason,
            Ending::NoStatus => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ending;

    // RFC 6455 7.1.5: 1005 when the close frame had no code, 1006 without a closing
    // handshake.
    #[test]
    fn codes_reported() {
        assert_eq!(Ending::closed(1000, "bye").code(), 1000);
        assert_eq!(Ending::closed(1000, "bye").reason(), "bye");
        assert_eq!(Ending::NoStatus.code(), 1005);
        assert_eq!(Ending::abnormal("read error").code(), 1006);
        assert_eq!(Ending::abnormal("read error").reason(), "read error");
    }
}
