//! Applying a plan: one write transaction; set-based updates guarded by the previous holder
//! (a record someone else changed meanwhile is skipped as `CHANGED`, never clobbered); the batch
//! and one item per record considered are recorded in the same transaction.

use super::order::Order;
use super::rules::Verdict;
use super::select::{CHUNK, Plan, PlannedItem};
use crate::db::{Params, aggregated_rows};
use crate::error::{AppError, AppResult};
use crate::firm::work::personal_calendar;
use crate::notify::{Published, Received, record_for_batch};
use entity::{
    ExclusionReason, ReassignmentStatus, RiskReason, WorkKind, event_attendee, matter_permitted_user, reassignment,
    reassignment_grant,
};
use rustc_hash::FxHashSet;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait, Value,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Records written at a time: a category's moves and items are written chunk by chunk, in record
/// id order, so that what the apply holds beside the plan (each chunk's groups, id lists and
/// moved set) is bounded by this rather than by the size of the reassignment. Within the one
/// transaction, so all-or-nothing as before.
pub const WRITE_CHUNK: usize = 16_384;

/// Write the plan of `order`, which the caller computed inside `txn`.
pub async fn execute(
    txn: &DatabaseTransaction,
    order: &Order,
    plan: &Plan,
) -> AppResult<(reassignment::Model, Vec<Published>)> {
    execute_in_chunks(txn, order, plan, WRITE_CHUNK).await
}

/// As [`execute`], `chunk` records at a time (tests write one at a time, to cross every chunk
/// boundary a small firm has).
pub async fn execute_in_chunks(
    txn: &DatabaseTransaction,
    order: &Order,
    plan: &Plan,
    chunk: usize,
) -> AppResult<(reassignment::Model, Vec<Published>)> {
    let mut batch = Batch::begin(txn, order).await?;
    batch.write(txn, order, plan, chunk).await?;
    batch.finish(txn, order).await
}

/// A batch being written: its row, and what its plans' writes have added up to so far. One
/// plan (an apply), or one per pass (a reversal, [`super::undo::pass`]).
pub struct Batch {
    row: reassignment::Model,
    items_after: ItemsAfter,
    grants: BTreeSet<(i64, i64)>,
    counts: HashMap<WorkKind, i64>,
    skipped: i64,
    /// Each new assignee is told once, in this same transaction.
    received: Received,
    started: std::time::Instant,
}

impl Batch {
    /// The batch's row, for `order` (a reversal's: the whole of it, not one pass).
    pub async fn begin(txn: &DatabaseTransaction, order: &Order) -> AppResult<Self> {
        // The order's clock, not the wall clock: a scheduled start is stamped with its tick, and
        // a test that moves the clock sees its own instant.
        let now = order.clock.cutoff;
        let row = reassignment::ActiveModel {
            firm_id: Set(order.firm_id),
            actor_user_id: Set(order.actor_id),
            from_user_id: Set(order.from_user_id),
            matters_to_user_id: Set(order.matters.as_ref().map(|c| c.to)),
            tasks_to_user_id: Set(order.tasks.as_ref().map(|c| c.to)),
            events_to_user_id: Set(order.events.as_ref().map(|c| c.to)),
            matter_ids: Set(order
                .matter_ids
                .as_ref()
                .map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))),
            grant_matter_access: Set(order.grant_access),
            routing: Set(routing_record(order)),
            note: Set(order.note.clone()),
            idempotency_key: Set(order.idempotency_key.clone()),
            input_fingerprint: Set(order.fingerprint()),
            cutoff_at: Set(order.clock.cutoff),
            time_zone: Set(order.clock.time_zone.name().to_string()),
            status: Set(ReassignmentStatus::Applied),
            undo_of_id: Set(order.undo_of),
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
        Ok(Batch {
            row,
            items_after: ItemsAfter::mark(txn).await?,
            grants: BTreeSet::new(),
            counts: HashMap::new(),
            skipped: 0,
            received: Received::default(),
            started: std::time::Instant::now(),
        })
    }

    /// Write `plan` (of `order`, computed inside `txn`), `per_chunk` records at a time.
    pub async fn write(
        &mut self,
        txn: &DatabaseTransaction,
        order: &Order,
        plan: &Plan,
        per_chunk: usize,
    ) -> AppResult<()> {
        for (kind, _, c) in plan.categories(order) {
            let mut items = c.items().peekable();
            while items.peek().is_some() {
                let chunk: Vec<PlannedItem> = items.by_ref().take(per_chunk.max(1)).collect();
                let mut moved = FxHashSet::default();
                for ((from, to), ids) in by_move(&chunk) {
                    moved.extend(match kind {
                        WorkKind::Matter => move_matters(txn, from, to, &ids).await?,
                        WorkKind::Task => move_tasks(txn, "assignee_id", from, to, &ids).await?,
                        WorkKind::CalendarEvent => move_events(txn, order.firm_id, from, to, &chunk, &ids).await?,
                        WorkKind::TaskAssigner => move_tasks(txn, "assigner_id", from, to, &ids).await?,
                    });
                }
                let (n, s) = record_items(
                    txn,
                    &mut self.grants,
                    &mut self.received,
                    &self.row,
                    kind,
                    &chunk,
                    &moved,
                )
                .await?;
                *self.counts.entry(kind).or_default() += n;
                self.skipped += s;
            }
            tracing::debug!(elapsed = ?self.started.elapsed(), ?kind, "moved and recorded");
        }
        Ok(())
    }

    /// Access granted, the counts and the item range on the batch's row, and the receivers'
    /// notifications.
    pub async fn finish(
        self,
        txn: &DatabaseTransaction,
        order: &Order,
    ) -> AppResult<(reassignment::Model, Vec<Published>)> {
        let Batch {
            row: batch,
            items_after,
            grants,
            counts,
            skipped,
            received,
            started,
        } = self;
        let now = order.clock.cutoff;
        // Access for the targets of work that moved on a matter they could not see.
        if !grants.is_empty() {
            let rows = grants
                .iter()
                .map(|&(matter_id, user_id)| matter_permitted_user::ActiveModel {
                    matter_id: Set(matter_id),
                    user_id: Set(user_id),
                    firm_id: Set(order.firm_id),
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
                    firm_id: Set(order.firm_id),
                });
            for chunk in rows.collect::<Vec<_>>().chunks(1000) {
                reassignment_grant::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(txn)
                    .await?;
            }
        }

        let mut batch: reassignment::ActiveModel = batch.into();
        let count = |kind| counts.get(&kind).copied().unwrap_or(0);
        batch.matters_reassigned = Set(count(WorkKind::Matter));
        batch.tasks_reassigned = Set(count(WorkKind::Task));
        batch.events_reassigned = Set(count(WorkKind::CalendarEvent));
        batch.items_skipped = Set(skipped);
        let (first, last) = items_after.range(txn, *batch.id.as_ref()).await?;
        batch.first_item_id = Set(first);
        batch.last_item_id = Set(last);
        let batch = batch.update(txn).await?;

        let published = record_for_batch(txn, &batch, &received, order.routing.risk_window_days, now).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "receivers' notifications written");
        if !published.is_empty() {
            crate::notify::fanout::announce(txn, crate::notify::fanout::Topic::Reassignment(batch.id)).await?;
        }
        Ok((batch, published))
    }
}

/// One item per record considered, written set-wise: the records are grouped by outcome,
/// reason, attendee swap, holders and risk, and each group is one `INSERT … SELECT` over its id
/// list passed as a single parameter. Counts what each receiver got. Returns (moved, skipped).
async fn record_items(
    txn: &DatabaseTransaction,
    grants: &mut BTreeSet<(i64, i64)>,
    received: &mut Received,
    batch: &reassignment::Model,
    kind: WorkKind,
    items: &[PlannedItem],
    moved: &FxHashSet<i64>,
) -> AppResult<(i64, i64)> {
    type Group = (
        bool,
        Option<ExclusionReason>,
        bool,
        i64,
        Option<i64>,
        Option<RiskReason>,
    );
    let mut groups: BTreeMap<Group, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    let (mut n_moved, mut n_skipped) = (0, 0);
    for item in items {
        let reason = match item.verdict {
            Verdict::Skip(r) => Some(r),
            _ if moved.contains(&item.record_id) => None,
            // Planned to move, but no longer held as planned when the update ran.
            _ => Some(ExclusionReason::Changed),
        };
        let group = match (reason, item.to) {
            (None, Some(to)) => {
                n_moved += 1;
                if item.verdict == Verdict::MoveGrantingAccess
                    && let Some(m) = item.matter_id
                {
                    grants.insert((m, to));
                }
                received.record(to, kind, item.record_id, item.risk, item.when);
                // A past-due task moved by the sweep keeps its reason in the report.
                let reason = item.past_due.then_some(ExclusionReason::PastDue);
                (true, reason, item.source_attends, item.from, Some(to), item.risk)
            }
            _ => {
                n_skipped += 1;
                (false, reason, false, item.from, None, None)
            }
        };
        groups.entry(group).or_default().push((item.record_id, item.matter_id));
    }
    let kind_name = kind.to_value();
    let backend = txn.get_database_backend();
    // The matter each record is linked to comes from the plan: no lookup of the records again.
    for ((reassigned, reason, swapped, from, to, risk), pairs) in groups {
        let outcome = if reassigned { "REASSIGNED" } else { "SKIPPED" };
        let code = |text: Option<String>| text.map_or("NULL".to_string(), |t| format!("'{t}'"));
        let reason_sql = code(reason.map(|r| r.to_value()));
        let risk_sql = code(risk.map(|r| r.to_value()));
        let (rows, row_values) = crate::db::id_matter_rows(backend, 6, &pairs);
        let sql = format!(
            "INSERT INTO reassignment_item (reassignment_id, firm_id, kind, record_id, matter_id, previous_holder_id,
               new_holder_id, outcome, reason, attendee_replaced, risk)
             SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), '{kind_name}', r.id, r.matter_id, CAST($3 AS BIGINT),
               CAST($4 AS BIGINT), '{outcome}', {reason_sql}, CAST($5 AS BOOLEAN), {risk_sql}
             FROM {rows} r"
        );
        let mut values = vec![
            Value::from(batch.id),
            Value::from(batch.firm_id),
            Value::from(from),
            Value::BigInt(to),
            Value::from(swapped),
        ];
        values.extend(row_values);
        txn.execute_raw(crate::db::statement(backend, &sql, values)).await?;
    }
    Ok((n_moved, n_skipped))
}

/// Where a batch's items will start, marked before they are written, so that their range is
/// known after (`reassignment.first_item_id`, `last_item_id`; migration m0012).
pub struct ItemsAfter(Option<i64>);

impl ItemsAfter {
    /// On SQLite the highest item id so far: the write transaction is the only writer, and
    /// every id it gives an item is above it. PostgreSQL needs no mark.
    pub async fn mark<C: ConnectionTrait>(txn: &C) -> AppResult<Self> {
        if txn.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return Ok(Self(None));
        }
        let row = txn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT coalesce(max(id), 0) FROM reassignment_item",
            ))
            .await?;
        Ok(Self(Some(row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0))))
    }

    /// The first and last id of the items written since the mark for batch `batch_id`.
    pub async fn range<C: ConnectionTrait>(&self, txn: &C, batch_id: i64) -> AppResult<(Option<i64>, Option<i64>)> {
        let backend = txn.get_database_backend();
        let ends = |sql: &str, values: Vec<Value>| txn.query_one_raw(crate::db::statement(backend, sql, values));
        let (first, last): (Option<i64>, Option<i64>) = match self.0 {
            // The ids above the mark are all this batch's; SQLite reads a lone max from the row ids.
            Some(mark) => {
                let row = ends("SELECT max(id) FROM reassignment_item", vec![]).await?;
                (
                    Some(mark + 1),
                    row.map(|r| r.try_get_by_index(0)).transpose()?.flatten(),
                )
            }
            // The two ends of the batch on the (reassignment, id) primary key.
            None => {
                let sql = "SELECT min(id), max(id) FROM reassignment_item WHERE reassignment_id = $1";
                match ends(sql, vec![batch_id.into()]).await? {
                    Some(r) => (r.try_get_by_index(0)?, r.try_get_by_index(1)?),
                    None => (None, None),
                }
            }
        };
        match (first, last) {
            (Some(first), Some(last)) if first <= last => Ok((Some(first), Some(last))),
            _ => Ok((None, None)),
        }
    }
}

/// The section 9 options a reassignment ran with, as stored: `None` when it used none.
fn routing_record(order: &Order) -> Option<String> {
    let assigner_to = order.assigners.as_ref().map(|c| c.to);
    if order.routing == super::order::Routing::default() && assigner_to.is_none() {
        return None;
    }
    let mut value = serde_json::to_value(&order.routing).ok()?;
    value["assignerTo"] = serde_json::json!(assigner_to);
    Some(value.to_string())
}

/// The moving records of a chunk, grouped by (holder, receiver): one guarded update each.
fn by_move(items: &[PlannedItem]) -> BTreeMap<(i64, i64), Vec<i64>> {
    let mut out: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
    for item in items.iter().filter(|i| i.moves()) {
        if let Some(to) = item.to {
            out.entry((item.from, to)).or_default().push(item.record_id);
        }
    }
    out
}

/// One guarded move: in `table`, where `guard` holds with `$2` the previous holder `from`, `set`
/// with `$3` the new holder `to`.
struct Guarded<'a> {
    table: &'a str,
    guard: &'a str,
    set: &'a str,
    from: i64,
    to: i64,
}

/// Move `ids` in `table` where `guard` (the previous holder, the state the rules require) still
/// holds: `UPDATE {table} SET {set} WHERE {guard} AND id IN (ids)`. `$1` is the id list.
/// Returns the ids moved.
///
/// The rows the guard admits are read first, as one aggregated row, and then updated: with
/// `RETURNING id` every moved record came back as a driver row of its own, about 2 µs each on
/// SQLite (110 ms of the 55,000 tasks' update). Nothing can change in between: on SQLite the
/// write transaction began `IMMEDIATE`; on PostgreSQL the rows are locked as they are read. On
/// SQLite this reading is the second way, taken only when [`update_all_or_none`] falls short.
async fn guarded_update(txn: &DatabaseTransaction, ids: &[i64], up: Guarded<'_>) -> AppResult<FxHashSet<i64>> {
    let Guarded { table, guard, from, .. } = up;
    if ids.is_empty() {
        return Ok(FxHashSet::default());
    }
    let backend = txn.get_database_backend();
    if backend == sea_orm::DatabaseBackend::Sqlite
        && let Some(moved) = update_all_or_none(txn, ids, &up).await?
    {
        return Ok(moved);
    }
    let mut p = Params::default();
    let listed = p.id_in(backend, "id", ids);
    let admitted_from = if backend == sea_orm::DatabaseBackend::Postgres {
        // The row locks in id order, as every concurrent reassignment takes them, so that two
        // of them wanting overlapping rows queue instead of deadlocking.
        format!("(SELECT * FROM {table} WHERE {listed} ORDER BY id FOR UPDATE) locked WHERE {guard}")
    } else {
        format!("{table} WHERE {listed} AND {guard}")
    };
    let mut values = p.values();
    values.push(Value::from(from));
    let admitted: FxHashSet<i64> = aggregated_rows::<(i64,), _>(txn, "id", &admitted_from, Params::from(values))
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();
    if admitted.is_empty() {
        return Ok(admitted);
    }
    // Exactly the rows admitted, which this transaction holds: on PostgreSQL a row the guard
    // refused when it was read may match by the time of the update (another transaction
    // committed in between), and it is not this move's.
    let admitted_ids: Vec<i64> = admitted.iter().copied().collect();
    let updated = update_listed(txn, &admitted_ids, &up).await?;
    if updated != admitted.len() as u64 {
        return Err(AppError::internal(format!(
            "{table}: {updated} rows updated where the guard admitted {}",
            admitted.len()
        )));
    }
    Ok(admitted)
}

/// `UPDATE {table} SET {set} WHERE {guard} AND id IN (ids)`; the number of rows updated.
async fn update_listed<C: ConnectionTrait>(conn: &C, ids: &[i64], up: &Guarded<'_>) -> AppResult<u64> {
    let Guarded {
        table,
        guard,
        set,
        from,
        to,
    } = up;
    let backend = conn.get_database_backend();
    let mut p = Params::default();
    let listed = p.id_in(backend, "id", ids);
    let mut values = p.values();
    values.extend([Value::from(*from), Value::from(*to)]);
    let sql = format!("UPDATE {table} SET {set} WHERE {guard} AND {listed}");
    Ok(conn
        .execute_raw(crate::db::statement(backend, &sql, values))
        .await?
        .rows_affected())
}

/// SQLite's way first: the plan was made inside this `IMMEDIATE` transaction, so the guard
/// admits every planned record unless something in between wrote them (see the test
/// `a_record_changed_after_planning_is_skipped_not_clobbered`). Update them all in one statement
/// under a savepoint; every row updated means every id was admitted, so nothing needs reading
/// (80 ms of the reference apply). Any shortfall undoes the savepoint and returns `None`: the
/// caller reads which rows the guard admits and moves exactly those.
async fn update_all_or_none(
    txn: &DatabaseTransaction,
    ids: &[i64],
    up: &Guarded<'_>,
) -> AppResult<Option<FxHashSet<i64>>> {
    let savepoint = txn.begin().await?;
    let updated = update_listed(&savepoint, ids, up).await?;
    // The ids of a move are distinct (one planned item per record).
    if updated == ids.len() as u64 {
        savepoint.commit().await?;
        Ok(Some(ids.iter().copied().collect()))
    } else {
        savepoint.rollback().await?;
        Ok(None)
    }
}

async fn move_matters(txn: &DatabaseTransaction, from: i64, to: i64, ids: &[i64]) -> AppResult<FxHashSet<i64>> {
    let guard = format!(
        "responsible_attorney_id = $2 AND status IN ({})",
        entity::MatterStatus::active_sql()
    );
    guarded_update(
        txn,
        ids,
        Guarded {
            table: "matter",
            guard: &guard,
            set: "responsible_attorney_id = $3",
            from,
            to,
        },
    )
    .await
}

/// Tasks whose `column` (the assignee; the assigner, for the assigner sweep) is `from`, and that
/// are not complete, given to `to`.
async fn move_tasks(
    txn: &DatabaseTransaction,
    column: &str,
    from: i64,
    to: i64,
    ids: &[i64],
) -> AppResult<FxHashSet<i64>> {
    let (guard, set) = (
        format!("{column} = $2 AND status <> 'COMPLETE'"),
        format!("{column} = $3"),
    );
    guarded_update(
        txn,
        ids,
        Guarded {
            table: "task",
            guard: &guard,
            set: &set,
            from,
            to,
        },
    )
    .await
}

/// Events move to the receiver's personal calendar; where the source attends, the receiver
/// takes that place (once: a receiver already attending keeps their own row).
async fn move_events(
    txn: &DatabaseTransaction,
    firm_id: i64,
    from: i64,
    to: i64,
    items: &[PlannedItem],
    ids: &[i64],
) -> AppResult<FxHashSet<i64>> {
    let from_calendar = personal_calendar(txn, firm_id, from).await?;
    let to_calendar = personal_calendar(txn, firm_id, to).await?;
    let (Some(from_calendar), Some(to_calendar)) = (from_calendar, to_calendar) else {
        return Err(AppError::internal("a user without a personal calendar"));
    };
    let moved = guarded_update(
        txn,
        ids,
        Guarded {
            table: "calendar_event",
            guard: "calendar_id = $2",
            set: "calendar_id = $3",
            from: from_calendar,
            to: to_calendar,
        },
    )
    .await?;

    let swap: Vec<i64> = items
        .iter()
        .filter(|i| i.moves() && i.source_attends && i.from == from && i.to == Some(to) && moved.contains(&i.record_id))
        .map(|i| i.record_id)
        .collect();
    for chunk in swap.chunks(CHUNK) {
        let target_attends = Query::select()
            .column(event_attendee::Column::EventId)
            .from(event_attendee::Entity)
            .and_where(event_attendee::Column::UserId.eq(to))
            .to_owned();
        event_attendee::Entity::delete_many()
            .filter(event_attendee::Column::UserId.eq(from))
            .filter(event_attendee::Column::EventId.is_in(chunk.iter().copied()))
            .filter(event_attendee::Column::EventId.in_subquery(target_attends))
            .exec(txn)
            .await?;
        event_attendee::Entity::update_many()
            .col_expr(event_attendee::Column::UserId, Expr::value(to))
            .filter(event_attendee::Column::UserId.eq(from))
            .filter(event_attendee::Column::EventId.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(moved)
}
