//! `ws-server --mode chat`: a chat page at `/`, its WebSocket at `/ws` or `/ws/ROOM`.
//!
//! Each room is a set of connections that joined it; a message said in a room goes to each
//! of them. The protocol is in `protocol.rs` and `docs/chat-protocol.md`; the page in
//! `chat.html`, served by `page.rs`.
//!
//! Limits, each a flag: names and rooms (`names.rs`); the text of one message
//! (`--chat-max-text`, and frames past four bytes a character are closed with 1009 before
//! they are read); messages per connection (`--chat-rate` a second, `--chat-burst` at once:
//! past them the connection is closed with 1008); pages from other origins (403, unless
//! `--chat-allow-origin`).

mod names;
mod page;
mod protocol;
mod rate;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ws_server_blocking::{
    Builder, CloseCode, Connection, HttpRequest, HttpResponse, Server, Worker,
};

use names::{DEFAULT_ROOM, check_name, check_room};
use protocol::{Incoming, Outgoing};
use rate::Bucket;

/// The chat's settings, as flags of `ws-server`.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Chat mode (--mode chat)")]
pub struct ChatArgs {
    /// The most characters in one chat message; longer ones are refused with an error
    /// to the page. Frames larger than four bytes a character (plus 1 KiB) are closed
    /// with 1009.
    #[arg(long, default_value_t = 2000, value_name = "CHARS")]
    pub chat_max_text: usize,
    /// Messages a second each connection may send, on average; a connection past it
    /// (and past --chat-burst) is closed with 1008.
    #[arg(long, default_value_t = 5.0, value_name = "PER_SEC", value_parser = parse_rate)]
    pub chat_rate: f64,
    /// Messages a connection may send at once before --chat-rate applies.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub chat_burst: u32,
    /// Seconds between two lists of who is in each room that each server sends (pages
    /// forget a server not heard from for three times as long).
    #[arg(long, default_value_t = 5, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub chat_presence_every: u64,
    /// Accept the chat's WebSocket from pages of this origin too (such as
    /// https://example.com), besides the page's own; `*` accepts any. Repeatable. By
    /// default the Origin must name the host the page was served from (the request's Host).
    #[arg(long, value_name = "ORIGIN")]
    pub chat_allow_origin: Vec<String>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

/// Where a connection stands in the chat.
#[derive(Debug)]
enum Stage {
    /// Upgraded; no join yet. The room from the path (`/ws/ROOM`), if any.
    Waiting { path_room: Option<String> },
    /// In `room` as `name`; `id` is the member's key in `Chat::rooms` (unique in the
    /// process, whichever worker loop holds the connection).
    Joined { room: String, name: String, id: u64 },
}

/// What the chat keeps on each connection.
#[derive(Debug)]
struct Member {
    stage: Stage,
    bucket: Bucket,
}

/// The chat of one server process: its settings, its id, and who of each room it holds.
#[derive(Debug)]
pub struct Chat {
    args: ChatArgs,
    csp: String,
    server_id: String,
    /// Room -> the members of this process in it (by member id), with their names.
    rooms: Mutex<BTreeMap<String, HashMap<u64, String>>>,
    /// The next member id.
    next_id: AtomicU64,
}

impl Chat {
    /// The chat with `args`; `origin` (`--origin`) is one more origin allowed.
    pub fn new(mut args: ChatArgs, origin: Option<String>) -> Arc<Chat> {
        args.chat_allow_origin.extend(origin);
        Arc::new(Chat {
            csp: page::content_security_policy(),
            server_id: server_id(),
            rooms: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            args,
        })
    }

    /// Sets the builder's tick period to the presence period. The page is answered by
    /// [`http`](Self::http), which the caller's HTTP hook calls; the connections are set up
    /// in each worker by [`setup`](Self::setup).
    pub fn install(&self, builder: Builder) -> Builder {
        builder.tick_period(Duration::from_secs(self.args.chat_presence_every))
    }

    /// One worker loop's callbacks: its connections, and (worker 0 only, since the lists
    /// are the process's) the presence lists on each tick.
    pub fn setup(self: &Arc<Chat>, worker: &mut Worker) {
        if worker.index() == 0 {
            let chat = self.clone();
            worker.on_tick(move |server| chat.tick(server));
        }
        let chat = self.clone();
        worker.on_connect(move |_server, conn| chat.connect(conn));
    }

    /// The answer to a plain HTTP request: the page at `/`, 404 for paths not the chat's;
    /// `None` for upgrades (the WebSocket handshake goes on) and `/healthz`.
    pub fn http(&self, request: &HttpRequest) -> Option<HttpResponse> {
        if request.is_upgrade() {
            return None;
        }
        let answer = page::answer(request.method(), request.path(), &self.csp)?;
        let mut response = HttpResponse::new(answer.status);
        for (name, value) in &answer.headers {
            response = response.header(name, value);
        }
        Some(response.body(answer.body))
    }

    /// Sets a new connection's callbacks.
    pub fn connect(self: &Arc<Chat>, conn: Connection<'_>) {
        let max_bytes = self
            .args
            .chat_max_text
            .saturating_mul(4)
            .saturating_add(1024);
        conn.set_max_recv_size(max_bytes);
        let chat = self.clone();
        conn.on_handshake(move |conn, hs| {
            let request = hs.request();
            let path_room = match request.path() {
                "/ws" => None,
                path => match path.strip_prefix("/ws/") {
                    Some(room) => match check_room(room) {
                        Ok(room) => Some(room.to_owned()),
                        Err(why) => {
                            return hs.refuse_with(
                                ws_server_blocking::ws_proto::handshake::Reject::new(400)
                                    .header("Content-Type", "text/plain; charset=utf-8")
                                    .body(format!("{why}\n")),
                            );
                        }
                    },
                    None => return hs.refuse(404),
                },
            };
            if let Err(why) = chat.origin_allowed(request.origin(), request.host()) {
                log::info!("{}: refused: {why}", conn.peer_addr());
                return hs.refuse_with(
                    ws_server_blocking::ws_proto::handshake::Reject::new(403)
                        .header("Content-Type", "text/plain; charset=utf-8")
                        .body(format!("{why}\n")),
                );
            }
            conn.set_data(Member {
                stage: Stage::Waiting { path_room },
                bucket: Bucket::new(chat.args.chat_rate, chat.args.chat_burst, Instant::now()),
            });
        });
        let chat = self.clone();
        conn.on_utf8(move |conn, text| chat.receive(conn, Some(text)));
        let chat = self.clone();
        conn.on_binary(move |conn, _| chat.receive(conn, None));
        let chat = self.clone();
        conn.on_disconnect(move |conn, code, reason| chat.leave(conn, code, reason));
    }

    /// Same origin by default (RFC 6455 section 10.2: the server decides which origins it
    /// serves; browsers always send Origin, other clients may leave it out): the Origin's
    /// host and port must be the request's Host, whatever the scheme (TLS may end at a
    /// proxy in front).
    fn origin_allowed(&self, origin: Option<&str>, host: &str) -> Result<(), String> {
        let Some(origin) = origin else {
            return Ok(());
        };
        let allowed = &self.args.chat_allow_origin;
        if allowed
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
        {
            return Ok(());
        }
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if !host.is_empty() && authority.eq_ignore_ascii_case(host) {
            Ok(())
        } else {
            Err(format!(
                "origin {origin} is not this chat's ({host}); ws-server --chat-allow-origin \
                 {origin} would accept it"
            ))
        }
    }

    /// One message from a page (`None`: a binary one).
    fn receive(&self, conn: Connection<'_>, text: Option<&str>) {
        let now = Instant::now();
        let Some(allowed) = conn.with_data(|m: &mut Member| m.bucket.take(now)) else {
            return;
        };
        if !allowed {
            log::info!("{}: closed for flooding", conn.peer_addr());
            conn.disconnect(
                CloseCode::POLICY_VIOLATION,
                &format!(
                    "rate limit: at most {} messages a second ({} at once)",
                    self.args.chat_rate, self.args.chat_burst
                ),
            );
            return;
        }
        let Some(text) = text else {
            return self.refuse(conn, "binary", "the chat takes JSON text messages only");
        };
        match Incoming::parse(text) {
            Err(why) => self.refuse(conn, "bad_request", &why),
            Ok(Incoming::Join { name, room }) => self.join(conn, name, room),
            Ok(Incoming::Message { text }) => self.say(conn, &text),
        }
    }

    fn join(&self, conn: Connection<'_>, name: String, room: Option<String>) {
        let path_room = match conn.with_data(|m: &mut Member| match &m.stage {
            Stage::Waiting { path_room } => Ok(path_room.clone()),
            Stage::Joined { room, .. } => Err(room.clone()),
        }) {
            Some(Ok(path_room)) => path_room,
            Some(Err(room)) => {
                return self.refuse(
                    conn,
                    "already_joined",
                    &format!("already in room {room}: reconnect to change rooms"),
                );
            }
            None => return,
        };
        if let Err(why) = check_name(&name) {
            return self.refuse(conn, "bad_name", &why);
        }
        let room = match (path_room, room) {
            (Some(path), Some(room)) if path != room => {
                return self.refuse(
                    conn,
                    "bad_room",
                    &format!("the join names room {room}, the address room {path}"),
                );
            }
            (Some(room), _) | (None, Some(room)) => room,
            (None, None) => DEFAULT_ROOM.to_owned(),
        };
        if let Err(why) = check_room(&room) {
            return self.refuse(conn, "bad_room", &why);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        conn.with_data(|m: &mut Member| {
            m.stage = Stage::Joined {
                room: room.clone(),
                name: name.clone(),
                id,
            }
        });
        self.lock()
            .entry(room.clone())
            .or_default()
            .insert(id, name.clone());
        conn.subscribe(&topic(&room));
        log::info!("{}: {name} joined {room}", conn.peer_addr());
        let _ = conn.send_utf8(
            &Outgoing::Joined {
                name: &name,
                room: &room,
                server: &self.server_id,
            }
            .to_json(),
        );
        self.send_presence(conn.server(), &room);
    }

    fn say(&self, conn: Connection<'_>, text: &str) {
        let Some(Some((room, name))) = conn.with_data(|m: &mut Member| match &m.stage {
            Stage::Joined { room, name, .. } => Some((room.clone(), name.clone())),
            Stage::Waiting { .. } => None,
        }) else {
            return self.refuse(conn, "not_joined", "join a room before sending messages");
        };
        let chars = text.chars().count();
        if chars > self.args.chat_max_text {
            return self.refuse(
                conn,
                "too_long",
                &format!(
                    "a message has at most {} characters (this one has {chars})",
                    self.args.chat_max_text
                ),
            );
        }
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let json = Outgoing::Message {
            room: &room,
            name: &name,
            text,
            time,
        }
        .to_json();
        publish(conn.server(), &room, &json);
    }

    fn refuse(&self, conn: Connection<'_>, code: &str, message: &str) {
        let _ = conn.send_utf8(&Outgoing::Error { code, message }.to_json());
    }

    fn leave(&self, conn: Connection<'_>, code: u16, reason: &str) {
        let joined = conn.with_data(|m: &mut Member| match &m.stage {
            Stage::Joined { room, id, .. } => Some((room.clone(), *id)),
            Stage::Waiting { .. } => None,
        });
        let Some(Some((room, id))) = joined else {
            return;
        };
        {
            let mut rooms = self.lock();
            if let Some(members) = rooms.get_mut(&room) {
                if let Some(name) = members.remove(&id) {
                    log::info!("{}: {name} left {room} ({code} {reason})", conn.peer_addr());
                }
                if members.is_empty() {
                    rooms.remove(&room);
                }
            }
        }
        self.send_presence(conn.server(), &room);
    }

    /// Every room's presence list, on each tick.
    fn tick(&self, server: &Server) {
        let rooms: Vec<String> = self.lock().keys().cloned().collect();
        for room in rooms {
            self.send_presence(server, &room);
        }
    }

    /// This process's list of who is in `room`, to everyone in it.
    fn send_presence(&self, server: &Server, room: &str) {
        let mut names: Vec<String> = self
            .lock()
            .get(room)
            .map(|members| members.values().cloned().collect())
            .unwrap_or_default();
        names.sort();
        let json = Outgoing::Presence {
            room,
            server: &self.server_id,
            names: &names,
            every: self.args.chat_presence_every,
        }
        .to_json();
        publish(server, room, &json);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, HashMap<u64, String>>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The topic of a room: every page in it, on every worker of every process that shares a
/// broker (`--redis`).
fn topic(room: &str) -> String {
    format!("chat:{room}")
}

/// Sends `json` to every page in `room`.
fn publish(server: &Server, room: &str, json: &str) {
    server.publish_utf8(&topic(room), json);
}

/// `PID.RANDOM`: the process id (to find the process) and 32 random bits (ids differ across
/// machines too).
fn server_id() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 4];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    format!("{}.{:08x}", std::process::id(), u32::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_allowing(allow: &[&str]) -> Arc<Chat> {
        Chat::new(
            ChatArgs {
                chat_max_text: 10,
                chat_rate: 1.0,
                chat_burst: 1,
                chat_presence_every: 5,
                chat_allow_origin: allow.iter().map(|s| s.to_string()).collect(),
            },
            None,
        )
    }

    #[test]
    fn same_origin_by_default() {
        let chat = chat_allowing(&[]);
        assert!(
            chat.origin_allowed(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")
                .is_ok()
        );
        assert!(
            chat.origin_allowed(Some("https://Chat.Example:443"), "chat.example:443")
                .is_ok()
        );
        assert!(chat.origin_allowed(None, "127.0.0.1:8080").is_ok());
        let err = chat
            .origin_allowed(Some("http://evil.example"), "127.0.0.1:8080")
            .unwrap_err();
        assert!(
            err.contains("--chat-allow-origin http://evil.example"),
            "{err}"
        );
        assert!(chat.origin_allowed(Some("null"), "127.0.0.1:8080").is_err());
        assert!(
            chat.origin_allowed(Some("http://127.0.0.1:8080"), "")
                .is_err()
        );
    }

    #[test]
    fn other_origins_when_allowed() {
        let chat = chat_allowing(&["http://friend.example"]);
        assert!(
            chat.origin_allowed(Some("http://friend.example"), "h:1")
                .is_ok()
        );
        assert!(
            chat.origin_allowed(Some("http://foe.example"), "h:1")
                .is_err()
        );
        let any = chat_allowing(&["*"]);
        assert!(
            any.origin_allowed(Some("http://foe.example"), "h:1")
                .is_ok()
        );
    }

    #[test]
    fn server_ids_start_with_the_pid() {
        let chat = chat_allowing(&[]);
        let pid = std::process::id().to_string();
        assert_eq!(chat.server_id.split_once('.').unwrap().0, pid);
        assert_ne!(chat.server_id, server_id());
    }
}
