//! `ws-client URL`: the echo client of the Perl blog post, grown up.
//!
//! Each line of stdin goes out as a text message and each message received is printed on
//! its own line. When stdin ends the client lingers until the server has been quiet for
//! `--linger` (so that replies still on their way are printed), then closes with 1000
//! and waits for the server's close. `--echo-test N --size S` sends N messages of S
//! bytes, checks that each comes back unchanged, and prints round-trip times. The exit
//! status says how the connection ended (see `--help`).

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{ArgAction, Parser};
use ws_client::{Client, ClientBuilder, CloseCode, CloseFrame, Error, Message, Reader, Writer};

mod escape;
mod explain;
mod insecure;

/// The exit statuses, as `--help` lists them.
mod status {
    /// The connection ended with a closing handshake: ours (1000, or 1001 when stdout
    /// was closed) or the server's with 1000 or no code.
    pub const NORMAL: u8 = 0;
    /// Could not connect (URL, name, TCP, proxy, TLS, handshake), or `--echo-test` got a
    /// message back changed.
    pub const FAILED: u8 = 1;
    /// The command line is wrong.
    pub const USAGE: u8 = 2;
    /// The server closed with a code other than 1000.
    pub const SERVER_CLOSED: u8 = 3;
    /// The connection was lost without a closing handshake: reset, end of stream, a
    /// protocol error, or a server silent through a keepalive ping.
    pub const LOST: u8 = 4;
    /// The server did not answer our close within `--close-timeout`.
    pub const CLOSE_TIMEOUT: u8 = 5;
}

const AFTER_HELP: &str = "\
Examples:
  ws-client ws://127.0.0.1:8080/                  type lines, see the answers
  printf 'hello\\n' | ws-client ws://127.0.0.1:8080/
  ws-client -H 'Authorization: Bearer T' -p chat.v1 wss://example.com/socket
  ws-client --ca-file ca.pem wss://localhost:8080/    trust a private or development CA
  ws-client -k wss://localhost:8080/              no certificate checks (testing only)
  ws-client --cert me.pem --key me-key.pem wss://example.com/   a client certificate
  ws-client --echo-test 1000 --size 4096 ws://127.0.0.1:8080/

Lifecycle:
  Each stdin line is sent as a message; each message received is printed on its own line.
  When stdin ends, the client lingers until no message has arrived for --linger seconds
  (replies still on their way get printed; a server that keeps sending keeps it open),
  then sends a close (1000) and waits, at most --close-timeout, for the server's close
  and the end of TCP. If the server closes first, the client ends at once. If stdout is
  closed (as by `| head -1`), the client closes with 1001 and ends.

Exit status:
  0  normal close: a closing handshake, ours or the server's with 1000 (or no code)
  1  could not connect, or --echo-test failed: a message came back changed, or the
     server closed before every message had come back
  2  usage error
  3  the server closed with another code (printed on stderr)
  4  connection lost without a closing handshake (network error, reset, protocol error,
     or no answer to a keepalive ping)
  5  the server did not answer our close within --close-timeout

Output:
  Text messages are printed as received, one per line; on a terminal, control characters
  (escape sequences, bells, carriage returns) are shown escaped (\\x1b) so that a server
  cannot rewrite the screen: --raw prints them as they are, --escape escapes them in a pipe
  too. Binary messages are printed in hex (--binary-out: raw bytes).

TLS:
  wss:// trusts the web PKI roots (webpki-roots) and, with --ca-file, a private CA.
  Errors say what is wrong and what to do; --insecure (-k) skips certificate checks.

Diagnostics go to stderr: errors and warnings by default; -v adds info, -vv debug, -vvv
trace (each with a timestamp), -q keeps errors only; RUST_LOG (env_logger's syntax) when
neither is given.";

#[derive(Parser)]
#[command(
    name = "ws-client",
    version,
    about = "A WebSocket client: stdin lines out as messages, received messages printed",
    after_help = AFTER_HELP
)]
struct Args {
    /// The server: ws://HOST[:PORT]/PATH or wss://...
    url: String,
    /// Extra handshake header, as 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Origin header to send.
    #[arg(short, long)]
    origin: Option<String>,
    /// Subprotocol to offer (repeatable, most preferred first).
    #[arg(short, long = "protocol", value_name = "NAME")]
    protocols: Vec<String>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Do not check the server's certificate at all (who issued it, its names, its dates):
    /// anyone on the path can pose as the server. For testing only; says so on stderr.
    #[arg(short = 'k', long, conflicts_with = "ca_file")]
    insecure: bool,
    /// Present this client certificate chain (PEM) to servers that ask for one; needs
    /// --key.
    #[arg(long, requires = "key", value_name = "PEM")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, requires = "cert", value_name = "PEM")]
    key: Option<PathBuf>,
    /// Connect through this HTTP proxy: http://[user:password@]host:port, with
    /// percent-encoded user and password (%40 for @, %2F for /, %23 for #).
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Send each line as a binary message.
    #[arg(short, long)]
    binary: bool,
    /// Write received binary messages as raw bytes instead of hex.
    #[arg(long)]
    binary_out: bool,
    /// Print received text as it is, control characters included, even on a terminal.
    #[arg(long, overrides_with = "escape")]
    raw: bool,
    /// Escape control characters in received text even when stdout is not a terminal.
    #[arg(long, overrides_with = "raw")]
    escape: bool,
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
    /// Limit on connecting as a whole (TCP, proxy, TLS, handshake), in seconds; 0: none.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    timeout: Duration,
    /// After stdin ends, close once no message has arrived for this many seconds; 0:
    /// close at once.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_secs)]
    linger: Duration,
    /// Limit on the closing handshake (our close to the end of TCP), in seconds; 0: none.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    close_timeout: Duration,
    /// Send a ping after this many seconds without a message from the server; 0: never.
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = parse_secs)]
    keepalive: Duration,
    /// Give the server up if nothing arrives this many seconds after a keepalive ping
    /// (more than 0; --keepalive 0 turns keepalive off).
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = parse_positive_secs)]
    keepalive_timeout: Duration,
    /// Limit on each write to a server that stops reading, in seconds; 0: none.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    write_timeout: Duration,
    /// More diagnostics on stderr: -v info, -vv debug, -vvv trace.
    #[arg(short, long, action = ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Fewer: -q errors only, -qq nothing.
    #[arg(short, long, action = ArgAction::Count)]
    quiet: u8,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) if !err.use_stderr() => {
            // --help and --version; a closed stdout is no error here.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // clap's whole message: what is wrong, the usage line and its tip.
            let _ = err.print();
            return ExitCode::from(status::USAGE);
        }
    };
    init_logger(args.verbose, args.quiet);
    if args.insecure {
        // Loud whatever the log level: this is not a diagnostic but a warning about trust.
        let _ = writeln!(
            io::stderr(),
            "ws-client: WARNING: --insecure: the server's certificate is not checked; anyone \
             on the path can pose as the server. For testing only."
        );
        if args.url.starts_with("ws://") {
            log::warn!("--insecure has no effect on a ws:// URL (no TLS)");
        }
    }
    let client = match connect(&args) {
        Ok(client) => client,
        Err(err) => {
            log::error!("{}", explain::explain(&err));
            return ExitCode::from(status::FAILED);
        }
    };
    let status = match args.echo_test {
        Some(count) => echo_test(client, count, args.size, args.binary),
        None => interactive(client, &args),
    };
    ExitCode::from(status)
}

/// env_logger: warnings and errors by default, `-v`/`-q` for more or fewer, `RUST_LOG`
/// when neither is given. Errors and warnings are one plain line `ws-client: ...`; the
/// diagnostics below them carry a timestamp and their module. A stderr that cannot be
/// written is ignored, never a panic.
fn init_logger(verbose: u8, quiet: u8) {
    use log::LevelFilter::*;
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"));
    let level = match (verbose, quiet) {
        (0, 0) => None,
        (1, _) => Some(Info),
        (2, _) => Some(Debug),
        (_, 0) => Some(Trace),
        (_, 1) => Some(Error),
        _ => Some(Off),
    };
    if let Some(level) = level {
        builder.filter_level(level);
    }
    builder
        .format(|buf, record| match record.level() {
            log::Level::Error => writeln!(buf, "ws-client: {}", record.args()),
            log::Level::Warn => writeln!(buf, "ws-client: warning: {}", record.args()),
            level => writeln!(
                buf,
                "ws-client: {} {} {}: {}",
                buf.timestamp_millis(),
                level.as_str().to_lowercase(),
                record.target(),
                record.args()
            ),
        })
        .init();
}

fn parse_header(header: &str) -> Result<(String, String), String> {
    match header.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err("must look like 'Name: value'".to_owned()),
    }
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| "must be a number of seconds, 0 or more".to_owned())
}

fn parse_positive_secs(text: &str) -> Result<Duration, String> {
    parse_secs(text)
        .ok()
        .filter(|secs| !secs.is_zero())
        .ok_or_else(|| "must be a number of seconds, more than 0".to_owned())
}

/// `None` for 0, the flags' way of saying "no limit".
fn limit(secs: Duration) -> Option<Duration> {
    (!secs.is_zero()).then_some(secs)
}

fn connect(args: &Args) -> Result<Client, Error> {
    let mut builder = ClientBuilder::new(&args.url)
        .connect_timeout(limit(args.timeout))
        .write_timeout(limit(args.write_timeout))
        .close_timeout(limit(args.close_timeout))
        .keepalive(limit(args.keepalive))
        .keepalive_timeout(args.keepalive_timeout);
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
    if args.insecure {
        let client_cert = match (&args.cert, &args.key) {
            (Some(cert), Some(key)) => Some(load_client_cert(cert, key)?),
            _ => None,
        };
        builder = builder.tls_config(insecure::config(client_cert)?);
    } else if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        builder = builder.client_cert_files(cert, key);
    }
    if let Some(proxy) = &args.proxy {
        builder = builder.proxy(proxy);
    }
    if args.no_deflate {
        builder = builder.deflate(None);
    }
    builder.connect()
}

/// A client certificate chain and key from PEM files, for `--insecure` (which replaces
/// the library's TLS settings, where `--cert`/`--key` otherwise go).
fn load_client_cert(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<
    (
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ),
    Error,
> {
    let chain = ws_transport::load_certs(cert)?;
    let key = ws_transport::load_key(key)?;
    Ok((chain, key))
}

/// What the main thread hears from the others.
enum Event {
    /// Stdin ended (or could not be read): start lingering.
    StdinEnded,
    /// A message was printed: the server is not quiet.
    Heard,
    /// The connection is over; the exit status.
    Ended(u8),
}

/// Lines in, messages out; messages in, lines out. Stdin and the socket each have a
/// thread (either may block at any time); this one decides when to close and when the
/// program ends.
fn interactive(client: Client, args: &Args) -> u8 {
    let (reader, writer) = client.split();
    let we_closed = Arc::new(AtomicBool::new(false));
    let (events, heard) = mpsc::channel();

    let sender = writer.clone();
    let to_main = events.clone();
    let binary = args.binary;
    thread::spawn(move || {
        send_stdin(&sender, binary);
        let _ = to_main.send(Event::StdinEnded);
    });
    let escape = args.escape || (!args.raw && io::stdout().is_terminal());
    let printer = {
        let (writer, we_closed, binary_out) = (writer.clone(), we_closed.clone(), args.binary_out);
        thread::spawn(move || {
            let status = print_messages(reader, &writer, &we_closed, (binary_out, escape), &events);
            let _ = events.send(Event::Ended(status));
        })
    };

    // Linger after stdin ends until the server has been quiet for `--linger`.
    let mut quiet_since: Option<Instant> = None;
    let status = loop {
        let event = match quiet_since {
            None => heard.recv().ok(),
            Some(since) => match args.linger.checked_sub(since.elapsed()) {
                Some(left) if !left.is_zero() => match heard.recv_timeout(left) {
                    Ok(event) => Some(event),
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                },
                _ => {
                    log::debug!(
                        "stdin ended and the server was quiet for {:?}: closing",
                        args.linger
                    );
                    quiet_since = None;
                    we_closed.store(true, Ordering::SeqCst);
                    if let Err(err) = writer.close(CloseCode::NORMAL, "") {
                        log::debug!("close: {err}");
                    }
                    continue;
                }
            },
        };
        match event {
            Some(Event::StdinEnded) if !we_closed.load(Ordering::SeqCst) => {
                quiet_since = Some(Instant::now())
            }
            Some(Event::Heard) if quiet_since.is_some() => quiet_since = Some(Instant::now()),
            Some(Event::Ended(status)) => break status,
            Some(_) => {}
            // Both threads gone without a word: cannot happen, but end rather than hang.
            None => break status::LOST,
        }
    };
    let _ = printer.join();
    status
}

/// Sends each stdin line (without its line end) until stdin ends or sending fails.
fn send_stdin(writer: &Writer, binary: bool) {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) => {
                log::error!("cannot read stdin: {err}");
                return;
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let sent = if binary {
            writer.send_binary(&line)
        } else {
            match std::str::from_utf8(&line) {
                Ok(text) => writer.send_text(text),
                Err(_) => {
                    log::warn!("a stdin line is not UTF-8; sent with U+FFFD (use --binary)");
                    writer.send_text(&String::from_utf8_lossy(&line))
                }
            }
        };
        if let Err(err) = sent {
            // The connection ended; the printer thread reports how.
            log::debug!("send failed: {err}");
            return;
        }
    }
}

/// Prints each message until the connection ends; returns the exit status. If stdout
/// cannot be written (its reader went away) it closes with 1001 and carries on reading
/// until the closing handshake is done.
fn print_messages(
    mut reader: Reader,
    writer: &Writer,
    we_closed: &AtomicBool,
    (binary_out, escape): (bool, bool),
    events: &mpsc::Sender<Event>,
) -> u8 {
    let mut stdout = Some(io::stdout().lock());
    let mut server_close: Option<Option<CloseFrame<'static>>> = None;
    loop {
        let printed = match reader.recv() {
            Ok(Message::Text(text)) if escape => print(&mut stdout, |out| {
                writeln!(out, "{}", escape::escape_controls(&text))
            }),
            Ok(Message::Text(text)) => print(&mut stdout, |out| writeln!(out, "{text}")),
            Ok(Message::Binary(data)) if binary_out => {
                print(&mut stdout, |out| out.write_all(&data))
            }
            Ok(Message::Binary(data)) => print(&mut stdout, |out| writeln!(out, "{}", hex(&data))),
            Ok(Message::Close(frame)) => {
                server_close = Some(frame);
                continue;
            }
            Ok(_) => continue,
            Err(err) => return ending(err, server_close, we_closed.load(Ordering::SeqCst)),
        };
        let _ = events.send(Event::Heard);
        if !printed && !we_closed.swap(true, Ordering::SeqCst) {
            log::debug!("stdout is closed: closing the connection with 1001");
            if let Err(err) = writer.close(CloseCode::GOING_AWAY, "stdout closed") {
                log::debug!("close: {err}");
            }
        }
    }
}

/// Writes to stdout unless it failed before; false once it has failed.
fn print(
    stdout: &mut Option<io::StdoutLock<'_>>,
    write: impl FnOnce(&mut io::StdoutLock<'_>) -> io::Result<()>,
) -> bool {
    let Some(out) = stdout else { return false };
    match write(out).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(err) => {
            log::debug!("cannot write stdout: {err}");
            *stdout = None;
            false
        }
    }
}

/// The exit status for how the connection ended, with a line on stderr where it was not
/// a normal close.
fn ending(err: Error, server_close: Option<Option<CloseFrame<'static>>>, we_closed: bool) -> u8 {
    match err {
        Error::ConnectionClosed | Error::CloseTimeout { answered: true } => {
            if let Error::CloseTimeout { .. } = err {
                log::warn!("{err}");
            }
            match server_close.flatten() {
                Some(frame) if !we_closed && frame.code != CloseCode::NORMAL => {
                    log::error!("server closed with {} {}", frame.code, frame.reason);
                    status::SERVER_CLOSED
                }
                _ => status::NORMAL,
            }
        }
        Error::CloseTimeout { answered: false } => {
            log::error!("{err}");
            status::CLOSE_TIMEOUT
        }
        err => {
            log::error!("{err}");
            status::LOST
        }
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn echo_test(mut client: Client, count: usize, size: usize, binary: bool) -> u8 {
    let compression = if client.is_compressing() {
        ", compressed"
    } else {
        ""
    };
    let mut rtts = Vec::with_capacity(count);
    for i in 0..count {
        match echo_one(&mut client, i, size, binary) {
            Ok(rtt) => rtts.push(rtt),
            Err(Some(err)) => return ending(err, None, false),
            Err(None) => return status::FAILED,
        }
    }
    if let Err(err) = client.close(CloseCode::NORMAL, "") {
        return ending(err, None, true);
    }
    let mut server_close = None;
    let status = loop {
        match client.recv() {
            Ok(Message::Close(frame)) => server_close = Some(frame),
            Ok(_) => {}
            Err(err) => break ending(err, server_close, true),
        }
    };
    rtts.sort_unstable();
    let at = |q: f64| rtts[((rtts.len() - 1) as f64 * q).round() as usize];
    let report = if rtts.is_empty() {
        "echo test: 0 messages".to_owned()
    } else {
        format!(
            "echo test: {count} messages of {size} bytes{compression}, all echoed unchanged; round trip min {:?} p50 {:?} p99 {:?} max {:?}",
            at(0.0),
            at(0.5),
            at(0.99),
            at(1.0)
        )
    };
    if let Err(err) = writeln!(io::stdout(), "{report}") {
        log::debug!("cannot write stdout: {err}");
    }
    status
}

/// One round trip; `Err(None)` when the message came back wrong (said on stderr).
fn echo_one(
    client: &mut Client,
    i: usize,
    size: usize,
    binary: bool,
) -> Result<Duration, Option<Error>> {
    let payload: Vec<u8> = (0..size).map(|j| b'a' + ((i * 7 + j) % 26) as u8).collect();
    let started = Instant::now();
    if binary {
        client.send_binary(&payload).map_err(Some)?;
    } else {
        let text = String::from_utf8_lossy(&payload);
        client.send_text(&text).map_err(Some)?;
    }
    let echoed = loop {
        match client.recv().map_err(Some)? {
            Message::Text(text) if !binary => break text.into_bytes(),
            Message::Binary(data) if binary => break data,
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(frame) => {
                let why = frame.map_or_else(
                    || "no code".to_owned(),
                    |frame| format!("{} {}", frame.code, frame.reason),
                );
                log::error!("echo test: the server closed ({why}) before message {i} came back");
                return Err(None);
            }
            other => {
                log::error!("echo test: message {i}: got {other:?}");
                return Err(None);
            }
        }
    };
    let rtt = started.elapsed();
    if echoed != payload {
        log::error!("echo test: message {i} came back changed");
        return Err(None);
    }
    Ok(rtt)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Args;

    // The flags' defaults, written as text for --help, are the library's.
    #[test]
    fn flag_defaults_are_the_librarys() {
        let args = Args::try_parse_from(["ws-client", "ws://127.0.0.1/"]).expect("parses");
        assert_eq!(args.timeout, ws_client::DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(args.write_timeout, ws_client::DEFAULT_WRITE_TIMEOUT);
        assert_eq!(args.close_timeout, ws_client::DEFAULT_CLOSE_TIMEOUT);
        assert_eq!(args.keepalive, ws_client::DEFAULT_KEEPALIVE);
        assert_eq!(args.keepalive_timeout, ws_client::DEFAULT_KEEPALIVE_TIMEOUT);
    }

    // A keepalive timeout of 0 would declare every server dead at its first ping.
    #[test]
    fn a_zero_keepalive_timeout_is_a_usage_error() {
        let Err(err) = Args::try_parse_from(["ws-client", "--keepalive-timeout", "0", "ws://h/"])
        else {
            panic!("--keepalive-timeout 0 was accepted");
        };
        assert!(err.to_string().contains("more than 0"), "{err}");
    }
}
