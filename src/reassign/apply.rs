//! Applying a plan: one write transaction; set-based updates guarded by the previous holder
//! (a record someone else changed meanwhile is skipped as `CHANGED`, never clobbered); the batch
//! and one item per record considered are recorded in the same transaction.

use super::rules::Verdict;
use super::select::{CHUNK, CategoryPlan, Plan, PlanSpec, personal_calendar};
use crate::error::{AppError, AppResult};
use chrono::Utc;
use entity::{
    ExclusionReason, ItemOutcome, MatterStatus, ReassignmentStatus, TaskStatus, WorkKind, calendar_event,
    event_attendee, matter, matter_permitted_user, reassignment, reassignment_grant, reassignment_item, task,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use std::collections::{BTreeSet, HashSet};

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
) -> AppResult<reassignment::Model> {
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

    let mut items: Vec<reassignment_item::ActiveModel> = Vec::new();
    let mut grants: BTreeSet<(i64, i64)> = BTreeSet::new();
    let mut counts = [0i64; 3];
    let mut skipped = 0i64;

    if let Some(c) = &plan.matters {
        let moved = move_matters(txn, c).await?;
        counts[0] = record_items(
            &mut items,
            &mut grants,
            &mut skipped,
            &batch,
            WorkKind::Matter,
            c,
            &moved,
        );
    }
    if let Some(c) = &plan.tasks {
        let moved = move_tasks(txn, c).await?;
        counts[1] = record_items(&mut items, &mut grants, &mut skipped, &batch, WorkKind::Task, c, &moved);
    }
    if let Some(c) = &plan.events {
        let moved = move_events(txn, info.firm_id, c).await?;
        counts[2] = record_items(
            &mut items,
            &mut grants,
            &mut skipped,
            &batch,
            WorkKind::CalendarEvent,
            c,
            &moved,
        );
    }

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

    // 10 columns a row: 1,000 rows stay far below every parameter limit.
    for chunk in items.chunks(1000) {
        reassignment_item::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }

    let mut batch: reassignment::ActiveModel = batch.into();
    batch.matters_reassigned = Set(counts[0]);
    batch.tasks_reassigned = Set(counts[1]);
    batch.events_reassigned = Set(counts[2]);
    batch.items_skipped = Set(skipped);
    Ok(batch.update(txn).await?)
}

/// One item per record considered; returns how many moved.
fn record_items(
    items: &mut Vec<reassignment_item::ActiveModel>,
    grants: &mut BTreeSet<(i64, i64)>,
    skipped: &mut i64,
    batch: &reassignment::Model,
    kind: WorkKind,
    plan: &CategoryPlan,
    moved: &HashSet<i64>,
) -> i64 {
    let mut n = 0;
    for item in &plan.items {
        let (outcome, reason) = match item.verdict {
            Verdict::Skip(r) => (ItemOutcome::Skipped, Some(r)),
            _ if moved.contains(&item.record_id) => (ItemOutcome::Reassigned, None),
            // Planned to move, but no longer held as planned when the update ran.
            _ => (ItemOutcome::Skipped, Some(ExclusionReason::Changed)),
        };
        if outcome == ItemOutcome::Reassigned {
            n += 1;
            if item.verdict == Verdict::MoveGrantingAccess
                && let Some(m) = item.matter_id
            {
                grants.insert((m, plan.to));
            }
        } else {
            *skipped += 1;
        }
        items.push(reassignment_item::ActiveModel {
            reassignment_id: Set(batch.id),
            firm_id: Set(batch.firm_id),
            kind: Set(kind),
            record_id: Set(item.record_id),
            matter_id: Set(item.matter_id),
            previous_holder_id: Set(plan.from),
            new_holder_id: Set((outcome == ItemOutcome::Reassigned).then_some(plan.to)),
            outcome: Set(outcome),
            reason: Set(reason),
            attendee_replaced: Set(outcome == ItemOutcome::Reassigned && item.source_attends),
            ..Default::default()
        });
    }
    n
}

fn moving_ids(plan: &CategoryPlan) -> Vec<i64> {
    plan.moving().map(|i| i.record_id).collect()
}

/// `UPDATE … SET col = value WHERE id IN (chunk) AND guard RETURNING id`, chunk by chunk.
async fn guarded_update<E: EntityTrait>(
    txn: &DatabaseTransaction,
    ids: &[i64],
    id_col: E::Column,
    set: (E::Column, i64),
    guard: impl Fn() -> SimpleExpr,
) -> AppResult<HashSet<i64>> {
    let mut moved = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let stmt = Query::update()
            .table(E::default())
            .value(set.0, set.1)
            .and_where(id_col.is_in(chunk.iter().copied()))
            .and_where(guard())
            .returning_col(id_col)
            .to_owned();
        for row in txn.query_all(&stmt).await? {
            moved.insert(row.try_get_by_index::<i64>(0)?);
        }
    }
    Ok(moved)
}

async fn move_matters(txn: &DatabaseTransaction, plan: &CategoryPlan) -> AppResult<HashSet<i64>> {
    let from = plan.from;
    guarded_update::<matter::Entity>(
        txn,
        &moving_ids(plan),
        matter::Column::Id,
        (matter::Column::ResponsibleAttorneyId, plan.to),
        || {
            Expr::col(matter::Column::ResponsibleAttorneyId)
                .eq(from)
                .and(matter::Column::Status.is_in([MatterStatus::Open, MatterStatus::Pending]))
        },
    )
    .await
}

async fn move_tasks(txn: &DatabaseTransaction, plan: &CategoryPlan) -> AppResult<HashSet<i64>> {
    let from = plan.from;
    guarded_update::<task::Entity>(
        txn,
        &moving_ids(plan),
        task::Column::Id,
        (task::Column::AssigneeId, plan.to),
        || {
            Expr::col(task::Column::AssigneeId)
                .eq(from)
                .and(task::Column::Status.ne(TaskStatus::Complete))
        },
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
    let moved = guarded_update::<calendar_event::Entity>(
        txn,
        &moving_ids(plan),
        calendar_event::Column::Id,
        (calendar_event::Column::CalendarId, to_calendar),
        || Expr::col(calendar_event::Column::CalendarId).eq(from_calendar),
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
