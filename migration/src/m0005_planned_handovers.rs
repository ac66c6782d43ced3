//! Planned handovers (SPEC.md section 8): the schedule lives in the database, so that every
//! instance sees it and a start or return missed while no server was up still runs. Notifications
//! gain a kind and may belong to a plan instead of a reassignment (a heads-up, a failure).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlannedHandover {
    Table,
    Id,
    FirmId,
    CreatedByUserId,
    FromUserId,
    Work,
    StartsAt,
    ReturnsAt,
    DeactivateSource,
    Status,
    StartReassignmentId,
    ReturnReassignmentId,
    Failure,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Kind,
    PlannedHandoverId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PlannedHandover::Table)
                .col(big_pk_auto(PlannedHandover::Id))
                .col(big_integer(PlannedHandover::FirmId))
                .col(big_integer(PlannedHandover::CreatedByUserId))
                .col(big_integer(PlannedHandover::FromUserId))
                .col(text(PlannedHandover::Work))
                .col(timestamp_with_time_zone(PlannedHandover::StartsAt))
                .col(timestamp_with_time_zone_null(PlannedHandover::ReturnsAt))
                .col(boolean(PlannedHandover::DeactivateSource))
                .col(string_len(PlannedHandover::Status, 16))
                .col(big_integer_null(PlannedHandover::StartReassignmentId))
                .col(big_integer_null(PlannedHandover::ReturnReassignmentId))
                .col(text_null(PlannedHandover::Failure))
                .col(timestamp_with_time_zone(PlannedHandover::CreatedAt))
                .take(),
        )
        .await?;
        // The scheduler's queues: what is due to start, and what is due to return.
        for (name, column) in [
            ("ix_planned_handover_start", PlannedHandover::StartsAt),
            ("ix_planned_handover_return", PlannedHandover::ReturnsAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(PlannedHandover::Table)
                    .col(PlannedHandover::Status)
                    .col(column)
                    .take(),
            )
            .await?;
        }
        // A source's plans (overlap checks) and a firm's list.
        m.create_index(
            Index::create()
                .name("ix_planned_handover_source")
                .table(PlannedHandover::Table)
                .col(PlannedHandover::FirmId)
                .col(PlannedHandover::FromUserId)
                .take(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(Notification::Table)
                .add_column(string_len(Notification::Kind, 32).default("WORK_ASSIGNED"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Notification::Table)
                .add_column(big_integer_null(Notification::PlannedHandoverId))
                .to_owned(),
        )
        .await?;
        // A heads-up or a failure belongs to no reassignment.
        let db = m.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared("ALTER TABLE notification ALTER COLUMN reassignment_id DROP NOT NULL")
                    .await?;
            }
            _ => relax_sqlite_reassignment_id(m).await?,
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PlannedHandover::Table).to_owned())
            .await?;
        Ok(())
    }
}

/// SQLite cannot drop a NOT NULL constraint: the table is rebuilt with the column nullable, its
/// rows copied with their ids (AUTOINCREMENT carries on from the highest), and its index made
/// again.
async fn relax_sqlite_reassignment_id(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let row = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'notification'",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no notification table".into()))?;
    let sql: String = row.try_get_by_index(0)?;
    let relaxed = sql
        .replacen(
            "\"reassignment_id\" integer NOT NULL",
            "\"reassignment_id\" integer NULL",
            1,
        )
        .replacen(
            "CREATE TABLE \"notification\"",
            "CREATE TABLE \"notification_rebuilt\"",
            1,
        );
    if !relaxed.contains("\"reassignment_id\" integer NULL") || !relaxed.contains("notification_rebuilt") {
        return Err(DbErr::Custom(format!("unexpected notification table: {sql}")));
    }
    // One batch on one connection: the pool's other connections must not see a half-built table.
    let batch = [
        relaxed.as_str(),
        "INSERT INTO notification_rebuilt SELECT * FROM notification",
        "DROP TABLE notification",
        "ALTER TABLE notification_rebuilt RENAME TO notification",
        "CREATE INDEX ix_notification_user ON notification (user_id, id)",
    ]
    .join(";\n");
    db.execute_unprepared(&format!("BEGIN;\n{batch};\nCOMMIT;")).await?;
    Ok(())
}
