//! GraphQL over WebSocket on `/graphql`, protocol `graphql-transport-ws`, implemented here so
//! that it keeps the protocol's close codes (the library's handler measurably does not):
//!
//! | event | answer |
//! |---|---|
//! | no `connection_init` within the init timeout | close 4408 |
//! | `connection_init` with a missing or invalid token | close 4403 |
//! | a second `connection_init` | close 4429 |
//! | `subscribe` before `connection_ack` | close 4401 |
//! | `subscribe` with an id already in use | close 4409 |
//! | anything unparsable, unknown or binary | close 4400 |
//!
//! The JWT comes in the `connection_init` payload as `{"Authorization": "Bearer <jwt>"}` or
//! `{"token": "<jwt>"}` and is validated exactly as on HTTP, and again for every operation: a
//! socket never outlives its rights. It is closed with 4403 when the token expires, and when a
//! periodic re-check finds the user deactivated. Operations pass the same `door` as HTTP
//! requests (every limit, the time limit); a refused one is an `error` message with codes.
//! One connection's cost is bounded: 64 KiB messages, a small write buffer, a cap on operations
//! at once and on connections per user.

use super::AppState;
use super::door;
use crate::auth::{Viewer, authenticate_session, bearer_token};
use crate::error::AppError;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub const PROTOCOL: &str = "graphql-transport-ws";
/// What the server may send in one message (results are paged, so this is ample).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// Open sockets per user on this instance, for the per-user cap.
#[derive(Default)]
pub struct Sockets(Mutex<HashMap<i64, usize>>);

impl Sockets {
    fn try_add(&self, user_id: i64, max: usize) -> bool {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(user_id).or_default();
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    fn remove(&self, user_id: i64) {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&user_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&user_id);
            }
        }
    }
}

pub fn upgrade(state: AppState, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols([PROTOCOL])
        // A client message may be as large as an HTTP body: the door then applies the same
        // document limits to both.
        .max_message_size(state.limits.max_body_bytes)
        .max_frame_size(state.limits.max_body_bytes)
        .read_buffer_size(WRITE_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(4 * MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| Connection::run(state, socket))
}

/// Whether the client offered our subprotocol.
pub fn offers_protocol(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL)
}

/// The token from a `connection_init` payload.
fn token_from(payload: &Value) -> Option<String> {
    let obj = payload.as_object()?;
    if let Some(t) = obj.get("token").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    let header = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.as_str())?;
    bearer_token(Some(header)).ok().map(str::to_string)
}

fn text(value: Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

fn close(code: u16, reason: &str) -> Message {
    // A close frame's reason must fit in 123 bytes.
    let reason: String = reason.chars().take(100).collect();
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }))
}

struct Connection {
    state: AppState,
    out: mpsc::Sender<Message>,
    /// The `connection_init` token, checked again for every operation.
    token: Option<String>,
    viewer: Option<Viewer>,
    /// When the token expires: the socket closes with 4403 then.
    expires: Option<tokio::time::Instant>,
    init_received: bool,
    operations: HashMap<String, JoinHandle<()>>,
    finished: mpsc::UnboundedSender<String>,
}

/// The outcome of checking a socket's credentials again.
enum Recheck {
    Valid(Box<Viewer>),
    Close(&'static str),
    Unavailable,
}

/// What to do after a message.
enum Next {
    Continue,
    Close(u16, &'static str),
}

impl Connection {
    async fn run(state: AppState, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let (out, mut outgoing) = mpsc::channel::<Message>(32);
        let writer = tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                let last = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || last {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let (finished, mut finished_rx) = mpsc::unbounded_channel::<String>();
        state
            .metrics
            .subscribers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut shutdown = state.shutdown.subscribe();
        let mut conn = Connection {
            state,
            out,
            token: None,
            viewer: None,
            expires: None,
            init_received: false,
            operations: HashMap::new(),
            finished,
        };
        let init_deadline = tokio::time::sleep(Duration::from_secs(conn.state.limits.ws_init_timeout));
        tokio::pin!(init_deadline);
        let far = tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86400);
        let expiry = tokio::time::sleep_until(far);
        tokio::pin!(expiry);
        let mut recheck = tokio::time::interval(Duration::from_secs(conn.state.limits.ws_recheck_interval));
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        recheck.tick().await;

        let closing = loop {
            tokio::select! {
                _ = &mut init_deadline, if !conn.init_received => {
                    break Some((4408, "Connection initialisation timeout"));
                }
                _ = shutdown.changed() => {
                    break Some((1001, "Server shutting down"));
                }
                _ = &mut expiry, if conn.expires.is_some() => {
                    break Some((4403, "Forbidden: the token has expired"));
                }
                _ = recheck.tick(), if conn.viewer.is_some() => {
                    if let Recheck::Close(reason) = conn.recheck().await {
                        break Some((4403, reason));
                    }
                }
                Some(id) = finished_rx.recv() => {
                    conn.operations.remove(&id);
                }
                message = incoming.next() => match message {
                    None | Some(Ok(Message::Close(_))) => break None,
                    Some(Err(e)) => {
                        // tungstenite's CapacityError ("Message too long: …").
                        let too_big = e.to_string().contains("too long");
                        if too_big {
                            break Some((1009, "Message too big"));
                        }
                        break None;
                    }
                    Some(Ok(Message::Text(t))) => match conn.handle(t.as_str()).await {
                        Next::Continue => {
                            if let Some(at) = conn.expires {
                                expiry.as_mut().reset(at);
                            }
                        }
                        Next::Close(code, reason) => break Some((code, reason)),
                    },
                    Some(Ok(Message::Binary(_))) => break Some((4400, "Binary messages are not supported")),
                    Some(Ok(_)) => {}
                },
            }
        };
        for (_, task) in conn.operations.drain() {
            task.abort();
        }
        if let Some((code, reason)) = closing {
            let _ = conn.out.send(close(code, reason)).await;
        }
        let metrics = conn.state.metrics.clone();
        if let Some(viewer) = &conn.viewer {
            conn.state.sockets.remove(viewer.user_id());
        }
        drop(conn);
        let _ = writer.await;
        metrics.subscribers.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }

    async fn send(&self, value: Value) {
        let _ = self.out.send(text(value)).await;
    }

    async fn handle(&mut self, raw: &str) -> Next {
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(raw) else {
            return Next::Close(4400, "Invalid message received");
        };
        match message.get("type").and_then(Value::as_str) {
            Some("connection_init") => {
                if self.init_received {
                    return Next::Close(4429, "Too many initialisation requests");
                }
                self.init_received = true;
                let payload = message.get("payload").cloned().unwrap_or(Value::Null);
                let Some(token) = token_from(&payload) else {
                    return Next::Close(4403, "Forbidden");
                };
                match authenticate_session(&self.state.db, &self.state.live.viewers, &self.state.keys, &token).await {
                    Ok((viewer, expires_at)) => {
                        if !self
                            .state
                            .sockets
                            .try_add(viewer.user_id(), self.state.limits.max_websockets_per_user)
                        {
                            return Next::Close(1013, "Too many connections for this user; try again later");
                        }
                        self.expires = Some(instant_of(expires_at));
                        self.viewer = Some(viewer);
                        self.token = Some(token);
                        self.send(json!({ "type": "connection_ack" })).await;
                        Next::Continue
                    }
                    Err(_) => Next::Close(4403, "Forbidden"),
                }
            }
            Some("ping") => {
                self.send(json!({ "type": "pong" })).await;
                Next::Continue
            }
            Some("pong") => Next::Continue,
            Some("subscribe") => {
                let (Some(id), Some(payload)) = (
                    message.get("id").and_then(Value::as_str),
                    message.get("payload").and_then(Value::as_object),
                ) else {
                    return Next::Close(4400, "Invalid message received");
                };
                let Some(query) = payload.get("query").and_then(Value::as_str) else {
                    return Next::Close(4400, "Invalid message received");
                };
                if self.viewer.is_none() {
                    return Next::Close(4401, "Unauthorized");
                }
                if self.operations.contains_key(id) {
                    return Next::Close(4409, "Subscriber for this id already exists");
                }
                if self.operations.len() >= self.state.limits.max_operations_per_connection {
                    let message = format!(
                        "at most {} operations may run at once on one connection",
                        self.state.limits.max_operations_per_connection
                    );
                    self.send_error(id, &message, "BAD_USER_INPUT").await;
                    return Next::Continue;
                }
                // Rights are those of now, not of `connection_init`.
                let viewer = match self.recheck().await {
                    Recheck::Valid(viewer) => *viewer,
                    Recheck::Close(reason) => return Next::Close(4403, reason),
                    Recheck::Unavailable => {
                        self.send_error(id, "internal error", "INTERNAL").await;
                        return Next::Continue;
                    }
                };
                let operation = door::Operation {
                    query: query.to_string(),
                    operation_name: payload.get("operationName").and_then(Value::as_str).map(str::to_string),
                    variables: payload.get("variables").and_then(Value::as_object).cloned(),
                };
                match door::admit(&self.state.limits, operation, false) {
                    Ok(admitted) => {
                        let task = self.spawn_operation(id.to_string(), viewer, admitted);
                        self.operations.insert(id.to_string(), task);
                    }
                    Err(refusal) => self.send_error(id, &refusal.message(), "BAD_USER_INPUT").await,
                }
                Next::Continue
            }
            Some("complete") => {
                if let Some(task) = message
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| self.operations.remove(id))
                {
                    task.abort();
                }
                Next::Continue
            }
            _ => Next::Close(4400, "Invalid message received"),
        }
    }

    /// Authenticate the socket's token again: the viewer as of now, or why the socket must
    /// close. `Recheck::Unavailable` when the database cannot answer: the operation is refused
    /// (`INTERNAL`, as over HTTP) but the socket is kept and checked again soon.
    async fn recheck(&mut self) -> Recheck {
        let (Some(token), Some(viewer)) = (&self.token, &self.viewer) else {
            return Recheck::Close("Forbidden");
        };
        match authenticate_session(&self.state.db, &self.state.live.viewers, &self.state.keys, token).await {
            Ok((fresh, _)) if fresh.user_id() == viewer.user_id() => {
                self.viewer = Some(fresh.clone());
                Recheck::Valid(Box::new(fresh))
            }
            Ok(_) => Recheck::Close("Forbidden"),
            Err(AppError::Unauthenticated(_)) => {
                Recheck::Close("Forbidden: the token or the account is no longer valid")
            }
            Err(e) => {
                tracing::warn!(error = %e.detail(), "cannot re-check a WebSocket's user");
                Recheck::Unavailable
            }
        }
    }

    /// An `error` message: the operation was refused before it ran.
    async fn send_error(&self, id: &str, message: &str, code: &str) {
        self.send(json!({ "id": id, "type": "error",
                          "payload": [{ "message": message, "extensions": { "code": code } }] }))
            .await;
    }

    /// Run one operation: `next` for each result, then `complete`; a document that cannot run
    /// is one `error` message.
    fn spawn_operation(&self, id: String, viewer: Viewer, admitted: door::Admitted) -> JoinHandle<()> {
        let (out, finished) = (self.out.clone(), self.finished.clone());
        let mut results = door::execute_stream(&self.state, viewer, admitted);
        tokio::spawn(async move {
            while let Some(response) = results.next().await {
                let not_executed = door::not_executed(&response);
                let payload = door::response_json(&response);
                if not_executed {
                    let _ = out
                        .send(text(json!({ "id": id, "type": "error", "payload": payload["errors"] })))
                        .await;
                    let _ = finished.send(id);
                    return;
                }
                if out
                    .send(text(json!({ "id": id, "type": "next", "payload": payload })))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = out.send(text(json!({ "id": id, "type": "complete" }))).await;
            let _ = finished.send(id);
        })
    }
}

/// A token's `exp` (seconds since the epoch) as a Tokio instant.
fn instant_of(expires_at: u64) -> tokio::time::Instant {
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    tokio::time::Instant::now() + Duration::from_secs(expires_at.saturating_sub(now_unix))
}
