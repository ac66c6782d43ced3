//! The records each category considers, loaded from the database in a few set-based statements
//! (the facts about their matters come from `firm::access`), and `Loaded`: all of them with
//! those facts, which the plans made on them share.

use super::matters::KnownMatters;
use crate::db::{Along, At, Day, Params, aggregated_rows, each_aggregated_group, each_aggregated_piece};
use crate::error::AppResult;
use crate::firm::access::EVERYONE;
use crate::firm::work::personal_calendars;
use crate::notify::When;
use crate::reassign::order::{CategorySpec, Order};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{MatterStatus, TaskStatus, WorkKind};
use rustc_hash::FxHashSet;
use sea_orm::{ConnectionTrait, DatabaseBackend, StreamTrait};
use std::collections::BTreeSet;
use std::num::NonZeroI64;

/// What the rules read from the database for an order: its records and the facts about their
/// matters. It depends on the order's people, categories, matters and routes, not on its clock.
pub struct Loaded {
    pub(super) matter_rows: Vec<MatterRow>,
    pub(super) tasks: Tasks,
    pub(super) event_rows: Vec<EventRow>,
    pub(super) assigner_rows: Vec<AssignerRow>,
    pub(super) matters: KnownMatters,
    /// Open matters per pool member, when a route balances them.
    pub(super) loads: Vec<(i64, i64)>,
}

impl Loaded {
    /// Row `i` of a category's records: its id, its matter and when it falls.
    pub(super) fn row(&self, kind: WorkKind, i: usize) -> (i64, Option<i64>, When) {
        match kind {
            WorkKind::Matter => (self.matter_rows[i].id, Some(self.matter_rows[i].id), When::Unknown),
            WorkKind::Task => {
                let t = &self.tasks.rows[i];
                (t.id, t.matter.id(), When::Due(self.tasks.group(t).due_date))
            }
            WorkKind::CalendarEvent => {
                let e = &self.event_rows[i];
                (e.id, e.matter.id(), When::Starts(e.start))
            }
            WorkKind::TaskAssigner => (self.assigner_rows[i].0, self.assigner_rows[i].1, When::Unknown),
        }
    }
}

/// A matter considered: 40 bytes, and its names only when the order's routes match on them.
pub struct MatterRow {
    pub id: i64,
    /// Its responsible attorney.
    pub holder: Option<i64>,
    pub status: MatterStatus,
    /// Open to everyone in the firm.
    pub everyone: bool,
    pub names: Option<Box<MatterNames>>,
}

/// What routes match a matter on besides its id. Read only for an order with a route that
/// names practice areas or clients: the bench source's 10,000 matters spent 0.6 MiB on them,
/// their text and the room for it in each row.
pub struct MatterNames {
    pub practice_area: Option<String>,
    pub client: String,
}

/// A record's matter, as a plan holds it: ids start at 1, so "no matter" takes no room of its
/// own (an `Option<i64>` takes 16 bytes, and a plan holds one for every task and event).
#[derive(Clone, Copy)]
pub struct MatterRef(Option<NonZeroI64>);

impl MatterRef {
    pub fn new(id: Option<i64>) -> Self {
        MatterRef(id.and_then(NonZeroI64::new))
    }

    pub fn id(self) -> Option<i64> {
        self.0.map(NonZeroI64::get)
    }
}

/// A task considered: 24 bytes, held for every task a plan decides. Who holds it, its status
/// and its due date are its group's, which a holder's tasks share by the thousand.
pub struct TaskRow {
    pub id: i64,
    pub matter: MatterRef,
    /// An index into [`Tasks::groups`].
    pub group: u32,
    pub statute_of_limitations: bool,
}

/// What the tasks of one group share (the statement reads them by group).
#[derive(Debug, Clone, Copy)]
pub struct TaskGroup {
    pub assignee: i64,
    pub due_date: Option<NaiveDate>,
    pub status: TaskStatus,
}

/// The tasks considered, in id order, and the groups they name.
#[derive(Default)]
pub struct Tasks {
    pub rows: Vec<TaskRow>,
    pub groups: Vec<TaskGroup>,
}

impl Tasks {
    pub fn group(&self, task: &TaskRow) -> TaskGroup {
        self.groups[task.group as usize]
    }

    /// A group's index, for the rows read after it.
    fn add_group(&mut self, group: TaskGroup) -> u32 {
        self.groups.push(group);
        // Never more groups than tasks, which a plan holds 24 bytes of each.
        u32::try_from(self.groups.len() - 1).expect("fewer task groups than u32::MAX")
    }

    /// Another read's tasks, after these (their groups renumbered after these groups).
    fn append(&mut self, mut other: Tasks) {
        let offset = u32::try_from(self.groups.len()).expect("fewer task groups than u32::MAX");
        self.rows.extend(other.rows.drain(..).map(|t| TaskRow {
            group: t.group + offset,
            ..t
        }));
        self.groups.append(&mut other.groups);
    }
}

/// (id, matter, assigner, status)
pub type AssignerRow = (i64, Option<i64>, Option<i64>, TaskStatus);

/// `AND <col> IN (restriction)` when the request names matters.
fn restriction(spec: &Order, backend: DatabaseBackend, params: &mut Params, col: &str) -> String {
    match &spec.matter_ids {
        Some(ids) => format!(" AND {}", params.id_in(backend, col, ids)),
        None => String::new(),
    }
}

/// Events of the source's calendar read in one piece (and the ties of the piece's last start):
/// what a preview holds of their text at a time, whatever the size of the calendar.
const EVENTS_A_PIECE: usize = 8192;

/// Ids an exact read (an undo's, a return's) names in one statement, so that no statement's id
/// list, nor the rows it aggregates, grows with the size of what is taken back.
pub const EXACT_CHUNK: usize = 8192;

/// A category's rows as `read` reads them: everything the holder has, in one statement (`None`);
/// or exactly an undo's records (`Some(ids)`), `EXACT_CHUNK` ids a statement.
async fn considered<T, F, Fut>(c: &CategorySpec, read: F) -> AppResult<Vec<T>>
where
    F: Fn(Option<Vec<i64>>) -> Fut,
    Fut: std::future::Future<Output = AppResult<Vec<T>>>,
{
    let Some(only) = &c.only else {
        return read(None).await;
    };
    let ids: Vec<i64> = only.keys().copied().collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(EXACT_CHUNK) {
        out.extend(read(Some(chunk.to_vec())).await?);
    }
    Ok(out)
}

/// Which rows a category considers: everything the holder has, or (undo) exactly these ids.
fn scope(ids: Option<&[i64]>, backend: DatabaseBackend, params: &mut Params, holder_col: &str, holder: i64) -> String {
    match ids {
        None => format!("{holder_col} = {}", params.add(holder)),
        Some(ids) => params.id_in(backend, "id", ids),
    }
}

/// The matters considered, whether everyone may see them, and (when a route asks) their names.
pub async fn load_matters<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<MatterRow>> {
    let backend = db.get_database_backend();
    let named = spec.routing.routes.iter().any(|r| r.when.matches_names());
    let mut out: Vec<MatterRow> = considered(c, |ids| async move {
        let mut p = Params::default();
        let firm = p.add(spec.firm_id);
        let scope = scope(ids.as_deref(), backend, &mut p, "responsible_attorney_id", c.from);
        let restrict = restriction(spec, backend, &mut p, "id");
        // Without a route that names them, the names are read as nothing (NULL and the empty
        // text, which takes no room).
        let names = if named {
            "practice_area, client_name"
        } else {
            "CAST(NULL AS TEXT), CAST('' AS TEXT)"
        };
        type Row = (i64, Option<i64>, MatterStatus, i64, Option<String>, String);
        let rows: Vec<Row> = aggregated_rows(
            db,
            &format!("id, responsible_attorney_id, status, {EVERYONE}, {names}"),
            &format!("matter WHERE firm_id = {firm} AND {scope}{restrict}"),
            p,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, holder, status, everyone, practice_area, client)| MatterRow {
                id,
                holder,
                status,
                everyone: everyone != 0,
                names: named.then(|| Box::new(MatterNames { practice_area, client })),
            })
            .collect())
    })
    .await?;
    out.sort_unstable_by_key(|r| r.id);
    Ok(out)
}

/// The tasks considered. Whether each is a limitation deadline comes from a second, small
/// statement over the partial index of those (reading the flag with the rest would take every
/// task off the covering index).
pub async fn load_tasks<C: ConnectionTrait + StreamTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Tasks> {
    let backend = ConnectionTrait::get_database_backend(db);
    let reads: Vec<Tasks> = considered(c, |ids| async move {
        let from_where = |p: &mut Params| {
            let firm = p.add(spec.firm_id);
            let scope = scope(ids.as_deref(), backend, p, "assignee_id", c.from);
            let restrict = restriction(spec, backend, p, "matter_id");
            format!("task WHERE firm_id = {firm} AND {scope}{restrict}")
        };
        let mut p = Params::default();
        let rows_where = from_where(&mut p);
        let mut deadline_p = Params::default();
        let deadline_where = format!("{} AND statute_of_limitations", from_where(&mut deadline_p));
        // Grouped by assignee, status and due date, which the holder's index reads in that
        // order: each is sent once a group, not once a task, and a group's text is let go
        // before the next is read (a group: the holder's tasks of one status due on one day,
        // or with no due date).
        type Row = (i64, Option<i64>);
        let mut out = Tasks::default();
        let (_, deadlines) = tokio::try_join!(
            each_aggregated_group::<(i64, TaskStatus, Option<Day>), Row, _>(
                db,
                "assignee_id, status, due_date",
                "id, matter_id",
                &rows_where,
                p,
                |(assignee, status, due), rows| {
                    let group = out.add_group(TaskGroup {
                        assignee,
                        due_date: due.map(|d| d.0),
                        status,
                    });
                    out.rows.extend(rows.into_iter().map(|(id, matter)| TaskRow {
                        id,
                        matter: MatterRef::new(matter),
                        group,
                        statute_of_limitations: false,
                    }))
                },
            ),
            aggregated_rows::<(i64,), _>(db, "id", &deadline_where, deadline_p),
        )?;
        let deadlines: FxHashSet<i64> = deadlines.into_iter().map(|(id,)| id).collect();
        for task in &mut out.rows {
            task.statute_of_limitations = deadlines.contains(&task.id);
        }
        Ok(vec![out])
    })
    .await?;
    let mut reads = reads.into_iter();
    let mut out = reads.next().unwrap_or_default();
    for read in reads {
        out.append(read);
    }
    out.rows.sort_unstable_by_key(|r| r.id);
    Ok(out)
}

/// The assigner sweep's tasks: not complete, assigned by the source, anywhere in the firm (an
/// undo: exactly the tasks it changed).
pub async fn load_assigners<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<AssignerRow>> {
    let backend = db.get_database_backend();
    let mut out: Vec<AssignerRow> = considered(c, |ids| async move {
        let mut p = Params::default();
        let firm = p.add(spec.firm_id);
        let scope = match &ids {
            None => format!("assigner_id = {} AND status <> 'COMPLETE'", p.add(c.from)),
            Some(ids) => p.id_in(backend, "id", ids),
        };
        let restrict = restriction(spec, backend, &mut p, "matter_id");
        aggregated_rows(
            db,
            "id, matter_id, assigner_id, status",
            &format!("task WHERE firm_id = {firm} AND {scope}{restrict}"),
            p,
        )
        .await
    })
    .await?;
    out.sort_unstable_by_key(|r| r.0);
    Ok(out)
}

/// An event considered: 32 bytes, held for every event a plan decides.
pub struct EventRow {
    pub id: i64,
    pub matter: MatterRef,
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
    let columns = "id, matter_id, calendar_id, start_at, CASE WHEN all_day THEN 1 ELSE 0 END";
    type Row = (i64, Option<i64>, i64, At, i64);
    // Whether the holder attends it is set once what the holders attend has been read.
    let event = |(id, matter_id, calendar_id, At(start), all_day): Row| {
        let (holder, _) = c.expected(id);
        EventRow {
            id,
            matter: MatterRef::new(matter_id),
            start,
            all_day: all_day != 0,
            on_source_calendar: calendar_id == calendar_of(holder),
            source_attends: false,
        }
    };
    let mut out = Vec::new();
    // Who attends what, as (event, user): the events' holders' places, which the receivers take.
    let attending = match &c.only {
        // The source's calendar, read from its covering index alone (a personal calendar is
        // in its owner's firm, and so are its events), in pieces along its start; then the
        // events elsewhere that the source attends; then what the source attends. As one
        // statement with an OR and an `EXISTS` per row, the reference firm's 50,000 events
        // took 140 ms on SQLite; as these three, 50 ms.
        None => {
            let calendar = calendar_of(c.from);
            let mut p = Params::default();
            let on = p.add(calendar);
            let restrict = restriction(spec, backend, &mut p, "matter_id");
            let on_calendar = (format!("calendar_event WHERE calendar_id = {on}{restrict}"), p);
            let mut p = Params::default();
            let (firm, on, source) = (p.add(spec.firm_id), p.add(calendar), p.add(c.from));
            let restrict = restriction(spec, backend, &mut p, "matter_id");
            let attendance =
                format!("SELECT event_id FROM event_attendee WHERE firm_id = {firm} AND user_id = {source}");
            let attended = match backend {
                // As `IN (…)`, PostgreSQL hashed the attendee rows and read every event of the
                // firm against them (the bench firm's 200,000: 95–110 ms); given them as an
                // array, it looks each one up by its key (50–58 ms). SQLite does that already.
                DatabaseBackend::Postgres => format!("id = ANY(ARRAY({attendance}))"),
                _ => format!("id IN ({attendance})"),
            };
            let elsewhere = (
                format!("calendar_event WHERE firm_id = {firm} AND calendar_id <> {on} AND {attended} {restrict}"),
                p,
            );
            let mut p = Params::default();
            let (firm, source) = (p.add(spec.firm_id), p.add(c.from));
            let attendee = (
                format!("event_attendee WHERE firm_id = {firm} AND user_id = {source}"),
                p,
            );
            let start = Along {
                column: "start_at",
                pg_type: "timestamptz",
            };
            let (_, elsewhere, attending) = tokio::try_join!(
                each_aggregated_piece::<Row, _>(
                    db,
                    start,
                    columns,
                    &on_calendar.0,
                    on_calendar.1,
                    EVENTS_A_PIECE,
                    |rows| out.extend(rows.into_iter().map(event))
                ),
                aggregated_rows::<Row, _>(db, columns, &elsewhere.0, elsewhere.1),
                aggregated_rows::<(i64, i64), _>(db, "event_id, user_id", &attendee.0, attendee.1),
            )?;
            out.extend(elsewhere.into_iter().map(event));
            attending
        }
        // An undo: exactly the events it moved, and what their holders attend of them.
        Some(_) => {
            let holders = &holders;
            let chunks = considered(c, |ids| async move {
                let ids = ids.unwrap_or_default();
                let mut p = Params::default();
                let firm = p.add(spec.firm_id);
                let listed = p.id_in(backend, "id", &ids);
                let restrict = restriction(spec, backend, &mut p, "matter_id");
                let considered = (
                    format!("calendar_event WHERE firm_id = {firm} AND {listed}{restrict}"),
                    p,
                );
                let mut p = Params::default();
                let firm = p.add(spec.firm_id);
                let events = p.id_in(backend, "event_id", &ids);
                let users = p.id_in(backend, "user_id", holders);
                let attendee = (
                    format!("event_attendee WHERE firm_id = {firm} AND {events} AND {users}"),
                    p,
                );
                let read = tokio::try_join!(
                    aggregated_rows::<Row, _>(db, columns, &considered.0, considered.1),
                    aggregated_rows::<(i64, i64), _>(db, "event_id, user_id", &attendee.0, attendee.1),
                )?;
                Ok(vec![read])
            })
            .await?;
            let mut attending = Vec::new();
            for (rows, attends) in chunks {
                out.extend(rows.into_iter().map(event));
                attending.extend(attends);
            }
            attending
        }
    };
    let attending: FxHashSet<(i64, i64)> = attending.into_iter().collect();
    for e in &mut out {
        let (holder, _) = c.expected(e.id);
        e.source_attends = attending.contains(&(e.id, holder));
    }
    out.sort_unstable_by_key(|r| r.id);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_tasks_keep_their_own_groups() {
        let group = |assignee: i64| TaskGroup {
            assignee,
            due_date: NaiveDate::from_ymd_opt(2027, 1, 15),
            status: TaskStatus::Pending,
        };
        let read = |groups: &[i64], rows: &[(i64, u32)]| {
            let mut tasks = Tasks::default();
            for &g in groups {
                tasks.add_group(group(g));
            }
            tasks.rows = rows
                .iter()
                .map(|&(id, group)| TaskRow {
                    id,
                    matter: MatterRef::new(None),
                    group,
                    statute_of_limitations: false,
                })
                .collect();
            tasks
        };
        let mut tasks = read(&[7, 8], &[(1, 0), (2, 1)]);
        tasks.append(read(&[9, 8], &[(3, 1), (4, 0)]));
        let holders: Vec<(i64, i64)> = tasks.rows.iter().map(|t| (t.id, tasks.group(t).assignee)).collect();
        assert_eq!(holders, vec![(1, 7), (2, 8), (3, 8), (4, 9)]);
    }
}
