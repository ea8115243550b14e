//! A client session fed arbitrary bytes: see `common/session.rs` for the invariants.
#![no_main]

#[path = "common/session.rs"]
mod session;

libfuzzer_sys::fuzz_target!(|data: &[u8]| session::run(ws_proto::Role::Client, data));
