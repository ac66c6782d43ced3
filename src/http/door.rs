//! One request pipeline for both doors. An HTTP request and a WebSocket `subscribe` message
//! reach the schema through `admit` (every limit, before and after parsing) and `execute`
//! (the viewer's context, a time limit, panics turned into answers). Authentication is
//! `crate::auth::authenticate`, called by each door for every operation.

use super::AppState;
use crate::auth::Viewer;
use crate::config::QueryLimits;
use crate::graphql::RequestContext;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Variables};
use futures::{FutureExt, Stream, StreamExt};
use serde_json::{Map, Value};
use std::collections::HashMap;
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
    let mut request = Request::new(op.query);
    request.set_parsed_query(doc);
    if let Some(name) = op.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = op.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    Ok(Admitted { request, kind, name })
}

/// Run a query or mutation as `viewer`, within the time limit. A panic is an `INTERNAL` answer
/// (logged), never a dropped connection.
pub async fn execute(state: &AppState, viewer: Viewer, admitted: Admitted) -> Response {
    let request = admitted.request.data(RequestContext::new(&state.db, viewer));
    let run = AssertUnwindSafe(state.schema.execute(request)).catch_unwind();
    match tokio::time::timeout(Duration::from_secs(state.limits.request_timeout), run).await {
        Ok(Ok(response)) => response,
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
    let name = admitted.name;
    AssertUnwindSafe(state.schema.execute_stream(request))
        .catch_unwind()
        .map(move |item| {
            item.unwrap_or_else(|_| {
                tracing::error!(operation = %name, "panic in a subscription");
                error_response("internal error", "INTERNAL")
            })
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

/// The deepest nesting of `{`, `[` and `(` in a GraphQL document, outside strings and comments.
/// Unbalanced closers are left to the parser.
fn text_nesting(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // An escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Nesting of a JSON value (serde_json itself refuses more than 128 levels).
fn value_nesting(value: &Value, level: usize) -> usize {
    match value {
        Value::Array(items) => items.iter().map(|v| value_nesting(v, level + 1)).max().unwrap_or(level),
        Value::Object(map) => map.values().map(|v| value_nesting(v, level + 1)).max().unwrap_or(level),
        _ => level,
    }
}

/// A NUL anywhere in the document: raw, or escaped as `\u0000` or `\u{0}` (PostgreSQL cannot
/// store it in text; refusing it at the door keeps both databases and the dry run alike).
fn has_nul(text: &str) -> bool {
    if text.contains('\0') {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("\\u") {
        rest = &rest[at + 2..];
        if rest.starts_with("0000") {
            return true;
        }
        if let Some(braced) = rest.strip_prefix('{') {
            let digits: String = braced.chars().take_while(|c| *c != '}').collect();
            if !digits.is_empty() && digits.chars().all(|c| c == '0') {
                return true;
            }
        }
    }
    false
}

fn json_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

/// The operation that will run: its type and name. `None` when the document does not say
/// which (several operations and no name, or an unknown name).
fn chosen_operation(doc: &ExecutableDocument, name: Option<&str>) -> Option<(OperationType, String)> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some((op.node.ty, name.unwrap_or("anonymous").to_string())),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| (op.node.ty, name.to_string())),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.iter().next().map(|(n, op)| (op.node.ty, n.to_string()))
        }
        _ => None,
    }
}

/// How many fields a document selects, with fragments expanded and aliases counted: the cap
/// that `limit_complexity` does not give (it ignores `__typename`). `None` when fragment
/// spreads chain deeper than `max_nesting`.
fn selection_count(doc: &ExecutableDocument, max_nesting: usize) -> Option<usize> {
    struct Counter<'d> {
        doc: &'d ExecutableDocument,
        memo: HashMap<String, usize>,
        visiting: Vec<String>,
        max_nesting: usize,
    }
    impl Counter<'_> {
        fn set_size(&mut self, set: &SelectionSet, level: usize) -> Option<usize> {
            if level > self.max_nesting {
                return None;
            }
            let mut n: usize = 0;
            for item in &set.items {
                let add = match &item.node {
                    Selection::Field(f) => 1usize.saturating_add(self.set_size(&f.node.selection_set.node, level + 1)?),
                    Selection::InlineFragment(i) => self.set_size(&i.node.selection_set.node, level + 1)?,
                    Selection::FragmentSpread(s) => {
                        let name = s.node.fragment_name.node.to_string();
                        if let Some(size) = self.memo.get(&name) {
                            *size
                        } else if self.visiting.contains(&name) {
                            0
                        } else if let Some(fragment) = self.doc.fragments.get(s.node.fragment_name.node.as_str()) {
                            self.visiting.push(name.clone());
                            let size = self.set_size(&fragment.node.selection_set.node, level + 1)?;
                            self.visiting.pop();
                            self.memo.insert(name, size);
                            size
                        } else {
                            0
                        }
                    }
                };
                n = n.saturating_add(add);
            }
            Some(n)
        }
    }
    let mut counter = Counter {
        doc,
        memo: HashMap::new(),
        visiting: Vec::new(),
        max_nesting,
    };
    let mut total: usize = 0;
    for (_, op) in doc.operations.iter() {
        total = total.saturating_add(counter.set_size(&op.node.selection_set.node, 1)?);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_count_aliases_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: __typename b: __typename ...F } fragment F on Query { c: __typename d: __typename }",
        )
        .unwrap();
        assert_eq!(selection_count(&doc, 64), Some(4));
    }

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(text_nesting("{ a(x: [[1]]) { b } }"), 4);
        assert_eq!(text_nesting("{ a(x: \"[[[[[\") # {{{{{\n }"), 2);
        assert_eq!(text_nesting("{ a(x: \"\"\" {{{{ \\\"\"\" {{{ \"\"\") }"), 2);
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(text_nesting(&deep), 5002);
    }

    #[test]
    fn nul_in_any_spelling() {
        assert!(has_nul("{ a(x: \"\0\") }"));
        assert!(has_nul("{ a(x: \"\\u0000\") }"));
        assert!(has_nul("{ a(x: \"\\u{000}\") }"));
        assert!(!has_nul("{ a(x: \"\\u0041 \\u{41}\") }"));
        assert!(json_has_nul(&serde_json::json!({ "a": ["x", "y\u{0}"] })));
    }

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
