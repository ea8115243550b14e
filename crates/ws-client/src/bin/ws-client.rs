//! `ws-client URL`: the echo client of the Perl blog post, grown up.
//!
//! Each line of stdin goes out as a text message and each message received is printed on
//! its own line; end of stdin closes the connection with 1000 and waits for the server's
//! close. `--echo-test N --size S` sends N messages of S bytes, checks that each comes back
//! unchanged, and prints round-trip times.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ws_client::{Client, ClientBuilder, CloseCode, Error, Message};

#[derive(Parser)]
#[command(
    version,
    about = "A WebSocket client: stdin lines out as messages, received messages printed"
)]
struct Args {
    /// The server: ws://HOST[:PORT]/PATH or wss://...
    url: String,
    /// Extra handshake header, as 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Origin header to send.
    #[arg(long)]
    origin: Option<String>,
    /// Subprotocol to offer (repeatable, most preferred first).
    #[arg(long = "protocol", value_name = "NAME")]
    protocols: Vec<String>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Connect through this HTTP proxy (http://[user:pass@]host:port).
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Send each line as a binary message.
    #[arg(long)]
    binary: bool,
    /// Write received binary messages as raw bytes instead of hex.
    #[arg(long)]
    binary_out: bool,
    /// Send N messages, check that each comes back unchanged, report round-trip times.
    #[arg(long, value_name = "N")]
    echo_test: Option<usize>,
    /// Message size in bytes for --echo-test.
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    size: usize,
    /// Offer permessage-deflate compression (the default; the server decides).
    #[arg(long, overrides_with = "no_deflate")]
    deflate: bool,
    /// Do not offer compression.
    #[arg(long, overrides_with = "deflate")]
    no_deflate: bool,
    /// Connect and handshake timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) if !err.use_stderr() => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("ws-client: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let result = connect(&args).and_then(|client| match args.echo_test {
        Some(count) => echo_test(client, count, args.size, args.binary),
        None => interactive(client, args.binary, args.binary_out),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ws-client: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parse_header(header: &str) -> Result<(String, String), String> {
    match header.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err("must look like 'Name: value'".to_owned()),
    }
}

fn connect(args: &Args) -> Result<Client, Error> {
    let mut builder =
        ClientBuilder::new(&args.url).connect_timeout(Some(Duration::from_secs(args.timeout)));
    for (name, value) in &args.headers {
        builder = builder.header(name, value);
    }
    if let Some(origin) = &args.origin {
        builder = builder.origin(origin);
    }
    for protocol in &args.protocols {
        builder = builder.protocol(protocol);
    }
    if let Some(ca) = &args.ca_file {
        builder = builder.ca_file(ca);
    }
    if let Some(proxy) = &args.proxy {
        builder = builder.proxy(proxy);
    }
    if args.no_deflate {
        builder = builder.deflate(None);
    }
    builder.connect()
}

/// Lines in, messages out; messages in, lines out. The reader runs on its own thread so
/// that messages are printed while stdin is idle.
fn interactive(client: Client, binary: bool, binary_out: bool) -> Result<(), Error> {
    let (mut reader, writer) = client.split();
    let printer = std::thread::spawn(move || -> Result<(), Error> {
        let mut stdout = io::stdout().lock();
        loop {
            match reader.recv() {
                Ok(Message::Text(text)) => writeln!(stdout, "{text}").map_err(Error::Io)?,
                Ok(Message::Binary(data)) if binary_out => {
                    stdout.write_all(&data).map_err(Error::Io)?
                }
                Ok(Message::Binary(data)) => {
                    writeln!(stdout, "{}", hex(&data)).map_err(Error::Io)?
                }
                Ok(Message::Close(frame)) => {
                    if let Some(frame) = frame.filter(|f| f.code != CloseCode::NORMAL) {
                        eprintln!(
                            "ws-client: server closed with {} {}",
                            frame.code, frame.reason
                        );
                    }
                }
                Ok(_) => {}
                Err(Error::ConnectionClosed) => return Ok(()),
                Err(err) => return Err(err),
            }
            stdout.flush().map_err(Error::Io)?;
        }
    });
    for line in io::stdin().lock().lines() {
        let line = line.map_err(Error::Io)?;
        let sent = if binary {
            writer.send_binary(line.as_bytes())
        } else {
            writer.send_text(&line)
        };
        if let Err(err) = sent {
            // The connection ended; the printer thread says why.
            log::debug!("send failed: {err}");
            break;
        }
    }
    match writer.close(CloseCode::NORMAL, "") {
        Ok(()) | Err(Error::ConnectionClosed) => {}
        Err(err) => return Err(err),
    }
    printer.join().unwrap_or(Err(Error::ConnectionClosed))
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn echo_test(mut client: Client, count: usize, size: usize, binary: bool) -> Result<(), Error> {
    let mut rtts = Vec::with_capacity(count);
    let compression = if client.is_compressing() {
        ", compressed"
    } else {
        ""
    };
    for i in 0..count {
        let payload: Vec<u8> = (0..size).map(|j| b'a' + ((i * 7 + j) % 26) as u8).collect();
        let started = Instant::now();
        if binary {
            client.send_binary(&payload)?;
        } else {
            client.send_text(std::str::from_utf8(&payload).expect("ASCII"))?;
        }
        let echoed = loop {
            match client.recv()? {
                Message::Text(text) if !binary => break text.into_bytes(),
                Message::Binary(data) if binary => break data,
                Message::Ping(_) | Message::Pong(_) => {}
                other => return Err(mismatch(i, &format!("got {other:?}"))),
            }
        };
        rtts.push(started.elapsed());
        if echoed != payload {
            return Err(mismatch(i, "came back changed"));
        }
    }
    client.close(CloseCode::NORMAL, "")?;
    loop {
        match client.recv() {
            Ok(_) => {}
            Err(Error::ConnectionClosed) => break,
            Err(err) => return Err(err),
        }
    }
    rtts.sort_unstable();
    let at = |q: f64| rtts[((rtts.len() - 1) as f64 * q).round() as usize];
    if rtts.is_empty() {
        println!("echo test: 0 messages");
    } else {
        println!(
            "echo test: {count} messages of {size} bytes{compression}, all echoed unchanged; round trip min {:?} p50 {:?} p99 {:?} max {:?}",
            at(0.0),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}

fn mismatch(index: usize, what: &str) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("echo test: message {index} {what}"),
    ))
}
