//! Routing and risk (SPEC.md section 9): an item remembers the risk it carried when it moved,
//! and a reassignment remembers its routing and sweeps (the rest of its input) as JSON.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

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
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
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
