//! The client side of `scripts/scale-out.sh` (issue 15's proof): N WebSocket clients
//! through HAProxy to three `ws-server --mode broadcast --redis ... --proxy-protocol`
//! processes that share one Redis, and the properties checked on them:
//!
//! 1. the clients land on all three servers, and each server reports the client's own
//!    address (the clients connect from 127.0.0.2, HAProxy from 127.0.0.1: a server that
//!    logs `127.0.0.2:PORT` for a client got it from the PROXY header);
//! 2. every published message reaches every client exactly once;
//! 3. after `kill -9` of one server its clients reconnect through HAProxy to the others,
//!    and the clients of the others lose nothing published meanwhile;
//! 4. after a Redis restart (kill -9, start again on the same port), fan-out across the
//!    processes works again, within seconds, with no server restarted;
//! 5. after SIGTERM (drain) of a server its clients get close 1001, and no new
//!    connection lands on it.
//!
//! Which server a client is on is read from the servers' logs (the line `ws-server`
//! writes with `Connection::ip()`/`port()` when a client connects), which the script
//! captures. It uses ws-tokio's client, not the blocking ws-client, for two reasons: it
//! binds each client's source address before connecting (127.0.0.2, so that the
//! address a server reports can be told from HAProxy's), and 300 clients are 300 tasks
//! on one thread instead of 300 threads on a 2-core machine.
//!
//! Every wait has a deadline; the first property that fails ends the program with
//! status 1 and a line saying which; all pass: status 0 and a summary with timings.
//!
//! ```text
//! scale_out --lb 127.0.0.1:PORT --server NAME=ADDR=PID=LOGFILE (three times)
//!           --redis-pidfile FILE --redis-start 'redis-server ...' [--clients 300]
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use ws_tokio::{ClientBuilder, CloseCode, Message, WriteHalf};

/// The longest any one step may take.
const STEP: Duration = Duration::from_secs(30);

/// The source address of every client: not HAProxy's (127.0.0.1).
const CLIENT_IP: [u8; 4] = [127, 0, 0, 2];

type Result<T> = std::result::Result<T, String>;

/// The start of the error of a run that passed what it could run but not all.
const NOT_RUN: &str = "NOT RUN: ";

/// One `ws-server` process.
#[derive(Debug, Clone)]
struct ServerProc {
    name: String,
    pid: u32,
    log: String,
}

#[derive(Debug)]
struct Args {
    lb: SocketAddr,
    servers: Vec<ServerProc>,
    redis_pidfile: String,
    redis_start: String,
    clients: usize,
    /// Whether the servers fan out through Redis (`--fanout redis`, the default) or only
    /// to their own clients (`--fanout local`: servers without --redis; what needs
    /// Redis is then reported as not run).
    cross: bool,
}

fn parse_args() -> Result<Args> {
    let mut lb = None;
    let mut servers = Vec::new();
    let mut redis_pidfile = None;
    let mut redis_start = None;
    let mut clients = 300;
    let mut cross = true;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--lb" => lb = Some(value.parse().map_err(|e| format!("--lb {value}: {e}"))?),
            "--server" => {
                let parts: Vec<&str> = value.splitn(4, '=').collect();
                let [name, _addr, pid, log] = parts[..] else {
                    return Err(format!("--server {value}: NAME=ADDR=PID=LOGFILE"));
                };
                servers.push(ServerProc {
                    name: name.to_owned(),
                    pid: pid
                        .parse()
                        .map_err(|e| format!("--server pid {pid}: {e}"))?,
                    log: log.to_owned(),
                });
            }
            "--redis-pidfile" => redis_pidfile = Some(value),
            "--redis-start" => redis_start = Some(value),
            "--clients" => clients = value.parse().map_err(|e| format!("--clients: {e}"))?,
            "--fanout" => {
                cross = match value.as_str() {
                    "redis" => true,
                    "local" => false,
                    _ => return Err(format!("--fanout {value}: redis or local")),
                }
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if servers.len() != 3 {
        return Err(format!(
            "three --server flags needed, got {}",
            servers.len()
        ));
    }
    Ok(Args {
        lb: lb.ok_or("--lb missing")?,
        servers,
        redis_pidfile: redis_pidfile.ok_or("--redis-pidfile missing")?,
        redis_start: redis_start.ok_or("--redis-start missing")?,
        clients,
        cross,
    })
}

/// What a client's reading task reports.
#[derive(Debug)]
enum Event {
    Text {
        client: usize,
        generation: u32,
        text: String,
    },
    Closed {
        client: usize,
        generation: u32,
        code: Option<u16>,
    },
    Gone {
        client: usize,
        generation: u32,
        error: String,
    },
}

/// One client, across reconnections (each connection is a new generation).
struct Client {
    generation: u32,
    local: SocketAddr,
    server: Option<usize>,
    writer: Option<WriteHalf<TcpStream>>,
    /// How many times each message text arrived (this generation and before).
    got: HashMap<String, u32>,
    /// The close code of the last connection, once it ended (None inside: no code).
    ended: Option<Option<u16>>,
    /// How the last connection ended without a close frame, if it did.
    why: String,
}

struct Run {
    args: Args,
    clients: Vec<Client>,
    events_tx: mpsc::UnboundedSender<Event>,
    events: mpsc::UnboundedReceiver<Event>,
    /// How far each server's log had been read when the current connections started.
    log_marks: Vec<usize>,
}

async fn connect_one(
    lb: SocketAddr,
    client: usize,
    generation: u32,
    tx: mpsc::UnboundedSender<Event>,
) -> Result<(SocketAddr, WriteHalf<TcpStream>)> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::from((CLIENT_IP, 0)))
        .map_err(|e| format!("bind 127.0.0.2: {e}"))?;
    let tcp = tokio::time::timeout(STEP, socket.connect(lb))
        .await
        .map_err(|_| format!("connect to {lb}: no answer within {STEP:?}"))?
        .map_err(|e| format!("connect to {lb}: {e}"))?;
    let local = tcp.local_addr().map_err(|e| format!("local addr: {e}"))?;
    let ws = ClientBuilder::new(&format!("ws://{lb}/"))
        .connect_timeout(Some(STEP))
        .connect_on(tcp)
        .await
        .map_err(|e| format!("upgrade through {lb}: {e}"))?;
    let (mut reader, writer) = ws.split();
    tokio::spawn(async move {
        loop {
            let event = match reader.recv().await {
                Some(Ok(Message::Text(text))) => Event::Text {
                    client,
                    generation,
                    text,
                },
                Some(Ok(Message::Close(frame))) => Event::Closed {
                    client,
                    generation,
                    code: frame.map(|f| f.code.into()),
                },
                Some(Ok(_)) => continue,
                Some(Err(e)) => Event::Gone {
                    client,
                    generation,
                    error: e.to_string(),
                },
                None => Event::Gone {
                    client,
                    generation,
                    error: "end of stream".into(),
                },
            };
            let last = !matches!(event, Event::Text { .. });
            if tx.send(event).is_err() || last {
                return;
            }
        }
    });
    Ok((local, writer))
}

impl Run {
    fn new(args: Args) -> Run {
        let (events_tx, events) = mpsc::unbounded_channel();
        let n = args.clients;
        let servers = args.servers.len();
        let mut run = Run {
            args,
            clients: Vec::with_capacity(n),
            events_tx,
            events,
            log_marks: vec![0; servers],
        };
        run.add_clients(n);
        run
    }

    fn add_clients(&mut self, more: usize) {
        for _ in 0..more {
            self.clients.push(Client {
                generation: 0,
                local: SocketAddr::from(([0, 0, 0, 0], 0)),
                server: None,
                writer: None,
                got: HashMap::new(),
                ended: None,
                why: String::new(),
            });
        }
    }

    fn server_name(&self, i: Option<usize>) -> &str {
        i.map_or("?", |i| self.args.servers[i].name.as_str())
    }

    /// (Re)connects the clients in `which`, a few at a time.
    async fn connect(&mut self, which: &[usize]) -> Result<()> {
        for chunk in which.chunks(20) {
            let mut pending = Vec::new();
            for &c in chunk {
                self.clients[c].generation += 1;
                let generation = self.clients[c].generation;
                let tx = self.events_tx.clone();
                let lb = self.args.lb;
                pending.push((c, tokio::spawn(connect_one(lb, c, generation, tx))));
            }
            for (c, task) in pending {
                let (local, writer) = task.await.map_err(|e| format!("connect task: {e}"))??;
                let client = &mut self.clients[c];
                client.local = local;
                client.writer = Some(writer);
                client.server = None;
                client.ended = None;
            }
        }
        Ok(())
    }

    /// Finds, in the servers' logs written since the last mark, the server of each client
    /// in `which`: the one whose log names the client's own address.
    async fn locate(&mut self, which: &[usize]) -> Result<()> {
        let deadline = Instant::now() + STEP;
        loop {
            let logs: Vec<String> = self
                .args
                .servers
                .iter()
                .map(|s| std::fs::read_to_string(&s.log).unwrap_or_default())
                .collect();
            let mut missing = 0;
            for &c in which {
                let needle = self.clients[c].local.to_string();
                let found: Vec<usize> = logs
                    .iter()
                    .enumerate()
                    .filter(|(i, log)| mentions(&log[self.log_marks[*i].min(log.len())..], &needle))
                    .map(|(i, _)| i)
                    .collect();
                match found[..] {
                    [one] => self.clients[c].server = Some(one),
                    [] => missing += 1,
                    _ => {
                        return Err(format!(
                            "client {needle} appears in the logs of several servers: {found:?}"
                        ));
                    }
                }
            }
            if missing == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{missing} clients' own addresses (127.0.0.2:PORT) are in no server's log within {STEP:?}: \
                     the servers do not report the PROXY header's address"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn mark_logs(&mut self) {
        for (i, s) in self.args.servers.iter().enumerate() {
            self.log_marks[i] = std::fs::metadata(&s.log).map_or(0, |m| m.len() as usize);
        }
    }

    fn on_server(&self, server: usize) -> Vec<usize> {
        (0..self.clients.len())
            .filter(|&c| self.clients[c].server == Some(server) && self.clients[c].ended.is_none())
            .collect()
    }

    fn record(&mut self, event: Event) {
        match event {
            Event::Text {
                client,
                generation,
                text,
            } => {
                let c = &mut self.clients[client];
                if c.generation == generation {
                    *c.got.entry(text).or_default() += 1;
                }
            }
            Event::Closed {
                client,
                generation,
                code,
            } => {
                let c = &mut self.clients[client];
                if c.generation == generation && c.ended.is_none() {
                    c.ended = Some(code);
                }
            }
            Event::Gone {
                client,
                generation,
                error,
            } => {
                let c = &mut self.clients[client];
                if c.generation == generation && c.ended.is_none() {
                    c.ended = Some(None);
                    c.why = error;
                }
            }
        }
    }

    /// Takes events until `done` holds, or fails after `limit`.
    async fn until(
        &mut self,
        what: &str,
        limit: Duration,
        done: impl Fn(&Run) -> bool,
    ) -> Result<Duration> {
        let start = Instant::now();
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.record(event),
                Ok(None) => return Err("event channel closed".into()),
                Err(_) => return Err(format!("{what}: not within {limit:?}")),
            }
        }
        // Whatever else is already queued (a duplicate would be here or later).
        while let Ok(event) = self.events.try_recv() {
            self.record(event);
        }
        Ok(start.elapsed())
    }

    async fn publish(&mut self, from: usize, text: &str) -> Result<()> {
        let writer = self.clients[from]
            .writer
            .as_mut()
            .ok_or_else(|| format!("client {from} has no connection"))?;
        writer
            .send(Message::text(text))
            .await
            .map_err(|e| format!("publish {text:?} from client {from}: {e}"))
    }

    /// Clients in `who` that did not get each of `texts` exactly once.
    fn check_exactly_once(&self, who: &[usize], texts: &[String]) -> Result<()> {
        for &c in who {
            for t in texts {
                let n = self.clients[c].got.get(t).copied().unwrap_or(0);
                if n != 1 {
                    return Err(format!(
                        "client {} on {} got {t:?} {n} times, not once",
                        self.clients[c].local,
                        self.server_name(self.clients[c].server)
                    ));
                }
            }
        }
        Ok(())
    }

    /// Who a message published on `server` reaches: every open client through Redis,
    /// else the server's own.
    fn receivers(&self, server: usize) -> Vec<usize> {
        if self.args.cross {
            (0..self.clients.len())
                .filter(|&c| self.clients[c].server.is_some() && self.clients[c].ended.is_none())
                .collect()
        } else {
            self.on_server(server)
        }
    }

    /// Waits until every client in `who` has each of `texts`; on failure says who lacks
    /// what.
    async fn expect_all(
        &mut self,
        what: &str,
        who: &[usize],
        texts: &[String],
    ) -> Result<Duration> {
        match self.until(what, STEP, |r| r.all_got(who, texts)).await {
            Ok(took) => Ok(took),
            Err(e) => {
                let lacking: Vec<(usize, &String)> = who
                    .iter()
                    .filter_map(|&c| {
                        texts
                            .iter()
                            .find(|t| !self.clients[c].got.contains_key(*t))
                            .map(|t| (c, t))
                    })
                    .collect();
                let example = lacking.first().map_or(String::new(), |&(c, t)| {
                    format!(
                        "; e.g. client {} on {} lacks {t:?}",
                        self.clients[c].local,
                        self.server_name(self.clients[c].server)
                    )
                });
                Err(format!(
                    "{e}: {} of {} clients lack messages{example}",
                    lacking.len(),
                    who.len()
                ))
            }
        }
    }

    fn all_got(&self, who: &[usize], texts: &[String]) -> bool {
        who.iter()
            .all(|&c| texts.iter().all(|t| self.clients[c].got.contains_key(t)))
    }

    fn spread(&self) -> String {
        let mut counts = vec![0; self.args.servers.len()];
        for c in &self.clients {
            if let (Some(s), None) = (c.server, c.ended) {
                counts[s] += 1;
            }
        }
        self.args
            .servers
            .iter()
            .zip(&counts)
            .map(|(s, n)| format!("{}: {n}", s.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `log` names `addr` as a whole (not `127.0.0.2:4000` inside `127.0.0.2:40001`).
fn mentions(log: &str, addr: &str) -> bool {
    log.match_indices(addr).any(|(at, _)| {
        !log[at + addr.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

fn signal(pid: u32, sig: &str) -> Result<()> {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .map_err(|e| format!("kill {sig} {pid}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill {sig} {pid}: {status}"))
    }
}

fn step(title: &str) {
    println!("scale-out: {title}");
}

async fn run(args: Args) -> Result<()> {
    let n = args.clients;
    let mut run = Run::new(args);
    let all: Vec<usize> = (0..n).collect();

    // 1. Connect through HAProxy; where did each land, and does each server see the
    //    client's own address?
    step(&format!(
        "connecting {n} clients from 127.0.0.2 through HAProxy at {}",
        run.args.lb
    ));
    run.mark_logs();
    run.connect(&all).await?;
    run.locate(&all).await?;
    let spread = run.spread();
    for s in 0..3 {
        if run.on_server(s).is_empty() {
            return Err(format!(
                "no client landed on {} ({spread})",
                run.args.servers[s].name
            ));
        }
    }
    println!("scale-out: PASS clients land on all three servers ({spread})");
    println!(
        "scale-out: PASS each server reports the client's own address (127.0.0.2:PORT, not HAProxy's 127.0.0.1)"
    );

    // 2. Fan-out: a message published on each server reaches every client once.
    let mut not_run = Vec::new();
    let texts: Vec<String> = (0..30).map(|i| format!("fanout-{i}")).collect();
    if run.args.cross {
        for (i, t) in texts.iter().enumerate() {
            let from = run.on_server(i % 3)[0];
            run.publish(from, t).await?;
        }
        let took = run
            .expect_all("every client gets the 30 messages", &all, &texts)
            .await?;
        run.check_exactly_once(&all, &texts)?;
        println!(
            "scale-out: PASS 30 messages published on the three servers reached all {n} clients exactly once ({} ms)",
            took.as_millis()
        );
    } else {
        let local = run.receivers(0);
        for t in &texts {
            run.publish(local[0], t).await?;
        }
        run.expect_all(
            "the server's own clients get the 30 messages",
            &local,
            &texts,
        )
        .await?;
        run.check_exactly_once(&local, &texts)?;
        println!(
            "scale-out: PASS (local only) 30 messages reached the {} clients of the publishing server exactly once",
            local.len()
        );
        not_run.push("every published message reaches all clients (needs ws-server --redis)");
    }

    // 3. kill -9 of one server while messages flow from another.
    let (victim, publisher_server, third) = (1, 0, 2);
    let victims = run.on_server(victim);
    let survivors: Vec<usize> = run
        .receivers(publisher_server)
        .into_iter()
        .filter(|c| !victims.contains(c))
        .collect();
    let publisher = run.on_server(publisher_server)[0];
    let flow: Vec<String> = (0..60).map(|i| format!("flow-{i}")).collect();
    step(&format!(
        "kill -9 {} ({} clients) while 60 messages flow from {}",
        run.args.servers[victim].name,
        victims.len(),
        run.args.servers[publisher_server].name
    ));
    for (i, t) in flow.iter().enumerate() {
        if i == 20 {
            signal(run.args.servers[victim].pid, "-KILL")?;
        }
        run.publish(publisher, t).await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    run.until(
        "the killed server's clients see their connection end",
        STEP,
        |r| victims.iter().all(|&c| r.clients[c].ended.is_some()),
    )
    .await?;
    run.expect_all(
        "the other servers' clients get the 60 messages",
        &survivors,
        &flow,
    )
    .await?;
    run.check_exactly_once(&survivors, &flow)?;
    println!(
        "scale-out: PASS the {} clients of the other servers {}got all 60 messages exactly once",
        survivors.len(),
        if run.args.cross {
            ""
        } else {
            "(the publisher's own: no Redis) "
        }
    );
    run.mark_logs();
    let reconnect_start = Instant::now();
    run.connect(&victims).await?;
    run.locate(&victims).await?;
    let reconnect_took = reconnect_start.elapsed();
    if let Some(&c) = victims
        .iter()
        .find(|&&c| run.clients[c].server == Some(victim))
    {
        return Err(format!(
            "client {} reconnected onto the killed server",
            run.clients[c].local
        ));
    }
    println!(
        "scale-out: PASS the {} clients of the killed server reconnected through HAProxy to the others in {} ms ({})",
        victims.len(),
        reconnect_took.as_millis(),
        run.spread()
    );
    let after_kill: Vec<String> = (0..10).map(|i| format!("after-kill-{i}")).collect();
    let receivers = run.receivers(publisher_server);
    for t in &after_kill {
        run.publish(publisher, t).await?;
    }
    run.expect_all(
        "the clients get the messages after the kill",
        &receivers,
        &after_kill,
    )
    .await?;
    run.check_exactly_once(&receivers, &after_kill)?;
    println!(
        "scale-out: PASS after the kill, messages reach {} clients exactly once",
        receivers.len()
    );

    // 4. Redis restart: fan-out between the processes comes back with no server restarted.
    if !run.args.cross {
        not_run.push("fan-out back after a Redis restart (needs ws-server --redis)");
    } else {
        let pid: u32 = std::fs::read_to_string(&run.args.redis_pidfile)
            .map_err(|e| format!("{}: {e}", run.args.redis_pidfile))?
            .trim()
            .parse()
            .map_err(|e| format!("redis pid: {e}"))?;
        step(&format!(
            "kill -9 redis-server (pid {pid}) and start it again on the same port"
        ));
        signal(pid, "-KILL")?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let status = Command::new("sh")
            .args(["-c", &run.args.redis_start])
            .status()
            .map_err(|e| format!("restart redis: {e}"))?;
        if !status.success() {
            return Err(format!("restart redis: {status}"));
        }
        let restarted = Instant::now();
        // Each server's publisher finds out about the restart when it next publishes
        // (that message is lost: at-most-once), so every server probes until one of its
        // probes reaches every client.
        let mut back = [None; 3];
        let mut probe = 0;
        while [publisher_server, third].iter().any(|&s| back[s].is_none()) {
            for s in [publisher_server, third] {
                if back[s].is_some() {
                    continue;
                }
                let text = format!("probe-{s}-{probe}");
                let from = run.on_server(s)[0];
                run.publish(from, &text).await?;
                let everyone = run.receivers(s);
                let t = vec![text];
                if run
                    .until("probe", Duration::from_millis(250), |r| {
                        r.all_got(&everyone, &t)
                    })
                    .await
                    .is_ok()
                {
                    back[s] = Some(restarted.elapsed());
                }
            }
            probe += 1;
            if restarted.elapsed() > STEP {
                return Err(format!(
                    "fan-out across processes not back within {STEP:?} of the Redis restart"
                ));
            }
        }
        let back = back.iter().flatten().max().copied().unwrap_or_default();
        let after_redis: Vec<String> = (0..20).map(|i| format!("after-redis-{i}")).collect();
        for (i, t) in after_redis.iter().enumerate() {
            let from = run.on_server(if i % 2 == 0 { publisher_server } else { third })[0];
            run.publish(from, t).await?;
        }
        run.expect_all(
            "all clients get the messages after the Redis restart",
            &all,
            &after_redis,
        )
        .await?;
        run.check_exactly_once(&all, &after_redis)?;
        println!(
            "scale-out: PASS fan-out back {} ms after Redis restarted (no server restarted); 20 more messages reached all {n} exactly once",
            back.as_millis()
        );
    }

    // 5. Drain: SIGTERM to one server; its clients get 1001, new clients land elsewhere.
    let drained = third;
    let drained_clients = run.on_server(drained);
    step(&format!(
        "SIGTERM (drain) to {} ({} clients)",
        run.args.servers[drained].name,
        drained_clients.len()
    ));
    signal(run.args.servers[drained].pid, "-TERM")?;
    let drain_start = Instant::now();
    // New connections while the drained server still holds its clients (its grace
    // period): none may land on it. Its listener is closed and its /healthz says 503, so
    // HAProxy sends them to the others (retrying a refused connect elsewhere).
    tokio::time::sleep(Duration::from_millis(300)).await;
    run.mark_logs();
    let fresh: Vec<usize> = (run.clients.len()..run.clients.len() + 30).collect();
    run.add_clients(fresh.len());
    run.connect(&fresh).await?;
    run.locate(&fresh).await?;
    if let Some(&c) = fresh
        .iter()
        .find(|&&c| run.clients[c].server == Some(drained))
    {
        return Err(format!(
            "new client {} landed on the draining server",
            run.clients[c].local
        ));
    }
    let still_open = drained_clients
        .iter()
        .filter(|&&c| run.clients[c].ended.is_none())
        .count();
    println!(
        "scale-out: PASS {} new connections made during the drain landed on the others ({}; {still_open} clients still open on the drained server then)",
        fresh.len(),
        run.spread()
    );
    run.until(
        "the drained server's clients get a close frame",
        Duration::from_secs(90),
        |r| {
            drained_clients
                .iter()
                .all(|&c| r.clients[c].ended.is_some())
        },
    )
    .await?;
    let drain_took = drain_start.elapsed();
    let away = Some(u16::from(CloseCode::GOING_AWAY));
    if let Some(&c) = drained_clients
        .iter()
        .find(|&&c| run.clients[c].ended.flatten() != away)
    {
        let client = &run.clients[c];
        return Err(format!(
            "drained client {} ended with close code {:?} ({}), not 1001",
            client.local,
            client.ended.flatten(),
            client.why
        ));
    }
    println!(
        "scale-out: PASS the {} clients of the drained server got close 1001 ({} ms after SIGTERM)",
        drained_clients.len(),
        drain_took.as_millis()
    );
    if !not_run.is_empty() {
        return Err(NOT_RUN.to_owned() + &not_run.join("; "));
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("scale_out: {e}");
            std::process::exit(2);
        }
    };
    match run(args).await {
        Ok(()) => println!("scale-out: all properties hold"),
        Err(e) if e.starts_with(NOT_RUN) => {
            println!("scale-out: {e}");
            std::process::exit(3);
        }
        Err(e) => {
            println!("scale-out: FAIL {e}");
            std::process::exit(1);
        }
    }
}
