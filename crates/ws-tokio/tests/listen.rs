//! `inherit_nodelay`: TCP_NODELAY set once on a listener reaches the sockets it accepts,
//! with no call per socket (Linux), and a WebSocket connection on such a socket works.

mod common;

use tokio::net::TcpStream;

#[tokio::test]
async fn accepted_sockets_inherit_nodelay_from_the_listener() {
    let (listener, addr) = common::listener().await;
    // Off by default on both ends: what the accepted socket has, it got from the listener.
    // On, then off again (a listener's setting can be cleared), then on.
    for nodelay in [true, false, true] {
        let inherited = ws_tokio::inherit_nodelay(&listener, nodelay);
        assert_eq!(inherited, cfg!(target_os = "linux"));
        let _client = common::within("connect", TcpStream::connect(addr))
            .await
            .expect("connect");
        let (accepted, _) = common::within("accept", listener.accept())
            .await
            .expect("accept");
        if inherited {
            assert_eq!(accepted.nodelay().expect("nodelay"), nodelay);
        }
    }
}

#[tokio::test]
async fn a_websocket_connection_runs_on_an_inheriting_socket() {
    let (listener, addr) = common::listener().await;
    let inherited = ws_tokio::inherit_nodelay(&listener, true);
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        assert_eq!(tcp.nodelay().expect("nodelay"), inherited);
        common::echo(ws_tokio::accept(tcp).await.expect("handshake")).await;
    });
    let mut ws = common::connect(addr, None).await;
    common::check_echo(
        &mut ws,
        &[ws_tokio::Message::text("over a socket set by its listener")],
    )
    .await;
    common::close(ws).await;
    common::within("server", server).await.expect("server task");
}
