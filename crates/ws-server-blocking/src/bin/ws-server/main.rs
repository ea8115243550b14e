//! `ws-server`: a WebSocket echo (or broadcast) server.
//!
//! `cargo run --release -p ws-server-blocking --features cli --bin ws-server` serves ws://127.0.0.1:8080/
//! and echoes every message. `GET /healthz` answers 200 while the server accepts, 503 while
//! it drains. SIGINT or SIGTERM drains: health turns 503 and the listener closes at once,
//! then after `--drain-grace` seconds every client gets close 1001 and the process exits
//! once they answered (or `--close-timeout` passed); a second signal exits at once.
//!
//! Log records go to stderr through `env_logger`, with timestamps (`--log LEVEL`, `-v`,
//! `-q`, or `RUST_LOG` when none of them is given). Output that cannot be written (a closed stderr or stdout, as
//! after `ws-server 2>&1 | head -1`) is dropped: it never stops the server or its
//! signal handling.

// The doc comments of the options are their `--help` text, written for a terminal:
// `[::1]:8080`, `[/DB]` and bare URLs are meant as printed, not as rustdoc links.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{ArgAction, Parser, ValueEnum};
use signal_hook::consts::{SIGINT, SIGTERM};
use ws_server_blocking::{Balance, DeflateConfig, Error, HttpResponse, RedisBroker, Server, tls};

mod chat;
mod self_signed;

const AFTER_HELP: &str = "\
Examples:
  ws-server                              echo on ws://127.0.0.1:8080/
  ws-server -l 9001 -m broadcast         every message to every client, port 9001
  ws-server -m chat                      a chat page at http://127.0.0.1:8080/
  ws-server -l 9001 -m broadcast --redis redis://127.0.0.1:6379/
                                         ... and to the clients of every other ws-server
                                         with the same --redis (run several)
  ws-server -l 0.0.0.0:8080 --workers 4  four loops on four threads, one port
  ws-server -l 9001 --proxy-protocol     behind HAProxy with send-proxy-v2 (deploy/haproxy.cfg)
  ws-server -l 0.0.0.0:8080              reachable from other machines
  ws-server --tls-self-signed            wss://localhost:8080/ with a development certificate
  ws-server --tls-cert cert.pem --tls-key key.pem -l [::]:8443
  ws-client ws://127.0.0.1:8080/         talk to it (a browser's address bar cannot: it
                                         gets 426 Upgrade Required)

GET /healthz answers 200 while the server accepts connections, 503 while it drains.
SIGINT or SIGTERM drains: /healthz turns 503 and the listener closes at once; after
--drain-grace seconds every client gets close 1001, and the process exits once they have
answered (or --close-timeout passed). A second signal exits at once.
Log records go to stderr with timestamps: connections coming and going at the default level
(info); -v adds debug, -vv trace, -q keeps warnings and errors, -qq errors only. --log
LEVEL or RUST_LOG (env_logger's syntax, such as ws_server_blocking=debug) choose exactly.
A closed stderr or stdout never stops the server.";

#[derive(Parser)]
#[command(
    name = "ws-server",
    version,
    about = "A WebSocket echo, broadcast or chat server (Net::WebSocket::Server in Rust)",
    after_help = AFTER_HELP
)]
struct Args {
    /// Where to listen: a port alone (8080 means 127.0.0.1:8080, this machine only), or
    /// an IPv4 or IPv6 address with a port (0.0.0.0:8080 for every interface, [::1]:8080).
    #[arg(short, long, default_value = "127.0.0.1:8080", value_name = "[ADDR:]PORT", value_parser = parse_listen)]
    listen: String,
    /// What to do with each message: send it back, or send it to every client (published
    /// to the topic `broadcast`, which every client subscribes to: with --workers, every
    /// worker's clients get it), or serve a chat: its page at /, its WebSocket at /ws
    /// (JSON; each room a topic, shared through --redis).
    #[arg(short, long, value_enum, default_value_t = Mode::Echo)]
    mode: Mode,
    /// Share --mode broadcast's messages and --mode chat's rooms with every ws-server
    /// process given the same Redis, through Redis pub/sub (channels ws:broadcast,
    /// ws:chat:ROOM): redis://HOST[:PORT][/DB]. Delivery between
    /// processes is at-most-once: what is sent while Redis is unreachable does not reach
    /// the other processes; the server reconnects with backoff and serves its own clients
    /// meanwhile.
    #[arg(long, value_name = "URL", value_parser = parse_redis)]
    redis: Option<ws_server_blocking::ws_redis::Config>,
    /// Worker loops, each on its own thread, all accepting on the same port
    /// (SO_REUSEPORT). One per core is the usual choice.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: u16,
    /// How --workers share connections: a number N hands a new connection from the
    /// worker that accepted it to the least-loaded worker when it holds more than N
    /// connections beyond it (0: spread evenly); `kernel` keeps each where the kernel's
    /// SO_REUSEPORT hash put it.
    #[arg(long, default_value = "0", value_name = "N|kernel", value_parser = parse_balance)]
    balance: Balance,
    /// Seconds between the start of a drain (SIGINT or SIGTERM: /healthz turns 503 and
    /// the listener closes) and the close 1001 sent to every client, so that a load
    /// balancer stops sending new clients first. 0 closes at once.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    drain_grace: u64,
    /// Serve wss:// with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Serve wss:// with a certificate for localhost, 127.0.0.1 and ::1 made now, for
    /// development: writes ca.pem, cert.pem and key.pem to DIR (default: ws-server-self-signed
    /// in the temporary directory) and prints how a client trusts it.
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true,
        conflicts_with_all = ["tls_cert", "tls_key"])]
    tls_self_signed: Option<Option<PathBuf>>,
    /// Accept only pages from this origin; others get 403 Forbidden.
    #[arg(short, long)]
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
    /// Microseconds a worker loop keeps polling without waiting after a poll that
    /// reported events, before it sleeps (at most 1,000); 0 (the default) sleeps at once.
    #[arg(long, default_value_t = 0, value_name = "MICROS")]
    spin_before_wait: u64,
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
    /// Connections served at once by each worker loop; more are answered with 503.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    max_connections: usize,
    /// Expect a PROXY protocol header (v1 or v2) at the start of every connection, as
    /// HAProxy's send-proxy-v2 writes it: clients' addresses come from it, and a
    /// connection without a valid one is closed (logged). Only behind a load balancer
    /// that alone can reach this port.
    #[arg(long)]
    proxy_protocol: bool,
    /// Log level: off, error, warn, info, debug or trace. Default: RUST_LOG if set
    /// (env_logger's syntax, such as `ws_server_blocking=debug`), else info.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    log: Option<log::LevelFilter>,
    /// More log records: -v debug, -vv trace.
    #[arg(short, long, action = ArgAction::Count, conflicts_with_all = ["quiet", "log"])]
    verbose: u8,
    /// Fewer log records: -q warnings and errors, -qq errors only, -qqq none.
    #[arg(short, long, action = ArgAction::Count, conflicts_with = "log")]
    quiet: u8,
    #[command(flatten)]
    chat: chat::ChatArgs,
}

impl Args {
    /// The level from --log, -v or -q, if any was given.
    fn level(&self) -> Option<log::LevelFilter> {
        use log::LevelFilter::*;
        if self.log.is_some() {
            return self.log;
        }
        match (self.verbose, self.quiet) {
            (0, 0) => None,
            (1, _) => Some(Debug),
            (_, 0) => Some(Trace),
            (_, 1) => Some(Warn),
            (_, 2) => Some(Error),
            _ => Some(Off),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Echo,
    Broadcast,
    Chat,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) if !err.use_stderr() => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // clap's whole message: what is wrong, the usage line and its tip.
            let _ = err.print();
            return ExitCode::from(2);
        }
    };
    init_logger(args.level());
    let made = match &args.tls_self_signed {
        Some(dir) => {
            let dir = dir.clone().unwrap_or_else(self_signed::default_dir);
            match self_signed::make(&dir) {
                Ok(files) => Some(files),
                Err(err) => {
                    say_err(&err);
                    return ExitCode::FAILURE;
                }
            }
        }
        None => None,
    };
    match run(args, made) {
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

/// Log records to stderr via env_logger, each with its time: `--log LEVEL`, `-v` or `-q`
/// if given, else `RUST_LOG`, else info. env_logger drops a record it cannot write.
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

fn run(args: Args, made: Option<self_signed::Files>) -> Result<(), Error> {
    let mut builder = Server::builder()
        .listen(args.listen.as_str())
        .silence_max(Duration::from_secs(args.silence_max))
        .spin_before_wait(Duration::from_micros(args.spin_before_wait));
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
        .max_connections(args.max_connections)
        .proxy_protocol(args.proxy_protocol);
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
    let scheme = match (&args.tls_cert, &args.tls_key, &made) {
        (Some(cert), Some(key), _) => {
            builder = builder.tls(tls::config_from_pem(cert, key)?);
            "wss"
        }
        (_, _, Some(files)) => {
            builder = builder.tls(tls::config_from_pem(&files.cert, &files.key)?);
            "wss"
        }
        _ => "ws",
    };
    if let Some(config) = args.redis.clone() {
        let url = config.url().to_owned();
        let redis = RedisBroker::start(config)
            .map_err(|e| std::io::Error::other(format!("--redis {url}: {e}")))?;
        builder = redis.install(builder);
        log::info!("topics fan out through Redis at {url} (at-most-once between processes)");
    }
    let origin = args.origin;
    let mode = args.mode;
    let chat = (mode == Mode::Chat).then(|| chat::Chat::new(args.chat, origin.clone()));
    if let Some(chat) = &chat {
        builder = chat.install(builder);
    }
    let page = chat.clone();
    // Whether the server is draining: /healthz answers 503 from then on.
    let draining = Arc::new(AtomicBool::new(false));
    let health = draining.clone();
    let builder = builder
        .workers(usize::from(args.workers))
        .balance(args.balance)
        .http_hook(move |server, request| {
            (request.path() == "/healthz")
                .then(|| {
                    if health.load(Ordering::SeqCst) || !server.is_accepting() {
                        HttpResponse::new(503).body("draining\n")
                    } else {
                        HttpResponse::new(200).body("ok\n")
                    }
                })
                .or_else(|| page.as_ref().and_then(|chat| chat.http(request)))
        })
        .worker_setup(move |worker| {
            if let Some(chat) = &chat {
                return chat.setup(worker);
            }
            // Callbacks set on the worker serve each of its connections: an idle
            // connection holds nothing for them.
            // Connections coming and going, at info: what a newcomer watching the
            // server expects to see (the library logs them at debug).
            worker.on_ready(|conn| log::info!("{}: connected", conn.peer_addr()));
            worker.on_disconnect(|conn, code, reason| {
                if conn.was_ready() {
                    log::info!("{}: disconnected ({code} {reason})", conn.peer_addr());
                }
            });
            if let Some(origin) = origin.clone() {
                worker.on_handshake(move |_conn, hs| {
                    if hs.request().origin() != Some(origin.as_str()) {
                        hs.refuse(403);
                    }
                });
            }
            match mode {
                Mode::Chat => {}
                Mode::Echo => {
                    worker.on_utf8(|conn, msg| conn.send_utf8(msg));
                    worker.on_binary(|conn, msg| conn.send_binary(msg));
                }
                Mode::Broadcast => {
                    worker.on_connect(|_server, conn| {
                        conn.subscribe(BROADCAST_TOPIC);
                    });
                    worker.on_utf8(|conn, msg| {
                        conn.server().publish_utf8(BROADCAST_TOPIC, msg);
                    });
                    worker.on_binary(|conn, msg| {
                        conn.server().publish_binary(BROADCAST_TOPIC, msg);
                    });
                }
            }
        });

    let server = builder.bind()?;
    let handle = server.handle();
    let grace = Duration::from_secs(args.drain_grace);
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        let Some(signal) = signals.forever().next() else {
            return;
        };
        // Health turns 503 first, so that nothing after it can keep a load balancer
        // sending clients here; then the listeners close.
        draining.store(true, Ordering::SeqCst);
        handle.stop_accepting();
        log::info!(
            "signal {signal}: draining: not accepting; clients get 1001 in {}s \
             (a second signal exits at once)",
            grace.as_secs()
        );
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Some(again) = signals.pending().next() {
                exit_at_once(again);
            }
            std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
        }
        handle.shutdown();
        log::info!("drain grace over: closing every client with 1001");
        if let Some(again) = signals.forever().next() {
            exit_at_once(again);
        }
    });
    let addr = server.local_addr();
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "ws-server: listening on {scheme}://{addr}/ ({})",
        match mode {
            Mode::Echo => "echo".to_owned(),
            Mode::Broadcast => "broadcast".to_owned(),
            Mode::Chat => format!("chat: open http://{addr}/ in a browser"),
        },
    )
    .and_then(|()| stdout.flush());
    if let Some(files) = made {
        let port = addr.port();
        let _ = writeln!(
            stdout,
            "ws-server: made a development certificate for localhost, 127.0.0.1 and ::1 (not \
             for production):\n  certificate {}\n  key         {}\n  its CA      {}\n\
             ws-server: clients trust it through the CA: \
             ws-client --ca-file {} wss://localhost:{port}/\n\
             ws-server: (curl --cacert, python's ssl.create_default_context(cafile=...) and \
             SSL_CERT_FILE take the same file; browsers import it as an authority)",
            files.cert.display(),
            files.key.display(),
            files.ca.display(),
            files.ca.display(),
        )
        .and_then(|()| stdout.flush());
    }
    server.start()
}

/// The topic every client subscribes to in `--mode broadcast` (Redis channel
/// `ws:broadcast` with --redis).
const BROADCAST_TOPIC: &str = "broadcast";

/// `--redis URL`: a usage error (exit 2) when the URL is not `redis://HOST[:PORT][/DB]`.
fn parse_redis(url: &str) -> Result<ws_server_blocking::ws_redis::Config, String> {
    ws_server_blocking::ws_redis::Config::new(url).map_err(|e| e.to_string())
}

/// A second signal: exit now, without waiting for anyone.
fn exit_at_once(signal: i32) -> ! {
    log::warn!("signal {signal} again: exiting at once");
    std::process::exit(128 + signal);
}

/// `--listen`: `PORT` alone means 127.0.0.1:PORT, as websocat's `-s PORT` does; anything
/// else is an address with a port, resolved when binding.
fn parse_balance(text: &str) -> Result<Balance, String> {
    if text == "kernel" {
        return Ok(Balance::Kernel);
    }
    text.parse()
        .map(|slack| Balance::LeastConnections { slack })
        .map_err(|_| "expected a number of connections (0, 2) or `kernel`".to_owned())
}

fn parse_listen(text: &str) -> Result<String, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(format!("127.0.0.1:{port}"));
    }
    if text.parse::<std::net::SocketAddr>().is_ok()
        || text
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
    {
        return Ok(text.to_owned());
    }
    Err("expected a port (8080) or an address with a port (127.0.0.1:8080, [::1]:8080)".to_owned())
}

fn parse_level(level: &str) -> Result<log::LevelFilter, String> {
    level
        .parse()
        .map_err(|_| format!("{level:?} is not one of off, error, warn, info, debug, trace"))
}
