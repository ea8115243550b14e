//! Differential: arbitrary messages encoded by one role and decoded by the other, through
//! arbitrary splits of the byte stream, with or without permessage-deflate (any agreed
//! parameters), come out exactly as they went in.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ws_proto::{CloseCode, Config, DeflateParams, Event, MessageKind, RecvBuffer, Role, Session};

#[derive(Arbitrary, Debug)]
enum Message {
    Text(String),
    Binary(Vec<u8>),
    Fragmented { text: bool, pieces: Vec<Vec<u8>> },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Compression {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: u8,
    client_max_window_bits: u8,
    level: u8,
    min_size: u8,
}

impl Compression {
    fn params(&self) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: 8 + self.server_max_window_bits % 8,
            client_max_window_bits: 8 + self.client_max_window_bits % 8,
            level: u32::from(self.level % 10),
            min_size: usize::from(self.min_size),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    client_sends: bool,
    compression: Option<Compression>,
    messages: Vec<Message>,
    reads: Vec<u8>,
}

fn session(role: Role, compression: &Option<Compression>) -> Session {
    match compression {
        Some(c) => Session::new(role, Config::default(), Some(c.params())),
        None => Session::new(role, Config::default(), None),
    }
}

fuzz_target!(|input: Input| {
    let (from, to) = if input.client_sends { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
    let mut sender = session(from, &input.compression);
    let mut expected = Vec::new();
    for message in input.messages {
        match message {
            Message::Text(text) => {
                sender.send_text(&text).unwrap();
                expected.push(Event::Text(text.into()));
            }
            Message::Binary(data) => {
                sender.send_binary(&data).unwrap();
                expected.push(Event::Binary(data.into()));
            }
            Message::Fragmented { text, pieces } => {
                let whole: Vec<u8> = pieces.concat();
                if text && std::str::from_utf8(&whole).is_err() {
                    continue;
                }
                let kind = if text { MessageKind::Text } else { MessageKind::Binary };
                let last = pieces.len().saturating_sub(1);
                for (i, piece) in pieces.iter().enumerate() {
                    sender.send_fragment(kind, piece, i == last).unwrap();
                }
                if pieces.is_empty() {
                    sender.send_fragment(kind, b"", true).unwrap();
                }
                expected.push(if text {
                    Event::Text(String::from_utf8(whole).unwrap().into())
                } else {
                    Event::Binary(whole.into())
                });
            }
            Message::Ping(data) if data.len() <= 125 => {
                sender.send_ping(&data).unwrap();
                expected.push(Event::Ping(data.into()));
            }
            Message::Pong(data) if data.len() <= 125 => {
                sender.send_pong(&data).unwrap();
                expected.push(Event::Pong(data.into()));
            }
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    sender.close(CloseCode::NORMAL, "end").unwrap();
    let wire = sender.pending().to_vec();

    let mut receiver = session(to, &input.compression);
    let mut buffer = RecvBuffer::new();
    let mut events = Vec::new();
    let mut at = 0;
    let mut reads = input.reads.iter().cycle();
    while at < wire.len() {
        let size = usize::from(reads.next().copied().unwrap_or(255)).max(1);
        let end = (at + size).min(wire.len());
        buffer.extend_from_slice(&wire[at..end]);
        at = end;
        while let Some(event) = receiver.decode(&mut buffer).expect("valid frames decode") {
            events.push(event.into_owned());
        }
    }
    assert!(matches!(events.pop(), Some(Event::Close(Some(_)))));
    assert_eq!(events, expected);
});
