//! Notifications (durable, per recipient) and the email outbox.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    FirmId,
    UserId,
    ReassignmentId,
    ActorUserId,
    FromUserId,
    Matters,
    Tasks,
    CalendarEvents,
    Title,
    Body,
    Note,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum OutboxEmail {
    Table,
    Id,
    FirmId,
    NotificationId,
    ToAddress,
    Subject,
    Body,
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    SentAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notification::Table)
                .col(big_pk_auto(Notification::Id))
                .col(big_integer(Notification::FirmId))
                .col(big_integer(Notification::UserId))
                .col(big_integer(Notification::ReassignmentId))
                .col(big_integer(Notification::ActorUserId))
                .col(big_integer(Notification::FromUserId))
                .col(big_integer(Notification::Matters))
                .col(big_integer(Notification::Tasks))
                .col(big_integer(Notification::CalendarEvents))
                .col(string(Notification::Title))
                .col(text(Notification::Body))
                .col(text_null(Notification::Note))
                .col(timestamp_with_time_zone(Notification::CreatedAt))
                .col(timestamp_with_time_zone_null(Notification::ReadAt))
                .take(),
        )
        .await?;
        // A user's notifications, newest first.
        m.create_index(
            Index::create()
                .name("ix_notification_user")
                .table(Notification::Table)
                .col(Notification::UserId)
                .col(Notification::Id)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OutboxEmail::Table)
                .col(big_pk_auto(OutboxEmail::Id))
                .col(big_integer(OutboxEmail::FirmId))
                .col(big_integer(OutboxEmail::NotificationId))
                .col(string(OutboxEmail::ToAddress))
                .col(string(OutboxEmail::Subject))
                .col(text(OutboxEmail::Body))
                .col(string_len(OutboxEmail::State, 16))
                .col(integer(OutboxEmail::Attempts))
                .col(timestamp_with_time_zone(OutboxEmail::NextAttemptAt))
                .col(text_null(OutboxEmail::LastError))
                .col(timestamp_with_time_zone_null(OutboxEmail::SentAt))
                .col(timestamp_with_time_zone(OutboxEmail::CreatedAt))
                .take(),
        )
        .await?;
        // The worker's queue: pending rows by when they are due.
        m.create_index(
            Index::create()
                .name("ix_outbox_due")
                .table(OutboxEmail::Table)
                .col(OutboxEmail::State)
                .col(OutboxEmail::NextAttemptAt)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OutboxEmail::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Notification::Table).to_owned())
            .await?;
        Ok(())
    }
}
