//! Past reassignments and their items (the report).

use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::firm::page::{self, Page, PageRequest};
use entity::{ItemOutcome, WorkKind, reassignment, reassignment_item};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

pub async fn find<C: ConnectionTrait>(db: &C, firm_id: i64, id: i64) -> AppResult<Option<reassignment::Model>> {
    Ok(reassignment::Entity::find_by_id(id)
        .filter(reassignment::Column::FirmId.eq(firm_id))
        .one(db)
        .await?)
}

/// One reassignment of the viewer's firm (administrators only).
pub async fn get<C: ConnectionTrait>(db: &C, viewer: &Viewer, id: i64) -> AppResult<reassignment::Model> {
    viewer.require_admin()?;
    find(db, viewer.firm_id(), id)
        .await?
        .ok_or(AppError::NotFound("reassignment"))
}

#[derive(Debug, Default, Clone)]
pub struct HistoryFilter {
    /// Reassignments of this source's work.
    pub from_user_id: Option<i64>,
}

/// The firm's reassignments, newest first (administrators only).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    filter: &HistoryFilter,
    req: PageRequest,
) -> AppResult<Page<reassignment::Model>> {
    viewer.require_admin()?;
    let mut select = reassignment::Entity::find().filter(reassignment::Column::FirmId.eq(viewer.firm_id()));
    if let Some(id) = filter.from_user_id {
        // Another firm's user is NOT_FOUND, as everywhere, not an empty page.
        crate::firm::users::require_in_firm(db, viewer.firm_id(), id).await?;
        select = select.filter(reassignment::Column::FromUserId.eq(id));
    }
    page::fetch_newest_first(db, select, reassignment::Column::Id, req).await
}

/// A reassignment's items, in the order they were recorded, optionally by kind and outcome.
pub async fn items<C: ConnectionTrait>(
    db: &C,
    batch: &reassignment::Model,
    kind: Option<WorkKind>,
    outcome: Option<ItemOutcome>,
    req: PageRequest,
) -> AppResult<Page<reassignment_item::Model>> {
    let of_batch = |after: Option<i64>| {
        let mut select = reassignment_item::Entity::find()
            .filter(batch.items_after(after))
            .filter(reassignment_item::Column::FirmId.eq(batch.firm_id));
        if let Some(kind) = kind {
            select = select.filter(reassignment_item::Column::Kind.eq(kind));
        }
        if let Some(outcome) = outcome {
            select = select.filter(reassignment_item::Column::Outcome.eq(outcome));
        }
        select
    };
    // The cursor goes into the range (see `items_after`); the total counts them all.
    let total = if req.want_total {
        Some(of_batch(None).count(db).await?)
    } else {
        None
    };
    let page = PageRequest {
        after: None,
        want_total: false,
        ..req
    };
    let mut page = page::fetch(db, of_batch(req.after), reassignment_item::Column::Id, page).await?;
    page.total = total;
    Ok(page)
}
