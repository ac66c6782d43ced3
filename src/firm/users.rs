//! Firm members: listing with filters, lookup, and the workload summary ("what does this person
//! hold").

use super::page::{self, Page, PageRequest};
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::{Licence, MatterStatus, calendar, calendar_event, matter, task, user};
use sea_orm::sea_query::{Expr, ExprTrait, UnionType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select};
use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub enabled: Option<bool>,
    pub account_admin: Option<bool>,
    pub licence: Option<Licence>,
    /// Case-insensitive substring of the name or the email.
    pub search: Option<String>,
}

/// The firm's users (administrators only).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    filter: &UserFilter,
    req: PageRequest,
) -> AppResult<Page<user::Model>> {
    viewer.require_admin()?;
    let mut select = user::Entity::find().filter(user::Column::FirmId.eq(viewer.firm_id()));
    if let Some(enabled) = filter.enabled {
        select = select.filter(user::Column::Enabled.eq(enabled));
    }
    if let Some(admin) = filter.account_admin {
        select = select.filter(user::Column::AccountAdmin.eq(admin));
    }
    if let Some(licence) = filter.licence {
        select = select.filter(user::Column::Licence.eq(licence));
    }
    if let Some(cond) = super::search::matches(user::Column::SearchText, filter.search.as_deref())? {
        select = select.filter(cond);
    }
    page::fetch(db, super::shown(select, super::USER_DERIVED), user::Column::Id, req).await
}

/// One user of the viewer's firm. Non-administrators may look up only themselves.
pub async fn get<C: ConnectionTrait>(db: &C, viewer: &Viewer, id: i64) -> AppResult<user::Model> {
    let found = user::Entity::find_by_id(id)
        .filter(user::Column::FirmId.eq(viewer.firm_id()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if found.id != viewer.user_id() {
        viewer.require_admin()?;
    }
    Ok(found)
}

/// Fails with `NOT_FOUND` unless the user belongs to the firm: an ID given as a filter is
/// checked like any other.
pub async fn require_in_firm<C: ConnectionTrait>(db: &C, firm_id: i64, id: i64) -> AppResult<()> {
    let found = user::Entity::find_by_id(id)
        .filter(user::Column::FirmId.eq(firm_id))
        .one(db)
        .await?;
    found.map(|_| ()).ok_or(AppError::NotFound("user"))
}

/// The firm's users among `ids`, by id (an id of another firm, or of no one, is simply absent).
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::FirmId.eq(firm_id))
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// What a person holds: counted the way the reassignment rules count work in motion.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// Open or pending matters where they are the responsible attorney.
    pub open_matters: i64,
    /// Tasks assigned to them that are not complete.
    pub open_tasks: i64,
    /// Events on their personal calendar that have not started (all-day: not before today).
    pub upcoming_events: i64,
}

/// Open or pending matters where each of `user_ids` is the responsible attorney.
fn open_matters_query(firm_id: i64, user_ids: &[i64]) -> Select<matter::Entity> {
    matter::Entity::find()
        .select_only()
        .column(matter::Column::ResponsibleAttorneyId)
        .column_as(super::work::rows(), "n")
        .filter(matter::Column::FirmId.eq(firm_id))
        .filter(matter::Column::ResponsibleAttorneyId.is_in(user_ids.iter().copied()))
        .filter(matter::Column::Status.is_in(MatterStatus::ACTIVE))
        .group_by(matter::Column::ResponsibleAttorneyId)
}

/// (user, open or pending matters they are responsible attorney of), for those who have any.
pub async fn open_matters_of<C: ConnectionTrait>(db: &C, firm_id: i64, user_ids: &[i64]) -> AppResult<Vec<(i64, i64)>> {
    Ok(open_matters_query(firm_id, user_ids).into_tuple().all(db).await?)
}

/// Workload of several users at once: one statement (three grouped counts joined by `UNION ALL`)
/// whatever the number of users, because a page of people asks for it on every load.
pub async fn workloads<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    user_ids: &[i64],
    now: DateTime<Utc>,
    today_start: DateTime<Utc>,
) -> AppResult<HashMap<i64, Workload>> {
    let mut out: HashMap<i64, Workload> = user_ids.iter().map(|id| (*id, Workload::default())).collect();
    if user_ids.is_empty() {
        return Ok(out);
    }
    // Each part is (holder, count, which count): the third column says which field it fills.
    let matters = open_matters_query(firm_id, user_ids)
        .column_as(Expr::val(MATTERS), "part")
        .into_query();
    let tasks = super::work::open_tasks_query(firm_id, task::Column::AssigneeId, user_ids)
        .column_as(Expr::val(TASKS), "part")
        .into_query();
    let events = calendar_event::Entity::find()
        .select_only()
        .column_as(Expr::col((calendar::Entity, calendar::Column::OwnerUserId)), "owner")
        .column_as(super::work::rows(), "n")
        .column_as(Expr::val(EVENTS), "part")
        .inner_join(calendar::Entity)
        // The calendar's firm, not the event's (the same firm): the count then reads only the
        // (calendar, start) index.
        .filter(calendar::Column::FirmId.eq(firm_id))
        .filter(Expr::col((calendar::Entity, calendar::Column::OwnerUserId)).is_in(user_ids.iter().copied()))
        .filter(super::work::upcoming(now, today_start))
        .group_by(Expr::col((calendar::Entity, calendar::Column::OwnerUserId)))
        .into_query();
    let mut union = matters;
    union.union(UnionType::All, tasks).union(UnionType::All, events);
    let rows = db.query_all_raw(db.get_database_backend().build(&union)).await?;
    for row in rows {
        let id: Option<i64> = row.try_get_by_index(0)?;
        let Some(id) = id else { continue };
        let n: i64 = row.try_get_by_index(1)?;
        let part: i32 = row.try_get_by_index(2)?;
        let w = out.entry(id).or_default();
        match part {
            MATTERS => w.open_matters = n,
            TASKS => w.open_tasks = n,
            _ => w.upcoming_events = n,
        }
    }
    Ok(out)
}

const MATTERS: i32 = 0;
const TASKS: i32 = 1;
const EVENTS: i32 = 2;
