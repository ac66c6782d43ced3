//! The one selection path, shared by preview, apply and undo: gather every record a category
//! considers, load the facts the rules need in a few set-based statements, and let `rules`
//! decide each record. The result is a `Plan`; nothing here writes.

use super::order::{CategorySpec, Order};
use super::rules::{self, EventFacts, MatterFacts, Reason, TaskFacts, Verdict};
use crate::db::{Params, json_rows};
use crate::error::{AppError, AppResult};
use crate::firm::access::{Permission, permissions};
use crate::firm::work::personal_calendar;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{MatterStatus, TaskStatus, WorkKind};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseBackend};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// Bound on ids per `IN (…)` list, far below SQLite's and PostgreSQL's parameter limits.
pub const CHUNK: usize = 5000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedItem {
    pub record_id: i64,
    pub matter_id: Option<i64>,
    pub verdict: Verdict,
    /// Events: the source is among the attendees (the target takes that place).
    pub source_attends: bool,
}

impl PlannedItem {
    pub fn moves(&self) -> bool {
        matches!(self.verdict, Verdict::Move | Verdict::MoveGrantingAccess)
    }

    pub fn reason(&self) -> Option<Reason> {
        match self.verdict {
            Verdict::Skip(r) => Some(r),
            _ => None,
        }
    }
}

/// One category's verdicts: every record considered, by record id.
#[derive(Debug, Clone)]
pub struct CategoryPlan {
    pub items: Vec<PlannedItem>,
}

impl CategoryPlan {
    pub fn moving(&self) -> impl Iterator<Item = &PlannedItem> {
        self.items.iter().filter(|i| i.moves())
    }

    /// Excluded records grouped by reason, reasons in a stable order.
    pub fn excluded(&self) -> Vec<(Reason, Vec<&PlannedItem>)> {
        let mut groups: std::collections::BTreeMap<Reason, Vec<&PlannedItem>> = Default::default();
        for item in &self.items {
            if let Some(r) = item.reason() {
                groups.entry(r).or_default().push(item);
            }
        }
        groups.into_iter().collect()
    }
}

/// An order's verdicts, category by category (a category the order leaves out is `None`).
#[derive(Debug, Clone)]
pub struct Plan {
    pub matters: Option<CategoryPlan>,
    pub tasks: Option<CategoryPlan>,
    pub events: Option<CategoryPlan>,
}

impl Plan {
    /// Each category planned, with the order's move for it.
    pub fn categories<'a>(
        &'a self,
        order: &'a Order,
    ) -> impl Iterator<Item = (WorkKind, &'a CategorySpec, &'a CategoryPlan)> {
        order.categories().filter_map(|(kind, spec)| {
            let plan = match kind {
                WorkKind::Matter => &self.matters,
                WorkKind::Task => &self.tasks,
                WorkKind::CalendarEvent => &self.events,
            };
            plan.as_ref().map(|p| (kind, spec, p))
        })
    }

    /// A fingerprint of the plan of `order`: targets, and every record with its verdict.
    /// Applying with a token that no longer matches is refused (`PREVIEW_STALE`).
    pub fn token(&self, order: &Order) -> String {
        let mut h = Sha256::new();
        h.update([u8::from(order.grant_access)]);
        for (kind, spec, c) in self.categories(order) {
            h.update([kind as u8]);
            h.update(spec.from.to_le_bytes());
            h.update(spec.to.to_le_bytes());
            for i in &c.items {
                h.update(i.record_id.to_le_bytes());
                h.update([verdict_code(i.verdict), u8::from(i.source_attends)]);
            }
            h.update(b"|");
        }
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize())
    }
}

/// (id, responsible attorney, status)
type MatterRow = (i64, Option<i64>, MatterStatus);
/// (id, matter, assignee, status, due date)
type TaskRow = (i64, Option<i64>, i64, TaskStatus, Option<NaiveDate>);

/// A byte per verdict, for the fingerprint.
fn verdict_code(v: Verdict) -> u8 {
    match v {
        Verdict::Move => 0,
        Verdict::MoveGrantingAccess => 1,
        Verdict::Skip(r) => 2 + r as u8,
    }
}

/// Who may see each matter: everyone, or the resolved set of listed users and group members.
struct Permissions(HashMap<i64, Permission>);

impl Permissions {
    fn facts(&self, matter_id: i64, status: MatterStatus, target: i64) -> MatterFacts {
        let permission = self.0.get(&matter_id);
        MatterFacts {
            status,
            private: permission.is_some_and(Permission::is_private),
            target_has_access: permission.is_some_and(|p| p.admits(target)),
        }
    }
}

/// Plan on `db`: for apply and undo, their transaction (the plan sees exactly what the writes
/// will); for a preview, the pool (the loads then run side by side).
pub async fn plan<C: ConnectionTrait>(db: &C, spec: &Order) -> AppResult<Plan> {
    let clock = spec.clock;
    let started = std::time::Instant::now();
    // The three categories load side by side: on a pool, on separate connections.
    let (matter_rows, task_rows, event_rows) = tokio::try_join!(
        async {
            match &spec.matters {
                Some(c) => load_matters(db, spec, c).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match &spec.tasks {
                Some(c) => load_tasks(db, spec, c).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match &spec.events {
                Some(c) => load_events(db, spec, c).await,
                None => Ok(Vec::new()),
            }
        },
    )?;
    tracing::debug!(elapsed = ?started.elapsed(), "candidates loaded");

    // Facts about every matter any candidate is linked to, in a few statements.
    let mut matter_ids: BTreeSet<i64> = matter_rows.iter().map(|m| m.0).collect();
    matter_ids.extend(task_rows.iter().filter_map(|t| t.1));
    matter_ids.extend(event_rows.iter().filter_map(|e| e.matter_id));
    let (statuses, permissions) = tokio::try_join!(
        matter_statuses(db, spec.firm_id, &matter_ids),
        permissions(db, spec.firm_id, &matter_ids)
    )?;
    let permissions = Permissions(permissions);
    tracing::debug!(elapsed = ?started.elapsed(), matters = matter_ids.len(), "matter facts loaded");

    let matters = spec.matters.as_ref().map(|c| CategoryPlan {
        items: matter_rows
            .iter()
            .map(|&(id, holder, status)| PlannedItem {
                record_id: id,
                matter_id: Some(id),
                verdict: if holder != Some(c.from) {
                    Verdict::Skip(Reason::Changed)
                } else {
                    rules::matter(&permissions.facts(id, status, c.to), spec.grant_access)
                },
                source_attends: false,
            })
            .collect(),
    });

    let tasks = spec.tasks.as_ref().map(|c| CategoryPlan {
        items: task_rows
            .iter()
            .map(|&(id, matter_id, assignee, status, due_date)| {
                let facts = TaskFacts {
                    status,
                    due_date,
                    matter: matter_id.and_then(|m| statuses.get(&m).map(|s| permissions.facts(m, *s, c.to))),
                };
                PlannedItem {
                    record_id: id,
                    matter_id,
                    verdict: if assignee != c.from {
                        Verdict::Skip(Reason::Changed)
                    } else {
                        if spec.returning {
                            rules::returning_task(&facts, &clock)
                        } else {
                            rules::task(&facts, &clock, spec.grant_access)
                        }
                    },
                    source_attends: false,
                }
            })
            .collect(),
    });

    let events = spec.events.as_ref().map(|c| CategoryPlan {
        items: event_rows
            .iter()
            .map(|e| {
                let facts = EventFacts {
                    on_source_calendar: e.on_source_calendar,
                    start: e.start,
                    all_day: e.all_day,
                    matter: e
                        .matter_id
                        .and_then(|m| statuses.get(&m).map(|s| permissions.facts(m, *s, c.to))),
                };
                // For undo, an event that left the calendar it was moved to has changed; it is
                // not an attendee-only event.
                let verdict = if c.only.is_some() && !e.on_source_calendar {
                    Verdict::Skip(Reason::Changed)
                } else {
                    rules::event(&facts, &clock, spec.grant_access)
                };
                let swap = c.attendee_swap.as_ref().is_none_or(|only| only.contains(&e.id));
                PlannedItem {
                    record_id: e.id,
                    matter_id: e.matter_id,
                    verdict,
                    source_attends: e.source_attends && swap,
                }
            })
            .collect(),
    });

    Ok(Plan { matters, tasks, events })
}

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
        Some(ids) => format!("id IN (SELECT id FROM {} o)", params.ids(backend, ids)),
    }
}

fn parse_status<T: ActiveEnum<Value = String>>(text: &str) -> AppResult<T> {
    T::try_from_value(&text.to_string()).map_err(|_| AppError::internal(format!("unknown status {text}")))
}

/// (id, responsible attorney, status) of the matters considered.
async fn load_matters<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<MatterRow>> {
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(spec.firm_id);
    let scope = scope(c, backend, &mut p, "responsible_attorney_id", c.from);
    let restrict = restriction(spec, backend, &mut p, "id");
    let rows: Vec<(i64, Option<i64>, String)> = json_rows(
        db,
        "id, responsible_attorney_id, status",
        &format!("matter WHERE firm_id = {firm} AND {scope}{restrict}"),
        p,
    )
    .await?;
    let mut out = rows
        .into_iter()
        .map(|(id, holder, status)| Ok((id, holder, parse_status::<MatterStatus>(&status)?)))
        .collect::<AppResult<Vec<_>>>()?;
    out.sort_unstable_by_key(|r| r.0);
    Ok(out)
}

/// (id, matter, assignee, status, due date) of the tasks considered.
async fn load_tasks<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<TaskRow>> {
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(spec.firm_id);
    let scope = scope(c, backend, &mut p, "assignee_id", c.from);
    let restrict = restriction(spec, backend, &mut p, "matter_id");
    type Row = (i64, Option<i64>, i64, String, Option<NaiveDate>);
    let rows: Vec<Row> = json_rows(
        db,
        "id, matter_id, assignee_id, status, due_date",
        &format!("task WHERE firm_id = {firm} AND {scope}{restrict}"),
        p,
    )
    .await?;
    let mut out = rows
        .into_iter()
        .map(|(id, matter, assignee, status, due)| {
            Ok((id, matter, assignee, parse_status::<TaskStatus>(&status)?, due))
        })
        .collect::<AppResult<Vec<_>>>()?;
    out.sort_unstable_by_key(|r| r.0);
    Ok(out)
}

struct EventRow {
    id: i64,
    matter_id: Option<i64>,
    start: DateTime<Utc>,
    all_day: bool,
    on_source_calendar: bool,
    source_attends: bool,
}

/// Events on the source's personal calendar, events elsewhere that the source attends
/// (reported as ATTENDEE_ONLY), and whether the source attends each.
async fn load_events<C: ConnectionTrait>(db: &C, spec: &Order, c: &CategorySpec) -> AppResult<Vec<EventRow>> {
    let own_calendar = personal_calendar(db, spec.firm_id, c.from).await?.unwrap_or(-1);
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(spec.firm_id);
    let source = p.add(c.from);
    let scope = match &c.only {
        None => format!(
            "(calendar_id = {} OR id IN (SELECT event_id FROM event_attendee WHERE firm_id = {firm} AND user_id = {source}))",
            p.add(own_calendar)
        ),
        Some(ids) => format!("id IN (SELECT id FROM {} o)", p.ids(backend, ids)),
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
    let mut out = rows
        .into_iter()
        .map(|(id, matter_id, calendar_id, start, all_day, attends)| {
            let start = DateTime::parse_from_rfc3339(&start)
                .or_else(|_| DateTime::parse_from_str(&start, "%Y-%m-%d %H:%M:%S%.f%:z"))
                .map_err(|e| AppError::internal(format!("event start {start}: {e}")))?
                .with_timezone(&Utc);
            Ok(EventRow {
                id,
                matter_id,
                start,
                all_day: all_day != 0,
                on_source_calendar: calendar_id == own_calendar,
                source_attends: attends != 0,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    out.sort_unstable_by_key(|r| r.id);
    Ok(out)
}

async fn matter_statuses<C: ConnectionTrait>(
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
        .map(|(id, status)| Ok((id, parse_status::<MatterStatus>(&status)?)))
        .collect()
}
