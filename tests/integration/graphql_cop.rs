//! The findings graphql-cop reports, checked against the production configuration
//! (introspection off, suggestions off): none may be present at HIGH severity, and the medium
//! ones are answered as documented.

use crate::common::*;
use handover::config::QueryLimits;
use serde_json::{Value, json};

async fn production() -> TestApp {
    let limits = QueryLimits {
        introspection: false,
        field_suggestions: false,
        ..Default::default()
    };
    spawn_app_with_limits(limits).await
}

async fn post_body(app: &TestApp, token: &str, content_type: &str, body: String) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_graphql_cop_findings_in_production() {
    let app = production().await;
    let t = app.token("alice@demo.test").await;
    let mut findings: Vec<&str> = Vec::new();

    // Introspection (HIGH in graphql-cop): off.
    let (_, body) = app
        .gql(&t, "{ __schema { queryType { name } types { name } } }", json!({}))
        .await;
    if !body["data"]["__schema"].is_null() {
        findings.push("introspection enabled");
    }
    // Field suggestions: off.
    let (_, body) = app.gql(&t, "{ viewe { name } }", json!({})).await;
    if body.to_string().contains("Did you mean") {
        findings.push("field suggestions");
    }
    // Alias overloading (DoS): capped.
    let aliases: String = (0..1001).map(|i| format!("a{i}: __typename ")).collect();
    let (_, body) = app.gql(&t, &format!("{{ {aliases} }}"), json!({})).await;
    if body["data"].is_object() {
        findings.push("alias overloading");
    }
    // Batch queries (DoS): refused.
    let (status, _) = post_body(
        &app,
        &t,
        "application/json",
        Value::Array(vec![json!({ "query": "{ __typename }" }); 10]).to_string(),
    )
    .await;
    if status != 400 {
        findings.push("array batching");
    }
    // Directive overloading (DoS): capped.
    let directives = "@include(if: true) ".repeat(50);
    let (_, body) = app.gql(&t, &format!("{{ __typename {directives} }}"), json!({})).await;
    if body["data"].is_object() {
        findings.push("directive overloading");
    }
    // Circular introspection / deep nesting (DoS): depth-limited.
    let deep = format!(
        "{{ viewer {} id {} }}",
        "matters { nodes { responsibleAttorney { ".repeat(8),
        "} } } ".repeat(8)
    );
    let (_, body) = app.gql(&t, &deep, json!({})).await;
    if body["data"].is_object() {
        findings.push("deep or circular queries");
    }
    // Mutations over GET (CSRF): refused.
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .bearer_auth(&t)
        .query(&[("query", "mutation { markNotificationsRead(all: true) { count } }")])
        .send()
        .await
        .unwrap();
    if res.status().as_u16() != 405 {
        findings.push("mutation over GET");
    }
    // POST with a form content type (CSRF): refused.
    let (status, _) = post_body(
        &app,
        &t,
        "application/x-www-form-urlencoded",
        "query=%7B__typename%7D".into(),
    )
    .await;
    if status != 415 {
        findings.push("url-encoded POST");
    }
    // GET queries without credentials (CSRF with cookies): impossible, credentials are a
    // bearer header a browser never adds on its own.
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ viewer { name } }")])
        .send()
        .await
        .unwrap();
    if res.status().as_u16() != 401 {
        findings.push("unauthenticated GET query");
    }
    // Tracing / debug extensions: none in answers.
    let (_, body) = app.gql(&t, "{ viewer { name } }", json!({})).await;
    if body.get("extensions").is_some() {
        findings.push("trace mode");
    }
    assert!(findings.is_empty(), "graphql-cop findings: {findings:?}");
}
