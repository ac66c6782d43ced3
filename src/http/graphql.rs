//! `/graphql` per the GraphQL-over-HTTP specification, in front of `schema.execute`:
//!
//! - `Accept` picks `application/graphql-response+json` or `application/json` (the default);
//!   anything else is 406.
//! - A malformed request (bad JSON, bad parameters, no body) is 400 with `errors`.
//! - A document that cannot run (unparsable, invalid, over a limit) is 400 without `data`
//!   under `application/graphql-response+json`, 200 with `errors` under `application/json`.
//! - GET runs queries only (405 for a mutation); POST needs `Content-Type: application/json`.
//! - No valid bearer token: 401 with `UNAUTHENTICATED`, before anything else is looked at.

use super::AppState;
use super::door;
use crate::error::AppError;
use axum::body::{Body, Bytes};
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Duration;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphQLResponseJson,
    Json,
}

impl MediaType {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            MediaType::GraphQLResponseJson => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        })
    }
}

/// Choose the response type from `Accept`; `None` when the client accepts neither.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    let types: Vec<String> = accept
        .split(',')
        .map(|part| part.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if types.is_empty() {
        return Some(MediaType::Json);
    }
    for t in &types {
        match t.as_str() {
            GRAPHQL_RESPONSE_JSON => return Some(MediaType::GraphQLResponseJson),
            APPLICATION_JSON | "*/*" | "application/*" => return Some(MediaType::Json),
            _ => {}
        }
    }
    None
}

fn respond(status: StatusCode, media: MediaType, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, media.header());
    response
}

fn auth_error(media: MediaType, err: AppError) -> Response {
    super::error_response(err, media.header())
}

/// A malformed HTTP request (body, parameters): the given 4xx whatever the media type.
fn request_error(media: MediaType, status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": "BAD_USER_INPUT" } }] });
    respond(status, media, &body)
}

/// A well-formed request whose document cannot run (unparsable, invalid, over a limit): 400
/// under `application/graphql-response+json`, 200 under legacy `application/json`.
fn document_error(media: MediaType, message: impl Into<String>) -> Response {
    let status = match media {
        MediaType::GraphQLResponseJson => StatusCode::BAD_REQUEST,
        MediaType::Json => StatusCode::OK,
    };
    request_error(media, status, message)
}

/// The decoded parameters of a GraphQL request.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
}

fn params_from_object(mut obj: Map<String, Value>) -> Result<Params, String> {
    let query = match obj.remove("query") {
        Some(Value::String(q)) => q,
        Some(_) => return Err("`query` must be a string".into()),
        None => return Err("`query` is required".into()),
    };
    let operation_name = match obj.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("`operationName` must be a string or null".into()),
    };
    let variables = match obj.remove("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err("`variables` must be an object or null".into()),
    };
    match obj.remove("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("`extensions` must be an object or null".into()),
    }
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

fn params_from_url(raw: Option<&str>) -> Result<Params, String> {
    let pairs: HashMap<String, String> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let mut obj = Map::new();
    if let Some(q) = pairs.get("query") {
        obj.insert("query".into(), Value::String(q.clone()));
    }
    if let Some(name) = pairs.get("operationName").filter(|s| !s.is_empty()) {
        obj.insert("operationName".into(), Value::String(name.clone()));
    }
    for key in ["variables", "extensions"] {
        if let Some(text) = pairs.get(key).filter(|s| !s.is_empty()) {
            let value: Value = serde_json::from_str(text).map_err(|_| format!("`{key}` must be a JSON object"))?;
            obj.insert(key.into(), value);
        }
    }
    params_from_object(obj)
}

pub async fn get_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    match upgrade {
        Ok(upgrade) if super::websocket::offers_protocol(&headers) => super::websocket::upgrade(state, upgrade),
        Ok(_) => (
            StatusCode::BAD_REQUEST,
            "WebSocket subprotocol graphql-transport-ws required",
        )
            .into_response(),
        Err(_) => {
            let payload = Payload {
                query: raw,
                body: Body::empty(),
            };
            handle(state, headers, Method::Get, payload).await
        }
    }
}

pub async fn post_handler(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let payload = Payload { query: None, body };
    handle(state, headers, Method::Post, payload).await
}

/// What a request carries: the URL's query string (GET) or a body (POST), read only once the
/// caller is authenticated.
struct Payload {
    query: Option<String>,
    body: Body,
}

#[derive(PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

async fn handle(state: AppState, headers: HeaderMap, method: Method, payload: Payload) -> Response {
    let Some(media) = negotiate(&headers) else {
        let body = json!({ "errors": [{ "message": "acceptable response types: application/graphql-response+json, application/json",
                                        "extensions": { "code": "BAD_USER_INPUT" } }] });
        return respond(StatusCode::NOT_ACCEPTABLE, MediaType::Json, &body);
    };

    // Authentication first: an anonymous caller learns nothing, not even whether the request
    // would have parsed, and sends no body we read.
    let viewer = match super::viewer_from(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return auth_error(media, err),
    };

    let params = match method {
        Method::Get => params_from_url(payload.query.as_deref()),
        Method::Post => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if essence != APPLICATION_JSON {
                let body = json!({ "errors": [{ "message": "POST bodies must be application/json",
                                                "extensions": { "code": "BAD_USER_INPUT" } }] });
                return respond(StatusCode::UNSUPPORTED_MEDIA_TYPE, media, &body);
            }
            let bytes = match read_body(&state, payload.body).await {
                Ok(bytes) => bytes,
                Err((status, message)) => return request_error(media, status, message),
            };
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(obj)) => params_from_object(obj),
                Ok(Value::Array(_)) => Err("batched requests are not supported; send one operation per request".into()),
                Ok(_) => Err("the body must be a JSON object".into()),
                Err(_) => Err("the body is not valid JSON".into()),
            }
        }
    };
    let params = match params {
        Ok(p) => p,
        Err(message) => return request_error(media, StatusCode::BAD_REQUEST, message),
    };
    let operation = door::Operation {
        query: params.query,
        operation_name: params.operation_name,
        variables: params.variables,
    };
    let admitted = match door::admit(&state.limits, operation, method == Method::Get) {
        Ok(admitted) => admitted,
        Err(door::Refusal::NotAQuery) => {
            let mut response = request_error(
                media,
                StatusCode::METHOD_NOT_ALLOWED,
                door::Refusal::NotAQuery.message(),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        Err(refusal) => return document_error(media, refusal.message()),
    };
    let operation = admitted.name.clone();
    let response = door::execute(&state, viewer, admitted).await;

    // Parse, validation and limit errors come back with no data and no path: the request
    // never executed.
    let not_executed = door::not_executed(&response);
    // The common answer (data, no errors) is written straight from the executor's value: no
    // intermediate JSON tree.
    if !not_executed && response.errors.is_empty() {
        let mut answer = match serde_json::to_vec(&response) {
            Ok(bytes) => (StatusCode::OK, bytes).into_response(),
            Err(e) => return auth_error(media, AppError::internal(format!("cannot serialise a response: {e}"))),
        };
        answer.headers_mut().insert(header::CONTENT_TYPE, media.header());
        answer.extensions_mut().insert(super::observe::OperationName(operation));
        return answer;
    }
    let mut body = door::response_json(&response);
    if not_executed {
        if let Some(obj) = body.as_object_mut() {
            obj.remove("data");
        }
        let status = if media == MediaType::GraphQLResponseJson {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        return respond(status, media, &body);
    }
    let mut response = respond(StatusCode::OK, media, &body);
    response
        .extensions_mut()
        .insert(super::observe::OperationName(operation));
    response
}

/// The request body, within the size cap (413) and the body read timeout (408).
async fn read_body(state: &AppState, body: Body) -> Result<Bytes, (StatusCode, String)> {
    use http_body_util::BodyExt;
    let limit = state.limits.max_body_bytes;
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
    };
    let read = http_body_util::Limited::new(body, limit).collect();
    match tokio::time::timeout(Duration::from_secs(state.limits.body_read_timeout), read).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(_)) => Err((StatusCode::BAD_REQUEST, "the request body could not be read".into())),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                state.limits.body_read_timeout
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters() {
        let p = params_from_url(Some(
            "query=%7B%20__typename%20%7D&variables=%7B%22a%22%3A1%7D&operationName=a+b",
        ))
        .unwrap();
        assert_eq!(p.query, "{ __typename }");
        assert_eq!(p.variables.unwrap()["a"], 1);
        assert_eq!(p.operation_name.as_deref(), Some("a b"));
    }

    #[test]
    fn accept_negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(&h), Some(MediaType::Json));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/graphql-response+json, application/json"),
        );
        assert_eq!(negotiate(&h), Some(MediaType::GraphQLResponseJson));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        assert_eq!(negotiate(&h), None);
    }
}
