//! `ws-server`: a WebSocket echo (or broadcast) server.
//!
//! `cargo run --release -p ws-server-blocking --bin ws-server` serves ws://127.0.0.1:8080/
//! and echoes every message. Ctrl-C or SIGTERM closes every client with 1001 and exits; a
//! second one exits at once.
//!
//! Log records go to stderr through `env_logger` (`--log LEVEL`, or `RUST_LOG` when
//! `--log` is not given). Output that cannot be written (a closed stderr or stdout, as
//! after `ws-server 2>&1 | head -1`) is dropped: it never stops the server or its
//! signal handling.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use signal_hook::consts::{SIGINT, SIGTERM};
use ws_server_blocking::{DeflateConfig, Error, Server, tls};

#[derive(Parser)]
#[command(
    version,
    about = "A WebSocket echo or broadcast server (Net::WebSocket::Server in Rust)",
    after_help = "SIGINT or SIGTERM closes every client with 1001 and exits once they have \
        answered (or --close-timeout passed); a second signal exits at once.\n\
        Log records go to stderr (--log, or RUST_LOG when --log is not given); a closed \
        stderr or stdout never stops the server."
)]
struct Args {
    /// Address to listen on, IPv4 or IPv6 with a port (such as [::1]:8080).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// What to do with each message: send it back, or send it to every client.
    #[arg(long, value_enum, default_value_t = Mode::Echo)]
    mode: Mode,
    /// Serve wss:// with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Accept only pages from this origin; others get 403 Forbidden.
    #[arg(long)]
    origin: Option<String>,
    /// Ping clients silent for half this many seconds; drop them after as many more.
    /// 0 disables.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    silence_max: u64,
    /// The largest message accepted, in bytes (larger ones are closed with 1009).
    /// Default 64 MiB.
    #[arg(long, value_name = "BYTES")]
    max_message_size: Option<usize>,
    /// The largest frame accepted, in bytes (larger ones are closed with 1009).
    /// Default 16 MiB.
    #[arg(long, value_name = "BYTES")]
    max_frame_size: Option<usize>,
    /// Unsent bytes a connection may have queued before it is dropped as not reading.
    /// Default 8 MiB.
    #[arg(long, value_name = "BYTES")]
    max_pending_output: Option<usize>,
    /// Seconds a pinged client may stay silent before it is dropped; 0 keeps silent
    /// clients (as the Perl module does). Default: --silence-max.
    #[arg(long, value_name = "SECS")]
    silence_timeout: Option<u64>,
    /// Seconds a client has to complete its handshake (TLS included).
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    handshake_timeout: u64,
    /// Seconds to wait for a client's part of a closing handshake, for its end of the
    /// TCP connection, and for it to read what it is still owed; then it is dropped.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    close_timeout: u64,
    /// The largest handshake request header block, in bytes; larger ones get 431.
    /// Raise it for sites with many or large cookies.
    #[arg(long, default_value_t = 8 * 1024, value_name = "BYTES")]
    max_head_size: usize,
    /// The most header fields in a handshake request; more get 431.
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_headers: usize,
    /// The largest message sent, in bytes: an echo of a larger one fails and closes the
    /// connection with 1011. Default 64 MiB; raise it together with --max-message-size
    /// past 64 MiB, so that every message accepted can be echoed.
    #[arg(long, value_name = "BYTES")]
    max_send_size: Option<usize>,
    /// Accept permessage-deflate (RFC 7692) from clients that offer it. Saves bandwidth
    /// on text that compresses; costs CPU, and about 330 KiB per connection that sends
    /// compressed messages.
    #[arg(long, overrides_with = "no_deflate")]
    deflate: bool,
    /// Decline compression (the default).
    #[arg(long, overrides_with = "deflate")]
    no_deflate: bool,
    /// Connections served at once; more are answered with 503.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    max_connections: usize,
    /// Log level: off, error, warn, info, debug or trace. Default: RUST_LOG if set
    /// (env_logger's syntax, such as `ws_server_blocking=debug`), else info.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    log: Option<log::LevelFilter>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Echo,
    Broadcast,
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
            say_err(first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    init_logger(args.log);
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            say_err(&err.to_string());
            ExitCode::FAILURE
        }
    }
}

/// One line on stderr; dropped if stderr cannot be written.
fn say_err(text: &str) {
    let _ = writeln!(std::io::stderr(), "ws-server: {text}");
}

/// Log records to stderr via env_logger: `--log LEVEL` if given, else `RUST_LOG`, else
/// info. env_logger drops a record it cannot write.
fn init_logger(level: Option<log::LevelFilter>) {
    let mut builder = env_logger::Builder::new();
    match level {
        Some(level) => {
            builder.filter_level(level);
        }
        None if std::env::var_os("RUST_LOG").is_some() => {
            builder.parse_env("RUST_LOG");
        }
        None => {
            builder.filter_level(log::LevelFilter::Info);
        }
    }
    let _ = builder.try_init();
}

fn run(args: Args) -> Result<(), Error> {
    let mut builder = Server::builder()
        .listen(args.listen.as_str())
        .silence_max(Duration::from_secs(args.silence_max));
    if let Some(secs) = args.silence_timeout {
        builder = builder.silence_timeout((secs > 0).then(|| Duration::from_secs(secs)));
    }
    let mut limits = ws_proto::handshake::Limits::default();
    limits.max_head_size = args.max_head_size;
    limits.max_headers = args.max_headers;
    builder = builder
        .handshake_timeout(Duration::from_secs(args.handshake_timeout))
        .close_timeout(Duration::from_secs(args.close_timeout))
        .handshake_limits(limits)
        .max_connections(args.max_connections);
    if let Some(max) = args.max_send_size {
        builder = builder.max_send_size(max);
    }
    if let Some(max) = args.max_message_size {
        builder = builder.max_recv_size(max);
    }
    if let Some(max) = args.max_frame_size {
        builder = builder.max_frame_size(max);
    }
    if let Some(max) = args.max_pending_output {
        builder = builder.max_pending_output(max);
    }
    if args.deflate {
        builder = builder.deflate(Some(DeflateConfig::default()));
    }
    let scheme = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            builder = builder.tls(tls::config_from_pem(cert, key)?);
            "wss"
        }
        _ => "ws",
    };
    let origin = args.origin;
    let mode = args.mode;
    let builder = builder.on_connect(move |_server, conn| {
        if let Some(origin) = origin.clone() {
            conn.on_handshake(move |_conn, hs| {
                if hs.request().origin() != Some(origin.as_str()) {
                    hs.refuse(403);
                }
            });
        }
        match mode {
            Mode::Echo => {
                conn.on_utf8(|conn, msg| conn.send_utf8(msg));
                conn.on_binary(|conn, msg| conn.send_binary(msg));
            }
            Mode::Broadcast => {
                conn.on_utf8(|conn, msg| {
                    conn.server().broadcast_utf8(msg);
                });
                conn.on_binary(|conn, msg| {
                    conn.server().broadcast_binary(msg);
                });
            }
        }
    });

    let server = builder.bind()?;
    let handle = server.shutdown_handle();
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        let mut signals = signals.forever();
        if let Some(signal) = signals.next() {
            // Shutdown is asked for first, so that nothing after it can keep it from
            // happening.
            handle.shutdown();
            log::info!("signal {signal}: shutting down (a second signal exits at once)");
        }
        if let Some(signal) = signals.next() {
            log::warn!("signal {signal} again: exiting at once");
            std::process::exit(128 + signal);
        }
    });
    let addr = server.local_addr();
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "ws-server: listening on {scheme}://{addr}/ ({})",
        if mode == Mode::Echo {
            "echo"
        } else {
            "broadcast"
        }
    )
    .and_then(|()| stdout.flush());
    server.start()
}

fn parse_level(level: &str) -> Result<log::LevelFilter, String> {
    level
        .parse()
        .map_err(|_| format!("{level:?} is not one of off, error, warn, info, debug, trace"))
}
