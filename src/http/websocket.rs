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
//! `{"token": "<jwt>"}` and is validated exactly as on HTTP. One connection's cost is bounded:
//! 64 KiB messages, a small write buffer, at most 100 operations at once.

use super::AppState;
use crate::auth::{Viewer, authenticate, bearer_token};
use crate::graphql::RequestContext;
use async_graphql::{Request, Variables};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub const PROTOCOL: &str = "graphql-transport-ws";
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const WRITE_BUFFER_BYTES: usize = 8 * 1024;
const MAX_OPERATIONS: usize = 100;

pub fn upgrade(state: AppState, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
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
    viewer: Option<Viewer>,
    init_received: bool,
    operations: HashMap<String, JoinHandle<()>>,
    finished: mpsc::UnboundedSender<String>,
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
            viewer: None,
            init_received: false,
            operations: HashMap::new(),
            finished,
        };
        let init_deadline = tokio::time::sleep(Duration::from_secs(conn.state.limits.ws_init_timeout));
        tokio::pin!(init_deadline);

        let closing = loop {
            tokio::select! {
                _ = &mut init_deadline, if !conn.init_received => {
                    break Some((4408, "Connection initialisation timeout"));
                }
                _ = shutdown.changed() => {
                    break Some((1001, "Server shutting down"));
                }
                Some(id) = finished_rx.recv() => {
                    conn.operations.remove(&id);
                }
                message = incoming.next() => match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                    Some(Ok(Message::Text(t))) => match conn.handle(t.as_str()).await {
                        Next::Continue => {}
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
                match authenticate(&self.state.db, &self.state.keys, &token).await {
                    Ok(viewer) => {
                        self.viewer = Some(viewer);
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
                let Some(viewer) = self.viewer.clone() else {
                    return Next::Close(4401, "Unauthorized");
                };
                if self.operations.contains_key(id) {
                    return Next::Close(4409, "Subscriber for this id already exists");
                }
                if self.operations.len() >= MAX_OPERATIONS {
                    return Next::Close(4400, "Too many operations on one connection");
                }
                let mut request = Request::new(query);
                if let Some(name) = payload.get("operationName").and_then(Value::as_str) {
                    request = request.operation_name(name);
                }
                if let Some(vars) = payload.get("variables").filter(|v| v.is_object()) {
                    request = request.variables(Variables::from_json(vars.clone()));
                }
                let request = request.data(RequestContext::new(&self.state.db, viewer));
                let task = self.spawn_operation(id.to_string(), request);
                self.operations.insert(id.to_string(), task);
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

    /// Run one operation: `next` for each result, then `complete`; a document that cannot run
    /// is one `error` message.
    fn spawn_operation(&self, id: String, request: Request) -> JoinHandle<()> {
        let (schema, out, finished) = (self.state.schema.clone(), self.out.clone(), self.finished.clone());
        tokio::spawn(async move {
            let mut results = schema.execute_stream(request);
            while let Some(response) = results.next().await {
                let not_executed = response.data == async_graphql::Value::Null
                    && !response.errors.is_empty()
                    && response.errors.iter().all(|e| e.path.is_empty());
                let payload = serde_json::to_value(&response).unwrap_or(Value::Null);
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
