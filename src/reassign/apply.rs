//! Applying a plan: one write transaction; set-based updates guarded by the previous holder
//! (a record someone else changed meanwhile is skipped as `CHANGED`, never clobbered); the batch
//! and one item per record considered are recorded in the same transaction.

use super::rules::Verdict;
use super::select::{CHUNK, CategoryPlan, Plan, PlanSpec};
use crate::error::{AppError, AppResult};
use crate::firm::work::personal_calendar;
use crate::notify::{Delivery, Published, record_for_batch};
use chrono::Utc;
use entity::{
    ExclusionReason, ReassignmentStatus, WorkKind, event_attendee, matter_permitted_user, reassignment,
    reassignment_grant,
};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Value,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What the batch row records besides the plan.
pub struct BatchInfo {
    pub firm_id: i64,
    pub actor_id: i64,
    pub from_user_id: i64,
    pub matter_ids: Option<BTreeSet<i64>>,
    pub note: Option<String>,
    pub idempotency_key: Option<String>,
    pub fingerprint: String,
    pub undo_of: Option<i64>,
}

/// Write the plan. The caller computed `plan` from `spec` inside `txn`.
pub async fn execute(
    txn: &DatabaseTransaction,
    info: BatchInfo,
    spec: &PlanSpec,
    plan: &Plan,
) -> AppResult<(reassignment::Model, Vec<Published>)> {
    let now = Utc::now();
    let batch = reassignment::ActiveModel {
        firm_id: Set(info.firm_id),
        actor_user_id: Set(info.actor_id),
        from_user_id: Set(info.from_user_id),
        matters_to_user_id: Set(plan.matters.as_ref().map(|c| c.to)),
        tasks_to_user_id: Set(plan.tasks.as_ref().map(|c| c.to)),
        events_to_user_id: Set(plan.events.as_ref().map(|c| c.to)),
        matter_ids: Set(info
            .matter_ids
            .as_ref()
            .map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))),
        grant_matter_access: Set(plan.grant_access),
        note: Set(info.note),
        idempotency_key: Set(info.idempotency_key),
        input_fingerprint: Set(info.fingerprint),
        cutoff_at: Set(spec.clock.cutoff),
        time_zone: Set(spec.clock.time_zone.name().to_string()),
        status: Set(ReassignmentStatus::Applied),
        undo_of_id: Set(info.undo_of),
        undone_by_id: Set(None),
        matters_reassigned: Set(0),
        tasks_reassigned: Set(0),
        events_reassigned: Set(0),
        items_skipped: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;

    let started = std::time::Instant::now();
    let mut grants: BTreeSet<(i64, i64)> = BTreeSet::new();
    let mut counts = [0i64; 3];
    let mut skipped = 0i64;
    if let Some(c) = &plan.matters {
        let moved = move_matters(txn, c).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "matters moved");
        let (n, s) = record_items(txn, &mut grants, &batch, WorkKind::Matter, c, &moved).await?;
        counts[0] = n;
        skipped += s;
    }
    if let Some(c) = &plan.tasks {
        tracing::debug!(elapsed = ?started.elapsed(), "matter items");
        let moved = move_tasks(txn, c).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "tasks moved");
        let (n, s) = record_items(txn, &mut grants, &batch, WorkKind::Task, c, &moved).await?;
        counts[1] = n;
        skipped += s;
    }
    if let Some(c) = &plan.events {
        tracing::debug!(elapsed = ?started.elapsed(), "task items");
        let moved = move_events(txn, info.firm_id, c).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "events moved");
        let (n, s) = record_items(txn, &mut grants, &batch, WorkKind::CalendarEvent, c, &moved).await?;
        counts[2] = n;
        skipped += s;
    }

    tracing::debug!(elapsed = ?started.elapsed(), "event items");
    // Access for the targets of work that moved on a matter they could not see.
    if !grants.is_empty() {
        let rows = grants
            .iter()
            .map(|&(matter_id, user_id)| matter_permitted_user::ActiveModel {
                matter_id: Set(matter_id),
                user_id: Set(user_id),
                firm_id: Set(info.firm_id),
            });
        for chunk in rows.collect::<Vec<_>>().chunks(1000) {
            matter_permitted_user::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        matter_permitted_user::Column::MatterId,
                        matter_permitted_user::Column::UserId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .try_insert()
                .exec_without_returning(txn)
                .await?;
        }
        let rows = grants
            .iter()
            .map(|&(matter_id, user_id)| reassignment_grant::ActiveModel {
                reassignment_id: Set(batch.id),
                matter_id: Set(matter_id),
                user_id: Set(user_id),
                firm_id: Set(info.firm_id),
            });
        for chunk in rows.collect::<Vec<_>>().chunks(1000) {
            reassignment_grant::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(txn)
                .await?;
        }
    }

    let mut batch: reassignment::ActiveModel = batch.into();
    batch.matters_reassigned = Set(counts[0]);
    batch.tasks_reassigned = Set(counts[1]);
    batch.events_reassigned = Set(counts[2]);
    batch.items_skipped = Set(skipped);
    let batch = batch.update(txn).await?;

    // Each new assignee is told once, in this same transaction.
    let mut deliveries: BTreeMap<i64, Delivery> = BTreeMap::new();
    if let Some(c) = &plan.matters {
        deliveries.entry(c.to).or_default().matters += counts[0];
    }
    if let Some(c) = &plan.tasks {
        deliveries.entry(c.to).or_default().tasks += counts[1];
    }
    if let Some(c) = &plan.events {
        deliveries.entry(c.to).or_default().calendar_events += counts[2];
    }
    let published = record_for_batch(txn, &batch, &deliveries, now).await?;
    if !published.is_empty() {
        crate::notify::fanout::announce(txn, batch.id).await?;
    }
    Ok((batch, published))
}

/// One item per record considered, written set-wise: the records are grouped by outcome,
/// reason and attendee swap, and each group is one `INSERT … SELECT` over its id list passed as
/// a single parameter. Returns (moved, skipped).
async fn record_items(
    txn: &DatabaseTransaction,
    grants: &mut BTreeSet<(i64, i64)>,
    batch: &reassignment::Model,
    kind: WorkKind,
    plan: &CategoryPlan,
    moved: &HashSet<i64>,
) -> AppResult<(i64, i64)> {
    let mut groups: BTreeMap<(Option<ExclusionReason>, bool), Vec<i64>> = BTreeMap::new();
    let (mut n_moved, mut n_skipped) = (0, 0);
    for item in &plan.items {
        let reason = match item.verdict {
            Verdict::Skip(r) => Some(r),
            _ if moved.contains(&item.record_id) => None,
            // Planned to move, but no longer held as planned when the update ran.
            _ => Some(ExclusionReason::Changed),
        };
        if reason.is_none() {
            n_moved += 1;
            if item.verdict == Verdict::MoveGrantingAccess
                && let Some(m) = item.matter_id
            {
                grants.insert((m, plan.to));
            }
        } else {
            n_skipped += 1;
        }
        groups
            .entry((reason, reason.is_none() && item.source_attends))
            .or_default()
            .push(item.record_id);
    }
    let kind_name = match kind {
        WorkKind::Matter => "MATTER",
        WorkKind::Task => "TASK",
        WorkKind::CalendarEvent => "CALENDAR_EVENT",
    };
    // The matter each record is linked to, from the plan: no lookup of the records again.
    let matter_of: HashMap<i64, Option<i64>> = plan.items.iter().map(|i| (i.record_id, i.matter_id)).collect();
    let backend = txn.get_database_backend();
    for ((reason, swapped), ids) in groups {
        let (outcome, reason_sql) = match reason {
            None => ("REASSIGNED", "NULL".to_string()),
            Some(r) => ("SKIPPED", format!("'{}'", reason_code(r))),
        };
        let new_holder = if reason.is_none() {
            Value::from(plan.to)
        } else {
            Value::BigInt(None)
        };
        let pairs: Vec<(i64, Option<i64>)> = ids
            .iter()
            .map(|id| (*id, matter_of.get(id).copied().flatten()))
            .collect();
        let (rows, row_values) = crate::db::id_matter_rows(backend, 6, &pairs);
        let sql = format!(
            "INSERT INTO reassignment_item (reassignment_id, firm_id, kind, record_id, matter_id, previous_holder_id,
               new_holder_id, outcome, reason, attendee_replaced)
             SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), '{kind_name}', r.id, r.matter_id, CAST($3 AS BIGINT),
               CAST($4 AS BIGINT), '{outcome}', {reason_sql}, CAST($5 AS BOOLEAN)
             FROM {rows} r"
        );
        let mut values = vec![
            Value::from(batch.id),
            Value::from(batch.firm_id),
            Value::from(plan.from),
            new_holder,
            Value::from(swapped),
        ];
        values.extend(row_values);
        txn.execute_raw(crate::db::statement(backend, &sql, values)).await?;
    }
    Ok((n_moved, n_skipped))
}

/// The stored code of a reason (the same string the entity writes).
fn reason_code(r: ExclusionReason) -> String {
    use sea_orm::ActiveEnum;
    r.to_value()
}

fn moving_ids(plan: &CategoryPlan) -> Vec<i64> {
    plan.moving().map(|i| i.record_id).collect()
}

/// `{update} AND id IN (ids) RETURNING id`, in one statement: `update` is an UPDATE whose WHERE
/// clause is the guard (the previous holder, the state the rules require), `$1` is the id list
/// and `params` are `$2`, `$3`, ….
async fn guarded_update(
    txn: &DatabaseTransaction,
    ids: &[i64],
    update: &str,
    params: Vec<Value>,
) -> AppResult<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let backend = txn.get_database_backend();
    let (rows, list) = crate::db::id_rows(backend, 1, ids);
    if backend == sea_orm::DatabaseBackend::Postgres {
        // Take the row locks in id order, as every concurrent reassignment does, so that two
        // of them wanting overlapping rows queue instead of deadlocking.
        let table = update.split_whitespace().nth(1).expect("UPDATE <table>");
        let lock = format!("SELECT id FROM {table} WHERE id IN (SELECT id FROM {rows} ids) ORDER BY id FOR UPDATE");
        txn.execute_raw(crate::db::statement(backend, &lock, vec![list.clone()]))
            .await?;
    }
    let sql = format!("{update} AND id IN (SELECT id FROM {rows} ids) RETURNING id");
    let mut values = vec![list];
    values.extend(params);
    let mut moved = HashSet::with_capacity(ids.len());
    for row in txn.query_all_raw(crate::db::statement(backend, &sql, values)).await? {
        moved.insert(row.try_get_by_index::<i64>(0)?);
    }
    Ok(moved)
}

async fn move_matters(txn: &DatabaseTransaction, plan: &CategoryPlan) -> AppResult<HashSet<i64>> {
    let sql = format!(
        "UPDATE matter SET responsible_attorney_id = $2
         WHERE responsible_attorney_id = $3 AND status IN ({})",
        entity::MatterStatus::active_sql()
    );
    guarded_update(
        txn,
        &moving_ids(plan),
        &sql,
        vec![Value::from(plan.to), Value::from(plan.from)],
    )
    .await
}

async fn move_tasks(txn: &DatabaseTransaction, plan: &CategoryPlan) -> AppResult<HashSet<i64>> {
    guarded_update(
        txn,
        &moving_ids(plan),
        "UPDATE task SET assignee_id = $2 WHERE assignee_id = $3 AND status <> 'COMPLETE'",
        vec![Value::from(plan.to), Value::from(plan.from)],
    )
    .await
}
/// Events move to the target's personal calendar; where the source attends, the target takes
/// that place (once: a target already attending keeps their own row).
async fn move_events(txn: &DatabaseTransaction, firm_id: i64, plan: &CategoryPlan) -> AppResult<HashSet<i64>> {
    let from_calendar = personal_calendar(txn, firm_id, plan.from).await?;
    let to_calendar = personal_calendar(txn, firm_id, plan.to).await?;
    let (Some(from_calendar), Some(to_calendar)) = (from_calendar, to_calendar) else {
        if plan.moving().next().is_none() {
            return Ok(HashSet::new());
        }
        return Err(AppError::internal("a user without a personal calendar"));
    };
    let moved = guarded_update(
        txn,
        &moving_ids(plan),
        "UPDATE calendar_event SET calendar_id = $2 WHERE calendar_id = $3",
        vec![Value::from(to_calendar), Value::from(from_calendar)],
    )
    .await?;

    let swap: Vec<i64> = plan
        .moving()
        .filter(|i| i.source_attends && moved.contains(&i.record_id))
        .map(|i| i.record_id)
        .collect();
    for chunk in swap.chunks(CHUNK) {
        let target_attends = Query::select()
            .column(event_attendee::Column::EventId)
            .from(event_attendee::Entity)
            .and_where(event_attendee::Column::UserId.eq(plan.to))
            .to_owned();
        event_attendee::Entity::delete_many()
            .filter(event_attendee::Column::UserId.eq(plan.from))
            .filter(event_attendee::Column::EventId.is_in(chunk.iter().copied()))
            .filter(event_attendee::Column::EventId.in_subquery(target_attends))
            .exec(txn)
            .await?;
        event_attendee::Entity::update_many()
            .col_expr(event_attendee::Column::UserId, Expr::value(plan.to))
            .filter(event_attendee::Column::UserId.eq(plan.from))
            .filter(event_attendee::Column::EventId.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(moved)
}
