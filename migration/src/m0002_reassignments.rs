//! Reassignments: the batch, one item per record considered (the report), and the access it
//! granted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Reassignment {
    Table,
    Id,
    FirmId,
    ActorUserId,
    FromUserId,
    MattersToUserId,
    TasksToUserId,
    EventsToUserId,
    MatterIds,
    GrantMatterAccess,
    Note,
    IdempotencyKey,
    InputFingerprint,
    CutoffAt,
    TimeZone,
    Status,
    UndoOfId,
    UndoneById,
    MattersReassigned,
    TasksReassigned,
    EventsReassigned,
    ItemsSkipped,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReassignmentItem {
    Table,
    Id,
    ReassignmentId,
    FirmId,
    Kind,
    RecordId,
    MatterId,
    PreviousHolderId,
    NewHolderId,
    Outcome,
    Reason,
    AttendeeReplaced,
}

#[derive(DeriveIden)]
enum ReassignmentGrant {
    Table,
    ReassignmentId,
    MatterId,
    UserId,
    FirmId,
}

#[derive(DeriveIden)]
enum Firm {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Reassignment::Table)
                .col(big_pk_auto(Reassignment::Id))
                .col(big_integer(Reassignment::FirmId))
                .col(big_integer(Reassignment::ActorUserId))
                .col(big_integer(Reassignment::FromUserId))
                .col(big_integer_null(Reassignment::MattersToUserId))
                .col(big_integer_null(Reassignment::TasksToUserId))
                .col(big_integer_null(Reassignment::EventsToUserId))
                .col(text_null(Reassignment::MatterIds))
                .col(boolean(Reassignment::GrantMatterAccess))
                .col(text_null(Reassignment::Note))
                .col(string_null(Reassignment::IdempotencyKey))
                .col(string(Reassignment::InputFingerprint))
                .col(timestamp_with_time_zone(Reassignment::CutoffAt))
                .col(string(Reassignment::TimeZone))
                .col(string_len(Reassignment::Status, 16))
                .col(big_integer_null(Reassignment::UndoOfId))
                .col(big_integer_null(Reassignment::UndoneById))
                .col(big_integer(Reassignment::MattersReassigned))
                .col(big_integer(Reassignment::TasksReassigned))
                .col(big_integer(Reassignment::EventsReassigned))
                .col(big_integer(Reassignment::ItemsSkipped))
                .col(timestamp_with_time_zone(Reassignment::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Reassignment::Table)
                        .from_col(Reassignment::FirmId)
                        .to_tbl(Firm::Table)
                        .to_col(Firm::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // One key per firm: the second use of a key finds the first batch.
        m.create_index(
            Index::create()
                .name("ux_reassignment_idempotency")
                .table(Reassignment::Table)
                .col(Reassignment::FirmId)
                .col(Reassignment::IdempotencyKey)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_reassignment_firm_created")
                .table(Reassignment::Table)
                .col(Reassignment::FirmId)
                .col(Reassignment::Id)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReassignmentItem::Table)
                .col(big_pk_auto(ReassignmentItem::Id))
                .col(big_integer(ReassignmentItem::ReassignmentId))
                .col(big_integer(ReassignmentItem::FirmId))
                .col(string_len(ReassignmentItem::Kind, 16))
                .col(big_integer(ReassignmentItem::RecordId))
                .col(big_integer_null(ReassignmentItem::MatterId))
                .col(big_integer(ReassignmentItem::PreviousHolderId))
                .col(big_integer_null(ReassignmentItem::NewHolderId))
                .col(string_len(ReassignmentItem::Outcome, 16))
                .col(string_len_null(ReassignmentItem::Reason, 24))
                .col(boolean(ReassignmentItem::AttendeeReplaced))
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(ReassignmentItem::Table)
                        .from_col(ReassignmentItem::ReassignmentId)
                        .to_tbl(Reassignment::Table)
                        .to_col(Reassignment::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_reassignment_item_batch")
                .table(ReassignmentItem::Table)
                .col(ReassignmentItem::ReassignmentId)
                .col(ReassignmentItem::Kind)
                .col(ReassignmentItem::Outcome)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReassignmentGrant::Table)
                .col(big_integer(ReassignmentGrant::ReassignmentId))
                .col(big_integer(ReassignmentGrant::MatterId))
                .col(big_integer(ReassignmentGrant::UserId))
                .col(big_integer(ReassignmentGrant::FirmId))
                .primary_key(
                    Index::create()
                        .col(ReassignmentGrant::ReassignmentId)
                        .col(ReassignmentGrant::MatterId)
                        .col(ReassignmentGrant::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(ReassignmentGrant::Table)
                        .from_col(ReassignmentGrant::ReassignmentId)
                        .to_tbl(Reassignment::Table)
                        .to_col(Reassignment::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReassignmentGrant::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ReassignmentItem::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Reassignment::Table).to_owned())
            .await?;
        Ok(())
    }
}
