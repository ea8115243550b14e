//! A fastwebsockets 0.10 echo server, written as the crate's own echo example is: the
//! upgrade through hyper 1 (its `upgrade` feature), a `FragmentCollector` that hands over
//! whole messages, pongs and the closing handshake left to the crate (`auto_pong` and
//! `auto_close`, on by default), vectored writes of large frames (on by default), and the
//! connection's task run `unconstrained` by tokio's cooperative budget.
//!
//! `fastwebsockets-echo [ADDR] [--threads N]`; see `runtime.rs`.

#[path = "runtime.rs"]
mod runtime;

use fastwebsockets::{FragmentCollector, OpCode, WebSocketError, upgrade};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Echoes every text and binary message until the peer closes.
async fn echo(upgraded: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = FragmentCollector::new(upgraded.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

/// Answers the upgrade request and starts the echo on the upgraded connection.
async fn upgrade(mut request: Request<Incoming>) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, upgraded) = upgrade::upgrade(&mut request)?;
    tokio::spawn(tokio::task::unconstrained(async move {
        let _ = echo(upgraded).await;
    }));
    Ok(response)
}

fn main() -> std::io::Result<()> {
    runtime::serve("fastwebsockets-echo", |stream| async move {
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service_fn(upgrade))
            .with_upgrades()
            .await;
    })
}
