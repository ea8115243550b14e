//! Runs every case of an Autobahn `wstest -m fuzzingserver` with ws-client, echoing each
//! message back, then asks the server to write its report. Used by
//! `scripts/autobahn.sh client`.
//!
//! `cargo run --release -p examples --example autobahn_client -- ws://127.0.0.1:9001`

use ws_client::{ClientBuilder, Error, Message};

const AGENT: &str = "ws-client";

fn main() -> Result<(), Error> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let mut counter = ws_client::connect(&format!("{base}/getCaseCount"))?;
    let count: usize = match counter.recv()? {
        Message::Text(text) => text.trim().parse().map_err(|_| Error::ConnectionClosed)?,
        other => panic!("unexpected answer to getCaseCount: {other:?}"),
    };
    println!("{count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        match ClientBuilder::new(&url).connect() {
            Ok(client) => echo_until_closed(client),
            Err(err) => eprintln!("case {case}: {err}"),
        }
    }
    let mut report = ws_client::connect(&format!("{base}/updateReports?agent={AGENT}"))?;
    report.close(ws_client::CloseCode::NORMAL, "")?;
    while report.recv().is_ok() {}
    Ok(())
}

fn echo_until_closed(mut client: ws_client::Client) {
    loop {
        let sent = match client.recv() {
            Ok(Message::Text(text)) => client.send_text(&text),
            Ok(Message::Binary(data)) => client.send_binary(&data),
            Ok(_) => Ok(()),
            Err(_) => return,
        };
        if sent.is_err() {
            return;
        }
    }
}
