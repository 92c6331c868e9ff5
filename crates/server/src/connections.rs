//! Serving connections with limits of their own, which a request timeout cannot give: a client
//! must send a request's headers within `header_read_timeout` (from the connection's start, or
//! from its first byte after a response), a keep-alive connection with nothing in flight is
//! closed after `idle_timeout`, and at most `max_connections` are served at once (more wait in
//! the listen backlog). Each request carries its peer address as axum's [`ConnectInfo`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The limits on connections (`[server]`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// How long a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a connection with no request in flight stays open.
    pub idle_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_mins(1),
            max_connections: 1024,
        }
    }
}

/// What one connection is doing, in milliseconds since it opened.
struct Activity {
    opened: Instant,
    /// Requests whose response has not been sent whole.
    in_flight: AtomicUsize,
    /// When the last response ended (or the connection opened).
    idle_since: AtomicU64,
    /// When bytes of a request arrived while nothing was in flight; `u64::MAX` when none did.
    waiting_since: AtomicU64,
}

/// Decrements the requests in flight when the response body is sent or dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.idle_since.store(self.0.now(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            waiting_since: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.waiting_since.store(u64::MAX, Ordering::Relaxed);
        InFlight(self.clone())
    }

    fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            let now = self.now();
            let _ = self.waiting_since.compare_exchange(
                u64::MAX,
                now,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// Resolves when the connection has outstayed a limit.
    async fn expired(&self, limits: ConnectionLimits) {
        let tick = limits
            .header_read_timeout
            .min(limits.idle_timeout)
            .div_f32(4.0)
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        loop {
            tokio::time::sleep(tick).await;
            if self.in_flight.load(Ordering::Relaxed) > 0 {
                continue;
            }
            let now = self.now();
            let waiting = self.waiting_since.load(Ordering::Relaxed);
            let over = if waiting == u64::MAX {
                now.saturating_sub(self.idle_since.load(Ordering::Relaxed))
                    > ms(limits.idle_timeout)
            } else {
                now.saturating_sub(waiting) > ms(limits.header_read_timeout)
            };
            if over {
                return;
            }
        }
    }
}

/// A socket that tells its connection's [`Activity`] when request bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then lets the
/// requests in flight finish.
///
/// # Errors
/// Never in practice: failed accepts (descriptors exhausted) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builder = Arc::new(Builder::new(TokioExecutor::new()));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let (stream, peer, slot) = accepted;
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(Watched {
            stream,
            activity: activity.clone(),
        });
        let service = hyper::service::service_fn({
            let (app, activity) = (app.clone(), activity.clone());
            move |request: http::Request<hyper::body::Incoming>| {
                let (app, activity) = (app.clone(), activity.clone());
                async move {
                    let in_flight = activity.request_started();
                    let mut request = request.map(Body::new);
                    request.extensions_mut().insert(ConnectInfo(peer));
                    let response = app.oneshot(request).await?;
                    Ok::<_, Infallible>(response.map(|body| {
                        Body::new(body.map_err(move |e| {
                            let _ = &in_flight;
                            e
                        }))
                    }))
                }
            }
        });
        let connection = graceful.watch(
            builder
                .serve_connection_with_upgrades(io, service)
                .into_owned(),
        );
        tokio::spawn(async move {
            tokio::select! {
                served = connection => {
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                () = activity.expired(limits) => {
                    tracing::debug!(%peer, "connection closed: it outstayed a timeout");
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The next connection, once a slot is free.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, tokio::sync::OwnedSemaphorePermit) {
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .unwrap_or_else(|_| unreachable!("the semaphore is never closed"));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => return (stream, peer, slot),
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
