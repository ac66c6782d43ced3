//! The durable scheduler. The schedule is the `planned_handover` rows: each due start or return
//! is claimed inside its own write transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so another
//! instance passes over it; SQLite: the one writer) and finished there with a guarded status
//! transition. A crash rolls all of it back and the step runs again; a step missed while no
//! server was up runs at the next tick. Time is the caller's: `serve` ticks with the wall clock,
//! tests with theirs.

use super::{Work, is_last_admin, store_failure, under_work};
use crate::auth::Viewer;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::notify::{Delivery, Live, Published, store};
use crate::reassign::{self, Order, Run, Slot, UserError, input, undo};
use chrono::{DateTime, Utc};
use entity::{
    ItemOutcome, NotificationKind, PlannedHandoverStatus as Status, WorkKind, matter_permitted_user, planned_handover,
    reassignment, reassignment_grant, reassignment_item, user,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How often `serve` looks for due steps (SPEC: within 5 seconds of the instant).
pub const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Start,
    Return,
}

/// What a committed step leaves to do: wake the recipients, count the reassignment.
#[derive(Default)]
struct Committed {
    batch: Option<(reassignment::Model, Vec<Published>)>,
    told: Vec<Published>,
    /// The source was deactivated: cached viewers are stale.
    users_changed: bool,
}

impl Committed {
    fn after_commit(self, live: &Live) {
        if let Some((batch, notifications)) = &self.batch {
            live.after_commit(batch, notifications);
        }
        live.wake(&self.told);
        if self.users_changed {
            live.users_changed();
        }
    }
}

/// Run every start and return due at `now`, each in its own transaction; returns how many ran.
pub async fn tick(db: &DatabaseConnection, live: &Live, now: DateTime<Utc>) -> AppResult<usize> {
    let mut ran = 0;
    for step in [Step::Start, Step::Return] {
        while run_one(db, live, step, now, None).await? {
            ran += 1;
        }
    }
    Ok(ran)
}

/// End an active cover now (its return runs at once). False when it is no longer active.
pub async fn return_now(db: &DatabaseConnection, live: &Live, id: i64, now: DateTime<Utc>) -> AppResult<bool> {
    run_one(db, live, Step::Return, now, Some(id)).await
}

/// Tick until `stop` resolves; errors are logged and the next tick tries again.
pub async fn run(db: DatabaseConnection, live: Live, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = interval.tick() => {
                if let Err(e) = tick(&db, &live, Utc::now()).await {
                    tracing::warn!(error = %e.detail(), "planned handovers: a step failed; it runs again at the next tick");
                }
            }
        }
    }
}

/// Claim one due step (or, with `only`, that plan's step whatever its instant) and run it.
async fn run_one(
    db: &DatabaseConnection,
    live: &Live,
    step: Step,
    now: DateTime<Utc>,
    only: Option<i64>,
) -> AppResult<bool> {
    if !may_be_due(db, step, now, only).await? {
        return Ok(false);
    }
    // Taken before the write transaction, as at every door (see `reassign::gate`).
    let slot = live.planning.enter().await?;
    let txn = begin_write(db).await?;
    let Some(plan) = claim(&txn, step, now, only).await? else {
        txn.rollback().await?;
        return Ok(false);
    };
    let result = match step {
        Step::Start => start(&txn, &plan, now, &slot).await,
        Step::Return => give_back(&txn, &plan, now, &slot).await,
    };
    match result {
        Ok(committed) => {
            txn.commit().await?;
            tracing::info!(plan = plan.id, ?step, "planned handover step ran");
            committed.after_commit(live);
            Ok(true)
        }
        Err(e) => {
            txn.rollback().await.ok();
            Err(e)
        }
    }
}

/// The next due plan for `step` (or, with `only`, that plan's step), as one statement; on
/// PostgreSQL, with `lock`, locked for the transaction that reads it.
fn next_due(
    backend: DatabaseBackend,
    step: Step,
    now: DateTime<Utc>,
    only: Option<i64>,
    lock: bool,
) -> sea_orm::Statement {
    let (status, instant) = match step {
        Step::Start => (Status::Scheduled, "starts_at"),
        Step::Return => (Status::Active, "returns_at"),
    };
    let mut params = crate::db::Params::default();
    let status = params.add(status.to_value());
    let due = match only {
        Some(id) => format!("id = {}", params.add(id)),
        None => format!("{instant} <= {}", params.add(now)),
    };
    let lock = match backend {
        DatabaseBackend::Postgres if lock => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let sql = format!(
        "SELECT id FROM planned_handover WHERE status = {status} AND {instant} IS NOT NULL AND {due}
         ORDER BY {instant}, id LIMIT 1{lock}"
    );
    crate::db::statement(backend, &sql, params.values())
}

/// Whether a step may be due, read outside any transaction: a tick with nothing due (nearly
/// every tick) takes neither a planning slot nor, on SQLite, the write lock. The claim, in the
/// transaction, decides.
async fn may_be_due(db: &DatabaseConnection, step: Step, now: DateTime<Utc>, only: Option<i64>) -> AppResult<bool> {
    let statement = next_due(db.get_database_backend(), step, now, only, false);
    Ok(db.query_one_raw(statement).await?.is_some())
}

/// The next due plan for `step`, locked for this transaction.
async fn claim(
    txn: &DatabaseTransaction,
    step: Step,
    now: DateTime<Utc>,
    only: Option<i64>,
) -> AppResult<Option<planned_handover::Model>> {
    let statement = next_due(txn.get_database_backend(), step, now, only, true);
    let Some(row) = txn.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let id: i64 = row.try_get_by_index(0)?;
    Ok(planned_handover::Entity::find_by_id(id).one(txn).await?)
}

/// The guarded transition that finishes a step: exactly one transaction moves a plan on.
async fn transition(
    txn: &DatabaseTransaction,
    plan: &planned_handover::Model,
    from: Status,
    to: Status,
    also: (planned_handover::Column, sea_orm::Value),
) -> AppResult<()> {
    let update = planned_handover::Entity::update_many()
        .col_expr(planned_handover::Column::Status, Expr::value(to))
        .col_expr(also.0, Expr::value(also.1))
        .filter(planned_handover::Column::Id.eq(plan.id))
        .filter(planned_handover::Column::Status.eq(from));
    if update.exec(txn).await?.rows_affected != 1 {
        return Err(AppError::Transient(format!(
            "planned handover {} moved on meanwhile",
            plan.id
        )));
    }
    Ok(())
}

/// The planning administrator, on whose behalf the plan runs.
async fn planner(txn: &DatabaseTransaction, plan: &planned_handover::Model) -> AppResult<Viewer> {
    Viewer::load(txn, plan.created_by_user_id)
        .await?
        .ok_or_else(|| AppError::internal("a plan's administrator is gone"))
}

/// The start: the work validated again and planned afresh at `now`, applied as the planning
/// administrator; a leaver deactivated in the same transaction. Or, when anything is no longer
/// valid, nothing moves and the plan fails with the reasons.
async fn start(
    txn: &DatabaseTransaction,
    plan: &planned_handover::Model,
    now: DateTime<Utc>,
    slot: &Slot,
) -> AppResult<Committed> {
    let viewer = planner(txn, plan).await?;
    let mut refused = Vec::new();
    if !viewer.is_admin() {
        refused.push(UserError::new(
            &["createdBy"],
            "PLANNER_NOT_ADMIN",
            format!("{} is no longer an enabled administrator", viewer.user.name),
        ));
    }
    let work = Work::parse(&plan.work)?;
    if plan.deactivate_source && is_last_admin(txn, plan.firm_id, plan.from_user_id).await? {
        refused.push(UserError::new(
            &["deactivateSource"],
            "LAST_ADMIN",
            "the firm's last enabled administrator cannot be deactivated",
        ));
    }
    if refused.is_empty() {
        match input::validate(txn, &viewer, &work.request(), now).await? {
            Err(errors) => refused.extend(errors.into_iter().map(under_work)),
            Ok(order) => match reassign::run(&order, Run::Write(txn), slot).await? {
                Err(errors) => refused.extend(errors),
                Ok(ran) => {
                    let (batch, notifications) = ran
                        .written
                        .ok_or_else(|| AppError::internal("a write that wrote nothing"))?;
                    if plan.deactivate_source {
                        user::Entity::update_many()
                            .col_expr(user::Column::Enabled, Expr::value(false))
                            .filter(user::Column::Id.eq(plan.from_user_id))
                            .exec(txn)
                            .await?;
                    }
                    let next = if plan.returns_at.is_some() {
                        Status::Active
                    } else {
                        Status::Done
                    };
                    let start = (planned_handover::Column::StartReassignmentId, Some(batch.id).into());
                    transition(txn, plan, Status::Scheduled, next, start).await?;
                    return Ok(Committed {
                        batch: Some((batch, notifications)),
                        told: Vec::new(),
                        users_changed: plan.deactivate_source,
                    });
                }
            },
        }
    }
    fail(txn, plan, Status::Scheduled, &refused, now).await
}

/// Record why a step could not run, and tell every enabled administrator of the firm.
async fn fail(
    txn: &DatabaseTransaction,
    plan: &planned_handover::Model,
    from: Status,
    reasons: &[UserError],
    now: DateTime<Utc>,
) -> AppResult<Committed> {
    let stored = (planned_handover::Column::Failure, Some(store_failure(reasons)).into());
    transition(txn, plan, from, Status::Failed, stored).await?;
    let source = user::Entity::find_by_id(plan.from_user_id).one(txn).await?;
    let name = source.as_ref().map_or("someone", |u| u.name.as_str());
    let step = if from == Status::Scheduled { "start" } else { "return" };
    let why: Vec<String> = reasons.iter().map(|r| format!("{} ({})", r.message, r.code)).collect();
    let admins = user::Entity::find()
        .filter(user::Column::FirmId.eq(plan.firm_id))
        .filter(user::Column::AccountAdmin.eq(true))
        .filter(user::Column::Enabled.eq(true))
        .all(txn)
        .await?;
    let mut told = Vec::new();
    for admin in &admins {
        told.push(
            store::tell(
                txn,
                store::Message {
                    kind: NotificationKind::HandoverFailed,
                    recipient: admin,
                    reassignment_id: None,
                    planned_handover_id: Some(plan.id),
                    actor_user_id: plan.created_by_user_id,
                    from_user_id: plan.from_user_id,
                    delivery: Delivery::default(),
                    title: format!("The planned {step} of {name}'s handover failed"),
                    body: format!("Nothing moved. {}", why.join("; ")),
                    html: None,
                    note: None,
                },
                now,
            )
            .await?,
        );
    }
    crate::notify::fanout::announce_notifications(txn, &told).await?;
    tracing::warn!(plan = plan.id, step, reasons = %why.join("; "), "planned handover failed");
    Ok(Committed {
        batch: None,
        told,
        users_changed: false,
    })
}

/// The return: what the start moved and the delegate still holds goes back to the source (past
/// due tasks included); what the delegate completed, passed on or that no longer qualifies
/// stays, with its reason. Access granted at the start is taken back for the matters whose
/// work all went back.
async fn give_back(
    txn: &DatabaseTransaction,
    plan: &planned_handover::Model,
    now: DateTime<Utc>,
    slot: &Slot,
) -> AppResult<Committed> {
    let source = user::Entity::find_by_id(plan.from_user_id).one(txn).await?;
    if !source.as_ref().is_some_and(|s| s.enabled) {
        let name = source.as_ref().map_or("the source", |s| s.name.as_str());
        let reason = UserError::new(
            &["fromUser"],
            "SOURCE_DISABLED",
            format!("{name} is deactivated: the work stays where it is"),
        );
        return fail(txn, plan, Status::Active, &[reason], now).await;
    }
    let start_id = plan
        .start_reassignment_id
        .ok_or_else(|| AppError::internal("an active plan without its start"))?;
    let started = reassignment::Entity::find_by_id(start_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("a plan's start reassignment is gone"))?;
    let viewer = planner(txn, plan).await?;
    let order = Order {
        note: Some(format!(
            "Return of the cover that started with reassignment {}",
            crate::ids::encode(crate::ids::Kind::Reassignment, start_id)
        )),
        returning: true,
        ..undo::reversal(txn, &started, Order::by(&viewer, now, plan.from_user_id)).await?
    };
    let ran = match reassign::run(&order, Run::Write(txn), slot).await? {
        Ok(ran) => ran,
        Err(refused) => return fail(txn, plan, Status::Active, &refused, now).await,
    };
    let (batch, notifications) = ran
        .written
        .ok_or_else(|| AppError::internal("a write that wrote nothing"))?;
    take_back_whole_matters(txn, start_id, &batch).await?;
    let returned = (planned_handover::Column::ReturnReassignmentId, Some(batch.id).into());
    transition(txn, plan, Status::Active, Status::Returned, returned).await?;
    let mut told = tell_delegates(txn, plan, &batch, now).await?;
    told.extend(notifications);
    Ok(Committed {
        batch: Some((batch, told)),
        told: Vec::new(),
        users_changed: false,
    })
}

/// Access granted by the start is taken back only on matters none of whose work stayed behind.
async fn take_back_whole_matters(
    txn: &DatabaseTransaction,
    start_id: i64,
    returned: &reassignment::Model,
) -> AppResult<()> {
    let grants = reassignment_grant::Entity::find()
        .filter(reassignment_grant::Column::ReassignmentId.eq(start_id))
        .all(txn)
        .await?;
    if grants.is_empty() {
        return Ok(());
    }
    let stayed: BTreeSet<Option<i64>> = reassignment_item::Entity::find()
        .select_only()
        .column(reassignment_item::Column::MatterId)
        .distinct()
        .filter(returned.items())
        .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Skipped))
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    for g in grants {
        if stayed.contains(&Some(g.matter_id)) {
            continue;
        }
        matter_permitted_user::Entity::delete_many()
            .filter(matter_permitted_user::Column::MatterId.eq(g.matter_id))
            .filter(matter_permitted_user::Column::UserId.eq(g.user_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Each delegate hears what left them and what stays with them, and why.
async fn tell_delegates(
    txn: &DatabaseTransaction,
    plan: &planned_handover::Model,
    batch: &reassignment::Model,
    now: DateTime<Utc>,
) -> AppResult<Vec<Published>> {
    // Counted by the database: a return can hold 100,000 items.
    type Group = (i64, ItemOutcome, Option<entity::ExclusionReason>, WorkKind, i64);
    let groups: Vec<Group> = reassignment_item::Entity::find()
        .select_only()
        .column(reassignment_item::Column::PreviousHolderId)
        .column(reassignment_item::Column::Outcome)
        .column(reassignment_item::Column::Reason)
        .column(reassignment_item::Column::Kind)
        .column_as(reassignment_item::Column::Id.count(), "n")
        .filter(batch.items())
        .group_by(reassignment_item::Column::PreviousHolderId)
        .group_by(reassignment_item::Column::Outcome)
        .group_by(reassignment_item::Column::Reason)
        .group_by(reassignment_item::Column::Kind)
        .into_tuple()
        .all(txn)
        .await?;
    // Per delegate: what went back, and what stays per reason.
    let mut left: BTreeMap<i64, Delivery> = BTreeMap::new();
    let mut stays: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for (holder, outcome, reason, kind, n) in groups {
        match outcome {
            ItemOutcome::Reassigned => {
                left.entry(holder).or_default().add(kind, n);
            }
            ItemOutcome::Skipped => {
                let reason = reason.map_or_else(|| "OTHER".to_string(), |r| r.to_value());
                *stays.entry(holder).or_default().entry(reason).or_default() += n;
            }
        }
    }
    let delegates: BTreeSet<i64> = left.keys().chain(stays.keys()).copied().collect();
    let everyone = delegates.iter().copied().chain([plan.from_user_id]);
    let people = crate::firm::users::by_ids(txn, batch.firm_id, everyone).await?;
    let source = people.get(&plan.from_user_id).map_or("someone", |u| u.name.as_str());
    let mut told = Vec::new();
    for id in delegates {
        let Some(recipient) = people.get(&id) else { continue };
        if !recipient.enabled {
            continue;
        }
        let gone = left.get(&id).copied().unwrap_or_default();
        let mut body = format!("{} went back.", store::summary(&gone));
        if let Some(reasons) = stays.get(&id) {
            let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
            body.push_str(&format!(" Staying with you: {}.", list.join(", ")));
        }
        told.push(
            store::tell(
                txn,
                store::Message {
                    kind: NotificationKind::CoverEnded,
                    recipient,
                    reassignment_id: Some(batch.id),
                    planned_handover_id: Some(plan.id),
                    actor_user_id: batch.actor_user_id,
                    from_user_id: id,
                    delivery: gone,
                    title: format!("Your cover of {source}'s work has ended"),
                    body,
                    html: None,
                    note: None,
                },
                now,
            )
            .await?,
        );
    }
    Ok(told)
}
