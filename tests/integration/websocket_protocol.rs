//! graphql-transport-ws conformance: every close code the protocol defines, and the messages.

use crate::common::*;
use futures::SinkExt;
use handover::config::QueryLimits;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn app() -> TestApp {
    let limits = QueryLimits {
        ws_init_timeout: 1,
        ..Default::default()
    };
    spawn_app_with_limits(limits).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_codes() {
    let app = app().await;
    let token = app.token("alice@demo.test").await;

    // 4408: no connection_init in time.
    let mut s = connect(&app).await;
    assert_eq!(next(&mut s).await, json!({ "close": 4408 }));

    // 4403: refused credentials (none, forged, a deactivated user's).
    for payload in [
        json!({}),
        json!({ "token": "forged" }),
        json!({ "Authorization": "Basic abc" }),
    ] {
        let mut s = connect(&app).await;
        send(&mut s, json!({ "type": "connection_init", "payload": payload })).await;
        assert_eq!(next(&mut s).await, json!({ "close": 4403 }), "{payload}");
    }

    // 4401: subscribe before the acknowledgement.
    let mut s = connect(&app).await;
    send(
        &mut s,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(next(&mut s).await, json!({ "close": 4401 }));

    // 4429: a second connection_init.
    let mut s = connect(&app).await;
    init(&mut s, &token).await;
    send(
        &mut s,
        json!({ "type": "connection_init", "payload": { "token": token } }),
    )
    .await;
    assert_eq!(next(&mut s).await, json!({ "close": 4429 }));

    // 4409: a subscription id already in use.
    let mut s = connect(&app).await;
    init(&mut s, &token).await;
    let sub = json!({ "id": "a", "type": "subscribe", "payload": { "query": "subscription { workAssigned { id } }" } });
    send(&mut s, sub.clone()).await;
    send(&mut s, sub).await;
    assert_eq!(next(&mut s).await, json!({ "close": 4409 }));

    // 4400: not JSON, an unknown type, a subscribe without a query, a binary frame.
    for bad in [
        Message::Text("not json".into()),
        Message::Text(r#"{"type":"bogus"}"#.into()),
        Message::Text(r#"{"id":"1","type":"subscribe","payload":{}}"#.into()),
        Message::Binary(vec![1, 2].into()),
    ] {
        let mut s = connect(&app).await;
        init(&mut s, &token).await;
        s.send(bad.clone()).await.unwrap();
        assert_eq!(next(&mut s).await, json!({ "close": 4400 }), "{bad:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages() {
    let app = app().await;
    let token = app.token("alice@demo.test").await;
    let mut s = connect(&app).await;
    init(&mut s, &token).await;

    send(&mut s, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut s).await, json!({ "type": "pong" }));

    // A query over the socket: one `next`, then `complete`.
    send(
        &mut s,
        json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ viewer { name } }" } }),
    )
    .await;
    assert_eq!(
        next(&mut s).await,
        json!({ "id": "q", "type": "next", "payload": { "data": { "viewer": { "name": "Alice Admin" } } } })
    );
    assert_eq!(next(&mut s).await, json!({ "id": "q", "type": "complete" }));

    // A document that cannot run: one `error`.
    send(
        &mut s,
        json!({ "id": "v", "type": "subscribe", "payload": { "query": "subscription { nope }" } }),
    )
    .await;
    let answer = next(&mut s).await;
    assert_eq!(
        (answer["id"].as_str(), answer["type"].as_str()),
        (Some("v"), Some("error")),
        "{answer}"
    );
    assert!(answer["payload"].is_array());

    // The id of a finished operation may be used again; `complete` from the client stops one.
    send(
        &mut s,
        json!({ "id": "q", "type": "subscribe", "payload": { "query": "subscription { workAssigned { id } }" } }),
    )
    .await;
    send(&mut s, json!({ "id": "q", "type": "complete" })).await;
    send(&mut s, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut s).await, json!({ "type": "pong" }));
}
