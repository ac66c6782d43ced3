//! An outbox email carries an HTML part beside its plain text (the digest's lists as lists).
//! Rows written before have none and are sent as plain text, as they were.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboxEmail {
    Table,
    BodyHtml,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OutboxEmail::Table)
                .add_column(text_null(OutboxEmail::BodyHtml))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OutboxEmail::Table)
                .drop_column(OutboxEmail::BodyHtml)
                .take(),
        )
        .await
    }
}
