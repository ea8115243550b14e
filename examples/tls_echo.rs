//! An echo server over wss://, the Rust version of the Perl documentation's
//! IO::Socket::SSL example: the TLS handshake runs inside the server loop.
//!
//! `cargo run -p examples --example tls_echo -- [PORT [CERT.pem KEY.pem]]` (default
//! 8443). Without a certificate a self-signed one for `localhost` is made and its PEM
//! printed, for a client's trust store (`ws-client --ca-file`). Ctrl-C closes every
//! client with 1001.

use ws_server_blocking::{Server, tls};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = examples::port_arg(8443);
    let args: Vec<String> = std::env::args().skip(2).collect();
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
        _ => return Err("usage: tls_echo [PORT [CERT.pem KEY.pem]]".into()),
    };
    println!("clients connect to wss://localhost:{port}/ (the name in the certificate)");
    let builder = Server::builder()
        .listen(format!("127.0.0.1:{port}"))
        .tls(config)
        .on_connect(|_server, conn| {
            conn.on_utf8(|conn, msg| conn.send_utf8(msg));
            conn.on_binary(|conn, msg| conn.send_binary(msg));
        });
    examples::serve(builder, "wss")?;
    Ok(())
}
