//! Tasks and calendar events: a person's own, or a matter's.

use super::page::{self, Page, PageRequest};
use crate::auth::Viewer;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use entity::{CalendarKind, TaskStatus, calendar, calendar_event, task};
use sea_orm::sea_query::{Asterisk, Expr, Func, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select};
use std::collections::HashMap;

/// An event is upcoming when it starts at or after `now`; an all-day event, when its day is
/// today or later (`today_start` = midnight today in the firm's time zone).
pub fn upcoming(now: DateTime<Utc>, today_start: DateTime<Utc>) -> Condition {
    Condition::any().add(calendar_event::Column::StartAt.gte(now)).add(
        Condition::all()
            .add(calendar_event::Column::AllDay.eq(true))
            .add(calendar_event::Column::StartAt.gte(today_start)),
    )
}

/// A person's work is visible to administrators and to that person.
fn require_self_or_admin(viewer: &Viewer, user_id: i64) -> AppResult<()> {
    if viewer.user_id() == user_id {
        Ok(())
    } else {
        viewer.require_admin()
    }
}

pub async fn tasks_of<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    user_id: i64,
    include_completed: bool,
    req: PageRequest,
) -> AppResult<Page<task::Model>> {
    require_self_or_admin(viewer, user_id)?;
    let mut select = task::Entity::find()
        .filter(task::Column::FirmId.eq(viewer.firm_id()))
        .filter(task::Column::AssigneeId.eq(user_id));
    if !include_completed {
        select = select.filter(task::Column::Status.ne(TaskStatus::Complete));
    }
    page::fetch(db, select, task::Column::Id, req).await
}

/// Tasks of a matter the caller has already been allowed to see.
pub async fn tasks_on_matter<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    matter_id: i64,
    include_completed: bool,
    req: PageRequest,
) -> AppResult<Page<task::Model>> {
    let mut select = task::Entity::find()
        .filter(task::Column::FirmId.eq(firm_id))
        .filter(task::Column::MatterId.eq(matter_id));
    if !include_completed {
        select = select.filter(task::Column::Status.ne(TaskStatus::Complete));
    }
    page::fetch(db, select, task::Column::Id, req).await
}

/// Events on a person's personal calendar.
pub async fn events_of<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    user_id: i64,
    upcoming_since: Option<(DateTime<Utc>, DateTime<Utc>)>,
    req: PageRequest,
) -> AppResult<Page<calendar_event::Model>> {
    require_self_or_admin(viewer, user_id)?;
    let personal = Query::select()
        .column(calendar::Column::Id)
        .from(calendar::Entity)
        .and_where(calendar::Column::OwnerUserId.eq(user_id))
        .and_where(calendar::Column::FirmId.eq(viewer.firm_id()))
        .to_owned();
    let mut select = calendar_event::Entity::find()
        .filter(calendar_event::Column::FirmId.eq(viewer.firm_id()))
        .filter(calendar_event::Column::CalendarId.in_subquery(personal));
    if let Some((now, today_start)) = upcoming_since {
        select = select.filter(upcoming(now, today_start));
    }
    page::fetch(db, select, calendar_event::Column::Id, req).await
}

/// Events of a matter the caller has already been allowed to see.
pub async fn events_on_matter<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    matter_id: i64,
    upcoming_since: Option<(DateTime<Utc>, DateTime<Utc>)>,
    req: PageRequest,
) -> AppResult<Page<calendar_event::Model>> {
    let mut select = calendar_event::Entity::find()
        .filter(calendar_event::Column::FirmId.eq(firm_id))
        .filter(calendar_event::Column::MatterId.eq(matter_id));
    if let Some((now, today_start)) = upcoming_since {
        select = select.filter(upcoming(now, today_start));
    }
    page::fetch(db, select, calendar_event::Column::Id, req).await
}

/// Per matter: tasks not complete, and upcoming events. Two grouped statements for any number
/// of matters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MatterCounts {
    pub open_tasks: i64,
    pub upcoming_events: i64,
}

pub async fn matter_counts<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    matter_ids: &[i64],
    now: DateTime<Utc>,
    today_start: DateTime<Utc>,
) -> AppResult<HashMap<i64, MatterCounts>> {
    let mut out: HashMap<i64, MatterCounts> = matter_ids.iter().map(|id| (*id, MatterCounts::default())).collect();
    for (id, n) in open_tasks_by(db, firm_id, task::Column::MatterId, matter_ids).await? {
        out.entry(id).or_default().open_tasks = n;
    }
    let events: Vec<(i64, i64)> = calendar_event::Entity::find()
        .select_only()
        .column(calendar_event::Column::MatterId)
        .column_as(rows(), "n")
        .filter(calendar_event::Column::FirmId.eq(firm_id))
        .filter(calendar_event::Column::MatterId.is_in(matter_ids.iter().copied()))
        .filter(upcoming(now, today_start))
        .group_by(calendar_event::Column::MatterId)
        .into_tuple()
        .all(db)
        .await?;
    for (id, n) in events {
        out.entry(id).or_default().upcoming_events = n;
    }
    Ok(out)
}

/// `COUNT(*)`: unlike counting a column the index does not hold, it lets PostgreSQL count from
/// the index alone.
pub fn rows() -> Expr {
    Func::count(Expr::col(Asterisk)).into()
}

/// Tasks not complete, counted per value of `by` (the assignee, the matter) among `ids`.
pub async fn open_tasks_by<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    by: task::Column,
    ids: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    Ok(open_tasks_query(firm_id, by, ids).into_tuple().all(db).await?)
}

/// Tasks not complete, counted per value of `by` among `ids`.
pub fn open_tasks_query(firm_id: i64, by: task::Column, ids: &[i64]) -> Select<task::Entity> {
    task::Entity::find()
        .select_only()
        .column(by)
        .column_as(rows(), "n")
        .filter(task::Column::FirmId.eq(firm_id))
        .filter(by.is_in(ids.iter().copied()))
        .filter(task::Column::Status.ne(TaskStatus::Complete))
        .group_by(by)
}

/// A user's personal calendar (every user has one).
pub async fn personal_calendar<C: ConnectionTrait>(db: &C, firm_id: i64, user_id: i64) -> AppResult<Option<i64>> {
    Ok(calendar::Entity::find()
        .select_only()
        .column(calendar::Column::Id)
        .filter(calendar::Column::FirmId.eq(firm_id))
        .filter(calendar::Column::Kind.eq(CalendarKind::Personal))
        .filter(calendar::Column::OwnerUserId.eq(user_id))
        .into_tuple::<i64>()
        .one(db)
        .await?)
}

/// Each user's personal calendar, for several users at once.
pub async fn personal_calendars<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    user_ids: impl IntoIterator<Item = i64>,
) -> AppResult<std::collections::HashMap<i64, i64>> {
    let rows: Vec<(Option<i64>, i64)> = calendar::Entity::find()
        .select_only()
        .column(calendar::Column::OwnerUserId)
        .column(calendar::Column::Id)
        .filter(calendar::Column::FirmId.eq(firm_id))
        .filter(calendar::Column::Kind.eq(CalendarKind::Personal))
        .filter(calendar::Column::OwnerUserId.is_in(user_ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(owner, id)| owner.map(|o| (o, id)))
        .collect())
}
