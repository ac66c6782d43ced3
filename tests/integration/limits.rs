//! Configurable caps: each one refuses with a code and changes nothing.

use crate::common::*;
use crate::on_both_databases;
use handover::config::QueryLimits;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignments_per_minute_are_capped() {
    let limits = QueryLimits {
        max_reassignments_per_minute: 2,
        ..Default::default()
    };
    let app = spawn_app_with_limits(limits).await;
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let q = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code message } reassignment { id } } }";
    let input = json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob } });
    for _ in 0..2 {
        let data = app.data(&admin, q, input.clone()).await;
        assert_eq!(data["reassignWork"]["userErrors"], json!([]));
    }
    let before = snapshot(&app.db).await;
    let data = app.data(&admin, q, input.clone()).await;
    assert_eq!(data["reassignWork"]["userErrors"][0]["code"], "RATE_LIMITED");
    assert!(
        data["reassignWork"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("try again in")
    );
    assert!(snapshot(&app.db).await == before);
    // Another administrator has an allowance of their own.
    let olivia = app.token("olivia@demo.test").await;
    let data = app.data(&olivia, q, input).await;
    assert_eq!(data["reassignWork"]["userErrors"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_be_turned_off() {
    let limits = QueryLimits {
        introspection: false,
        ..Default::default()
    };
    let app = spawn_app_with_limits(limits).await;
    let admin = app.token("alice@demo.test").await;
    let (_, body) = app.gql(&admin, "{ __schema { types { name } } }", json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    assert!(!body.to_string().contains("ReassignmentPreview"));
    // Ordinary queries still run.
    app.data(&admin, "{ viewer { name } }", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complexity_is_capped() {
    let limits = QueryLimits {
        max_complexity: 5,
        ..Default::default()
    };
    let app = spawn_app_with_limits(limits).await;
    let admin = app.token("alice@demo.test").await;
    let (_, body) = app
        .gql(
            &admin,
            "{ users { nodes { id name email enabled licence accountAdmin timeZone key } } }",
            json!({}),
        )
        .await;
    assert!(body.get("data").is_none(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    app.data(&admin, "{ viewer { name } }", json!({})).await;
}

const PREVIEW_COUNTS: &str = "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) {
    previewToken matters { count } tasks { count } calendarEvents { count } } }";
const PLAN_HANDOVER: &str =
    "mutation($i: PlanHandoverInput!) { planHandover(input: $i) { userErrors { code } plannedHandover { id } } }";

/// An app that plans one reassignment at a time, with `request_timeout` seconds per request.
async fn one_plan_at_a_time(backend: Backend, request_timeout: u64) -> TestApp {
    let limits = QueryLimits {
        max_concurrent_plans: 1,
        request_timeout,
        ..Default::default()
    };
    spawn_app_on_with_limits(backend, limits).await
}

/// What `work` gives within 400 ms, if it finishes: `None` while it still waits.
async fn within_a_moment<F: std::future::Future>(work: F) -> Option<F::Output> {
    tokio::time::timeout(std::time::Duration::from_millis(400), work)
        .await
        .ok()
}

/// A request that needs a plan, sent while the test holds the only planning slot: it must not
/// answer (nor write anything) until the slot is free, and then it answers.
async fn waits_for_the_slot(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let held = app.live.planning.enter().await.expect("the slot");
    let before = snapshot(&app.db).await;
    let request = app.data(token, query, variables);
    tokio::pin!(request);
    if let Some(answer) = within_a_moment(&mut request).await {
        panic!("answered while the only slot was taken: {answer}");
    }
    assert!(snapshot(&app.db).await == before, "wrote while waiting for the slot");
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    for line in ["handover_plans_running 1", "handover_plans_waiting 1"] {
        assert!(metrics.lines().any(|l| l == line), "no `{line}` in\n{metrics}");
    }
    drop(held);
    request.await
}

/// `--max-concurrent-plans`: with one slot, eight previews at once all answer the same plan,
/// planned one after another; and every door that plans (preview, apply, undo, a planned
/// handover's heads-up, a deactivation's check for open work, over HTTP and over WebSocket)
/// waits for the slot and then goes through.
async fn reassignments_are_planned_at_most_as_many_at_once_as_configured(backend: Backend) {
    let app = one_plan_at_a_time(backend, QueryLimits::default().request_timeout).await;
    let planning = &app.live.planning;
    assert_eq!(planning.limit(), 1);
    let admin = app.token("alice@demo.test").await;
    let user = |email: &'static str| app.user_id(&admin, email);
    let (lee, bob, carol, dan) = (
        user("lee@demo.test").await,
        user("bob@demo.test").await,
        user("carol@demo.test").await,
        user("dan@demo.test").await,
    );
    let input = json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob });

    let answers =
        futures::future::join_all((0..8).map(|_| app.data(&admin, PREVIEW_COUNTS, json!({ "i": input })))).await;
    let first = &answers[0]["reassignmentPreview"];
    assert_eq!(
        [
            &first["matters"]["count"],
            &first["tasks"]["count"],
            &first["calendarEvents"]["count"]
        ],
        [4, 6, 4]
    );
    assert!(answers.iter().all(|a| &a["reassignmentPreview"] == first));
    assert_eq!(planning.most_at_once(), 1, "two plans ran at once");

    let preview = waits_for_the_slot(&app, &admin, PREVIEW_COUNTS, json!({ "i": input })).await;
    assert_eq!(&preview["reassignmentPreview"], first);
    let applied = waits_for_the_slot(
        &app,
        &admin,
        "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } reassignment { id tasks { reassigned } } } }",
        json!({ "i": input }),
    )
    .await;
    let batch = &applied["reassignWork"]["reassignment"];
    assert_eq!(batch["tasks"]["reassigned"], 6, "{applied}");
    let undone = waits_for_the_slot(
        &app,
        &admin,
        "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code } reassignment { tasks { reassigned } } } }",
        json!({ "id": batch["id"] }),
    )
    .await;
    assert_eq!(undone["undoReassignment"]["reassignment"]["tasks"]["reassigned"], 6);
    let next_week = (chrono::Utc::now() + chrono::Duration::days(7))
        .date_naive()
        .to_string();
    let planned = waits_for_the_slot(
        &app,
        &admin,
        PLAN_HANDOVER,
        json!({ "i": { "work": { "fromUserId": carol, "acknowledgeRisks": true, "toUserId": dan }, "startsOn": next_week } }),
    )
    .await;
    assert_eq!(planned["planHandover"]["userErrors"], json!([]), "{planned}");
    let deactivation = waits_for_the_slot(
        &app,
        &admin,
        "mutation($id: ID!) { deactivateUser(id: $id) { userErrors { code } } }",
        json!({ "id": carol }),
    )
    .await;
    assert_eq!(
        deactivation["deactivateUser"]["userErrors"][0]["code"], "HOLDS_WORK",
        "{deactivation}"
    );

    // The WebSocket door waits for the same slots.
    let mut socket = connect(&app).await;
    init(&mut socket, &admin).await;
    let held = planning.enter().await.expect("the slot");
    let subscribe = json!({ "id": "p", "type": "subscribe",
        "payload": { "query": PREVIEW_COUNTS, "variables": { "i": input } } });
    send(&mut socket, subscribe).await;
    let early = within_a_moment(next(&mut socket)).await;
    assert!(
        early.is_none(),
        "answered over WebSocket while the only slot was taken: {early:?}"
    );
    assert_eq!(planning.waiting(), 1);
    drop(held);
    let answer = next(&mut socket).await;
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(&answer["payload"]["data"]["reassignmentPreview"], first);
    assert_eq!((planning.busy(), planning.most_at_once()), (0, 1));
}

/// A request that waits for a planning slot longer than the request timeout is answered
/// `TIMEOUT`, leaves the queue, and changes nothing; the slot serves the next request.
async fn a_request_waiting_for_a_plan_slot_times_out_and_leaves_the_queue(backend: Backend) {
    let app = one_plan_at_a_time(backend, 1).await;
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let input = json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob } });
    let before = snapshot(&app.db).await;
    let held = app.live.planning.enter().await.expect("the slot");
    let (status, body) = app
        .gql(
            &admin,
            "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { reassignment { id } } }",
            input.clone(),
        )
        .await;
    assert_eq!((status, error_code(&body)), (200, "TIMEOUT"), "{body}");
    assert!(snapshot(&app.db).await == before);
    drop(held);
    assert_eq!(app.live.planning.busy(), 0);
    let data = app.data(&admin, PREVIEW_COUNTS, input).await;
    assert_eq!(data["reassignmentPreview"]["tasks"]["count"], 6);
}

/// The scheduler looks for due steps every second. With nothing due, a tick takes no planning
/// slot (nor the write lock), so it never waits behind big previews; a due start waits for its
/// slot, then runs.
async fn a_tick_with_nothing_due_takes_no_plan_slot(backend: Backend) {
    use handover::planned::schedule;
    let app = one_plan_at_a_time(backend, QueryLimits::default().request_timeout).await;
    let admin = app.token("alice@demo.test").await;
    let (carol, dan) = (
        app.user_id(&admin, "carol@demo.test").await,
        app.user_id(&admin, "dan@demo.test").await,
    );
    let now = chrono::Utc::now();
    let next_week = (now + chrono::Duration::days(7)).date_naive().to_string();
    let planned = app
        .data(
            &admin,
            PLAN_HANDOVER,
            json!({ "i": { "work": { "fromUserId": carol, "acknowledgeRisks": true, "toUserId": dan }, "startsOn": next_week } }),
        )
        .await;
    assert_eq!(planned["planHandover"]["userErrors"], json!([]), "{planned}");

    let held = app.live.planning.enter().await.expect("the slot");
    let idle = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        schedule::tick(&app.db, &app.live, now),
    )
    .await;
    assert_eq!(idle.expect("a tick with nothing due waited for a slot").unwrap(), 0);
    let due = schedule::tick(&app.db, &app.live, now + chrono::Duration::days(10));
    tokio::pin!(due);
    let early = within_a_moment(&mut due).await;
    assert!(early.is_none(), "a due start ran while the only slot was taken");
    drop(held);
    assert_eq!(due.await.unwrap(), 1);
}

on_both_databases!(
    reassignments_are_planned_at_most_as_many_at_once_as_configured,
    a_request_waiting_for_a_plan_slot_times_out_and_leaves_the_queue,
    a_tick_with_nothing_due_takes_no_plan_slot,
);
