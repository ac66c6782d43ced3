//! GraphQL over HTTP: media types, methods, request errors, limits, health.

use crate::common::*;
use serde_json::{Value, json};

async fn post_raw(
    app: &TestApp,
    token: &str,
    accept: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .body(body.to_string());
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    if let Some(c) = content_type {
        req = req.header("content-type", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    (status, ct, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const GRJ: &str = "application/graphql-response+json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_types_and_request_errors() {
    let app = spawn_app(Backend::Sqlite).await;
    let t = app.token("alice@demo.test").await;
    let ok = r#"{"query":"{ __typename }"}"#;

    let (s, ct, body) = post_raw(&app, &t, Some(GRJ), Some("application/json"), ok).await;
    assert_eq!((s, ct.starts_with(GRJ)), (200, true));
    assert_eq!(body, json!({ "data": { "__typename": "Query" } }));
    let (s, ct, _) = post_raw(&app, &t, Some("application/json"), Some("application/json"), ok).await;
    assert_eq!((s, ct.starts_with("application/json")), (200, true));
    let (s, ct, _) = post_raw(&app, &t, None, Some("application/json; charset=utf-8"), ok).await;
    assert_eq!((s, ct.starts_with("application/json")), (200, true));
    let (s, _, _) = post_raw(&app, &t, Some("text/html"), Some("application/json"), ok).await;
    assert_eq!(s, 406);

    // Malformed requests: 400 whatever the media type.
    for bad in [
        r#"{ "not json"#,
        r#"{"qeury":"{ __typename }"}"#,
        r#"{"query":1}"#,
        r#"{"query":"{ __typename }","variables":"x"}"#,
        r#"[{"query":"{ __typename }"}]"#,
        "",
    ] {
        for accept in [GRJ, "application/json"] {
            let (s, _, body) = post_raw(&app, &t, Some(accept), Some("application/json"), bad).await;
            assert_eq!(s, 400, "{bad} -> {body}");
            assert!(body.get("data").is_none(), "{bad}: no data entry");
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}");
        }
    }
    // Documents that cannot run: 400 without data under graphql-response+json, 200 with
    // errors under application/json.
    for bad in [
        r#"{"query":"{"}"#,
        r#"{"query":"{ noSuchField }"}"#,
        r#"{"query":"query($n: Int!) { users(first: $n) { totalCount } }","variables":{"n":"x"}}"#,
    ] {
        let (s, _, body) = post_raw(&app, &t, Some(GRJ), Some("application/json"), bad).await;
        assert_eq!(s, 400, "{bad} -> {body}");
        assert!(body.get("data").is_none(), "{bad}: no data entry");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}");
        let (s, _, body) = post_raw(&app, &t, Some("application/json"), Some("application/json"), bad).await;
        assert_eq!(s, 200, "{bad}");
        assert!(body["errors"].is_array(), "{bad}");
    }

    // POST needs a JSON body.
    let (s, _, _) = post_raw(&app, &t, None, Some("text/plain"), ok).await;
    assert_eq!(s, 415);
    let (s, _, _) = post_raw(&app, &t, None, None, ok).await;
    assert_eq!(s, 415);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_runs_queries_only() {
    let app = spawn_app(Backend::Sqlite).await;
    let t = app.token("alice@demo.test").await;
    let url = format!("{}/graphql", app.base);
    let res = app
        .client
        .get(&url)
        .bearer_auth(&t)
        .query(&[
            ("query", "query Q($n: Int) { users(first: $n) { totalCount } }"),
            ("variables", "{\"n\":1}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "data": { "users": { "totalCount": 9 } } })
    );
    let res = app
        .client
        .get(&url)
        .bearer_auth(&t)
        .query(&[("query", "mutation { __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_queries_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let t = app.token("alice@demo.test").await;
    // 1,500 aliased __typename: complexity limits do not count them, the selection cap does.
    let aliases: String = (0..1500).map(|i| format!("a{i}: __typename ")).collect();
    let (status, body) = app.gql(&t, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("selects 1500 fields"),
        "{body}"
    );
    assert!(body.get("data").is_none());
    // A document over the size cap is refused before it is parsed.
    let aliases: String = (0..5000).map(|i| format!("a{i}: __typename ")).collect();
    let (_, body) = app.gql(&t, &format!("{{ {aliases} }}"), json!({})).await;
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("larger than"),
        "{body}"
    );
    // Too deep.
    let deep = format!(
        "{{ viewer {} id {} }}",
        "matters { nodes { responsibleAttorney { ".repeat(6),
        "} } } ".repeat(6)
    );
    let (_, body) = app.gql(&t, &deep, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested too deep"),
        "{body}"
    );
    // Field suggestions are off: the error does not hint at real field names.
    let (_, body) = app.gql(&t, "{ viewe { name } }", json!({})).await;
    assert!(!body.to_string().contains("Did you mean"), "{body}");
    // A body over the size limit.
    let huge = format!(
        "{{\"query\":\"{{ __typename }}\",\"variables\":{{\"x\":\"{}\"}}}}",
        "x".repeat(300_000)
    );
    let (s, _, _) = post_raw(&app, &t, None, Some("application/json"), &huge).await;
    assert_eq!(s, 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_introspection_fits_the_limits() {
    let app = spawn_app(Backend::Sqlite).await;
    let t = app.token("alice@demo.test").await;
    let introspection = include_str!("../fixtures/introspection.graphql");
    let data = app.data(&t, introspection, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}

/// Both pages come with every script and style they name, from this server (embedded in the
/// binary by the build), under the locked-down policy; nothing else is served under /assets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_are_served_whole_from_the_binary() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["/graphiql", "/console"] {
        let page = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200, "{path}");
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        let html = page.text().await.unwrap();
        let assets: Vec<&str> = html
            .split(['"', '\''])
            .filter(|part| part.starts_with("/assets/"))
            .collect();
        assert!(assets.len() >= 3, "{path} names {assets:?}");
        for asset in assets {
            let res = app.client.get(format!("{}{asset}", app.base)).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200, "{asset}");
            let kind = res.headers()["content-type"].to_str().unwrap().to_string();
            assert!(kind == "text/javascript" || kind == "text/css", "{asset}: {kind}");
            let tag = res.headers()["etag"].to_str().unwrap().to_string();
            assert_eq!(res.headers()["cache-control"], "no-cache", "{asset}");
            assert!(res.bytes().await.unwrap().len() > 100, "{asset} is empty");
            // Revalidation: the same tag is a 304 without a body; another tag, the asset.
            let again = app
                .client
                .get(format!("{}{asset}", app.base))
                .header("if-none-match", &tag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status().as_u16(), 304, "{asset}");
            assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
            assert!(again.bytes().await.unwrap().is_empty());
            let other = app
                .client
                .get(format!("{}{asset}", app.base))
                .header("if-none-match", "\"0000\"")
                .send()
                .await
                .unwrap();
            assert_eq!(other.status().as_u16(), 200, "{asset}");
        }
    }
    for missing in ["/assets/nope.js", "/assets/..%2Fbuild.rs", "/assets/%00"] {
        let res = app.client.get(format!("{}{missing}", app.base)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404, "{missing}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness() {
    let app = spawn_app(Backend::Sqlite).await;
    let res = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    app.db.clone().close().await.unwrap();
    let res = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 503);
}

/// The keys of a JSON object, in the order the server wrote them (serde_json keeps order here).
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// GraphQL spec, "Serialized Map Ordering": the answer's keys in the order the document asked,
/// at both doors, even where a slower field (a loader, a second statement) finishes last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_keep_the_requested_field_order() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    // Not alphabetical, slow fields first, a fragment and an alias in the middle.
    let query = "query Ordered($i: ReassignWorkInput!) { reassignmentPreview(input: $i) {
        tasks { count } targets { user { name } after { openMatters } }
        matters { items(first: 3) { nodes { toUser { name } title ...K } } excluded { reason count } count }
        previewToken zone: timeZone calendarEvents { count } } }
        fragment K on WorkItem { kind key }";
    let variables = json!({ "i": { "fromUserId": lee, "toUserId": bob } });
    let check = |data: &Value| {
        let p = &data["reassignmentPreview"];
        assert_eq!(
            keys(p),
            ["tasks", "targets", "matters", "previewToken", "zone", "calendarEvents"]
        );
        assert_eq!(keys(&p["matters"]), ["items", "excluded", "count"]);
        for node in p["matters"]["items"]["nodes"].as_array().unwrap() {
            assert_eq!(keys(node), ["toUser", "title", "kind", "key"]);
        }
        assert_eq!(keys(&p["targets"][0]), ["user", "after"]);
    };
    check(&app.data(&admin, query, variables.clone()).await);

    // The same over WebSocket.
    let mut socket = connect(&app).await;
    init(&mut socket, &admin).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
    let answer = next(&mut socket).await;
    assert_eq!(answer["type"], "next", "{answer}");
    check(&answer["payload"]["data"]);
}
