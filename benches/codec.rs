//! ws-proto beside tungstenite on the same bytes, in the same run: decoding masked client
//! frames (the server's hot path), encoding, the server handshake, and UTF-8 validation.
//!
//! Both decoders read from memory as they would from a socket, each read copied once into
//! the decoder's own buffer, and both validate text. Two read models: every byte in one
//! read, and reads of at most 64 KiB (a socket's receive buffer, and ws-server's read
//! size), where ws-proto unmasks and validates each read while it is hot in cache and
//! tungstenite waits for whole frames.

use std::hint::black_box;
use std::io::{self, Read, Write};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_proto::handshake::RequestParser;
use ws_proto::{Config, Event, MessageKind, RecvBuffer, Role, Session, Utf8Validator};

/// `count` masked text messages of `size` bytes, each split into `fragments` frames, as a
/// client would send them.
fn client_stream(count: usize, size: usize, fragments: usize) -> Vec<u8> {
    let mut client = Session::new(Role::Client, Config::default(), None);
    let text: String = (0..size).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    for _ in 0..count {
        if fragments <= 1 {
            client.send_text(&text).unwrap();
        } else {
            let piece = size.div_ceil(fragments);
            let chunks: Vec<&[u8]> = text.as_bytes().chunks(piece).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                client
                    .send_fragment(MessageKind::Text, chunk, i + 1 == chunks.len())
                    .unwrap();
            }
        }
    }
    client.pending().to_vec()
}

/// A socket-sized read.
const SOCKET_READ: usize = 64 * 1024;

/// An in-memory stream for tungstenite: reads come from `input`, at most `max_read`
/// bytes at a time; writes go to `output`.
struct Memory<'a> {
    input: &'a [u8],
    max_read: usize,
    output: Vec<u8>,
}

impl Read for Memory<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.max_read);
        self.input.read(&mut buf[..n])
    }
}

impl Write for Memory<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Decodes `count` messages from `stream`, with a session and receive buffer kept across
/// runs as a server keeps them across reads.
struct WsProto {
    session: Session,
    input: RecvBuffer,
}

impl WsProto {
    fn new() -> WsProto {
        WsProto {
            session: Session::new(Role::Server, Config::default(), None),
            input: RecvBuffer::new(),
        }
    }

    fn decode(&mut self, stream: &[u8], count: usize, max_read: usize) {
        let mut seen = 0;
        for read in stream.chunks(max_read) {
            // The copy a socket read would do.
            self.input.extend_from_slice(read);
            while let Some(event) = self.session.decode(&mut self.input).unwrap() {
                if let Event::Text(text) = event {
                    black_box(text.len());
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, count);
    }
}

/// The same with tungstenite, its socket object (and its buffers) kept across runs.
struct Tungstenite {
    ws: tungstenite::WebSocket<Memory<'static>>,
}

impl Tungstenite {
    fn new(max_read: usize) -> Tungstenite {
        let memory = Memory {
            input: &[],
            max_read,
            output: Vec::new(),
        };
        Tungstenite {
            ws: tungstenite::WebSocket::from_raw_socket(
                memory,
                tungstenite::protocol::Role::Server,
                None,
            ),
        }
    }

    fn decode(&mut self, stream: &'static [u8], count: usize) {
        self.ws.get_mut().input = stream;
        for _ in 0..count {
            let message = self.ws.read().unwrap();
            black_box(message.len());
        }
    }
}

fn decode(c: &mut Criterion) {
    let cases = [
        ("64B x 10000", 10_000, 64, 1),
        ("16KiB", 1, 16 * 1024, 1),
        ("1MiB", 1, 1 << 20, 1),
        ("1MiB in 16 fragments", 1, 1 << 20, 16),
    ];
    for (group_name, max_read) in [
        ("decode, 64KiB reads", SOCKET_READ),
        ("decode, one read", usize::MAX),
    ] {
        let mut group = c.benchmark_group(group_name);
        for (name, count, size, fragments) in cases {
            let stream: &'static [u8] =
                Box::leak(client_stream(count, size, fragments).into_boxed_slice());
            group.throughput(Throughput::Bytes(stream.len() as u64));
            let mut ours = WsProto::new();
            group.bench_function(BenchmarkId::new("ws-proto", name), |b| {
                b.iter(|| ours.decode(stream, count, max_read))
            });
            let mut theirs = Tungstenite::new(max_read);
            group.bench_function(BenchmarkId::new("tungstenite", name), |b| {
                b.iter(|| theirs.decode(stream, count))
            });
        }
        group.finish();
    }
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let text: String = "x".repeat(64);
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("ws-proto/64B x 10000", |b| {
        b.iter(|| {
            let mut server = Session::new(Role::Server, Config::default(), None);
            for _ in 0..10_000 {
                server.send_text(&text).unwrap();
            }
            black_box(server.pending().len());
        })
    });
    group.bench_function("tungstenite/64B x 10000", |b| {
        b.iter(|| {
            let memory = Memory {
                input: &[],
                max_read: usize::MAX,
                output: Vec::new(),
            };
            let mut ws = tungstenite::WebSocket::from_raw_socket(
                memory,
                tungstenite::protocol::Role::Server,
                None,
            );
            for _ in 0..10_000 {
                ws.write(tungstenite::Message::text(text.clone())).unwrap();
            }
            ws.flush().unwrap();
            black_box(ws.get_ref().output.len());
        })
    });
    group.finish();
}

const REQUEST: &[u8] = b"GET /chat?room=general HTTP/1.1\r\nHost: server.example.com:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n\
Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n\
Sec-WebSocket-Version: 13\r\nOrigin: https://example.com\r\n\
Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Connection: keep-alive, Upgrade\r\nCookie: session=abc123; theme=dark\r\n\
Pragma: no-cache\r\nCache-Control: no-cache\r\nUpgrade: websocket\r\n\r\n";

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake");
    group.bench_function("ws-proto/parse and answer", |b| {
        b.iter(|| {
            let mut input = RecvBuffer::new();
            input.extend_from_slice(REQUEST);
            let request = RequestParser::new().parse(&mut input).unwrap().unwrap();
            black_box(request.accept().to_bytes().unwrap());
        })
    });
    group.bench_function("tungstenite/parse and answer", |b| {
        b.iter(|| {
            let ws = tungstenite::accept(Memory {
                input: REQUEST,
                max_read: usize::MAX,
                output: Vec::new(),
            })
            .unwrap();
            black_box(ws);
        })
    });
    group.finish();
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8");
    let ascii: Vec<u8> = (0..1 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let mixed: Vec<u8> = "snow \u{2603}, κόσμε, ひらがな, 😀 "
        .repeat(30_000)
        .into_bytes()[..1 << 20]
        .to_vec();
    let mixed = std::str::from_utf8(&mixed)
        .map(|_| mixed.clone())
        .unwrap_or_else(|e| mixed[..e.valid_up_to()].to_vec());
    for (name, bytes) in [("1MiB ASCII", &ascii), ("1MiB mixed", &mixed)] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("ws-proto in 16KiB pieces", name),
            bytes,
            |b, bytes| {
                b.iter(|| {
                    let mut v = Utf8Validator::new();
                    for piece in bytes.chunks(16 * 1024) {
                        v.feed(piece).unwrap();
                    }
                    v.finish().unwrap();
                })
            },
        );
        // What tungstenite does: std's validation of the whole message.
        group.bench_with_input(
            BenchmarkId::new("tungstenite (std::str::from_utf8)", name),
            bytes,
            |b, bytes| b.iter(|| black_box(std::str::from_utf8(bytes).unwrap().len())),
        );
    }
    group.finish();
}

criterion_group!(benches, decode, encode, handshake, utf8);
criterion_main!(benches);
