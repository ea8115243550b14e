//! An axum 0.8 server with a page on `/` and a WebSocket echo on `/ws` on the same port.
//! axum's `Request` is hyper's, so `ws_tokio`'s `upgrade` (feature `http`) checks it as
//! it is and `hyper::upgrade::on` hands over the connection; axum's own `ws` feature is
//! not needed. The handler picks a subprotocol from the client's offer in the server's
//! order of preference, and refuses a browser page of another site (a foreign `Origin`)
//! with 403.
//!
//! Self-contained, so that it can be copied as it is: besides ws-tokio (feature `http`)
//! it needs `axum = "0.8"`, `hyper = "1"`, `hyper-util = { version = "0.1", features =
//! ["tokio"] }` and `tokio = { version = "1", features = ["full"] }`.
//!
//! `cargo run -p examples --example axum_upgrade -- 127.0.0.1:9005`, then open
//! http://127.0.0.1:9005/ in a browser. Ctrl-C closes every WebSocket with 1001 and ends
//! once the clients have answered (each within `Settings::close_timeout`, 10 s).

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{Html, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use ws_tokio::{Acceptor, CloseCode, Reject};

/// The subprotocols this server speaks, most preferred first.
const PROTOCOLS: &[&str] = &["echo.v2", "echo.v1"];

const PAGE: &str = r#"<!doctype html>
<title>ws-tokio through axum</title>
<input id="say" placeholder="type and press enter" autofocus>
<pre id="log"></pre>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`, ["echo.v1", "echo.v2"]);
const log = (line) => document.getElementById("log").textContent += line + "\n";
ws.onopen = () => log("connected, subprotocol " + ws.protocol);
ws.onmessage = (event) => log("echo: " + event.data);
ws.onclose = (event) => log("closed: " + event.code);
document.getElementById("say").onkeydown = (event) => {
  if (event.key === "Enter") { ws.send(event.target.value); event.target.value = ""; }
};
</script>
"#;

#[derive(Clone)]
struct App {
    /// The page's own origin, the one Origin a browser may connect from.
    origin: String,
    acceptor: Acceptor,
    /// Turns `true` on Ctrl-C.
    shutdown: watch::Receiver<bool>,
    /// Each WebSocket task holds a clone; once all are gone, the program may end.
    live: mpsc::Sender<()>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9005".into());
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let (stop, shutdown) = watch::channel(false);
    let (live, mut done) = mpsc::channel::<()>(1);
    let app = App {
        origin: format!("http://{local}"),
        acceptor: Acceptor::new(),
        shutdown,
        live,
    };
    let router = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/ws", get(websocket))
        .with_state(app);
    println!("listening on http://{local}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = stop.send(true);
        })
        .await?;
    // Every WebSocket closes with 1001; wait until each task is done.
    let _ = done.recv().await;
    Ok(())
}

async fn websocket(State(app): State<App>, mut request: Request) -> Response {
    let checked = app.acceptor.upgrade_with(&request, |offer| {
        // RFC 6455 10.2: a browser always sends the page's Origin; refuse other sites'
        // pages. Clients that are not browsers send none, and are let in.
        if offer.origin().is_some_and(|origin| origin != app.origin) {
            return Err(Reject::forbidden());
        }
        let chosen = PROTOCOLS
            .iter()
            .find(|ours| offer.protocols().iter().any(|theirs| theirs == *ours));
        Ok(chosen.map(|protocol| protocol.to_string()))
    });
    let (response, upgrade) = match checked {
        Ok(accepted) => accepted,
        // 400/405/426 for a request that is not an upgrade, 403 from the check above.
        Err(refusal) => return refusal.into_response().map(Body::from),
    };
    // axum (hyper) sends the 101 response, then hands over the connection.
    let upgrading = hyper::upgrade::on(&mut request);
    let (mut shutdown, live) = (app.shutdown, app.live);
    tokio::spawn(async move {
        let _live = live;
        let mut ws = match upgrading.await {
            Ok(upgraded) => upgrade.into_stream(TokioIo::new(upgraded)),
            Err(err) => return eprintln!("upgrade: {err}"),
        };
        loop {
            tokio::select! {
                // recv is cancel-safe: losing the race to the shutdown loses no message.
                message = ws.recv() => match message {
                    Some(Ok(message)) if message.is_data() => {
                        if ws.send(message).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(_)) => {} // pings are answered already
                    Some(Err(_)) | None => return,
                },
                _ = shutdown.changed() => {
                    let _ = ws.close(CloseCode::GOING_AWAY, "server shutting down").await;
                    return;
                }
            }
        }
    });
    response.map(|()| Body::empty())
}
