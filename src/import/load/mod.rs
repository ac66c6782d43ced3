//! The transactional load: one write transaction, records matched by key, a record written only
//! when something in it differs (so importing the same file twice writes nothing). One file per
//! kind of record, in load order; set-valued fields (members, permissions, attendees) go
//! through one link-set sync (`links`).

mod events;
mod firm;
mod groups;
mod links;
mod matters;
mod tasks;
mod users;

use super::ImportError;
use super::document::FirmDocument;
use crate::db::begin_write;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// How many records of one kind the import created, updated, or found already as in the file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub firm_key: String,
    pub firm_id: i64,
    /// (kind, counts), in file order: firm, users, groups, matters, tasks, calendarEvents.
    pub kinds: Vec<(&'static str, Counts)>,
}

impl ImportSummary {
    pub fn changed(&self) -> usize {
        self.kinds.iter().map(|(_, c)| c.created + c.updated).sum()
    }
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "firm \"{}\": {} records written", self.firm_key, self.changed())?;
        for (kind, c) in &self.kinds {
            writeln!(
                f,
                "  {kind:<15} created {:>6}  updated {:>6}  unchanged {:>6}",
                c.created, c.updated, c.unchanged
            )?;
        }
        Ok(())
    }
}

const CHUNK: usize = 500;

pub async fn load(db: &DatabaseConnection, doc: &FirmDocument) -> Result<ImportSummary, ImportError> {
    let txn = begin_write(db).await?;
    let summary = load_in(&txn, doc).await?;
    txn.commit().await?;
    Ok(summary)
}

async fn load_in<C: ConnectionTrait>(db: &C, doc: &FirmDocument) -> Result<ImportSummary, ImportError> {
    let (firm_id, firm) = firm::load(db, doc).await?;
    let users = users::load(db, firm_id, doc).await?;
    users::ensure_calendars(db, firm_id, doc, &users.ids).await?;
    let people = Keys {
        firm_id,
        users: users.ids,
        groups: HashMap::new(),
        matters: HashMap::new(),
    };
    let (groups, group_ids) = groups::load(db, doc, &people).await?;
    let people = Keys {
        groups: group_ids,
        ..people
    };
    let (matters, matter_ids) = matters::load(db, doc, &people).await?;
    let keys = Keys {
        matters: matter_ids,
        ..people
    };
    let tasks = tasks::load(db, doc, &keys).await?;
    let events = events::load(db, doc, &keys).await?;
    Ok(ImportSummary {
        firm_key: doc.firm.key.clone(),
        firm_id,
        kinds: vec![
            ("firm", firm),
            ("users", users.counts),
            ("groups", groups),
            ("matters", matters),
            ("tasks", tasks),
            ("calendarEvents", events),
        ],
    })
}

/// The ids of what was loaded before, by import key.
struct Keys {
    firm_id: i64,
    users: HashMap<String, i64>,
    groups: HashMap<String, i64>,
    matters: HashMap<String, i64>,
}

impl Keys {
    fn user(&self, key: &str) -> i64 {
        self.users[key]
    }
}

/// The firm's rows of one table (`firm` is its firm column), as `entry` maps each: by import key.
async fn by_key<Col, C, V>(
    db: &C,
    firm: Col,
    firm_id: i64,
    entry: impl Fn(<Col::EntityName as EntityTrait>::Model) -> (String, V),
) -> Result<HashMap<String, V>, ImportError>
where
    Col: ColumnTrait,
    Col::EntityName: EntityTrait<Column = Col>,
    C: ConnectionTrait,
{
    let rows = <Col::EntityName as EntityTrait>::find()
        .filter(firm.eq(firm_id))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(entry).collect())
}

async fn insert_chunks<E, C>(db: &C, rows: Vec<E::ActiveModel>) -> Result<(), ImportError>
where
    E: EntityTrait,
    C: ConnectionTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}
