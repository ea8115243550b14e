//! An echo server over wss://, the Rust version of the Perl documentation's
//! IO::Socket::SSL example: the TLS handshake runs inside the server loop.
//!
//! `cargo run -p examples --example tls_echo -- CERT.pem KEY.pem`, or with no arguments
//! a self-signed certificate for `localhost` is made and its PEM printed, for a client's
//! trust store (`ws-client --ca-file`).

use ws_server_blocking::{Server, tls};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match args.as_slice() {
        [cert, key] => tls::config_from_pem(cert, key)?,
        [] => {
            let made = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
            println!(
                "self-signed certificate for localhost:\n{}",
                made.cert.pem()
            );
            let key_der = made.signing_key.serialize_der();
            tls::config(
                vec![made.cert.der().clone()],
                rustls_pki_types::PrivatePkcs8KeyDer::from(key_der).into(),
            )?
        }
        _ => return Err("usage: tls_echo [CERT.pem KEY.pem]".into()),
    };
    println!("listening on wss://localhost:8443/");
    Server::builder()
        .listen("127.0.0.1:8443")
        .tls(config)
        .on_connect(|_server, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
            conn.on_binary(|conn, msg| conn.send_binary(msg));
        })
        .start()?;
    Ok(())
}
