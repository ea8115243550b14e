//! A tokio client: lines from stdin go out as text messages and received messages are
//! printed, both at once (split halves in two tasks). With `--echo-test N`, it sends N
//! messages instead and checks that each comes back unchanged (used by
//! `scripts/interop.sh`).
//!
//! `cargo run -p examples --example tokio_client -- ws://127.0.0.1:9002/`
//! `cargo run -p examples --example tokio_client -- --echo-test 100 --size 20000 [--binary] ws://127.0.0.1:9002/`
//! (`wss://` URLs work too, with the web PKI roots). Ctrl-C closes with 1001 (`tokio::signal`).

use std::process::ExitCode;
use std::time::Instant;

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use ws_tokio::{ClientBuilder, ClientStream, CloseCode, Message, WebSocketStream};

struct Args {
    url: String,
    echo_test: Option<usize>,
    size: usize,
    binary: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "ws://127.0.0.1:9002/".into(),
        echo_test: None,
        size: 64,
        binary: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |what: &str| -> Result<usize, String> {
            it.next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("{what} takes a number"))
        };
        match arg.as_str() {
            "--echo-test" => args.echo_test = Some(number("--echo-test")?),
            "--size" => args.size = number("--size")?,
            "--binary" => args.binary = true,
            url if !url.starts_with("--") => args.url = url.to_owned(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("tokio_client: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run());
    // tokio's stdin reads on a blocking thread that only a new line would end; do not
    // wait for it (after Ctrl-C there may never be one).
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

async fn run() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("tokio_client: {err}");
            return ExitCode::from(2);
        }
    };
    let ws = match ClientBuilder::new(&args.url).connect().await {
        Ok(ws) => ws,
        Err(err) => {
            eprintln!("tokio_client: {}: {err}", args.url);
            return ExitCode::FAILURE;
        }
    };
    let outcome = match args.echo_test {
        Some(count) => echo_test(ws, count, args.size, args.binary).await,
        None => interactive(ws, &args.url).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tokio_client: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn echo_test(
    mut ws: WebSocketStream<ClientStream>,
    count: usize,
    size: usize,
    binary: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut slowest = std::time::Duration::ZERO;
    for i in 0..count {
        // Text that compresses somewhat and differs per message.
        let text: String = format!("message {i} ").chars().cycle().take(size).collect();
        let message = if binary {
            Message::binary(text.into_bytes())
        } else {
            Message::text(text)
        };
        let started = Instant::now();
        ws.send(message.clone()).await?;
        loop {
            match ws
                .next()
                .await
                .ok_or("the server closed the connection")??
            {
                echoed if echoed.is_data() => {
                    if echoed != message {
                        return Err(format!("message {i} came back changed").into());
                    }
                    break;
                }
                _ => {}
            }
        }
        slowest = slowest.max(started.elapsed());
    }
    let compressed = if ws.is_compressing() {
        ", compressed"
    } else {
        ""
    };
    println!(
        "echo test: {count} messages of {size} bytes{compressed}, all echoed unchanged; slowest round trip {slowest:?}"
    );
    ws.close(CloseCode::NORMAL, "done").await?;
    Ok(())
}

async fn interactive(
    ws: WebSocketStream<ClientStream>,
    url: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut shutdown = examples::shutdown_signal();
    eprintln!(
        "connected to {url}{}",
        if ws.is_compressing() {
            " (permessage-deflate)"
        } else {
            ""
        }
    );
    let (mut reader, mut writer) = ws.split();
    let printing = tokio::spawn(async move {
        while let Some(message) = reader.next().await {
            match message {
                Ok(Message::Text(text)) => println!("{text}"),
                Ok(Message::Binary(data)) => println!("<{} bytes>", data.len()),
                Ok(Message::Close(frame)) => eprintln!("closed by the server: {frame:?}"),
                Ok(_) => {}
                Err(err) => {
                    eprintln!("error: {err}");
                    break;
                }
            }
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => writer.send(Message::text(line)).await?,
                None => {
                    writer.close(CloseCode::NORMAL, "stdin ended").await?;
                    break;
                }
            },
            // Ctrl-C: leave with 1001 Going Away, as a browser leaving the page does.
            () = examples::stopped(&mut shutdown) => {
                writer.close(CloseCode::GOING_AWAY, "interrupted").await?;
                break;
            }
        }
    }
    let _ = printing.await;
    Ok(())
}
