//! `handover-bench --soak SECONDS`: clients hammer one server at once for a bounded time:
//! previews, applies and undos of overlapping work among a handful of people, reads, and
//! subscribers. Then: no 5xx, no "database is locked", no lost live notification, and every
//! report adds up to what its batch says it moved.
//!
//! It runs three times on the same server: as it is, with a hostile member beside the normal
//! clients (see `hostile`), and as it is again. The database grows from run to run and slows
//! them down by itself, so the hostile run's p99 latency is compared with the mean of the two
//! calm runs around it; it must stay within `--max-slowdown` (2x).

use crate::Server;
use entity::{ItemOutcome, WorkKind, reassignment, reassignment_item, task, user};
use futures::{SinkExt, StreamExt};
use handover::auth::JwtKeys;
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use rand::RngCore;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const WORKERS: usize = 12;

#[derive(Default)]
struct Tally {
    /// Latency of each normal request, in microseconds.
    latencies: std::sync::Mutex<Vec<u64>>,
    requests: AtomicU64,
    ok: AtomicU64,
    refused: AtomicU64,
    server_errors: AtomicU64,
    locked: AtomicU64,
    applied: AtomicU64,
    undone: AtomicU64,
    live: AtomicU64,
}

pub async fn run(database_url: &str, scale: f64, seconds: u64, max_slowdown: f64) -> AppResult<()> {
    let db = handover::db::connect(database_url).await?;
    handover::db::migrate(&db).await?;
    let backend = handover::db::backend_name(&db);
    let (people, _) = crate::generate::ensure(&db, crate::generate::Size::scaled(scale), chrono::Utc::now()).await?;
    // The source and a few enabled attorneys pass work around among themselves.
    let attorneys: Vec<i64> = user::Entity::find()
        .filter(user::Column::FirmId.eq(people.firm_id))
        .filter(user::Column::Enabled.eq(true))
        .filter(user::Column::Licence.eq(entity::Licence::Attorney))
        .all(&db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .filter(|id| *id != people.admin)
        .take(6)
        .collect();
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let keys = JwtKeys::hs256(secret.as_bytes(), None, None);
    let admin = keys.sign(&ids::encode(Kind::User, people.admin), 3600)?;
    let (server, port) = Server::start(database_url, &secret).await?;
    let base = format!("http://127.0.0.1:{port}");
    let tally = Arc::new(Tally::default());
    let batch_before = reassignment::Entity::find().count(&db).await?;

    // Subscribers: every attorney listens; count what arrives.
    let mut subscribers = Vec::new();
    for person in &attorneys {
        let token = keys.sign(&ids::encode(Kind::User, *person), 3600)?;
        let (tally, url) = (tally.clone(), format!("ws://127.0.0.1:{port}/graphql"));
        subscribers.push(tokio::spawn(async move {
            let mut request = url.into_client_request().expect("url");
            request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
            let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else { return };
            let init = json!({ "type": "connection_init", "payload": { "token": token } });
            let sub = json!({ "id": "s", "type": "subscribe", "payload": { "query": "subscription { workAssigned { id } }" } });
            let _ = socket.send(Message::Text(init.to_string().into())).await;
            let _ = socket.next().await;
            let _ = socket.send(Message::Text(sub.to_string().into())).await;
            while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(seconds + 5), socket.next()).await {
                if matches!(&message, Message::Text(t) if t.contains("\"next\"")) {
                    tally.live.fetch_add(1, Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let calm = Arc::new(Tally::default());
    clients(
        &base,
        &admin,
        &attorneys,
        Instant::now() + Duration::from_secs(seconds),
        &calm,
    )
    .await;
    let member = keys.sign(&ids::encode(Kind::User, attorneys[0]), 3600)?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let hostile = tokio::spawn(crate::hostile::run(port, member, deadline));
    clients(&base, &admin, &attorneys, deadline, &tally).await;
    let attacks = hostile.await.unwrap_or_default();
    let calm_after = Arc::new(Tally::default());
    clients(
        &base,
        &admin,
        &attorneys,
        Instant::now() + Duration::from_secs(seconds),
        &calm_after,
    )
    .await;

    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(server);
    for s in subscribers {
        s.abort();
    }

    // Every report adds up to what its batch says it moved, and every task has a holder of the firm.
    let batches = reassignment::Entity::find().all(&db).await?;
    let mut checked = 0;
    for b in batches.iter().skip(batch_before as usize) {
        for (kind, said) in [
            (WorkKind::Matter, b.matters_reassigned),
            (WorkKind::Task, b.tasks_reassigned),
            (WorkKind::CalendarEvent, b.events_reassigned),
        ] {
            let items = reassignment_item::Entity::find()
                .filter(b.items())
                .filter(reassignment_item::Column::Kind.eq(kind))
                .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Reassigned))
                .count(&db)
                .await? as i64;
            if items != said {
                return Err(AppError::internal(format!(
                    "batch {}: says {said} {kind:?} moved, report has {items}",
                    b.id
                )));
            }
        }
        checked += 1;
    }
    let firm_users: Vec<i64> = user::Entity::find()
        .filter(user::Column::FirmId.eq(people.firm_id))
        .all(&db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let orphans = task::Entity::find()
        .filter(task::Column::FirmId.eq(people.firm_id))
        .filter(task::Column::AssigneeId.is_not_in(firm_users))
        .count(&db)
        .await?;
    let t = |a: &AtomicU64| a.load(Relaxed);
    for run in [&calm, &calm_after] {
        for (sum, part) in [
            (&tally.server_errors, &run.server_errors),
            (&tally.locked, &run.locked),
            (&tally.applied, &run.applied),
            (&tally.undone, &run.undone),
            (&tally.refused, &run.refused),
            (&tally.requests, &run.requests),
        ] {
            sum.fetch_add(part.load(Relaxed), Relaxed);
        }
    }
    let (before, hostile_p99, after) = (p99(&calm), p99(&tally), p99(&calm_after));
    let calm_p99 = (before + after) / 2.0;
    let ratio = if calm_p99 > 0.0 { hostile_p99 / calm_p99 } else { 0.0 };
    println!(
        "normal clients' p99: {before:.1} ms alone, {hostile_p99:.1} ms beside the hostile client, {after:.1} ms \
         alone again: {ratio:.2}x the calm mean. Hostile client: {attacks}"
    );
    println!(
        "| database | seconds | clients | requests | applied | undone | refused (user errors) | 5xx or errors | \"database is locked\" | live notifications | reports checked | tasks without a holder |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {seconds} | {WORKERS} + {} subscribers | {} | {} | {} | {} | {} | {} | {} | {checked} | {orphans} |",
        attorneys.len(),
        t(&tally.requests),
        t(&tally.applied),
        t(&tally.undone),
        t(&tally.refused),
        t(&tally.server_errors),
        t(&tally.locked),
        t(&tally.live),
    );
    if t(&tally.server_errors) > 0 || t(&tally.locked) > 0 || orphans > 0 {
        return Err(AppError::internal("the soak found errors"));
    }
    if !attacks.all_refused() {
        return Err(AppError::internal(format!("the hostile client got through: {attacks}")));
    }
    if ratio > max_slowdown {
        return Err(AppError::internal(format!(
            "the hostile client slowed the normal clients' p99 by {ratio:.2}x (more than {max_slowdown}x)"
        )));
    }
    Ok(())
}

/// The normal clients, until `deadline`.
async fn clients(base: &str, admin: &str, attorneys: &[i64], deadline: Instant, tally: &Arc<Tally>) {
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (tally, base, admin, attorneys) = (tally.clone(), base.to_string(), admin.to_string(), attorneys.to_vec());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = worker as u64 * 7919;
            while Instant::now() < deadline {
                n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let pick = |k: u64| attorneys[((n >> (k * 8)) % attorneys.len() as u64) as usize];
                let (from, to) = (pick(1), pick(2));
                let input = json!({ "fromUserId": ids::encode(Kind::User, from), "acknowledgeRisks": true, "toUserId": ids::encode(Kind::User, to) });
                let (query, vars) = match (n >> 40) % 6 {
                    0 => ("query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { tasks { count } } }", json!({ "i": input })),
                    1 | 2 => ("mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } reassignment { id } } }", json!({ "i": input })),
                    3 => ("{ reassignments(first: 1) { nodes { id status } } }", json!({})),
                    4 => ("{ users(first: 20) { nodes { workload { openMatters openTasks upcomingEvents } } } }", json!({})),
                    _ => ("{ matters(first: 50) { totalCount nodes { responsibleAttorney { name } openTaskCount } } }", json!({})),
                };
                tally.requests.fetch_add(1, Relaxed);
                let started = Instant::now();
                let res = client.post(format!("{base}/graphql")).bearer_auth(&admin).json(&json!({ "query": query, "variables": vars })).send().await;
                let res = match res {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        let took = started.elapsed().as_micros() as u64;
                        tally.latencies.lock().unwrap_or_else(|e| e.into_inner()).push(took);
                        Ok((status, body))
                    }
                    Err(e) => Err(e),
                };
                let Ok((status, body)) = res else {
                    tally.server_errors.fetch_add(1, Relaxed);
                    continue;
                };
                if status >= 500 {
                    tally.server_errors.fetch_add(1, Relaxed);
                }
                if body.to_string().to_lowercase().contains("locked") {
                    tally.locked.fetch_add(1, Relaxed);
                }
                // A refused preview (e.g. the same person twice) is an answer, not a failure.
                if body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" {
                    tally.refused.fetch_add(1, Relaxed);
                    continue;
                }
                if body["errors"].is_array() {
                    if tally.server_errors.fetch_add(1, Relaxed) < 3 {
                        eprintln!("error answer ({status}): {body}");
                    }
                    continue;
                }
                let payload = body["data"]["reassignWork"].clone();
                if payload.is_object() {
                    if payload["userErrors"].as_array().is_some_and(|e| !e.is_empty()) {
                        tally.refused.fetch_add(1, Relaxed);
                        continue;
                    }
                    tally.applied.fetch_add(1, Relaxed);
                    // Half of the applies are undone right away, racing the others.
                    if n.is_multiple_of(2) {
                        let id = payload["reassignment"]["id"].clone();
                        let undo = "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code } } }";
                        tally.requests.fetch_add(1, Relaxed);
                        if let Ok(r) = client.post(format!("{base}/graphql")).bearer_auth(&admin).json(&json!({ "query": undo, "variables": { "id": id } })).send().await {
                            let b: Value = r.json().await.unwrap_or(Value::Null);
                            if b["errors"].is_array() {
                                if tally.server_errors.fetch_add(1, Relaxed) < 3 {
                                    eprintln!("error answer to an undo: {b}");
                                }
                            } else {
                                tally.undone.fetch_add(1, Relaxed);
                            }
                        }
                    }
                }
                tally.ok.fetch_add(1, Relaxed);
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
}

/// The 99th percentile of the recorded latencies, in milliseconds.
fn p99(tally: &Tally) -> f64 {
    let mut all = tally.latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if all.is_empty() {
        return 0.0;
    }
    all.sort_unstable();
    all[(all.len() * 99 / 100).min(all.len() - 1)] as f64 / 1000.0
}
