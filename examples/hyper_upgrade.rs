//! A hyper 1.x server that serves a page on `/` and upgrades `/ws` to a WebSocket on the
//! same port, through hyper's own upgrade mechanism: the request hyper parsed is checked
//! as it is (`ws_tokio::upgrade`, feature `http`), hyper sends the 101 answer, and the
//! connection it hands over becomes a `WebSocketStream`.
//!
//! `cargo run -p examples --example hyper_upgrade -- 127.0.0.1:9004`, then open
//! http://127.0.0.1:9004/ in a browser. Ctrl-C or SIGTERM closes every WebSocket with 1001
//! (`tokio::signal`) and ends once the clients have answered.

use std::convert::Infallible;

use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const PAGE: &str = r#"<!doctype html>
<title>ws-tokio through hyper</title>
<input id="say" placeholder="type and press enter" autofocus>
<pre id="log"></pre>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`);
const log = (line) => document.getElementById("log").textContent += line + "\n";
ws.onopen = () => log("connected");
ws.onmessage = (event) => log("echo: " + event.data);
ws.onclose = (event) => log("closed: " + event.code);
document.getElementById("say").onkeydown = (event) => {
  if (event.key === "Enter") { ws.send(event.target.value); event.target.value = ""; }
};
</script>
"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".into());
    let listener = TcpListener::bind(&addr).await?;
    let mut shutdown = examples::shutdown_signal();
    println!("listening on http://{}", listener.local_addr()?);
    // Each WebSocket task holds a clone of `live`; once the last is gone, `done` ends.
    let (live, mut done) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = examples::stopped(&mut shutdown) => break,
        };
        let (shutdown, live) = (shutdown.clone(), live.clone());
        tokio::spawn(async move {
            let service = service_fn(|request| route(request, shutdown.clone(), live.clone()));
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
            if let Err(err) = served {
                eprintln!("connection: {err}");
            }
        });
    }
    // Every WebSocket closes with 1001 and waits (within its close timeout) for its client.
    drop(live);
    let _ = done.recv().await;
    Ok(())
}

async fn route(
    mut request: Request<Incoming>,
    shutdown: examples::Shutdown,
    live: tokio::sync::mpsc::Sender<()>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() != "/ws" {
        let page = Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Full::new(Bytes::from_static(PAGE.as_bytes())));
        return Ok(page.unwrap_or_default());
    }
    match ws_tokio::upgrade(&request) {
        Ok((response, upgrade)) => {
            // hyper sends the 101 answer, then hands over the connection.
            let upgrading = hyper::upgrade::on(&mut request);
            tokio::spawn(async move {
                let _live = live;
                match upgrading.await {
                    Ok(upgraded) => {
                        let ws = upgrade.into_stream(TokioIo::new(upgraded));
                        examples::until_shutdown(ws, shutdown, echo).await;
                    }
                    Err(err) => eprintln!("upgrade: {err}"),
                }
            });
            Ok(response.map(|()| Full::new(Bytes::new())))
        }
        Err(refusal) => {
            eprintln!("refused: {}", refusal.error());
            Ok(refusal
                .into_response()
                .map(|body| Full::new(Bytes::from(body))))
        }
    }
}

async fn echo<S>(ws: &mut ws_tokio::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(Ok(message)) = ws.next().await {
        if message.is_data() && ws.send(message).await.is_err() {
            return;
        }
    }
}
