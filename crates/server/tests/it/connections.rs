//! Connection limits: a client that never finishes its headers and an idle keep-alive
//! connection are closed, a request in flight is not, at most `max_connections` are served at
//! once, and every request knows its peer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wharf_server::connections::{ConnectionLimits, serve};

/// Serves a small app within `limits`; its address.
async fn start(limits: ConnectionLimits) -> SocketAddr {
    let app = Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "done"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app, limits, std::future::pending()));
    addr
}

/// Reads until the server closes the connection; how long that took (`None`: still open
/// after `within`).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(
            within.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

/// Sends a whole request and reads its response head and body (`Content-Length` framed).
async fn exchange(stream: &mut TcpStream, path: &str) -> String {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering");
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn unfinished_headers_and_idle_connections_are_closed() {
    let addr = start(ConnectionLimits {
        header_read_timeout: Duration::from_millis(600),
        idle_timeout: Duration::from_millis(1200),
        max_connections: 100,
    })
    .await;
    // Half a request header.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /peer HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let took = closed_within(&mut slow, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|t| t >= Duration::from_millis(500)),
        "{took:?}"
    );
    // Nothing at all.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5))
            .await
            .is_some()
    );
    // Idle after a response: kept longer than the header timeout, closed after the idle one.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let answer = exchange(&mut idle, "/peer").await;
    assert!(answer.ends_with("127.0.0.1"), "{answer}");
    let took = closed_within(&mut idle, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|t| t >= Duration::from_secs(1)),
        "{took:?}"
    );
    // A request that takes longer than both is not cut.
    let mut busy = TcpStream::connect(addr).await.unwrap();
    assert!(exchange(&mut busy, "/slow").await.ends_with("done"));
}

#[tokio::test]
async fn at_most_max_connections_are_served_at_once() {
    let addr = start(ConnectionLimits {
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        max_connections: 2,
    })
    .await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    exchange(&mut first, "/peer").await;
    let mut second = TcpStream::connect(addr).await.unwrap();
    exchange(&mut second, "/peer").await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    let waiting =
        tokio::time::timeout(Duration::from_millis(700), exchange(&mut third, "/peer")).await;
    assert!(waiting.is_err(), "a third connection was served");
    drop(first);
    let served = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        third.read(&mut buf).await.unwrap()
    })
    .await;
    assert!(
        served.is_ok_and(|n| n > 0),
        "the third connection was not served after one closed"
    );
}
