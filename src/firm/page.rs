//! Keyset pagination by row id: stable under inserts, cheap at any depth.

use crate::error::AppResult;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 100;

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub first: u64,
    /// Row id of the last item already seen.
    pub after: Option<i64>,
    /// Count every match as well (costs one more statement).
    pub want_total: bool,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub total: Option<u64>,
}

/// Oldest first (by row id); `after` continues towards newer rows.
pub async fn fetch<E, C>(db: &C, select: Select<E>, id: E::Column, req: PageRequest) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    fetch_ordered(db, select, id, req, false).await
}

/// Newest (highest id) first; `after` continues towards older rows.
pub async fn fetch_newest_first<E, C>(
    db: &C,
    select: Select<E>,
    id: E::Column,
    req: PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    fetch_ordered(db, select, id, req, true).await
}

async fn fetch_ordered<E, C>(
    db: &C,
    select: Select<E>,
    id: E::Column,
    req: PageRequest,
    newest_first: bool,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let total = if req.want_total {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let mut query = if newest_first {
        select.order_by_desc(id)
    } else {
        select.order_by_asc(id)
    };
    if let Some(after) = req.after {
        query = query.filter(if newest_first { id.lt(after) } else { id.gt(after) });
    }
    let mut items = query.limit(req.first + 1).all(db).await?;
    let has_next_page = items.len() as u64 > req.first;
    items.truncate(req.first as usize);
    Ok(Page {
        items,
        has_next_page,
        total,
    })
}
