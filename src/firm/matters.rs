//! Matters: listing with filters and lookup, within what the viewer may see.

use super::access::matters_visible_to;
use super::page::{self, Page, PageRequest};
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use entity::{MatterStatus, matter};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

#[derive(Debug, Default, Clone)]
pub struct MatterFilter {
    pub status: Option<Vec<MatterStatus>>,
    pub responsible_attorney_id: Option<i64>,
    pub practice_area: Option<String>,
    /// Case-insensitive substring of the display number, description or client.
    pub search: Option<String>,
}

/// Matters of the viewer's firm that the viewer may see.
pub fn visible(viewer: &Viewer) -> Select<matter::Entity> {
    let select = matter::Entity::find().filter(matter::Column::FirmId.eq(viewer.firm_id()));
    if viewer.is_admin() {
        select
    } else {
        select.filter(matters_visible_to(viewer.user_id()))
    }
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    filter: &MatterFilter,
    req: PageRequest,
) -> AppResult<Page<matter::Model>> {
    let mut select = visible(viewer);
    if let Some(status) = &filter.status {
        select = select.filter(matter::Column::Status.is_in(status.iter().copied()));
    }
    if let Some(id) = filter.responsible_attorney_id {
        select = select.filter(matter::Column::ResponsibleAttorneyId.eq(id));
    }
    if let Some(area) = &filter.practice_area {
        select = select.filter(matter::Column::PracticeArea.eq(area.as_str()));
    }
    if let Some(cond) = super::search::matches(matter::Column::SearchText, filter.search.as_deref())? {
        select = select.filter(cond);
    }
    page::fetch(db, super::shown(select, super::MATTER_DERIVED), matter::Column::Id, req).await
}

pub async fn get<C: ConnectionTrait>(db: &C, viewer: &Viewer, id: i64) -> AppResult<matter::Model> {
    visible(viewer)
        .filter(matter::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("matter"))
}
