//! The facts the rules read, loaded from the database in a few set-based statements: the
//! records each category considers and the status of every matter they are linked to.

use super::expected;
use crate::db::{Params, enum_value, json_rows};
use crate::error::AppResult;
use crate::firm::work::personal_calendars;
use crate::reassign::order::{CategorySpec, Order};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{MatterStatus, TaskStatus};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use std::collections::{BTreeSet, HashMap};

/// (id, responsible attorney, status, practice area, client)
pub type MatterRow = (i64, Option<i64>, MatterStatus, Option<String>, String);
/// (id, matter, assignee, status, due date, statute of limitations)
pub type TaskRow = (i64, Option<i64>, i64, TaskStatus, Option<NaiveDate>, bool);
/// (id, matter, assigner, status)
pub type AssignerRow = (i64, Option<i64>, Option<i64>, TaskStatus);

/// `AND <col> IN (restriction)` when the request names matters.
fn restriction(spec: &Order, backend: DatabaseBackend, params: &mut Params, col: &str) -> String {
    match &spec.matter_ids {
        Some(ids) => format!(" AND {col} IN (SELECT id FROM {} r)", params.ids(backend, ids)),
        None => String::new(),
    }
}

/// Which rows a category considers: everything the holder has, or (undo) exactly these ids.
fn scope(c: &CategorySpec, backend: DatabaseBackend, params: &mut Params, holder_col: &str, holder: i64) -> String {
    match &c.only {
        None => format!("{holder_col} = {}", params.add(holder)),
        Some(only) => format!("id IN (SELECT id FROM {} o)", params.ids(backend, only.keys())),
    }
}

/// The matters considered, with what routing matches on.
pub async fn load_matters<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<MatterRow>> {
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(spec.firm_id);
    let scope = scope(c, backend, &mut p, "responsible_attorney_id", c.from);
    let restrict = restriction(spec, backend, &mut p, "id");
    type Row = (i64, Option<i64>, String, Option<String>, String);
    let rows: Vec<Row> = json_rows(
        db,
        "id, responsible_attorney_id, status, practice_area, client_name",
        &format!("matter WHERE firm_id = {firm} AND {scope}{restrict}"),
        p,
    )
    .await?;
    let mut out = rows
        .into_iter()
        .map(|(id, holder, status, area, client)| Ok((id, holder, enum_value::<MatterStatus>(&status)?, area, client)))
        .collect::<AppResult<Vec<_>>>()?;
    out.sort_unstable_by_key(|r| r.0);
    Ok(out)
}

/// The tasks considered. Whether each is a limitation deadline comes from a second, small
/// statement over the partial index of those (reading the flag with the rest would take every
/// task off the covering index).
pub async fn load_tasks<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<TaskRow>> {
    let backend = db.get_database_backend();
    let considered = |p: &mut Params| {
        let firm = p.add(spec.firm_id);
        let scope = scope(c, backend, p, "assignee_id", c.from);
        let restrict = restriction(spec, backend, p, "matter_id");
        format!("task WHERE firm_id = {firm} AND {scope}{restrict}")
    };
    let mut p = Params::default();
    let from_where = considered(&mut p);
    type Row = (i64, Option<i64>, i64, String, Option<NaiveDate>);
    let rows: Vec<Row> = json_rows(db, "id, matter_id, assignee_id, status, due_date", &from_where, p).await?;
    let mut p = Params::default();
    let from_where = considered(&mut p);
    let deadlines: BTreeSet<i64> =
        json_rows::<(i64,), _>(db, "id", &format!("{from_where} AND statute_of_limitations"), p)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
    let mut out = rows
        .into_iter()
        .map(|(id, matter, assignee, status, due)| {
            Ok((
                id,
                matter,
                assignee,
                enum_value::<TaskStatus>(&status)?,
                due,
                deadlines.contains(&id),
            ))
        })
        .collect::<AppResult<Vec<_>>>()?;
    out.sort_unstable_by_key(|r| r.0);
    Ok(out)
}

/// The assigner sweep's tasks: not complete, assigned by the source, anywhere in the firm (an
/// undo: exactly the tasks it changed).
pub async fn load_assigners<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<AssignerRow>> {
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(spec.firm_id);
    let scope = match &c.only {
        None => format!("assigner_id = {} AND status <> 'COMPLETE'", p.add(c.from)),
        Some(only) => format!("id IN (SELECT id FROM {} o)", p.ids(backend, only.keys())),
    };
    let restrict = restriction(spec, backend, &mut p, "matter_id");
    let rows: Vec<(i64, Option<i64>, Option<i64>, String)> = json_rows(
        db,
        "id, matter_id, assigner_id, status",
        &format!("task WHERE firm_id = {firm} AND {scope}{restrict}"),
        p,
    )
    .await?;
    let mut out = rows
        .into_iter()
        .map(|(id, matter, assigner, status)| Ok((id, matter, assigner, enum_value::<TaskStatus>(&status)?)))
        .collect::<AppResult<Vec<_>>>()?;
    out.sort_unstable_by_key(|r| r.0);
    Ok(out)
}

pub struct EventRow {
    pub id: i64,
    pub matter_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub all_day: bool,
    /// On the personal calendar of whoever must hold it.
    pub on_source_calendar: bool,
    /// That holder attends it.
    pub source_attends: bool,
}

/// Events on the source's personal calendar, events elsewhere that the source attends
/// (reported as ATTENDEE_ONLY), and whether the source attends each. An undo: exactly the
/// events it moved, each measured against the calendar of whoever it was moved to.
pub async fn load_events<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<EventRow>> {
    let holders: BTreeSet<i64> = match &c.only {
        None => BTreeSet::from([c.from]),
        Some(only) => only.values().map(|b| b.holder).collect(),
    };
    let calendars = personal_calendars(db, spec.firm_id, holders.iter().copied()).await?;
    let calendar_of = |user: i64| calendars.get(&user).copied().unwrap_or(-1);
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(spec.firm_id);
    let source = p.add(c.from);
    let scope = match &c.only {
        None => format!(
            "(calendar_id = {} OR id IN (SELECT event_id FROM event_attendee WHERE firm_id = {firm} AND user_id = {source}))",
            p.add(calendar_of(c.from))
        ),
        Some(only) => format!("id IN (SELECT id FROM {} o)", p.ids(backend, only.keys())),
    };
    let restrict = restriction(spec, backend, &mut p, "matter_id");
    type Row = (i64, Option<i64>, i64, String, i64, i64);
    let rows: Vec<Row> = json_rows(
        db,
        &format!(
            "id, matter_id, calendar_id, start_at, CASE WHEN all_day THEN 1 ELSE 0 END,
             CASE WHEN EXISTS (SELECT 1 FROM event_attendee a WHERE a.event_id = calendar_event.id
               AND a.user_id = {source}) THEN 1 ELSE 0 END"
        ),
        &format!("calendar_event WHERE firm_id = {firm} AND {scope}{restrict}"),
        p,
    )
    .await?;
    // An undo's events each have their own holder: who attends what, for those holders.
    let attending: BTreeSet<(i64, i64)> = match &c.only {
        Some(only) if holders.len() > 1 => {
            let mut p = Params::default();
            let firm = p.add(spec.firm_id);
            let events = p.ids(backend, only.keys());
            let users = p.ids(backend, &holders);
            json_rows::<(i64, i64), _>(
                db,
                "event_id, user_id",
                &format!(
                    "event_attendee WHERE firm_id = {firm} AND event_id IN (SELECT id FROM {events} e)
                     AND user_id IN (SELECT id FROM {users} u)"
                ),
                p,
            )
            .await?
            .into_iter()
            .collect()
        }
        _ => BTreeSet::new(),
    };
    let mut out = rows
        .into_iter()
        .map(|(id, matter_id, calendar_id, start, all_day, attends)| {
            let start = crate::db::instant(&start)?;
            let (holder, _) = expected(c, id);
            let source_attends = if holders.len() > 1 {
                attending.contains(&(id, holder))
            } else {
                attends != 0
            };
            Ok(EventRow {
                id,
                matter_id,
                start,
                all_day: all_day != 0,
                on_source_calendar: calendar_id == calendar_of(holder),
                source_attends,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    out.sort_unstable_by_key(|r| r.id);
    Ok(out)
}

pub async fn matter_statuses<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    ids: &BTreeSet<i64>,
) -> AppResult<HashMap<i64, MatterStatus>> {
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(firm_id);
    let list = p.ids(backend, ids);
    let rows: Vec<(i64, String)> = json_rows(
        db,
        "id, status",
        &format!("matter WHERE firm_id = {firm} AND id IN (SELECT id FROM {list} l)"),
        p,
    )
    .await?;
    rows.into_iter()
        .map(|(id, status)| Ok((id, enum_value::<MatterStatus>(&status)?)))
        .collect()
}
