//! GraphQL subscriptions over WebSocket on `/graphql` (`graphql-transport-ws`). The JWT comes in
//! the `connection_init` payload, as `{"Authorization": "Bearer <jwt>"}` or `{"token": "<jwt>"}`,
//! and is validated exactly as on HTTP; the connection then carries that viewer.

use super::AppState;
use crate::auth::{authenticate, bearer_token};
use crate::graphql::RequestContext;
use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use serde_json::Value;

/// Bounds on what one connection may cost: small messages in, a small write buffer out.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const WRITE_BUFFER_BYTES: usize = 8 * 1024;

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

pub fn upgrade(state: AppState, upgrade: WebSocketUpgrade, protocol: GraphQLProtocol) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(MAX_MESSAGE_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            let (db, keys) = (state.db.clone(), state.keys.clone());
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = token_from(&payload)
                        .ok_or_else(|| async_graphql::Error::new("connection_init must carry a bearer token"))?;
                    let viewer = authenticate(&db, &keys, &token)
                        .await
                        .map_err(|e| async_graphql::Error::new(e.public_message()))?;
                    let mut data = Data::default();
                    data.insert(RequestContext::new(&db, viewer));
                    Ok(data)
                })
                .serve()
        })
}
