//! What user callbacks may return.

use std::fmt::Display;

/// What a callback may return: `()`, or a `Result` whose error is logged and, for a
/// connection's callback, closes that connection with 1011 (internal error).
///
/// This lets a callback end in a send without ceremony:
///
/// ```no_run
/// # use ws_server_blocking::Server;
/// Server::builder().on_connect(|_server, conn| {
///     conn.on_utf8(|conn, msg| conn.send_utf8(msg)); // returns Result<(), Error>
/// });
/// ```
pub trait HandlerResult {
    /// `Err` with a description if the callback failed.
    ///
    /// # Errors
    ///
    /// The callback's error, as its `Display` text; `()` never fails.
    fn into_result(self) -> Result<(), String>;
}

impl HandlerResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> HandlerResult for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// What a callback returned, made uniform.
pub(crate) type Outcome = Result<(), String>;
