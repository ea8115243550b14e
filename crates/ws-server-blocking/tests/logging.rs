//! The server's `log` records: connect, handshake refused, protocol error, disconnect.

mod common;

use std::io::Write;
use std::sync::Mutex;

use common::{PATIENCE, connect, echo, raw_exchange, serve};

static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

fn records_about(port: u16) -> Vec<String> {
    let needle = format!(":{port}: ");
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.contains(&needle))
        .cloned()
        .collect()
}

fn wait_for(port: u16, text: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let records = records_about(port);
        if records.iter().any(|r| r.contains(text)) {
            return records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no record with {text:?} in {records:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn connect_refusal_protocol_error_and_disconnect_are_logged() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let server = serve(echo);

    let mut client = connect(server.addr);
    let port = client.stream.local_addr().unwrap().port();
    client.stream.write_all(&[0x81, 0x01, b'x']).unwrap(); // unmasked: a protocol error
    client.expect_close();
    let records = wait_for(port, "disconnected");
    assert!(
        records
            .iter()
            .any(|r| r.starts_with("DEBUG") && r.ends_with("connected")),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .any(|r| r.starts_with("INFO") && r.contains("protocol error: unmasked frame")),
        "{records:?}"
    );
    assert!(
        records.iter().any(|r| r.contains("disconnected (1002")),
        "{records:?}"
    );

    let answer = raw_exchange(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 426"));
    let refused = RECORDS.lock().unwrap().iter().any(|r| {
        r.starts_with("INFO") && r.contains("handshake refused: missing or wrong Upgrade")
    });
    assert!(refused);
}
