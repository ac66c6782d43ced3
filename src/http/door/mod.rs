//! One request pipeline for both doors. An HTTP request and a WebSocket `subscribe` message
//! reach the schema through `admit` (every limit, before and after parsing) and `execute`
//! (the viewer's context, a time limit, panics turned into answers). Authentication is
//! `crate::auth::authenticate`, called by each door for every operation.

use super::AppState;
use crate::auth::Viewer;
use crate::config::QueryLimits;
use crate::graphql::RequestContext;
mod document;
mod order;

use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Variables};
use document::{chosen_operation, has_nul, json_has_nul, selection_count, text_nesting, value_nesting};
use futures::{FutureExt, Stream, StreamExt};
use serde_json::{Map, Value};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// Most errors one answer carries; the rest are summed up in one last error.
pub const MAX_ERRORS: usize = 20;

/// One operation as a client sent it, through either door.
pub struct Operation {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Option<Map<String, Value>>,
}

/// Why a document was refused before it ran. Always `BAD_USER_INPUT`, except `NotAQuery`
/// (HTTP GET with a mutation: 405).
#[derive(Debug)]
pub enum Refusal {
    NotAQuery,
    Invalid(String),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::NotAQuery => "GET runs queries only; use POST".into(),
            Refusal::Invalid(m) => m.clone(),
        }
    }
}

/// A document that passed every limit, ready to run.
pub struct Admitted {
    pub request: Request,
    pub kind: OperationType,
    /// The operation's name, for logs and metrics ("anonymous" when it has none).
    pub name: String,
    /// The order the document asks its answer in.
    pub shape: std::sync::Arc<order::Shape>,
}

/// Every check that can be made without running: text size, nesting (before the parser, which
/// recurses without bound on nested values), strings no database can hold, parsing, the
/// operation to run, selections with fragments expanded and aliases counted.
pub fn admit(limits: &QueryLimits, op: Operation, queries_only: bool) -> Result<Admitted, Refusal> {
    let invalid = |m: String| Err(Refusal::Invalid(m));
    if op.query.len() > limits.max_query_bytes {
        return invalid(format!("the query is larger than {} bytes", limits.max_query_bytes));
    }
    if text_nesting(&op.query) > limits.max_nesting {
        return invalid(format!("the query nests deeper than {} levels", limits.max_nesting));
    }
    if let Some(vars) = &op.variables
        && vars.values().any(|v| value_nesting(v, 1) > limits.max_nesting)
    {
        return invalid(format!("the variables nest deeper than {} levels", limits.max_nesting));
    }
    if has_nul(&op.query) || op.variables.as_ref().is_some_and(|v| v.values().any(json_has_nul)) {
        return invalid("text may not contain NUL characters (U+0000)".into());
    }
    let doc = match async_graphql::parser::parse_query(&op.query) {
        Ok(doc) => doc,
        Err(e) => return invalid(format!("cannot parse the query: {e}")),
    };
    let Some((kind, name)) = chosen_operation(&doc, op.operation_name.as_deref()) else {
        return invalid(match op.operation_name {
            Some(name) => format!("the document has no operation named `{name}`"),
            None => "the document has several operations: name the one to run with operationName".into(),
        });
    };
    if queries_only && kind != OperationType::Query {
        return Err(Refusal::NotAQuery);
    }
    match selection_count(&doc, limits.max_nesting) {
        None => return invalid(format!("fragments nest deeper than {} levels", limits.max_nesting)),
        Some(n) if n > limits.max_selections => {
            return invalid(format!(
                "the query selects {n} fields; the limit is {}",
                limits.max_selections
            ));
        }
        Some(_) => {}
    }
    // Spreads and inline fragments are walked too: room for them beside the selections.
    let budget = limits.max_selections.saturating_mul(4).saturating_add(64);
    let shape = std::sync::Arc::new(order::Shape::of(
        &doc,
        op.operation_name.as_deref(),
        limits.max_nesting,
        budget,
    ));
    let mut request = Request::new(op.query);
    request.set_parsed_query(doc);
    if let Some(name) = op.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = op.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    Ok(Admitted {
        request,
        kind,
        name,
        shape,
    })
}

/// Run a query or mutation as `viewer`, within the time limit. A panic is an `INTERNAL` answer
/// (logged), never a dropped connection.
pub async fn execute(state: &AppState, viewer: Viewer, admitted: Admitted) -> Response {
    let request = admitted.request.data(RequestContext::new(&state.db, viewer));
    let run = AssertUnwindSafe(state.schema.execute(request)).catch_unwind();
    match tokio::time::timeout(Duration::from_secs(state.limits.request_timeout), run).await {
        Ok(Ok(mut response)) => {
            admitted.shape.apply(&mut response.data);
            response
        }
        Ok(Err(_)) => {
            tracing::error!(operation = %admitted.name, "panic while executing an operation");
            error_response("internal error", "INTERNAL")
        }
        Err(_) => error_response(
            &format!(
                "the operation ran longer than {} s and was cancelled",
                state.limits.request_timeout
            ),
            "TIMEOUT",
        ),
    }
}

/// Run any operation as a stream of answers (subscriptions: one per event). Panics end the
/// stream with an `INTERNAL` answer; queries and mutations keep their time limit.
pub fn execute_stream(state: &AppState, viewer: Viewer, admitted: Admitted) -> impl Stream<Item = Response> + use<> {
    if admitted.kind != OperationType::Subscription {
        let state = state.clone();
        return futures::stream::once(async move { execute(&state, viewer, admitted).await }).boxed();
    }
    let request = admitted.request.data(RequestContext::new(&state.db, viewer));
    let (name, shape) = (admitted.name, admitted.shape);
    AssertUnwindSafe(state.schema.execute_stream(request))
        .catch_unwind()
        .map(move |item| match item {
            Ok(mut response) => {
                shape.apply(&mut response.data);
                response
            }
            Err(_) => {
                tracing::error!(operation = %name, "panic in a subscription");
                error_response("internal error", "INTERNAL")
            }
        })
        .boxed()
}

/// A response made of one error with a code.
pub fn error_response(message: &str, code: &str) -> Response {
    Response::from_errors(vec![coded_error(message, code)])
}

fn coded_error(message: &str, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    error.extensions = Some(ext);
    error
}

/// Whether the answer is "the document never ran" (parse, validation, limit errors): no data,
/// and no error with a path.
pub fn not_executed(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The answer as JSON, shaped alike at both doors: every error has a code (the executor's own
/// validation errors have none: `BAD_USER_INPUT`), and at most `MAX_ERRORS` of them, the rest
/// counted in a last one.
pub fn response_json(response: &Response) -> Value {
    let mut body = serde_json::to_value(response).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialise a response");
        serde_json::json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] })
    });
    if let Some(Value::Array(errors)) = body.get_mut("errors") {
        cap_errors(errors);
    }
    body
}

/// Give every error a code and keep the first `MAX_ERRORS`.
pub fn cap_errors(errors: &mut Vec<Value>) {
    for e in errors.iter_mut() {
        if let Some(obj) = e.as_object_mut() {
            let ext = obj.entry("extensions").or_insert_with(|| serde_json::json!({}));
            if let Value::Object(ext) = ext {
                ext.entry("code").or_insert_with(|| serde_json::json!("BAD_USER_INPUT"));
            }
        }
    }
    if errors.len() > MAX_ERRORS {
        let more = errors.len() - MAX_ERRORS;
        let code = errors[MAX_ERRORS]["extensions"]["code"].clone();
        errors.truncate(MAX_ERRORS);
        errors.push(serde_json::json!({
            "message": format!("and {more} more errors like these"),
            "extensions": { "code": code, "omitted": more }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_capped_and_coded() {
        let mut errors: Vec<Value> = (0..45)
            .map(|i| serde_json::json!({ "message": i.to_string() }))
            .collect();
        cap_errors(&mut errors);
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(errors[MAX_ERRORS]["extensions"]["omitted"], 25);
    }
}
