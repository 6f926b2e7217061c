//! The axum server's accept loop, with the limits of `[http]`:
//!
//! - a request head must arrive within `header_read_timeout_secs` of the connection
//!   opening or of the previous answer (hyper's HTTP/1 header-read timeout, which
//!   also closes kept-alive connections that stay idle that long);
//! - at most `max_connections` connections are served; one more is answered `503`
//!   with `Retry-After` and closed (a few of those at a time; past them, new
//!   connections wait in the listen backlog);
//! - an accept error (such as `Too many open files`) pauses the loop, growing to one
//!   second, and is logged at most once a minute with how many followed;
//! - on shutdown the listener is closed at once, connections finish their requests
//!   in flight within `shutdown_grace_secs`, and the ones still open then are closed.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::Service;

use crate::config::HttpConfig;

/// How many connections past the cap are answered 503 at the same time.
const BUSY_ANSWERS: usize = 64;
/// How long a 503 answer to a connection past the cap may take.
const BUSY_ANSWER_TIME: Duration = Duration::from_secs(1);
/// Accept errors are logged at most this often.
const ACCEPT_ERROR_REPORT: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` until `shutdown` completes, then as the module
/// documentation says.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    http: &HttpConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(http.header_read_timeout());
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let connections = Arc::new(Semaphore::new(http.max_connections.max(1)));
    let busy_answers = Arc::new(Semaphore::new(BUSY_ANSWERS));
    let retry_after = http.busy_retry_after_secs;
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut accept_errors = AcceptErrors::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                accept_errors.succeeded();
                accepted
            }
            Err(err) => {
                let pause = accept_errors.failed(&err);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        };
        match connections.clone().try_acquire_owned() {
            Ok(permit) => {
                let builder = builder.clone();
                let router = router.clone();
                let stopped = stopped.clone();
                tasks.spawn(async move {
                    connection(&builder, stream, peer, router, stopped).await;
                    drop(permit);
                });
            }
            Err(_) => match busy_answers.clone().try_acquire_owned() {
                Ok(permit) => {
                    tasks.spawn(async move {
                        let _ =
                            tokio::time::timeout(BUSY_ANSWER_TIME, busy(stream, retry_after)).await;
                        drop(permit);
                    });
                }
                Err(_) => drop(stream),
            },
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let grace = http.shutdown_grace();
    let drained = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_ok();
    if !drained {
        tracing::warn!(
            open = tasks.len(),
            "connections still busy after the shutdown grace of {grace:?} are closed"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// Serves one connection until it ends, or, once `stopped` says so, until its request
/// in flight is answered.
async fn connection(
    builder: &Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut router = router.clone();
        async move { router.call(request).await }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = async { let _ = stopped.wait_for(|stop| *stop).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Answers a connection past the cap: reads (and drops) the request head for a
/// moment, answers `503` with `Retry-After`, and closes the connection after
/// draining what else the client sent, so it sees the answer rather than a reset.
async fn busy(mut stream: TcpStream, retry_after: u64) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(BUSY_ANSWER_TIME / 4, async {
        while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let body =
        r#"{"success":false,"message":"The server is at its connection limit; try again shortly"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: {retry_after}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let mut left = 64 * 1024;
    while left > 0 {
        match stream.read(&mut sink).await {
            Ok(0) | Err(_) => break,
            Ok(n) => left -= n.min(left),
        }
    }
}

/// Accept errors in a row, and when they were last reported.
#[derive(Default)]
struct AcceptErrors {
    in_a_row: u32,
    unreported: u64,
    reported: Option<Instant>,
}

impl AcceptErrors {
    fn succeeded(&mut self) {
        self.in_a_row = 0;
    }

    /// Notes an accept error, logging it unless one was logged within the last
    /// minute; how long to pause before accepting again.
    fn failed(&mut self, err: &std::io::Error) -> Duration {
        self.in_a_row = self.in_a_row.saturating_add(1);
        let now = Instant::now();
        if self
            .reported
            .is_none_or(|at| now.duration_since(at) >= ACCEPT_ERROR_REPORT)
        {
            tracing::warn!(
                "accept error: {err} ({} more since the last report); pausing new connections",
                self.unreported
            );
            self.reported = Some(now);
            self.unreported = 0;
        } else {
            self.unreported += 1;
        }
        Duration::from_millis(10u64 << self.in_a_row.min(7)).min(Duration::from_secs(1))
    }
}
