//! Session settings, each with a documented default.

/// Limits and behaviour of a [`Session`](crate::Session).
///
/// Build it from the defaults and change what you need:
///
/// ```
/// let mut config = ws_proto::Config::default();
/// config.max_message_size = 1 << 20; // 1 MiB is plenty for a chat server
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The largest frame payload accepted, in bytes; a larger frame is answered with close
    /// code 1009 as soon as its header arrives, before any of its payload is buffered.
    ///
    /// Default 16 MiB. A frame is held whole in the receive buffer (that is what lets a
    /// single-frame message be delivered without a copy), so this bounds that buffer.
    /// Lower it on servers facing untrusted clients; it must stay at or above 16 MiB to
    /// pass the Autobahn suite's largest single-frame cases (9.1.6, 9.2.6).
    pub max_frame_size: usize,
    /// The largest message accepted, in bytes, counted over all its frames; a message that
    /// passes it is answered with close code 1009 as soon as a frame header shows it will.
    ///
    /// Default 64 MiB. A fragmented message is reassembled in memory, so this bounds that
    /// buffer. In [`deliver_fragments`](Self::deliver_fragments) mode nothing is
    /// reassembled, but the limit still applies to the total.
    pub max_message_size: usize,
    /// Whether a server accepts unmasked frames from clients.
    ///
    /// Default `false`: RFC 6455 5.1 says "a server MUST close the connection upon
    /// receiving a frame that is not masked" (close code 1002). Turn it on only for
    /// legacy clients that never masked (such as old versions of Perl's
    /// Protocol::WebSocket used without a mask); it weakens the protection masking gives
    /// intermediaries against cache poisoning.
    pub accept_unmasked_frames: bool,
    /// Whether a ping is answered with a pong automatically.
    ///
    /// Default `true`: RFC 6455 5.5.2 requires the answer. When several pings pile up
    /// unanswered (the peer sends pings faster than the caller drains
    /// [`pending`](crate::Session::pending)), only the most recent ones are answered, as
    /// 5.5.3 allows, so a ping flood cannot grow the output without bound. Turn it off to
    /// answer pings yourself with [`send_pong`](crate::Session::send_pong).
    pub auto_pong: bool,
    /// Whether every data frame is delivered as an [`Event::Fragment`](crate::Event)
    /// instead of whole messages.
    ///
    /// Default `false`: messages are reassembled and delivered whole. Turn it on to
    /// stream large messages frame by frame; memory then stays at one frame instead of one
    /// message. Text fragments are still validated as UTF-8, incrementally across frames.
    pub deliver_fragments: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            accept_unmasked_frames: false,
            auto_pong: true,
            deliver_fragments: false,
        }
    }
}
