//! Undo: a reassignment taken back. What it moved and is still as it was left goes back to its
//! previous holder (even a deactivated one), planned by the one selection path with the
//! categories reversed; the rest is reported. The undo is a reassignment of its own.

use super::order::{Back, CategorySpec, Order, Reverses, Routing};
use super::{Applied, Outcome, committed, history, refuse, retrying, write};
use crate::auth::Viewer;
use crate::db::{Params, aggregated_rows, begin_write};
use crate::error::AppResult;
use crate::notify::Live;
use chrono::{DateTime, Utc};
use entity::{
    ExclusionReason, ItemOutcome, ReassignmentStatus, WorkKind, matter_permitted_user, reassignment,
    reassignment_grant, reassignment_item,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::{BTreeMap, BTreeSet};

/// What a reassignment moved: (kind, record, previous holder, new holder, attendee replaced,
/// reason: `PAST_DUE` for the past-due sweep).
type Moved = (WorkKind, i64, i64, Option<i64>, bool, Option<ExclusionReason>);

/// Items of the batch taken back read, planned and written at a time: a reversal holds one
/// pass's records, their loads and their plan, however big the batch.
pub const PASS: i64 = 65_536;

/// One aggregated row set, not a driver row per item: a big reassignment has 100,000 and more,
/// and SQLite's driver rows held them at several times their size. Items with ids in `ids`.
async fn moved_by<C: ConnectionTrait>(db: &C, batch: i64, ids: std::ops::RangeInclusive<i64>) -> AppResult<Vec<Moved>> {
    let mut p = Params::default();
    let batch = p.add(batch);
    let (first, last) = (p.add(*ids.start()), p.add(*ids.end()));
    type Row = (i64, WorkKind, i64, i64, Option<i64>, i64, Option<ExclusionReason>);
    let mut rows: Vec<Row> = aggregated_rows(
        db,
        "id, kind, record_id, previous_holder_id, new_holder_id, CASE WHEN attendee_replaced THEN 1 ELSE 0 END, reason",
        &format!("reassignment_item WHERE reassignment_id = {batch} AND id BETWEEN {first} AND {last} AND outcome = 'REASSIGNED'"),
        p,
    )
    .await?;
    // In the order they were written, as the batch's report lists them.
    rows.sort_unstable_by_key(|r| r.0);
    Ok(rows
        .into_iter()
        .map(|(_, kind, record, previous, new, replaced, reason)| (kind, record, previous, new, replaced == 1, reason))
        .collect())
}

/// The passes over a batch's items: ranges of item ids, `PASS` ids each.
pub(super) fn passes(batch: Reverses) -> impl Iterator<Item = std::ops::RangeInclusive<i64>> {
    let (first, last) = match (batch.first_item, batch.last_item) {
        (Some(first), Some(last)) => (first, last),
        _ => (1, 0),
    };
    (first..=last)
        .step_by(PASS as usize)
        .map(move |lo| lo..=lo.saturating_add(PASS - 1).min(last))
}

/// A category going back: from whoever its first moved record was moved to, to whoever held it
/// before (each record of a pass then goes back from its own holder to its own previous one).
/// `None` when the batch moved none of that kind. Found within the batch's range (SQLite finds
/// a batch's items by it alone, migration m0012) and by the batch's id (PostgreSQL's key
/// begins with it), in id order: as one grouped statement for every kind, PostgreSQL ran the
/// grouping again for each of the batch's items.
async fn going_back<C: ConnectionTrait>(db: &C, batch: Reverses, kind: WorkKind) -> AppResult<Option<CategorySpec>> {
    let (Some(first), Some(last)) = (batch.first_item, batch.last_item) else {
        return Ok(None);
    };
    let first = reassignment_item::Entity::find()
        .filter(reassignment_item::Column::ReassignmentId.eq(batch.batch))
        .filter(reassignment_item::Column::Id.between(first, last))
        .filter(reassignment_item::Column::Kind.eq(kind))
        .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Reassigned))
        .order_by_asc(reassignment_item::Column::ReassignmentId)
        .order_by_asc(reassignment_item::Column::Id)
        .one(db)
        .await?;
    Ok(first.map(|item| CategorySpec {
        from: item.new_holder_id.unwrap_or(item.previous_holder_id),
        to: item.previous_holder_id,
        only: Some(BTreeMap::new()),
        attendee_swap: Some(BTreeSet::new()),
        follows_matter: false,
    }))
}

/// One pass of a reversal: `order` with exactly the records moved by the items in `ids`, each
/// going back from whoever it was moved to, to whoever held it before. A category with none in
/// this pass is left out of it.
pub(super) async fn pass<C: ConnectionTrait>(
    db: &C,
    order: &Order,
    batch: Reverses,
    ids: std::ops::RangeInclusive<i64>,
) -> AppResult<Order> {
    let moved = moved_by(db, batch.batch, ids).await?;
    let category = |spec: &Option<CategorySpec>, kind: WorkKind| {
        let spec = spec.as_ref()?;
        let items: Vec<&Moved> = moved.iter().filter(|(k, ..)| *k == kind).collect();
        if items.is_empty() {
            return None;
        }
        Some(CategorySpec {
            only: Some(
                items
                    .iter()
                    .filter_map(|&&(_, record, to, holder, _, reason)| {
                        let past_due = reason == Some(ExclusionReason::PastDue);
                        holder.map(|holder| (record, Back { holder, to, past_due }))
                    })
                    .collect(),
            ),
            attendee_swap: Some(items.iter().filter(|i| i.4).map(|(_, record, ..)| *record).collect()),
            ..spec.clone()
        })
    };
    Ok(Order {
        matters: category(&order.matters, WorkKind::Matter),
        tasks: category(&order.tasks, WorkKind::Task),
        events: category(&order.events, WorkKind::CalendarEvent),
        assigners: category(&order.assigners, WorkKind::TaskAssigner),
        ..order.clone()
    })
}

/// Claim `original` for an undo, inside the undo's transaction: of two undos at once,
/// exactly one proceeds.
pub(super) async fn claim(txn: &DatabaseTransaction, original: i64) -> AppResult<bool> {
    let claimed = reassignment::Entity::update_many()
        .col_expr(reassignment::Column::Status, Expr::value(ReassignmentStatus::Undone))
        .filter(reassignment::Column::Id.eq(original))
        .filter(reassignment::Column::Status.eq(ReassignmentStatus::Applied))
        .exec(txn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// After the undo's own batch is written: take back the matter access the original granted,
/// and link the original to its undo.
pub(super) async fn settle(txn: &DatabaseTransaction, original: i64, undo: i64) -> AppResult<()> {
    let grants = reassignment_grant::Entity::find()
        .filter(reassignment_grant::Column::ReassignmentId.eq(original))
        .all(txn)
        .await?;
    for g in grants {
        matter_permitted_user::Entity::delete_many()
            .filter(matter_permitted_user::Column::MatterId.eq(g.matter_id))
            .filter(matter_permitted_user::Column::UserId.eq(g.user_id))
            .exec(txn)
            .await?;
    }
    reassignment::Entity::update_many()
        .col_expr(reassignment::Column::UndoneById, Expr::value(undo))
        .filter(reassignment::Column::Id.eq(original))
        .exec(txn)
        .await?;
    Ok(())
}

/// Undo a reassignment: every item it moved goes back to its previous holder (even a
/// deactivated one) if still held as it was left and still movable by the rules; the rest is
/// reported. The undo is a reassignment of its own, with its own items. Access granted by the
/// reassignment is taken back.
pub async fn undo(
    db: &DatabaseConnection,
    live: &Live,
    viewer: &Viewer,
    reassignment_id: i64,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Applied>> {
    let outcome = retrying(|| undo_once(db, live, viewer, reassignment_id, cutoff)).await?;
    Ok(committed(live, outcome))
}

async fn undo_once(
    db: &DatabaseConnection,
    live: &Live,
    viewer: &Viewer,
    reassignment_id: i64,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Applied>> {
    viewer.require_admin()?;
    let Some(original) = history::find(db, viewer.firm_id(), reassignment_id).await? else {
        return refuse(&["id"], "NOT_FOUND", "no such reassignment in this firm");
    };
    if original.status == ReassignmentStatus::Undone {
        return refuse(&["id"], "ALREADY_UNDONE", "this reassignment has already been undone");
    }

    let slot = live.planning.enter().await?;
    let txn = begin_write(db).await?;
    let order = Order {
        note: Some(format!(
            "Undo of reassignment {}",
            crate::ids::encode(crate::ids::Kind::Reassignment, original.id)
        )),
        undo_of: Some(original.id),
        ..reversal(&txn, &original, Order::by(viewer, cutoff, original.from_user_id)).await?
    };
    write(txn, &order, None, &slot).await
}

/// `order` with the categories of `original` reversed: exactly the records it moved go back
/// from whoever they were moved to, to their previous holder; the order's source becomes the
/// one who holds them now. Undo and a cover's return both start here; the engine reads the
/// records a pass at a time ([`pass`]).
pub async fn reversal<C: ConnectionTrait>(db: &C, original: &reassignment::Model, order: Order) -> AppResult<Order> {
    let batch = Reverses {
        batch: original.id,
        first_item: original.first_item_id,
        last_item: original.last_item_id,
    };
    let (matters, tasks, events, assigners) = tokio::try_join!(
        going_back(db, batch, WorkKind::Matter),
        going_back(db, batch, WorkKind::Task),
        going_back(db, batch, WorkKind::CalendarEvent),
        going_back(db, batch, WorkKind::TaskAssigner),
    )?;
    let holder = [&matters, &tasks, &events, &assigners]
        .into_iter()
        .find_map(|c| c.as_ref().map(|c| c.from))
        .unwrap_or(original.from_user_id);
    Ok(Order {
        from_user_id: holder,
        matters,
        tasks,
        events,
        assigners,
        // Each record goes back where it came from: no routes, no sweeps; and putting work back
        // as it was is not a new risk to acknowledge.
        routing: Routing {
            acknowledge_risks: true,
            ..Routing::default()
        },
        reverses: Some(batch),
        ..order
    })
}
