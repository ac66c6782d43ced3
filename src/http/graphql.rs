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
use crate::error::AppError;
use crate::graphql::RequestContext;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Variables};
use axum::body::Bytes;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

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
    let pairs: HashMap<String, String> = form_urlencoded(raw.unwrap_or(""));
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

/// `application/x-www-form-urlencoded` decoding of a query string.
fn form_urlencoded(raw: &str) -> HashMap<String, String> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// How many fields a document selects, with fragments expanded and aliases counted: the cap
/// that `limit_complexity` does not give (it ignores `__typename`).
fn selection_count(doc: &ExecutableDocument) -> usize {
    fn set_size(
        set: &SelectionSet,
        doc: &ExecutableDocument,
        memo: &mut HashMap<String, usize>,
        visiting: &mut Vec<String>,
    ) -> usize {
        let mut n: usize = 0;
        for item in &set.items {
            let add = match &item.node {
                Selection::Field(f) => 1usize.saturating_add(set_size(&f.node.selection_set.node, doc, memo, visiting)),
                Selection::InlineFragment(i) => set_size(&i.node.selection_set.node, doc, memo, visiting),
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.to_string();
                    if let Some(size) = memo.get(&name) {
                        *size
                    } else if visiting.contains(&name) {
                        0
                    } else if let Some(fragment) = doc.fragments.get(s.node.fragment_name.node.as_str()) {
                        visiting.push(name.clone());
                        let size = set_size(&fragment.node.selection_set.node, doc, memo, visiting);
                        visiting.pop();
                        memo.insert(name, size);
                        size
                    } else {
                        0
                    }
                }
            };
            n = n.saturating_add(add);
        }
        n
    }
    let mut memo = HashMap::new();
    let mut visiting = Vec::new();
    doc.operations
        .iter()
        .map(|(_, op)| set_size(&op.node.selection_set.node, doc, &mut memo, &mut visiting))
        .fold(0usize, |a, b| a.saturating_add(b))
}

/// The type of the operation that will run, when it can be told.
fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        _ => None,
    }
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
        Err(_) => handle(state, headers, Method::Get, raw.unwrap_or_default().into()).await,
    }
}

pub async fn post_handler(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(state, headers, Method::Post, body).await
}

#[derive(PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

async fn handle(state: AppState, headers: HeaderMap, method: Method, payload: Bytes) -> Response {
    let Some(media) = negotiate(&headers) else {
        let body = json!({ "errors": [{ "message": "acceptable response types: application/graphql-response+json, application/json",
                                        "extensions": { "code": "BAD_USER_INPUT" } }] });
        return respond(StatusCode::NOT_ACCEPTABLE, MediaType::Json, &body);
    };

    // Authentication first: an anonymous caller learns nothing, not even whether the request
    // would have parsed.
    let viewer = match super::viewer_from(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return auth_error(media, err),
    };

    let params = match method {
        Method::Get => params_from_url(std::str::from_utf8(&payload).ok()),
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
            match serde_json::from_slice::<Value>(&payload) {
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
    if params.query.len() > state.limits.max_query_bytes {
        return document_error(
            media,
            format!("the query is larger than {} bytes", state.limits.max_query_bytes),
        );
    }
    let doc = match async_graphql::parser::parse_query(&params.query) {
        Ok(doc) => doc,
        Err(e) => return document_error(media, format!("cannot parse the query: {e}")),
    };
    if method == Method::Get && operation_type(&doc, params.operation_name.as_deref()) != Some(OperationType::Query) {
        let mut response = request_error(media, StatusCode::METHOD_NOT_ALLOWED, "GET runs queries only; use POST");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let selections = selection_count(&doc);
    if selections > state.limits.max_selections {
        return document_error(
            media,
            format!(
                "the query selects {selections} fields; the limit is {}",
                state.limits.max_selections
            ),
        );
    }

    let operation = params
        .operation_name
        .clone()
        .or_else(|| match &doc.operations {
            DocumentOperations::Single(_) => None,
            DocumentOperations::Multiple(ops) if ops.len() == 1 => ops.keys().next().map(|n| n.to_string()),
            DocumentOperations::Multiple(_) => None,
        })
        .unwrap_or_else(|| "anonymous".into());
    let mut request = Request::new(params.query);
    request.set_parsed_query(doc);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    let request = request.data(RequestContext::new(&state.db, viewer));
    let response = state.schema.execute(request).await;

    // Parse, validation and limit errors come back with no data and no path: the request
    // never executed.
    let not_executed = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = match serde_json::to_value(&response) {
        Ok(v) => v,
        Err(e) => {
            return auth_error(media, AppError::internal(format!("cannot serialise a response: {e}")));
        }
    };
    // Every error carries a code; the executor's own (validation, argument coercion) do not.
    if let Some(Value::Array(errors)) = body.get_mut("errors") {
        for e in errors {
            let ext = e
                .as_object_mut()
                .map(|o| o.entry("extensions").or_insert_with(|| json!({})));
            if let Some(Value::Object(ext)) = ext {
                ext.entry("code").or_insert_with(|| json!("BAD_USER_INPUT"));
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding() {
        let p = form_urlencoded("query=%7B%20__typename%20%7D&variables=%7B%22a%22%3A1%7D&x=a+b");
        assert_eq!(p["query"], "{ __typename }");
        assert_eq!(p["variables"], "{\"a\":1}");
        assert_eq!(p["x"], "a b");
    }

    #[test]
    fn selections_count_aliases_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: __typename b: __typename ...F } fragment F on Query { c: __typename d: __typename }",
        )
        .unwrap();
        assert_eq!(selection_count(&doc), 4);
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
