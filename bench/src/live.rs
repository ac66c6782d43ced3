//! `handover-bench --live N`: N subscribed WebSocket connections held by a server process
//! (memory per connection from the kernel's figures), then N/2 reassignments back to back, each
//! to a different subscribed assignee: every notification must arrive once, to its assignee
//! only; latency from the mutation's response to the notification.

use crate::{Server, ms, post};
use entity::*;
use futures::{SinkExt, StreamExt};
use handover::auth::JwtKeys;
use handover::db::begin_write;
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use rand::RngCore;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const FIRM_KEY: &str = "live-bench";
const APPLY: &str =
    "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code message } reassignment { id } } }";

/// (sources, assignees): user ids, pair i moves source i's task to assignee i.
async fn ensure_firm(db: &DatabaseConnection, pairs: usize) -> AppResult<(i64, Vec<i64>, Vec<i64>)> {
    let existing = firm::Entity::find()
        .filter(firm::Column::Key.eq(FIRM_KEY))
        .one(db)
        .await?;
    let firm_id = match existing {
        Some(f) => f.id,
        None => {
            let txn = begin_write(db).await?;
            let firm_id = firm::Entity::insert(firm::ActiveModel {
                key: Set(FIRM_KEY.into()),
                name: Set("Live Bench LLP".into()),
                time_zone: Set("America/New_York".into()),
                ..Default::default()
            })
            .exec(&txn)
            .await?
            .last_insert_id;
            let user = |key: String, admin: bool| {
                user::ActiveModel {
                    firm_id: Set(firm_id),
                    email: Set(format!("{key}@live.test")),
                    name: Set(key.clone()),
                    key: Set(key),
                    account_admin: Set(admin),
                    licence: Set(Licence::Attorney),
                    enabled: Set(true),
                    time_zone: Set(None),
                    ..Default::default()
                }
                .folded()
            };
            let mut users = vec![user("admin".into(), true)];
            users.extend((0..pairs).map(|i| user(format!("ls{i}"), false)));
            users.extend((0..pairs).map(|i| user(format!("la{i}"), false)));
            for chunk in users.chunks(2000) {
                user::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            let ids: Vec<(i64, String)> = user::Entity::find()
                .select_only()
                .columns([user::Column::Id, user::Column::Key])
                .filter(user::Column::FirmId.eq(firm_id))
                .into_tuple()
                .all(&txn)
                .await?;
            let calendars: Vec<calendar::ActiveModel> = ids
                .iter()
                .map(|(id, key)| calendar::ActiveModel {
                    firm_id: Set(firm_id),
                    kind: Set(CalendarKind::Personal),
                    owner_user_id: Set(Some(*id)),
                    name: Set(key.clone()),
                    ..Default::default()
                })
                .collect();
            for chunk in calendars.chunks(2000) {
                calendar::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            let matter_id = matter::Entity::insert(
                matter::ActiveModel {
                    firm_id: Set(firm_id),
                    key: Set("live-m".into()),
                    display_number: Set("00001-Live".into()),
                    description: Set("Live benchmark".into()),
                    status: Set(MatterStatus::Open),
                    practice_area: Set(None),
                    client_name: Set("Live".into()),
                    responsible_attorney_id: Set(Some(ids[0].0)),
                    originating_attorney_id: Set(None),
                    permission_everyone: Set(true),
                    ..Default::default()
                }
                .folded(),
            )
            .exec(&txn)
            .await?
            .last_insert_id;
            let by_key: std::collections::HashMap<&str, i64> = ids.iter().map(|(id, k)| (k.as_str(), *id)).collect();
            let tasks: Vec<task::ActiveModel> = (0..pairs)
                .map(|i| task::ActiveModel {
                    firm_id: Set(firm_id),
                    key: Set(format!("lt{i}")),
                    name: Set(format!("Live task {i}")),
                    matter_id: Set(Some(matter_id)),
                    assignee_id: Set(by_key[format!("ls{i}").as_str()]),
                    assigner_id: Set(None),
                    due_date: Set(None),
                    status: Set(TaskStatus::Pending),
                    statute_of_limitations: Set(false),
                    ..Default::default()
                })
                .collect();
            for chunk in tasks.chunks(2000) {
                task::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            txn.commit().await?;
            firm_id
        }
    };
    // Every run starts from the same state: each source holds its task.
    db.execute_unprepared(&format!(
        "UPDATE task SET assignee_id = (SELECT u.id FROM \"user\" u WHERE u.firm_id = {firm_id} AND u.key = 'ls' || substr(task.key, 3)) \
         WHERE firm_id = {firm_id}"
    ))
    .await?;
    let users: Vec<(i64, String)> = user::Entity::find()
        .select_only()
        .columns([user::Column::Id, user::Column::Key])
        .filter(user::Column::FirmId.eq(firm_id))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let pick = |prefix: &str| -> Vec<i64> {
        let mut v: Vec<(usize, i64)> = users
            .iter()
            .filter_map(|(id, k)| {
                k.strip_prefix(prefix)
                    .and_then(|n| n.parse().ok())
                    .map(|n: usize| (n, *id))
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, id)| id).take(pairs).collect()
    };
    let admin = users
        .iter()
        .find(|(_, k)| k == "admin")
        .map(|(id, _)| *id)
        .ok_or(AppError::NotFound("admin"))?;
    Ok((admin, pick("ls"), pick("la")))
}

/// What the clients saw: (user id, when) for each `next`.
type Seen = Arc<Mutex<Vec<(i64, Instant)>>>;

pub async fn run(database_url: &str, connections: usize) -> AppResult<()> {
    let db = handover::db::connect(database_url).await?;
    handover::db::migrate(&db).await?;
    let backend = handover::db::backend_name(&db);
    let pairs = (connections / 2).max(1);
    let (admin, sources, assignees) = ensure_firm(&db, pairs).await?;

    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let keys = JwtKeys::hs256(secret.as_bytes(), None, None);
    let (server, port) = Server::start(database_url, &secret).await?;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_kib = server.status_kib("VmRSS:").unwrap_or_default();

    // Connect and subscribe everyone, a hundred at a time.
    let seen: Seen = Default::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let users: Vec<i64> = sources.iter().chain(assignees.iter()).copied().collect();
    let started = Instant::now();
    let mut clients = Vec::new();
    for chunk in users.chunks(100) {
        let mut ready = Vec::new();
        for &user in chunk {
            let token = keys.sign(&ids::encode(Kind::User, user), 3600)?;
            let url = format!("ws://127.0.0.1:{port}/graphql");
            let (seen, mut stop) = (seen.clone(), stop_rx.clone());
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<bool>();
            ready.push(ready_rx);
            clients.push(tokio::spawn(async move {
                let mut request = url.into_client_request().expect("url");
                request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
                let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
                    let _ = ready_tx.send(false);
                    return;
                };
                let init = json!({ "type": "connection_init", "payload": { "token": token } });
                let sub = json!({ "id": "w", "type": "subscribe",
                                  "payload": { "query": "subscription { workAssigned { tasks } }" } });
                let ok = socket.send(Message::Text(init.to_string().into())).await.is_ok()
                    && matches!(socket.next().await, Some(Ok(Message::Text(t))) if t.contains("connection_ack"))
                    && socket.send(Message::Text(sub.to_string().into())).await.is_ok();
                let _ = ready_tx.send(ok);
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        message = socket.next() => match message {
                            Some(Ok(Message::Text(t))) if t.contains("\"next\"") => seen.lock().expect("lock").push((user, Instant::now())),
                            Some(Ok(_)) => {}
                            _ => break,
                        }
                    }
                }
                let _ = socket.close(None).await;
            }));
        }
        for r in ready {
            if !r.await.unwrap_or(false) {
                return Err(AppError::internal("a client could not connect and subscribe"));
            }
        }
    }
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connected_kib = server.status_kib("VmRSS:").unwrap_or_default();
    let per_connection = (connected_kib.saturating_sub(idle_kib)) as f64 * 1024.0 / users.len() as f64;

    // The reassignments, back to back.
    let token = keys.sign(&ids::encode(Kind::User, admin), 3600)?;
    let url = format!("{base}/graphql");
    let mut returned = Vec::with_capacity(pairs);
    let started = Instant::now();
    for (source, assignee) in sources.iter().zip(assignees.iter()) {
        let input = json!({
            "fromUserId": ids::encode(Kind::User, *source), "acknowledgeRisks": true, "toUserId": ids::encode(Kind::User, *assignee),
            "matters": { "include": false }, "calendarEvents": { "include": false },
        });
        let (data, _) = post(&client, &url, &token, APPLY, json!({ "i": input })).await?;
        if data["reassignWork"]["userErrors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
        {
            return Err(AppError::internal(format!("refused: {data}")));
        }
        returned.push((*assignee, Instant::now()));
    }
    let apply_time = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().expect("lock").len() < pairs && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let peak_kib = server.status_kib("VmHWM:").unwrap_or_default();
    let _ = stop_tx.send(true);
    for c in clients {
        let _ = c.await;
    }
    drop(server);

    let seen = seen.lock().expect("lock").clone();
    let mut latencies = Vec::new();
    let mut lost = 0;
    let mut duplicates = 0;
    for (assignee, at) in &returned {
        let got: Vec<&Instant> = seen.iter().filter(|(u, _)| u == assignee).map(|(_, t)| t).collect();
        match got.len() {
            0 => lost += 1,
            n => {
                duplicates += n - 1;
                latencies.push(got[0].saturating_duration_since(*at));
            }
        }
    }
    let strays = seen.iter().filter(|(u, _)| !assignees.contains(u)).count();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "| database | subscribed connections | server memory per connection | reassignments (time) | delivered | lost | duplicates | to others | p50 | p99 | max | server peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {} (connected in {}) | {:.1} KB | {pairs} ({}) | {} | {lost} | {duplicates} | {strays} | {} | {} | {} | {} MiB |",
        users.len(),
        ms(connect_time),
        per_connection / 1000.0,
        ms(apply_time),
        latencies.len(),
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        peak_kib / 1024,
    );
    if lost > 0 || duplicates > 0 || strays > 0 {
        return Err(AppError::internal(
            "notifications were lost, duplicated or misdelivered",
        ));
    }
    Ok(())
}
