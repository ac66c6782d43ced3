//! `handover-bench --crash N`: N times, start a server, send the big reassignment, SIGKILL the
//! server part-way through, restart it, and check: the database holds all of the reassignment
//! (records moved, batch and complete report, notification and email) or none of it; a
//! committed email is then delivered, once. Committed runs are undone before the next one.

use crate::{Server, mail_dir, ms, post};
use entity::{OutboxState, notification, outbox_email, reassignment, reassignment_item, task};
use handover::auth::JwtKeys;
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use rand::RngCore;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;
use std::time::{Duration, Instant};

const APPLY: &str =
    "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } reassignment { id } } }";
const UNDO: &str = "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code } } }";
const PREVIEW: &str = "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) {
  matters { count excluded { count } } tasks { count excluded { count } } calendarEvents { count excluded { count } } } }";

async fn held(db: &DatabaseConnection, user: i64) -> AppResult<u64> {
    Ok(task::Entity::find()
        .filter(task::Column::AssigneeId.eq(user))
        .count(db)
        .await?)
}

async fn last_batch(db: &DatabaseConnection) -> AppResult<i64> {
    Ok(reassignment::Entity::find()
        .order_by_desc(reassignment::Column::Id)
        .one(db)
        .await?
        .map_or(0, |r| r.id))
}

pub async fn run(database_url: &str, scale: f64, times: usize) -> AppResult<()> {
    let db = handover::db::connect(database_url).await?;
    handover::db::migrate(&db).await?;
    let backend = handover::db::backend_name(&db);
    let (people, _) = crate::generate::ensure(&db, crate::generate::Size::scaled(scale), chrono::Utc::now()).await?;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let token = JwtKeys::hs256(secret.as_bytes(), None, None).sign(&ids::encode(Kind::User, people.admin), 3600)?;
    let client = reqwest::Client::new();
    let input = json!({ "fromUserId": ids::encode(Kind::User, people.source), "acknowledgeRisks": true, "toUserId": ids::encode(Kind::User, people.target) });

    // Calibrate: how long does the apply take when nobody kills it?
    let (mut server, port) = Server::start(database_url, &secret).await?;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let (preview, _) = post(&client, &url, &token, PREVIEW, json!({ "i": input })).await?;
    let considered: i64 = ["matters", "tasks", "calendarEvents"]
        .iter()
        .map(|c| {
            let p = &preview["reassignmentPreview"][c];
            p["count"].as_i64().unwrap_or(0)
                + p["excluded"]
                    .as_array()
                    .map_or(0, |e| e.iter().map(|x| x["count"].as_i64().unwrap_or(0)).sum())
        })
        .sum();
    let started = Instant::now();
    let (data, _) = post(&client, &url, &token, APPLY, json!({ "i": input })).await?;
    let apply_time = started.elapsed();
    let id = data["reassignWork"]["reassignment"]["id"].clone();
    post(&client, &url, &token, UNDO, json!({ "id": id })).await?;
    server.kill_now();
    eprintln!("calibration: {considered} records considered, apply {}", ms(apply_time));

    let (mut committed, mut rolled_back, mut emails_checked) = (0, 0, 0);
    for round in 0..times {
        let _ = std::fs::remove_dir_all(mail_dir());
        let (source_before, target_before) = (held(&db, people.source).await?, held(&db, people.target).await?);
        let batch_before = last_batch(&db).await?;
        let (mut server, port) = Server::start(database_url, &secret).await?;
        let url = format!("http://127.0.0.1:{port}/graphql");
        // Kill at a point spread over the apply: early, middle, late, and around its commit.
        let delay = apply_time.mul_f64((round as f64 + 0.5) / times as f64 * 1.2);
        let request = {
            let (client, url, token, input) = (client.clone(), url.clone(), token.clone(), input.clone());
            tokio::spawn(async move { post(&client, &url, &token, APPLY, json!({ "i": input })).await })
        };
        tokio::time::sleep(delay).await;
        server.kill_now();
        let _ = request.await;

        // Restart: the database must be all or nothing.
        let (mut server, port) = Server::start(database_url, &secret).await?;
        let url = format!("http://127.0.0.1:{port}/graphql");
        let batches: Vec<reassignment::Model> = reassignment::Entity::find()
            .filter(reassignment::Column::Id.gt(batch_before))
            .all(&db)
            .await?;
        let (source_after, target_after) = (held(&db, people.source).await?, held(&db, people.target).await?);
        match batches.as_slice() {
            [] => {
                if (source_after, target_after) != (source_before, target_before) {
                    return Err(AppError::internal(format!("round {round}: no batch, yet tasks moved")));
                }
                rolled_back += 1;
            }
            [batch] => {
                let items = reassignment_item::Entity::find()
                    .filter(batch.items())
                    .count(&db)
                    .await? as i64;
                let moved = batch.tasks_reassigned as u64;
                if items != considered || source_after != source_before - moved || target_after != target_before + moved
                {
                    return Err(AppError::internal(format!(
                        "round {round}: half a reassignment: {items} items of {considered}, tasks {source_before}->{source_after} / {target_before}->{target_after}, {moved} moved"
                    )));
                }
                // Its email was in the same transaction: the restarted worker delivers it, once.
                let notes: Vec<i64> = notification::Entity::find()
                    .filter(notification::Column::ReassignmentId.eq(batch.id))
                    .all(&db)
                    .await?
                    .into_iter()
                    .map(|n| n.id)
                    .collect();
                // A send the killed server had leased waits out the lease (15 s) first.
                let deadline = Instant::now() + Duration::from_secs(40);
                loop {
                    let sent = outbox_email::Entity::find()
                        .filter(outbox_email::Column::NotificationId.is_in(notes.clone()))
                        .filter(outbox_email::Column::State.eq(OutboxState::Sent))
                        .count(&db)
                        .await?;
                    if sent as usize == notes.len() {
                        break;
                    }
                    if Instant::now() > deadline {
                        return Err(AppError::internal(format!(
                            "round {round}: the email was not delivered after the restart"
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                // This batch's emails only: an email of an earlier round (an undo, sent by a
                // server killed before its worker ran) may arrive in this round's directory.
                let ours: std::collections::HashSet<String> = outbox_email::Entity::find()
                    .filter(outbox_email::Column::NotificationId.is_in(notes.clone()))
                    .all(&db)
                    .await?
                    .into_iter()
                    .map(|e| format!("outbox-{}.eml", e.id))
                    .collect();
                let files = std::fs::read_dir(mail_dir())
                    .map(|d| {
                        d.filter_map(Result::ok)
                            .filter(|f| ours.contains(&*f.file_name().to_string_lossy()))
                            .count()
                    })
                    .unwrap_or(0);
                if files != notes.len() {
                    return Err(AppError::internal(format!(
                        "round {round}: {files} email files for {} emails",
                        notes.len()
                    )));
                }
                emails_checked += notes.len();
                committed += 1;
                post(
                    &client,
                    &url,
                    &token,
                    UNDO,
                    json!({ "id": ids::encode(Kind::Reassignment, batch.id) }),
                )
                .await?;
            }
            more => {
                return Err(AppError::internal(format!(
                    "round {round}: {} batches for one request",
                    more.len()
                )));
            }
        }
        server.kill_now();
        eprintln!(
            "round {round}: killed after {}: {}",
            ms(delay),
            if batches.is_empty() { "none of it" } else { "all of it" }
        );
    }
    println!("| database | scale | kills | all of it | none of it | half-done | emails delivered once after restart |");
    println!("|---|---|---|---|---|---|---|");
    println!("| {backend} | {scale} | {times} | {committed} | {rolled_back} | 0 | {emails_checked} |");
    Ok(())
}
