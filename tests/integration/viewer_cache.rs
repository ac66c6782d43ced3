//! The viewer behind every request is kept between requests (on PostgreSQL, while the instance
//! listens for changes), and every change to a user reaches every instance at once: a
//! deactivation, a reactivation, an import by another process.

use crate::common::*;
use crate::on_both_databases;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WHO: &str = "{ viewer { name accountAdmin } }";

/// (status, body) of `WHO` at `base` with `token`.
async fn ask(base: &str, token: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": WHO }))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Within two seconds (a NOTIFY's trip to another instance's listener), `check` holds.
async fn soon(base: &str, token: &str, check: impl Fn(u16, &Value) -> bool, what: &str) {
    let started = Instant::now();
    loop {
        let (status, body) = ask(base, token).await;
        if check(status, &body) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{what}: still {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn every_change_to_a_user_reaches_every_instance(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.second_instance().await;
    let admin = app.token("alice@demo.test").await;
    let bob_token = app.token("bob@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    for base in [&app.base, &other] {
        for _ in 0..2 {
            assert_eq!(ask(base, &bob_token).await.0, 200);
        }
    }
    if backend == Backend::Postgres {
        // The cache serves: a request of Bob's sends no SQL statement.
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.reset_statements();
        assert_eq!(ask(&app.base, &bob_token).await.0, 200);
        assert_eq!(app.statement_count(), 0, "the viewer came from the database");
    }

    // Deactivated on this instance: refused here at once, and on the other one soon.
    let deactivate =
        "mutation($id: ID!) { deactivateUser(id: $id, force: true) { userErrors { code } user { enabled } } }";
    let done = app.data(&admin, deactivate, json!({ "id": bob })).await;
    assert_eq!(done["deactivateUser"]["user"]["enabled"], false, "{done}");
    assert_eq!(ask(&app.base, &bob_token).await.0, 401);
    soon(
        &other,
        &bob_token,
        |s, _| s == 401,
        "the other instance still lets Bob in",
    )
    .await;

    // Reactivated: back at once here, soon there.
    let reactivate = "mutation($id: ID!) { reactivateUser(id: $id) { user { enabled } } }";
    app.data(&admin, reactivate, json!({ "id": bob })).await;
    assert_eq!(ask(&app.base, &bob_token).await.0, 200);
    soon(
        &other,
        &bob_token,
        |s, _| s == 200,
        "the other instance still refuses Bob",
    )
    .await;

    // An import by another process (`handover import`: its own connection) renames Bob and
    // makes him an administrator: both instances see it.
    let changed = DEMO.replacen("\"Bob Barrister\"", "\"Bob Renamed\"", 1).replacen(
        "\"email\": \"bob@demo.test\",\n      \"accountAdmin\": false",
        "\"email\": \"bob@demo.test\",\n      \"accountAdmin\": true",
        1,
    );
    assert!(changed.contains("Bob Renamed") && changed != DEMO.replacen("\"Bob Barrister\"", "\"Bob Renamed\"", 1));
    let cli = handover::db::connect(&app.url).await.unwrap();
    handover::import::import_text(&cli, &changed, true).await.unwrap();
    for base in [&app.base, &other] {
        soon(
            base,
            &bob_token,
            |s, body| s == 200 && body["data"]["viewer"] == json!({ "name": "Bob Renamed", "accountAdmin": true }),
            "an instance still sees the Bob before the import",
        )
        .await;
    }
}

on_both_databases!(every_change_to_a_user_reaches_every_instance);
