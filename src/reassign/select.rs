//! The one selection path, shared by preview, apply and undo: gather every record a category
//! considers, load the facts the rules need in a few set-based statements, and let `rules`
//! decide each record. The result is a `Plan`; nothing here writes.

use super::rules::{self, Clock, EventFacts, MatterFacts, Reason, TaskFacts, Verdict};
use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    CalendarKind, MatterStatus, TaskStatus, calendar, calendar_event, event_attendee, group_member, matter,
    matter_permitted_group, matter_permitted_user, task,
};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Bound on ids per `IN (…)` list, far below SQLite's and PostgreSQL's parameter limits.
pub const CHUNK: usize = 5000;

/// One category's move: from whom, to whom, and (for undo) exactly which records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySpec {
    pub from: i64,
    pub to: i64,
    /// Consider exactly these records (undo). A record no longer held by `from` is `CHANGED`.
    /// `None`: every record `from` holds.
    pub only: Option<BTreeSet<i64>>,
    /// Events whose attendee place the target takes when the source attends. `None`: all of
    /// them. Undo swaps back only where the reassignment it undoes swapped.
    pub attendee_swap: Option<BTreeSet<i64>>,
}

#[derive(Debug, Clone)]
pub struct PlanSpec {
    pub firm_id: i64,
    pub matters: Option<CategorySpec>,
    pub tasks: Option<CategorySpec>,
    pub events: Option<CategorySpec>,
    /// Only work on these matters.
    pub matter_ids: Option<BTreeSet<i64>>,
    pub grant_access: bool,
    pub clock: Clock,
}

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

#[derive(Debug, Clone)]
pub struct CategoryPlan {
    pub from: i64,
    pub to: i64,
    /// Every record considered, by record id.
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

#[derive(Debug, Clone)]
pub struct Plan {
    pub matters: Option<CategoryPlan>,
    pub tasks: Option<CategoryPlan>,
    pub events: Option<CategoryPlan>,
    pub grant_access: bool,
}

impl Plan {
    /// A fingerprint of the plan: targets, and every record with its verdict. Applying with a
    /// token that no longer matches is refused (`PREVIEW_STALE`).
    pub fn token(&self) -> String {
        let mut h = Sha256::new();
        h.update(if self.grant_access {
            b"grant;" as &[u8]
        } else {
            b"nogrant;"
        });
        for (name, cat) in [("m", &self.matters), ("t", &self.tasks), ("e", &self.events)] {
            h.update(name.as_bytes());
            if let Some(c) = cat {
                h.update(format!("{}>{};", c.from, c.to).as_bytes());
                for i in &c.items {
                    h.update(format!("{}:{:?}:{};", i.record_id, i.verdict, i.source_attends).as_bytes());
                }
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

/// Who may see each matter: everyone, or the resolved set of listed users and group members.
struct Permissions {
    everyone: HashSet<i64>,
    resolved: HashMap<i64, BTreeSet<i64>>,
}

impl Permissions {
    fn facts(&self, matter_id: i64, status: MatterStatus, target: i64) -> MatterFacts {
        let everyone = self.everyone.contains(&matter_id);
        let users = self.resolved.get(&matter_id);
        MatterFacts {
            status,
            private: !everyone && users.is_some_and(|u| u.len() == 1),
            target_has_access: everyone || users.is_some_and(|u| u.contains(&target)),
        }
    }
}

pub async fn plan<C: ConnectionTrait>(db: &C, spec: &PlanSpec) -> AppResult<Plan> {
    let clock = spec.clock;
    let started = std::time::Instant::now();
    let mut matter_rows: Vec<MatterRow> = Vec::new();
    let mut task_rows: Vec<TaskRow> = Vec::new();
    let mut event_rows: Vec<EventRow> = Vec::new();

    if let Some(c) = &spec.matters {
        matter_rows = load_matters(db, spec, c).await?;
    }
    tracing::debug!(elapsed = ?started.elapsed(), "matters loaded");
    if let Some(c) = &spec.tasks {
        task_rows = load_tasks(db, spec, c).await?;
    }
    tracing::debug!(elapsed = ?started.elapsed(), "tasks loaded");
    if let Some(c) = &spec.events {
        event_rows = load_events(db, spec, c).await?;
    }

    tracing::debug!(elapsed = ?started.elapsed(), "candidates loaded");
    // Facts about every matter any candidate is linked to, in a few statements.
    let mut matter_ids: BTreeSet<i64> = matter_rows.iter().map(|m| m.0).collect();
    matter_ids.extend(task_rows.iter().filter_map(|t| t.1));
    matter_ids.extend(event_rows.iter().filter_map(|e| e.matter_id));
    let statuses = matter_statuses(db, spec.firm_id, &matter_ids).await?;
    let permissions = permissions(db, &matter_ids).await?;
    tracing::debug!(elapsed = ?started.elapsed(), matters = matter_ids.len(), "matter facts loaded");

    let matters = spec.matters.as_ref().map(|c| CategoryPlan {
        from: c.from,
        to: c.to,
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
        from: c.from,
        to: c.to,
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
                        rules::task(&facts, &clock, spec.grant_access)
                    },
                    source_attends: false,
                }
            })
            .collect(),
    });

    let events = spec.events.as_ref().map(|c| CategoryPlan {
        from: c.from,
        to: c.to,
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

    Ok(Plan {
        matters,
        tasks,
        events,
        grant_access: spec.grant_access,
    })
}

fn restrict_to_matters(spec: &PlanSpec, col: impl ColumnTrait) -> Condition {
    match &spec.matter_ids {
        Some(ids) => Condition::all().add(col.is_in(ids.iter().copied())),
        None => Condition::all(),
    }
}

fn chunks(ids: &BTreeSet<i64>) -> Vec<Vec<i64>> {
    let all: Vec<i64> = ids.iter().copied().collect();
    all.chunks(CHUNK).map(<[i64]>::to_vec).collect()
}

/// (id, responsible attorney, status) of the matters considered.
async fn load_matters<C: ConnectionTrait>(db: &C, spec: &PlanSpec, c: &CategorySpec) -> AppResult<Vec<MatterRow>> {
    let base = || {
        matter::Entity::find()
            .select_only()
            .columns([
                matter::Column::Id,
                matter::Column::ResponsibleAttorneyId,
                matter::Column::Status,
            ])
            .filter(matter::Column::FirmId.eq(spec.firm_id))
            .filter(restrict_to_matters(spec, matter::Column::Id))
    };
    let mut rows: Vec<MatterRow> = match &c.only {
        None => {
            base()
                .filter(matter::Column::ResponsibleAttorneyId.eq(c.from))
                .into_tuple()
                .all(db)
                .await?
        }
        Some(ids) => {
            let mut out = Vec::new();
            for chunk in chunks(ids) {
                out.extend(
                    base()
                        .filter(matter::Column::Id.is_in(chunk))
                        .into_tuple::<MatterRow>()
                        .all(db)
                        .await?,
                );
            }
            out
        }
    };
    rows.sort_unstable_by_key(|r| r.0);
    Ok(rows)
}

/// (id, matter, assignee, status, due date) of the tasks considered.
async fn load_tasks<C: ConnectionTrait>(db: &C, spec: &PlanSpec, c: &CategorySpec) -> AppResult<Vec<TaskRow>> {
    let base = || {
        task::Entity::find()
            .select_only()
            .columns([
                task::Column::Id,
                task::Column::MatterId,
                task::Column::AssigneeId,
                task::Column::Status,
                task::Column::DueDate,
            ])
            .filter(task::Column::FirmId.eq(spec.firm_id))
            .filter(restrict_to_matters(spec, task::Column::MatterId))
    };
    let mut rows: Vec<TaskRow> = match &c.only {
        None => {
            base()
                .filter(task::Column::AssigneeId.eq(c.from))
                .into_tuple()
                .all(db)
                .await?
        }
        Some(ids) => {
            let mut out = Vec::new();
            for chunk in chunks(ids) {
                out.extend(
                    base()
                        .filter(task::Column::Id.is_in(chunk))
                        .into_tuple::<TaskRow>()
                        .all(db)
                        .await?,
                );
            }
            out
        }
    };
    rows.sort_unstable_by_key(|r| r.0);
    Ok(rows)
}

struct EventRow {
    id: i64,
    matter_id: Option<i64>,
    start: DateTime<Utc>,
    all_day: bool,
    on_source_calendar: bool,
    source_attends: bool,
}

/// The personal calendar of a user.
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

/// Events on the source's personal calendar, and events elsewhere that the source attends.
async fn load_events<C: ConnectionTrait>(db: &C, spec: &PlanSpec, c: &CategorySpec) -> AppResult<Vec<EventRow>> {
    let own_calendar = personal_calendar(db, spec.firm_id, c.from).await?.unwrap_or(-1);
    type Row = (i64, Option<i64>, i64, DateTime<Utc>, bool);
    let base = || {
        calendar_event::Entity::find()
            .select_only()
            .columns([
                calendar_event::Column::Id,
                calendar_event::Column::MatterId,
                calendar_event::Column::CalendarId,
                calendar_event::Column::StartAt,
                calendar_event::Column::AllDay,
            ])
            .filter(calendar_event::Column::FirmId.eq(spec.firm_id))
            .filter(restrict_to_matters(spec, calendar_event::Column::MatterId))
    };
    let mut rows: Vec<Row> = Vec::new();
    match &c.only {
        None => {
            rows.extend(
                base()
                    .filter(calendar_event::Column::CalendarId.eq(own_calendar))
                    .into_tuple::<Row>()
                    .all(db)
                    .await?,
            );
            // Attended elsewhere: reported as ATTENDEE_ONLY.
            let attended = Query::select()
                .column(event_attendee::Column::EventId)
                .from(event_attendee::Entity)
                .and_where(event_attendee::Column::FirmId.eq(spec.firm_id))
                .and_where(event_attendee::Column::UserId.eq(c.from))
                .to_owned();
            rows.extend(
                base()
                    .filter(calendar_event::Column::CalendarId.ne(own_calendar))
                    .filter(calendar_event::Column::Id.in_subquery(attended))
                    .into_tuple::<Row>()
                    .all(db)
                    .await?,
            );
        }
        Some(ids) => {
            for chunk in chunks(ids) {
                rows.extend(
                    base()
                        .filter(calendar_event::Column::Id.is_in(chunk))
                        .into_tuple::<Row>()
                        .all(db)
                        .await?,
                );
            }
        }
    }
    rows.sort_unstable_by_key(|r| r.0);
    tracing::debug!(rows = rows.len(), "event rows loaded");

    // Which of them the source attends.
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.0).collect();
    let mut attends = HashSet::new();
    for chunk in chunks(&ids) {
        let found: Vec<i64> = event_attendee::Entity::find()
            .select_only()
            .column(event_attendee::Column::EventId)
            .filter(event_attendee::Column::UserId.eq(c.from))
            .filter(event_attendee::Column::EventId.is_in(chunk))
            .into_tuple()
            .all(db)
            .await?;
        attends.extend(found);
    }
    Ok(rows
        .into_iter()
        .map(|(id, matter_id, calendar_id, start, all_day)| EventRow {
            id,
            matter_id,
            start,
            all_day,
            on_source_calendar: calendar_id == own_calendar,
            source_attends: attends.contains(&id),
        })
        .collect())
}

async fn matter_statuses<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    ids: &BTreeSet<i64>,
) -> AppResult<HashMap<i64, MatterStatus>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in chunks(ids) {
        let rows: Vec<(i64, MatterStatus)> = matter::Entity::find()
            .select_only()
            .columns([matter::Column::Id, matter::Column::Status])
            .filter(matter::Column::FirmId.eq(firm_id))
            .filter(matter::Column::Id.is_in(chunk))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

async fn permissions<C: ConnectionTrait>(db: &C, ids: &BTreeSet<i64>) -> AppResult<Permissions> {
    let mut everyone = HashSet::new();
    let mut resolved: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for chunk in chunks(ids) {
        let open: Vec<i64> = matter::Entity::find()
            .select_only()
            .column(matter::Column::Id)
            .filter(matter::Column::Id.is_in(chunk.clone()))
            .filter(matter::Column::PermissionEveryone.eq(true))
            .into_tuple()
            .all(db)
            .await?;
        everyone.extend(open);
        let listed: Vec<(i64, i64)> = matter_permitted_user::Entity::find()
            .select_only()
            .columns([
                matter_permitted_user::Column::MatterId,
                matter_permitted_user::Column::UserId,
            ])
            .filter(matter_permitted_user::Column::MatterId.is_in(chunk.clone()))
            .into_tuple()
            .all(db)
            .await?;
        let via_groups: Vec<(i64, i64)> = matter_permitted_group::Entity::find()
            .select_only()
            .column(matter_permitted_group::Column::MatterId)
            .column_as(
                Expr::col((group_member::Entity, group_member::Column::UserId)),
                "user_id",
            )
            .join(JoinType::InnerJoin, group_join())
            .filter(matter_permitted_group::Column::MatterId.is_in(chunk))
            .into_tuple()
            .all(db)
            .await?;
        for (m, u) in listed.into_iter().chain(via_groups) {
            resolved.entry(m).or_default().insert(u);
        }
    }
    Ok(Permissions { everyone, resolved })
}

fn group_join() -> RelationDef {
    matter_permitted_group::Entity::belongs_to(group_member::Entity)
        .from(matter_permitted_group::Column::GroupId)
        .to(group_member::Column::GroupId)
        .into()
}
