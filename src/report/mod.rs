//! The report of a reassignment: one row per record it considered, with the record, its matter,
//! dates, holders, outcome and reason, and a header describing the batch. Produced page by page
//! (1,000 items at a time) so a report of any size is streamed, never held whole in memory.

pub mod csv;

use crate::error::AppResult;
use crate::ids::{self, Kind};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{WorkKind, calendar_event, matter, reassignment, reassignment_item, task, user};
use sea_orm::{ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

pub const PAGE: u64 = 1000;

/// Who did what, when: the report's header.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub reassignment_id: String,
    pub created_at: DateTime<Utc>,
    pub actor: String,
    pub from_user: String,
    pub matters_to: Option<String>,
    pub tasks_to: Option<String>,
    pub calendar_events_to: Option<String>,
    pub cutoff: DateTime<Utc>,
    pub time_zone: String,
    pub grant_matter_access: bool,
    pub note: Option<String>,
    /// Routes, sweeps and risk options, as run (JSON), when any were used.
    pub routing: Option<serde_json::Value>,
    pub status: String,
    pub undo_of: Option<String>,
    pub matters_reassigned: i64,
    pub tasks_reassigned: i64,
    pub calendar_events_reassigned: i64,
    pub skipped: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub kind: &'static str,
    pub record_id: String,
    pub key: Option<String>,
    /// Matter display number, task name or event title.
    pub title: String,
    pub matter_number: Option<String>,
    pub matter_description: Option<String>,
    pub matter_status: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub previous_holder: String,
    pub new_holder: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub attendee_replaced: bool,
    /// Why it needed a second look when it moved (SPEC.md section 9), if it did.
    pub risk: Option<String>,
}

impl Row {
    pub const COLUMNS: [&'static str; 16] = [
        "kind",
        "record_id",
        "key",
        "title",
        "matter_number",
        "matter_description",
        "matter_status",
        "due_date",
        "start",
        "end",
        "previous_holder",
        "new_holder",
        "outcome",
        "reason",
        "attendee_replaced",
        "risk",
    ];

    pub fn cells(&self) -> [String; 16] {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let time = |t: &Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        [
            self.kind.to_string(),
            self.record_id.clone(),
            opt(&self.key),
            self.title.clone(),
            opt(&self.matter_number),
            opt(&self.matter_description),
            opt(&self.matter_status),
            self.due_date.map(|d| d.to_string()).unwrap_or_default(),
            time(&self.start),
            time(&self.end),
            self.previous_holder.clone(),
            opt(&self.new_holder),
            self.outcome.clone(),
            opt(&self.reason),
            self.attendee_replaced.to_string(),
            opt(&self.risk),
        ]
    }
}

fn person(users: &HashMap<i64, user::Model>, id: i64) -> String {
    users
        .get(&id)
        .map(|u| format!("{} <{}>", u.name, u.email))
        .unwrap_or_else(|| format!("user {id}"))
}

/// Everything needed to render rows: the batch and the firm's people.
pub struct Report {
    pub batch: reassignment::Model,
    pub users: HashMap<i64, user::Model>,
}

impl Report {
    pub async fn open(db: &DatabaseConnection, batch: reassignment::Model) -> AppResult<Self> {
        let users = user::Entity::find()
            .filter(user::Column::FirmId.eq(batch.firm_id))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(Report { batch, users })
    }

    pub fn header(&self) -> Header {
        let b = &self.batch;
        let to = |id: Option<i64>| id.map(|id| person(&self.users, id));
        Header {
            reassignment_id: ids::encode(Kind::Reassignment, b.id),
            created_at: b.created_at,
            actor: person(&self.users, b.actor_user_id),
            from_user: person(&self.users, b.from_user_id),
            matters_to: to(b.matters_to_user_id),
            tasks_to: to(b.tasks_to_user_id),
            calendar_events_to: to(b.events_to_user_id),
            cutoff: b.cutoff_at,
            time_zone: b.time_zone.clone(),
            grant_matter_access: b.grant_matter_access,
            note: b.note.clone(),
            routing: b.routing.as_deref().and_then(|r| serde_json::from_str(r).ok()),
            status: b.status.to_value(),
            undo_of: b.undo_of_id.map(|id| ids::encode(Kind::Reassignment, id)),
            matters_reassigned: b.matters_reassigned,
            tasks_reassigned: b.tasks_reassigned,
            calendar_events_reassigned: b.events_reassigned,
            skipped: b.items_skipped,
        }
    }

    /// The rows after item `after` (exclusive), at most `PAGE` of them, and the last item id.
    pub async fn page(&self, db: &DatabaseConnection, after: i64) -> AppResult<(Vec<Row>, Option<i64>)> {
        let items = reassignment_item::Entity::find()
            .filter(self.batch.items_after(Some(after)))
            .order_by_asc(reassignment_item::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = items.last().map(|i| i.id) else {
            return Ok((Vec::new(), None));
        };
        let of = |kind: WorkKind| {
            items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i.record_id)
                .collect::<BTreeSet<_>>()
        };
        let mut matter_ids: BTreeSet<i64> = items.iter().filter_map(|i| i.matter_id).collect();
        matter_ids.extend(of(WorkKind::Matter));
        // Looked up by primary key only: the items already belong to this firm's batch (a firm
        // filter would lead SQLite to scan the firm's rows instead).
        let matters: HashMap<i64, matter::Model> = matter::Entity::find()
            .filter(matter::Column::Id.is_in(matter_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let tasks: HashMap<i64, task::Model> = task::Entity::find()
            .filter(task::Column::Id.is_in(of(WorkKind::Task).into_iter().chain(of(WorkKind::TaskAssigner))))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let events: HashMap<i64, calendar_event::Model> = calendar_event::Entity::find()
            .filter(calendar_event::Column::Id.is_in(of(WorkKind::CalendarEvent)))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();

        let rows = items
            .iter()
            .map(|i| {
                let matter = i.matter_id.and_then(|m| matters.get(&m));
                let (kind, id_kind) = match i.kind {
                    WorkKind::Matter => ("MATTER", Kind::Matter),
                    WorkKind::Task => ("TASK", Kind::Task),
                    WorkKind::CalendarEvent => ("CALENDAR_EVENT", Kind::CalendarEvent),
                    WorkKind::TaskAssigner => ("TASK_ASSIGNER", Kind::Task),
                };
                let mut row = Row {
                    kind,
                    record_id: ids::encode(id_kind, i.record_id),
                    key: None,
                    title: "(deleted)".into(),
                    matter_number: matter.map(|m| m.display_number.clone()),
                    matter_description: matter.map(|m| m.description.clone()),
                    matter_status: matter.map(|m| m.status.to_value()),
                    due_date: None,
                    start: None,
                    end: None,
                    previous_holder: person(&self.users, i.previous_holder_id),
                    new_holder: i.new_holder_id.map(|id| person(&self.users, id)),
                    outcome: i.outcome.to_value(),
                    reason: i.reason.map(|r| r.to_value()),
                    attendee_replaced: i.attendee_replaced,
                    risk: i.risk.map(|r| r.to_value()),
                };
                match i.kind {
                    WorkKind::Matter => {
                        if let Some(m) = matters.get(&i.record_id) {
                            row.key = Some(m.key.clone());
                            row.title = m.display_number.clone();
                        }
                    }
                    WorkKind::Task | WorkKind::TaskAssigner => {
                        if let Some(t) = tasks.get(&i.record_id) {
                            row.key = Some(t.key.clone());
                            row.title = t.name.clone();
                            row.due_date = t.due_date;
                        }
                    }
                    WorkKind::CalendarEvent => {
                        if let Some(e) = events.get(&i.record_id) {
                            row.key = Some(e.key.clone());
                            row.title = e.title.clone();
                            row.start = Some(e.start_at);
                            row.end = Some(e.end_at);
                        }
                    }
                }
                row
            })
            .collect();
        Ok((rows, Some(last)))
    }
}

/// One matter of the client notice list: a matter whose responsible attorney changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMatter {
    pub client: String,
    pub matter_id: i64,
    pub number: String,
    pub description: String,
    pub previous: i64,
    pub new: i64,
}

/// A client's line of the notice list: their matters that changed attorney, who had them and
/// who has them now.
pub struct ClientLine {
    pub client: String,
    pub matters: Vec<ClientMatter>,
}

impl ClientLine {
    pub const COLUMNS: [&'static str; 7] = [
        "client",
        "matter_count",
        "matters",
        "previous_attorney",
        "previous_attorney_email",
        "new_attorney",
        "new_attorney_email",
    ];

    /// The cells; several attorneys (a client's matters split across people) are listed in
    /// the order first met, `; `-separated, names and emails in the same order.
    pub fn cells(&self, report: &Report) -> [String; 7] {
        let people = |pick: fn(&ClientMatter) -> i64| {
            let mut ids: Vec<i64> = Vec::new();
            for m in &self.matters {
                if !ids.contains(&pick(m)) {
                    ids.push(pick(m));
                }
            }
            let user = |id: &i64| report.users.get(id);
            (
                ids.iter()
                    .map(|id| user(id).map_or_else(|| format!("user {id}"), |u| u.name.clone()))
                    .collect::<Vec<_>>()
                    .join("; "),
                ids.iter()
                    .map(|id| user(id).map_or_else(String::new, |u| u.email.clone()))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        };
        let (previous, previous_email) = people(|m| m.previous);
        let (new, new_email) = people(|m| m.new);
        [
            self.client.clone(),
            self.matters.len().to_string(),
            self.matters
                .iter()
                .map(|m| format!("{} {}", m.number, m.description))
                .collect::<Vec<_>>()
                .join("; "),
            previous,
            previous_email,
            new,
            new_email,
        ]
    }
}

impl Report {
    /// The matters whose responsible attorney this reassignment changed, by client then matter,
    /// after the key `after` (exclusive), at most `PAGE` of them.
    pub async fn client_matters(
        &self,
        db: &DatabaseConnection,
        after: Option<(String, i64)>,
    ) -> AppResult<Vec<ClientMatter>> {
        use sea_orm::ConnectionTrait;
        let backend = db.get_database_backend();
        let (client, id) = after.unwrap_or_default();
        let sql = format!(
            "SELECT m.client_name, m.id, m.display_number, m.description, i.previous_holder_id, i.new_holder_id
             FROM reassignment_item i JOIN matter m ON m.id = i.record_id
             WHERE i.reassignment_id = $1 AND i.id BETWEEN $4 AND $5 AND i.kind = 'MATTER' AND i.outcome = 'REASSIGNED'
               AND i.new_holder_id IS NOT NULL
               AND (m.client_name > $2 OR (m.client_name = $2 AND m.id > $3))
             ORDER BY m.client_name, m.id LIMIT {PAGE}"
        );
        let rows = db
            .query_all_raw(crate::db::statement(
                backend,
                &sql,
                vec![
                    self.batch.id.into(),
                    client.into(),
                    id.into(),
                    self.batch.first_item_id.into(),
                    self.batch.last_item_id.into(),
                ],
            ))
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ClientMatter {
                    client: r.try_get_by_index(0)?,
                    matter_id: r.try_get_by_index(1)?,
                    number: r.try_get_by_index(2)?,
                    description: r.try_get_by_index(3)?,
                    previous: r.try_get_by_index(4)?,
                    new: r.try_get_by_index::<Option<i64>>(5)?.unwrap_or_default(),
                })
            })
            .collect()
    }
}
