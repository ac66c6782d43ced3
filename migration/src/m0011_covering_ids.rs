//! PostgreSQL: the indexes a reassignment's selection reads a holder's tasks and a calendar's
//! events from carry the record's id as well, so that the selection reads them from the index
//! alone. Without the id, PostgreSQL fetched every row from the table (100,000 tasks: a bitmap
//! heap scan of 3,000 pages; 45,000 events: a sequential scan of the table). SQLite's indexes
//! hold the row id already. A move rewrites these index entries anyway (their assignee or
//! calendar changes), so the id adds no write.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, key columns)
const INDEXES: [(&str, &str, &str); 2] = [
    (
        "ix_task_assignee",
        "task",
        "firm_id, assignee_id, status, due_date, matter_id",
    ),
    (
        "ix_event_calendar_start",
        "calendar_event",
        "calendar_id, start_at, all_day, matter_id",
    ),
];

async fn rebuild(m: &SchemaManager<'_>, include_id: bool) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let include = if include_id { " INCLUDE (id)" } else { "" };
    for (index, table, columns) in INDEXES {
        for sql in [
            format!("CREATE INDEX {index}_next ON {table} ({columns}){include}"),
            format!("DROP INDEX {index}"),
            format!("ALTER INDEX {index}_next RENAME TO {index}"),
        ] {
            db.execute_unprepared(&sql).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, false).await
    }
}
