//! Planned handovers on the reference firm.
//!
//! `handover-bench --scheduled`: the big reassignment applied at once (over HTTP) and undone,
//! then the same work as a planned cover: its start and its return, each timed as one step of
//! the scheduler (`planned::schedule::tick`, the call `serve` makes every second, made here with
//! the instant the bench chooses while no server runs, so nothing else claims the step).
//!
//! `handover-bench --crash N --scheduled`: N times, a server is SIGKILLed in the middle of a
//! scheduled start and then of a return; after each kill the database holds all of the step or
//! none of it, and after the restart each step has run exactly once.

use crate::{Server, generate, ms, post};
use chrono::{DateTime, Utc};
use entity::{PlannedHandoverStatus as Status, planned_handover, reassignment, task};
use handover::auth::{JwtKeys, Viewer};
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use handover::planned::{self, PlanRequest, schedule};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use std::time::{Duration, Instant};

const APPLY: &str = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code }
  reassignment { id tasks { reassigned } } } }";
const UNDO: &str = "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code } } }";

fn secret() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    secret.iter().map(|b| format!("{b:02x}")).collect()
}

async fn admin(db: &DatabaseConnection, people: &generate::People) -> AppResult<Viewer> {
    Viewer::load(db, people.admin)
        .await?
        .ok_or_else(|| AppError::internal("no bench administrator"))
}

/// The source's work to the target, for good or until `returns`, starting at `starts`.
async fn plan(
    db: &DatabaseConnection,
    live: &handover::notify::Live,
    viewer: &Viewer,
    people: &generate::People,
    starts: DateTime<Utc>,
    returns: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<planned_handover::Model> {
    let request = PlanRequest {
        work: handover::reassign::Request {
            from_user_id: Some(Ok(people.source)),
            acknowledge_risks: true,
            to_user_id: Some(Ok(people.target)),
            note: Some("benchmark cover".into()),
            ..Default::default()
        },
        starts_at: Some(starts),
        returns_at: Some(returns),
        ..Default::default()
    };
    planned::plan(db, live, viewer, &request, now)
        .await?
        .map_err(|refused| AppError::internal(format!("the plan was refused: {refused:?}")))
}

async fn status(db: &DatabaseConnection, id: i64) -> AppResult<planned_handover::Model> {
    planned_handover::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the plan is gone"))
}

/// The reference firm's source is a leaver (deactivated); a cover returns work to someone who
/// is back, so for these runs the source is enabled, and left as it was afterwards.
async fn set_enabled(db: &DatabaseConnection, user: i64, enabled: bool) -> AppResult<bool> {
    let before = entity::user::Entity::find_by_id(user)
        .one(db)
        .await?
        .is_some_and(|u| u.enabled);
    entity::user::Entity::update_many()
        .col_expr(entity::user::Column::Enabled, Expr::value(enabled))
        .filter(entity::user::Column::Id.eq(user))
        .exec(db)
        .await?;
    Ok(before)
}

async fn held(db: &DatabaseConnection, user: i64) -> AppResult<u64> {
    Ok(task::Entity::find()
        .filter(task::Column::AssigneeId.eq(user))
        .count(db)
        .await?)
}

/// The immediate reassignment of the same work over HTTP, undone: (apply, undo, tasks moved).
async fn immediate(database_url: &str, people: &generate::People) -> AppResult<(Duration, Duration, i64)> {
    let secret = secret();
    let (server, port) = Server::start(database_url, &secret).await?;
    let token = JwtKeys::hs256(secret.as_bytes(), None, None).sign(&ids::encode(Kind::User, people.admin), 3600)?;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let client = reqwest::Client::new();
    let input = json!({ "fromUserId": ids::encode(Kind::User, people.source), "acknowledgeRisks": true,
                        "toUserId": ids::encode(Kind::User, people.target) });
    let (data, apply) = post(&client, &url, &token, APPLY, json!({ "i": input })).await?;
    let batch = &data["reassignWork"]["reassignment"];
    let (_, undo) = post(&client, &url, &token, UNDO, json!({ "id": batch["id"] })).await?;
    drop(server);
    Ok((apply, undo, batch["tasks"]["reassigned"].as_i64().unwrap_or_default()))
}

pub async fn run(database_url: &str, scale: f64) -> AppResult<()> {
    let db = handover::db::connect(database_url).await?;
    handover::db::migrate(&db).await?;
    let backend = handover::db::backend_name(&db);
    let (people, _) = generate::ensure(&db, generate::Size::scaled(scale), Utc::now()).await?;
    let was_enabled = set_enabled(&db, people.source, true).await?;
    let (apply, undo, moved) = immediate(database_url, &people).await?;
    eprintln!("immediate: apply {}, undo {}, {moved} tasks", ms(apply), ms(undo));

    let live = handover::notify::Live::start(&db, Default::default());
    let viewer = admin(&db, &people).await?;
    let now = Utc::now();
    let (starts, returns) = (now + chrono::Duration::minutes(1), now + chrono::Duration::minutes(2));
    let p = plan(&db, &live, &viewer, &people, starts, returns, now).await?;
    let started = Instant::now();
    let ran = schedule::tick(&db, &live, starts).await?;
    let start_time = started.elapsed();
    let after_start = status(&db, p.id).await?;
    let started_batch = match after_start.start_reassignment_id {
        Some(id) => reassignment::Entity::find_by_id(id).one(&db).await?,
        None => None,
    };
    if ran != 1
        || after_start.status != Status::Active
        || started_batch.as_ref().map(|b| b.tasks_reassigned) != Some(moved)
    {
        return Err(AppError::internal(format!(
            "the scheduled start did not move the same work: {after_start:?}"
        )));
    }
    let started = Instant::now();
    schedule::tick(&db, &live, returns).await?;
    let return_time = started.elapsed();
    let after_return = status(&db, p.id).await?;
    if after_return.status != Status::Returned {
        return Err(AppError::internal(format!("the return did not run: {after_return:?}")));
    }
    set_enabled(&db, people.source, was_enabled).await?;
    let ratio = |d: Duration| d.as_secs_f64() / apply.as_secs_f64().max(1e-9);
    println!(
        "| database | scale | immediate apply | scheduled start | start / apply | immediate undo | scheduled return | return / apply |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {scale} | {} | {} | {:.2}x | {} | {} | {:.2}x |",
        ms(apply),
        ms(start_time),
        ratio(start_time),
        ms(undo),
        ms(return_time),
        ratio(return_time)
    );
    Ok(())
}

/// Wait until the plan leaves `from`, or fail after `limit`.
async fn wait_past(
    db: &DatabaseConnection,
    id: i64,
    from: Status,
    limit: Duration,
) -> AppResult<planned_handover::Model> {
    let deadline = Instant::now() + limit;
    loop {
        let p = status(db, id).await?;
        if p.status != from {
            return Ok(p);
        }
        if Instant::now() > deadline {
            return Err(AppError::internal(format!("plan {id} stayed {from:?}")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn crash(database_url: &str, scale: f64, times: usize) -> AppResult<()> {
    let db = handover::db::connect(database_url).await?;
    handover::db::migrate(&db).await?;
    let backend = handover::db::backend_name(&db);
    let (people, _) = generate::ensure(&db, generate::Size::scaled(scale), Utc::now()).await?;
    let was_enabled = set_enabled(&db, people.source, true).await?;
    let (apply, _, moved) = immediate(database_url, &people).await?;
    let moved = moved as u64;
    let live = handover::notify::Live::start(&db, Default::default());
    let viewer = admin(&db, &people).await?;
    let secret = secret();
    let (mut all, mut none) = (0, 0);
    for round in 0..times {
        let (source_before, target_before) = (held(&db, people.source).await?, held(&db, people.target).await?);
        let batches_before = reassignment::Entity::find().count(&db).await?;
        // Due two seconds after the server is up; the server ticks every second, so the kill
        // lands before, during or after the step, spread over the rounds.
        let now = Utc::now();
        let p = plan(
            &db,
            &live,
            &viewer,
            &people,
            now + chrono::Duration::seconds(3),
            now + chrono::Duration::days(1),
            now,
        )
        .await?;
        for step in ["start", "return"] {
            if step == "return" {
                // Bring the return forward: the schedule is the table.
                planned_handover::Entity::update_many()
                    .col_expr(
                        planned_handover::Column::ReturnsAt,
                        Expr::value(Some(Utc::now() + chrono::Duration::seconds(2))),
                    )
                    .filter(planned_handover::Column::Id.eq(p.id))
                    .exec(&db)
                    .await?;
            }
            let from = if step == "start" {
                Status::Scheduled
            } else {
                Status::Active
            };
            let (mut server, _) = Server::start(database_url, &secret).await?;
            let delay = Duration::from_secs(2) + apply.mul_f64((round as f64 + 0.5) / times as f64 * 1.5);
            tokio::time::sleep(delay).await;
            server.kill_now();
            // All or nothing at the kill.
            let at_kill = status(&db, p.id).await?;
            let (source, target) = (held(&db, people.source).await?, held(&db, people.target).await?);
            let batches = reassignment::Entity::find().count(&db).await?;
            let expected_batches = batches_before + if step == "start" { 0 } else { 1 };
            let (source_if_done, target_if_done) = if step == "start" {
                (source_before - moved, target_before + moved)
            } else {
                (source_before, target_before)
            };
            let (source_if_not, target_if_not) = if step == "start" {
                (source_before, target_before)
            } else {
                (source_before - moved, target_before + moved)
            };
            if at_kill.status == from {
                if (source, target, batches) != (source_if_not, target_if_not, expected_batches) {
                    return Err(AppError::internal(format!(
                        "round {round}, {step}: not run, yet something changed: tasks {source}/{target}, {batches} batches"
                    )));
                }
                none += 1;
            } else if (source, target, batches) == (source_if_done, target_if_done, expected_batches + 1) {
                all += 1;
            } else {
                return Err(AppError::internal(format!(
                    "round {round}, {step}: half a step: {at_kill:?}, tasks {source}/{target}, {batches} batches"
                )));
            }
            // Restarted, the step has run exactly once.
            let (server, _) = Server::start(database_url, &secret).await?;
            let after = wait_past(&db, p.id, from, Duration::from_secs(60)).await?;
            drop(server);
            let batches = reassignment::Entity::find().count(&db).await?;
            if batches != expected_batches + 1 || after.status == Status::Failed {
                return Err(AppError::internal(format!(
                    "round {round}, {step}: after the restart {batches} batches (want {}), {after:?}",
                    expected_batches + 1
                )));
            }
            eprintln!(
                "round {round}, {step}: killed after {}: {}",
                ms(delay),
                if at_kill.status == from {
                    "none of it"
                } else {
                    "all of it"
                }
            );
        }
    }
    set_enabled(&db, people.source, was_enabled).await?;
    println!(
        "| database | scale | kills (starts + returns) | all of it | none of it | half-done | each step ran once after restart |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!("| {backend} | {scale} | {} | {all} | {none} | 0 | yes |", times * 2);
    Ok(())
}
