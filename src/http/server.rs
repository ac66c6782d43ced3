//! The accept loop, in place of `axum::serve`, which has no connection cap, no header read
//! timeout and no shutdown deadline: a slow or greedy client could hold the server open.
//!
//! - At most `max_connections` TCP connections at once; one more is closed at once.
//! - A request head must arrive within `header_read_timeout` of the server waiting for it (a new
//!   connection, or a kept-alive one between requests); the body has `body_read_timeout` (the
//!   GraphQL handler); an operation has `request_timeout` (the door).
//! - On shutdown: stop accepting, ask every connection to finish (WebSockets close with 1001),
//!   and after `shutdown_timeout` return anyway.

use super::AppState;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()>) {
    let limits = state.limits.clone();
    let app = super::router(state.clone());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout));
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            state.metrics.connections_refused.fetch_add(1, Relaxed);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()))
            .with_upgrades();
        let mut stopping = state.shutdown.subscribe();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = async { while !*stopping.borrow_and_update() { if stopping.changed().await.is_err() { break; } } } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("stopping: finishing requests, closing subscriptions");
    state.begin_shutdown();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(limits.shutdown_timeout);
    while slots.available_permits() < limits.max_connections || state.metrics.subscribers.load(Relaxed) > 0 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                connections = limits.max_connections - slots.available_permits(),
                "connections still open after the shutdown timeout; stopping anyway"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
