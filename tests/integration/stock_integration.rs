//! The stock `async-graphql-axum` integration, measured against the same protocol checks as
//! handover's own transports (see the README, "Why not `async-graphql-axum`"). Each check below
//! asserts that the stock service still deviates from the GraphQL-over-HTTP or
//! graphql-transport-ws specification where handover's door conforms. The day one fails,
//! upstream conforms there, and handover can hand that part back to the library.

use crate::common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A subscription that stays open (the protocol checks need one that does not end at once).
struct Waiting;

#[async_graphql::Subscription]
impl Waiting {
    async fn forever(&self) -> impl futures::Stream<Item = i32> {
        futures::stream::pending()
    }
}

struct Root;

#[async_graphql::Object]
impl Root {
    async fn ok(&self) -> bool {
        true
    }
}

/// The stock service on handover's own schema, and the stock WebSocket handler on a schema with
/// a subscription that stays open, on a port of their own.
async fn stock(app: &TestApp) -> String {
    let schema = handover::graphql::build(app.db.clone(), app.live.clone(), &Default::default());
    let router = axum::Router::new().route_service(
        "/graphql",
        axum::routing::post_service(async_graphql_axum::GraphQL::new(schema.clone()))
            .get_service(async_graphql_axum::GraphQL::new(schema)),
    );
    let waiting = async_graphql::Schema::new(Root, async_graphql::EmptyMutation, Waiting);
    let router = router.route_service("/ws", async_graphql_axum::GraphQLSubscription::new(waiting));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// (status, content type, body) of a request to `url`.
async fn http(request: reqwest::RequestBuilder) -> (u16, String, Value) {
    let res = request.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_string())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    (status, kind, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(url: String) -> Socket {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    tokio_tungstenite::connect_async(request).await.expect("WebSocket").0
}

/// What the socket does next within `wait`: a message, `{"close": code}`, or `"nothing"`.
async fn observe(socket: &mut Socket, wait: Duration) -> Value {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Err(_) => return json!("nothing"),
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).unwrap_or(json!(t.to_string())),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return json!({ "close": frame.map(|f| u16::from(f.code)).unwrap_or(1005) });
            }
            Ok(Some(Ok(_))) => continue,
            Ok(None) => return json!({ "close": "ended without a close frame" }),
            Ok(Some(Err(e))) => return json!({ "close": e.to_string() }),
        }
    }
}

async fn say(socket: &mut Socket, text: String) {
    socket.send(Message::Text(text.into())).await.unwrap();
}

/// Where the stock integration conforms today (an answer in `application/graphql-response+json`
/// when asked, 4429 for a second `connection_init`), it is reported and not asserted.
const CONFORMING: [&str; 2] = [
    "answer as application/graphql-response+json",
    "second connection_init: 4429",
];

/// Each check: what the specification requires, what the stock integration answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stock_integration_still_deviates_where_handover_conforms() {
    let app = spawn_app(Backend::Sqlite).await;
    let base = stock(&app).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/graphql");
    let mut report = Vec::new();

    // GraphQL over HTTP: a body that is not JSON is 415 Unsupported Media Type.
    let seen = http(
        client
            .post(&url)
            .header("content-type", "text/plain")
            .body(r#"{"query":"{ __typename }"}"#),
    )
    .await;
    report.push(("POST text/plain: 415", seen.0 == 415, format!("{seen:?}")));

    // A document that does not parse, under application/graphql-response+json: 400.
    let seen = http(
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(r#"{"query":"{"}"#),
    )
    .await;
    report.push(("unparsable document: 400", seen.0 == 400, format!("{seen:?}")));

    // A mutation over GET: 405 Method Not Allowed (GET is for queries).
    let seen = http(client.get(format!("{url}?query={}", "mutation%20%7B%20__typename%20%7D"))).await;
    report.push(("mutation over GET: 405", seen.0 == 405, format!("{seen:?}")));

    // Answers in the media type the client asked for.
    let seen = http(
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(r#"{"query":"{ __typename }"}"#),
    )
    .await;
    report.push((
        "answer as application/graphql-response+json",
        seen.1.starts_with("application/graphql-response+json"),
        format!("{seen:?}"),
    ));

    let ws = format!("{}/ws", base.replace("http://", "ws://"));
    let wait = Duration::from_secs(2);

    // graphql-transport-ws: subscribe before the acknowledgement closes with 4401.
    let mut s = socket(ws.clone()).await;
    say(
        &mut s,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }).to_string(),
    )
    .await;
    let seen = observe(&mut s, wait).await;
    report.push((
        "subscribe before ack: 4401",
        seen == json!({ "close": 4401 }),
        seen.to_string(),
    ));

    // A second connection_init closes with 4429.
    let mut s = socket(ws.clone()).await;
    say(&mut s, json!({ "type": "connection_init" }).to_string()).await;
    let ack = observe(&mut s, wait).await;
    say(&mut s, json!({ "type": "connection_init" }).to_string()).await;
    let seen = observe(&mut s, wait).await;
    report.push((
        "second connection_init: 4429",
        seen == json!({ "close": 4429 }),
        format!("{ack} then {seen}"),
    ));

    // A message that is not JSON closes with 4400.
    let mut s = socket(ws.clone()).await;
    say(&mut s, "not json".to_string()).await;
    let seen = observe(&mut s, wait).await;
    report.push((
        "invalid message: 4400",
        seen == json!({ "close": 4400 }),
        seen.to_string(),
    ));

    // A subscription id already in use closes with 4409.
    let mut s = socket(ws.clone()).await;
    say(&mut s, json!({ "type": "connection_init" }).to_string()).await;
    let _ = observe(&mut s, wait).await;
    let sub = json!({ "id": "a", "type": "subscribe", "payload": { "query": "subscription { forever }" } });
    say(&mut s, sub.to_string()).await;
    let first = observe(&mut s, Duration::from_millis(500)).await;
    say(&mut s, sub.to_string()).await;
    let seen = observe(&mut s, wait).await;
    report.push((
        "duplicate id: 4409",
        seen == json!({ "close": 4409 }),
        format!("{first} then {seen}"),
    ));

    // With HANDOVER_STOCK_AUDIT=1 (`.ci/run`, once the npm packages are installed): the same
    // graphql-http audit as handover's own door passes, against the stock service.
    if std::env::var_os("HANDOVER_STOCK_AUDIT").is_some() {
        let audit = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/audit.mjs");
        let out = std::process::Command::new("node")
            .args([audit, &url, "no-token"])
            .output()
            .expect("node");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            eprintln!("stock async-graphql-axum, graphql-http audit: {line}");
        }
        let summary = text.lines().last().unwrap_or("");
        report.push((
            "graphql-http audit: no error, no warning",
            out.status.success(),
            summary.to_string(),
        ));
    }
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let version = lock
        .split("name = \"async-graphql-axum\"\nversion = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("?");
    for (check, conforms, seen) in &report {
        let verdict = if *conforms { "conforms" } else { "deviates" };
        eprintln!("stock async-graphql-axum {version}: {check}: {verdict} ({seen})");
    }
    let conforming: Vec<_> = report
        .iter()
        .filter(|(check, conforms, _)| *conforms && !CONFORMING.contains(check))
        .map(|(c, ..)| *c)
        .collect();
    assert!(report.len() >= 8, "every check ran");
    assert!(
        conforming.is_empty(),
        "the stock async-graphql-axum now conforms on {conforming:?}: handover can return to it for that part \
         (update the README's \"Why not async-graphql-axum\" and this test)"
    );
}
