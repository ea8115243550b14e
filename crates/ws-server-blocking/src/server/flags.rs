//! [`Flags`]: a connection's yes/no states in one byte of its slot (eight `Cell<bool>`s
//! took eight, and an idle connection's memory is its slot's size).

use std::cell::Cell;

/// One of a connection's yes/no states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Flag {
    /// Queued in the server's list of connections with output to write.
    Dirty = 1,
    /// The poller reports writability (only while output is blocked).
    WatchingWritable = 1 << 1,
    /// Not read from until its unsent output drains (see `Builder::read_pause`).
    ReadingPaused = 1 << 2,
    /// The peer closed its side of the TCP connection.
    PeerEof = 1 << 3,
    /// `disconnect` was called before the handshake finished.
    DisconnectRequested = 1 << 4,
    /// The disconnect callback is owed (not after `Server::disconnect`).
    NotifyDisconnect = 1 << 5,
    /// The handshake completed (`Connection::was_ready`).
    WasReady = 1 << 6,
    /// Something was received since the last silence check (Perl's `silence_max`): set
    /// by each read, cleared by each check.
    Heard = 1 << 7,
}

/// A connection's [`Flag`]s, each false until set.
#[derive(Default)]
pub(crate) struct Flags(Cell<u8>);

impl Flags {
    /// Flags with these set.
    pub(crate) fn with(set: &[Flag]) -> Flags {
        Flags(Cell::new(
            set.iter().fold(0, |bits, &flag| bits | flag as u8),
        ))
    }

    pub(crate) fn get(&self, flag: Flag) -> bool {
        self.0.get() & flag as u8 != 0
    }

    pub(crate) fn set(&self, flag: Flag, on: bool) {
        let bits = self.0.get();
        self.0.set(if on {
            bits | flag as u8
        } else {
            bits & !(flag as u8)
        });
    }

    /// Sets `flag` to `on`, returning what it was.
    pub(crate) fn replace(&self, flag: Flag, on: bool) -> bool {
        let was = self.get(flag);
        self.set(flag, on);
        was
    }
}

#[cfg(test)]
mod tests {
    use super::{Flag, Flags};

    // Each flag reads back what was set, without touching the others.
    #[test]
    fn each_flag_is_its_own() {
        let all = [
            Flag::Dirty,
            Flag::WatchingWritable,
            Flag::ReadingPaused,
            Flag::PeerEof,
            Flag::DisconnectRequested,
            Flag::NotifyDisconnect,
            Flag::WasReady,
            Flag::Heard,
        ];
        let flags = Flags::with(&[Flag::NotifyDisconnect, Flag::Heard]);
        for flag in all {
            let on = matches!(flag, Flag::NotifyDisconnect | Flag::Heard);
            assert_eq!(flags.get(flag), on, "{flag:?}");
        }
        for (i, &flag) in all.iter().enumerate() {
            let was = matches!(flag, Flag::NotifyDisconnect | Flag::Heard);
            assert_eq!(flags.replace(flag, i % 2 == 0), was, "{flag:?}");
        }
        for (i, &flag) in all.iter().enumerate() {
            assert_eq!(flags.get(flag), i % 2 == 0, "{flag:?}");
        }
        assert_eq!(size_of::<Flags>(), 1);
    }
}
