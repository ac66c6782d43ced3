//! Routing and risk (SPEC.md section 9): an item remembers the risk it carried when it moved,
//! and a reassignment remembers its routing and sweeps (the rest of its input) as JSON. Two
//! indexes: the limitation deadlines among a person's tasks (partial: they are few, and the
//! covering index of a person's tasks stays index-only), and the tasks a person assigned (the
//! assigner sweep).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReassignmentItem {
    Table,
    Risk,
}

#[derive(DeriveIden)]
enum Reassignment {
    Table,
    Routing,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(ReassignmentItem::Table)
                .add_column(string_len_null(ReassignmentItem::Risk, 32))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Reassignment::Table)
                .add_column(text_null(Reassignment::Routing))
                .take(),
        )
        .await?;
        // The same SQL on both databases (a partial index; sea-query has no builder for it).
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_task_statute ON task (firm_id, assignee_id) WHERE statute_of_limitations",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX ix_task_assigner ON task (firm_id, assigner_id)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX ix_task_assigner").await?;
        db.execute_unprepared("DROP INDEX ix_task_statute").await?;
        m.alter_table(
            Table::alter()
                .table(Reassignment::Table)
                .drop_column(Reassignment::Routing)
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ReassignmentItem::Table)
                .drop_column(ReassignmentItem::Risk)
                .take(),
        )
        .await
    }
}
