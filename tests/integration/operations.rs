//! What operators rely on: metrics, request logs without secrets, clean shutdown, CORS.

use crate::common::*;
use crate::on_both_databases;
use futures::{SinkExt, StreamExt};
use handover::config::QueryLimits;
use sea_orm::ConnectionTrait;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_the_work() {
    let app = spawn_app(Backend::Sqlite).await;
    let scrape = || async {
        app.client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = scrape().await;
    assert_eq!(metric(&before, "handover_reassignments_total"), 0.0);
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let q = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { reassignment { tasks { reassigned } } } }";
    let data = app
        .data(
            &admin,
            q,
            json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob } }),
        )
        .await;
    let tasks = data["reassignWork"]["reassignment"]["tasks"]["reassigned"]
        .as_f64()
        .unwrap();
    let after = scrape().await;
    assert_eq!(metric(&after, "handover_reassignments_total"), 1.0);
    assert_eq!(metric(&after, "handover_items_moved_total{kind=\"task\"}"), tasks);
    assert_eq!(metric(&after, "handover_notifications_total"), 1.0);
    assert_eq!(
        metric(&after, "handover_outbox_backlog"),
        1.0,
        "the email waits for the worker"
    );
    assert!(
        metric(&after, "handover_http_requests_total{class=\"2xx\"}")
            > metric(&before, "handover_http_requests_total{class=\"2xx\"}")
    );
    assert!(metric(&after, "handover_http_request_duration_seconds_count") >= 4.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_for_configured_origins() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            cors_origins: vec!["https://app.demo.test".into()],
            ..Default::default()
        },
    )
    .await;
    for (origin, allowed) in [("https://app.demo.test", true), ("https://evil.test", false)] {
        let res = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
            .await
            .unwrap();
        let header = res
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(header.as_deref() == Some(origin), allowed, "{origin}: {header:?}");
    }
}

/// The real binary: JSON logs with one line per request and no token in them; SIGTERM while a
/// subscription is open closes it with a proper close frame (1001) and the process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_subscriptions_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/ops.db", dir.path().display());
    let secret = "ops-test-secret-ops-test-secret-0123456789";
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Command::new(env!("CARGO_BIN_EXE_handover"))
        .args([
            "serve",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &db,
            "--log-format",
            "json",
        ])
        .args(["--mail-dir", &dir.path().join("mail").to_string_lossy()])
        .env("HANDOVER_JWT_SECRET", secret)
        .env("HANDOVER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_handover"))
            .args([
                "token",
                "--email",
                "bob@demo.test",
                "--database-url",
                &db,
                "--jwt-secret",
                secret,
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let res = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "query Me { viewer { name } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let mut request = format!("ws://127.0.0.1:{port}/graphql").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::Text(
            json!({ "type": "connection_init", "payload": { "token": token } })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    assert!(matches!(socket.next().await, Some(Ok(Message::Text(t))) if t.contains("connection_ack")));
    let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { workAssigned { id } }" } });
    socket.send(Message::Text(sub.to_string().into())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("a close frame in time");
    assert_eq!(close, Some(1001));
    let exit = tokio::task::spawn_blocking(move || server.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.status.success(), "exit status {:?}", exit.status);

    let logs = String::from_utf8_lossy(&exit.stderr);
    assert!(!logs.contains(&token), "a token was logged");
    let request_lines: Vec<serde_json::Value> = BufReader::new(logs.as_bytes())
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .filter(|v| v["target"] == "handover::request")
        .collect();
    let graphql = request_lines
        .iter()
        .find(|v| v["path"] == "/graphql" && v["operation"] == "Me")
        .unwrap_or_else(|| panic!("no line for the query in {logs}"));
    assert_eq!(graphql["status"], 200);
    assert!(graphql["duration_ms"].is_number());
}

/// `--vacuum-after`: on PostgreSQL, a reassignment moving that many records or more is followed
/// by a vacuum of the tables it rewrote (counted in `/metrics`, seen in PostgreSQL's own
/// statistics); a smaller one is not. SQLite keeps no dead row versions: never.
async fn a_big_reassignment_is_followed_by_a_vacuum_on_postgresql(backend: Backend) {
    let limits = QueryLimits {
        vacuum_after: 10,
        ..Default::default()
    };
    let app = spawn_app_on_with_limits(backend, limits).await;
    let vacuums = || async {
        let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
        metric(&text.text().await.unwrap(), "handover_vacuums_total")
    };
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let apply = |i: serde_json::Value| {
        let q = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) {
            userErrors { code } reassignment { matters { reassigned } tasks { reassigned } calendarEvents { reassigned } } } }";
        let admin = admin.clone();
        let app = &app;
        async move {
            let r = app.data(&admin, q, json!({ "i": i })).await["reassignWork"].clone();
            assert_eq!(r["userErrors"], json!([]), "{r}");
            ["matters", "tasks", "calendarEvents"]
                .iter()
                .map(|k| r["reassignment"][k]["reassigned"].as_i64().unwrap())
                .sum::<i64>()
        }
    };
    // Lee's events alone (4 records), then the rest of Lee's work (4 matters and 6 tasks).
    let small = json!({ "fromUserId": lee, "toUserId": bob, "acknowledgeRisks": true,
        "matters": { "include": false }, "tasks": { "include": false } });
    assert_eq!(apply(small).await, 4);
    let big = json!({ "fromUserId": lee, "toUserId": bob, "acknowledgeRisks": true });
    assert_eq!(apply(big).await, 10);
    if backend == Backend::Sqlite {
        assert!(!app.live.vacuum.running());
        assert_eq!(vacuums().await, 0.0);
        return;
    }
    let vacuum_count = || async {
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'task'",
            ))
            .await
            .unwrap()
            .expect("the task table's statistics");
        row.try_get_by_index::<i64>(0).unwrap()
    };
    let waited = Instant::now();
    while vacuums().await < 1.0 || app.live.vacuum.running() || vacuum_count().await < 1 {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "no vacuum after the big reassignment"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        vacuums().await,
        1.0,
        "one vacuum: after the big reassignment, not the small one"
    );
    assert_eq!(vacuum_count().await, 1);
}

on_both_databases!(a_big_reassignment_is_followed_by_a_vacuum_on_postgresql);
