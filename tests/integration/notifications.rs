//! Telling new assignees: one durable notification and one outbox email each, live delivery
//! over WebSocket (graphql-transport-ws) to that user and no one else.

use crate::common::*;
use crate::on_both_databases;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const APPLIED: &str = "id matters { reassigned } tasks { reassigned } calendarEvents { reassigned }";
const MINE: &str =
    "query($u: Boolean! = false) { notifications(unreadOnly: $u) { totalCount nodes { id title body matters tasks
  calendarEvents note read actor { name } fromUser { name } } } }";

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws client, subscribed to `workAssigned` with `token`.
async fn subscribe(app: &TestApp, token: &str) -> Socket {
    subscribe_at(&app.base, token).await
}

async fn subscribe_at(base: &str, token: &str) -> Socket {
    let url = format!("{}/graphql", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.expect("WebSocket");
    assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-transport-ws");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await.unwrap();
    let ack = next_json(&mut socket, Duration::from_secs(5))
        .await
        .expect("connection_ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let sub = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription { workAssigned { title matters tasks calendarEvents note actor { name } } }" } });
    socket.send(Message::Text(sub.to_string().into())).await.unwrap();
    // Let the server register the subscription before anything is published.
    tokio::time::sleep(Duration::from_millis(200)).await;
    socket
}

async fn next_json(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Err(_) => return None,
            Ok(None) => return None,
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "ping" || v["type"] == "pong" || v["type"] == "ka" {
                    continue;
                }
                return Some(v);
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Some(json!({ "type": "close", "frame": format!("{frame:?}") }));
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => return Some(json!({ "type": "error", "error": e.to_string() })),
        }
    }
}

async fn each_new_assignee_is_told_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let (lee, bob, carol) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
        app.user_id(&admin, "carol@demo.test").await,
    );
    // Matters to Bob, tasks to Carol, events to Alice herself (no notification for her own).
    let input = json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob, "tasks": { "toUserId": carol },
                        "calendarEvents": { "toUserId": app.user_id(&admin, "alice@demo.test").await },
                        "note": "Lee has left" });
    let r = app.reassign(&admin, &input, APPLIED).await["reassignment"].take();

    let bob_token = app.token("bob@demo.test").await;
    let mine = app.data(&bob_token, MINE, json!({})).await["notifications"].clone();
    assert_eq!(mine["totalCount"], 1);
    let n = &mine["nodes"][0];
    assert_eq!(n["matters"], r["matters"]["reassigned"]);
    assert_eq!((n["tasks"].as_i64(), n["calendarEvents"].as_i64()), (Some(0), Some(0)));
    assert_eq!(n["title"], "Alice Admin assigned you work from Lee Leaver");
    assert_eq!(n["note"], "Lee has left");
    assert_eq!(n["actor"]["name"], "Alice Admin");
    assert_eq!(n["read"], false);
    let carol_token = app.token("carol@demo.test").await;
    let theirs = app.data(&carol_token, MINE, json!({})).await["notifications"].clone();
    assert_eq!(theirs["totalCount"], 1);
    assert_eq!(theirs["nodes"][0]["tasks"], r["tasks"]["reassigned"]);
    let alices = app.data(&admin, MINE, json!({})).await["notifications"].clone();
    assert_eq!(alices["totalCount"], 0, "no notification about one's own reassignment");

    // One outbox email per notification, to the right address.
    use entity::outbox_email;
    use sea_orm::EntityTrait;
    let mut to: Vec<String> = outbox_email::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.to_address)
        .collect();
    to.sort();
    assert_eq!(to, ["bob@demo.test", "carol@demo.test"]);

    // Undo sends the work back to Lee, who is deactivated: nobody new is told.
    app.undo(&admin, &r["id"], "id").await;
    assert_eq!(outbox_email::Entity::find().all(&app.db).await.unwrap().len(), 2);

    // Read marks.
    let mark = "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) { count userErrors { code } } }";
    let data = app.data(&bob_token, mark, json!({ "ids": [n["id"]] })).await;
    assert_eq!(data["markNotificationsRead"]["count"], 1);
    let unread = app.data(&bob_token, MINE, json!({ "u": true })).await;
    assert_eq!(unread["notifications"]["totalCount"], 0);
    // Someone else's notification, or an ID that names none, is NOT_FOUND and changes nothing.
    for ids in [
        json!([n["id"]]),
        json!(["garbage"]),
        json!([n["id"], "bm90aWZpY2F0aW9uOjk5OTk5"]),
    ] {
        let (_, body) = app.gql(&carol_token, mark, json!({ "ids": ids })).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    let data = app
        .data(
            &carol_token,
            "mutation { markNotificationsRead(all: true) { count } }",
            json!({}),
        )
        .await;
    assert_eq!(data["markNotificationsRead"]["count"], 1);
}

async fn live_delivery_reaches_only_the_assignee(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let mut bob_socket = subscribe(&app, &app.token("bob@demo.test").await).await;
    let mut carol_socket = subscribe(&app, &app.token("carol@demo.test").await).await;

    let r = app
        .reassign(
            &admin,
            &json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob, "note": "welcome" }),
            APPLIED,
        )
        .await;
    let r = &r["reassignment"];

    let msg = next_json(&mut bob_socket, Duration::from_secs(5))
        .await
        .expect("Bob is told");
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(msg["id"], "1");
    let n = &msg["payload"]["data"]["workAssigned"];
    assert_eq!(n["matters"], r["matters"]["reassigned"]);
    assert_eq!(n["tasks"], r["tasks"]["reassigned"]);
    assert_eq!(n["calendarEvents"], r["calendarEvents"]["reassigned"]);
    assert_eq!(n["note"], "welcome");
    assert!(
        next_json(&mut bob_socket, Duration::from_millis(500)).await.is_none(),
        "exactly one"
    );
    assert!(
        next_json(&mut carol_socket, Duration::from_millis(500)).await.is_none(),
        "Carol hears nothing"
    );
}

async fn websocket_needs_a_valid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = format!("{}/graphql", app.base.replace("http://", "ws://"));
    for payload in [
        json!({}),
        json!({ "token": "forged" }),
        json!({ "Authorization": "Bearer nope" }),
    ] {
        let mut request = url.clone().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
            .send(Message::Text(
                json!({ "type": "connection_init", "payload": payload })
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
        let answer = next_json(&mut socket, Duration::from_secs(5)).await;
        let answer = answer.unwrap_or(json!({ "type": "closed" }));
        assert_ne!(answer["type"], "connection_ack", "{payload} must be refused: {answer}");
    }
}

/// Two server instances on one PostgreSQL: the subscriber is connected to B, the reassignment
/// runs on A; LISTEN/NOTIFY carries the wake-up, the durable row the content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set HANDOVER_TEST_POSTGRES_URL (.ci/run starts a throwaway cluster)"]
async fn a_subscriber_on_another_instance_is_told() {
    let app = spawn_app(Backend::Postgres).await;
    let other = app.second_instance().await;
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let mut bob_on_b = subscribe_at(&other, &app.token("bob@demo.test").await).await;
    let mut bob_on_a = subscribe(&app, &app.token("bob@demo.test").await).await;
    let r = app
        .reassign(
            &admin,
            &json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob }),
            APPLIED,
        )
        .await;
    for socket in [&mut bob_on_b, &mut bob_on_a] {
        let msg = next_json(socket, Duration::from_secs(5))
            .await
            .expect("told on every instance");
        assert_eq!(
            msg["payload"]["data"]["workAssigned"]["tasks"],
            r["reassignment"]["tasks"]["reassigned"]
        );
        assert!(
            next_json(socket, Duration::from_millis(500)).await.is_none(),
            "exactly once per subscription"
        );
    }
}

on_both_databases!(
    each_new_assignee_is_told_once,
    live_delivery_reaches_only_the_assignee,
    websocket_needs_a_valid_token
);

/// A heads-up (no reassignment) made on instance A reaches a subscriber on instance B, once,
/// also when later notifications wake the instances again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set HANDOVER_TEST_POSTGRES_URL (.ci/run starts a throwaway cluster)"]
async fn a_heads_up_reaches_another_instance_once() {
    let app = spawn_app(Backend::Postgres).await;
    let other = app.second_instance().await;
    let admin = app.token("alice@demo.test").await;
    let (carol, bob) = (
        app.user_id(&admin, "carol@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let mut bob_on_b = subscribe_at(&other, &app.token("bob@demo.test").await).await;
    let starts = chrono::Utc::now() + chrono::Duration::days(3);
    let plan = |note: &str| {
        json!({ "i": { "work": { "fromUserId": carol, "acknowledgeRisks": true, "toUserId": bob, "note": note },
                       "startsAt": starts.to_rfc3339(),
                       "returnsAt": (starts + chrono::Duration::days(7)).to_rfc3339() } })
    };
    let q =
        "mutation($i: PlanHandoverInput!) { planHandover(input: $i) { userErrors { code } plannedHandover { id } } }";
    app.data(&admin, q, plan("first")).await;
    let msg = next_json(&mut bob_on_b, Duration::from_secs(5))
        .await
        .expect("told on B");
    assert_eq!(
        msg["payload"]["data"]["workAssigned"]["title"]
            .as_str()
            .map(|t| t.contains("you will cover")),
        Some(true),
        "{msg}"
    );
    // Another plan, with a heads-up for Carol, wakes the instances again.
    let dan = app.user_id(&admin, "dan@demo.test").await;
    let other_plan = json!({ "i": { "work": { "fromUserId": dan, "acknowledgeRisks": true, "toUserId": carol }, "startsAt": starts.to_rfc3339() } });
    app.data(&admin, q, other_plan).await;
    assert!(
        next_json(&mut bob_on_b, Duration::from_millis(700)).await.is_none(),
        "Bob's heads-up is not delivered twice"
    );
}
