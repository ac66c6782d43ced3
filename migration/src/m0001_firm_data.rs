//! The firm's data: firms, users, groups, matters with their permissions, tasks, calendars,
//! calendar events with attendees. Indexes serve the reassignment rules' lookups: by firm and
//! holder, by matter status, by due date, by start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Firm {
    Table,
    Id,
    Key,
    Name,
    TimeZone,
}

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
    FirmId,
    Key,
    Name,
    Email,
    AccountAdmin,
    Licence,
    Enabled,
    TimeZone,
}

#[derive(DeriveIden)]
enum UserGroup {
    Table,
    Id,
    FirmId,
    Key,
    Name,
}

#[derive(DeriveIden)]
enum GroupMember {
    Table,
    GroupId,
    UserId,
    FirmId,
}

#[derive(DeriveIden)]
enum Matter {
    Table,
    Id,
    FirmId,
    Key,
    DisplayNumber,
    Description,
    Status,
    PracticeArea,
    ClientName,
    ResponsibleAttorneyId,
    OriginatingAttorneyId,
    PermissionEveryone,
}

#[derive(DeriveIden)]
enum MatterPermittedUser {
    Table,
    MatterId,
    UserId,
    FirmId,
}

#[derive(DeriveIden)]
enum MatterPermittedGroup {
    Table,
    MatterId,
    GroupId,
    FirmId,
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Id,
    FirmId,
    Key,
    Name,
    MatterId,
    AssigneeId,
    AssignerId,
    DueDate,
    Status,
    StatuteOfLimitations,
}

#[derive(DeriveIden)]
enum Calendar {
    Table,
    Id,
    FirmId,
    Kind,
    OwnerUserId,
    Name,
}

#[derive(DeriveIden)]
enum CalendarEvent {
    Table,
    Id,
    FirmId,
    Key,
    Title,
    MatterId,
    CalendarId,
    StartAt,
    EndAt,
    AllDay,
}

#[derive(DeriveIden)]
enum EventAttendee {
    Table,
    EventId,
    UserId,
    FirmId,
}

fn fk<T: IntoIden, C: IntoIden, R: IntoIden>(from: (T, C), to: R) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(from.0)
        .from_col(from.1)
        .to_tbl(to)
        .to_col(Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

fn index<T: IntoIden>(name: &str, table: T, cols: Vec<DynIden>, unique: bool) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    if unique {
        idx.unique();
    }
    idx.take()
}

macro_rules! cols {
    ($($c:expr),+) => { vec![$($c.into_iden()),+] };
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Firm::Table)
                .col(big_pk_auto(Firm::Id))
                .col(string_uniq(Firm::Key))
                .col(string(Firm::Name))
                .col(string(Firm::TimeZone))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(User::Table)
                .col(big_pk_auto(User::Id))
                .col(big_integer(User::FirmId))
                .col(string(User::Key))
                .col(string(User::Name))
                .col(string(User::Email))
                .col(boolean(User::AccountAdmin))
                .col(string_len(User::Licence, 16))
                .col(boolean(User::Enabled))
                .col(string_null(User::TimeZone))
                .foreign_key(&mut fk((User::Table, User::FirmId), Firm::Table))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_user_firm_key",
            User::Table,
            cols![User::FirmId, User::Key],
            true,
        ))
        .await?;
        m.create_index(index(
            "ux_user_firm_email",
            User::Table,
            cols![User::FirmId, User::Email],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(UserGroup::Table)
                .col(big_pk_auto(UserGroup::Id))
                .col(big_integer(UserGroup::FirmId))
                .col(string(UserGroup::Key))
                .col(string(UserGroup::Name))
                .foreign_key(&mut fk((UserGroup::Table, UserGroup::FirmId), Firm::Table))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_group_firm_key",
            UserGroup::Table,
            cols![UserGroup::FirmId, UserGroup::Key],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(GroupMember::Table)
                .col(big_integer(GroupMember::GroupId))
                .col(big_integer(GroupMember::UserId))
                .col(big_integer(GroupMember::FirmId))
                .primary_key(Index::create().col(GroupMember::GroupId).col(GroupMember::UserId))
                .foreign_key(&mut fk((GroupMember::Table, GroupMember::GroupId), UserGroup::Table))
                .foreign_key(&mut fk((GroupMember::Table, GroupMember::UserId), User::Table))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_group_member_user",
            GroupMember::Table,
            cols![GroupMember::UserId],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Matter::Table)
                .col(big_pk_auto(Matter::Id))
                .col(big_integer(Matter::FirmId))
                .col(string(Matter::Key))
                .col(string(Matter::DisplayNumber))
                .col(text(Matter::Description))
                .col(string_len(Matter::Status, 16))
                .col(string_null(Matter::PracticeArea))
                .col(string(Matter::ClientName))
                .col(big_integer_null(Matter::ResponsibleAttorneyId))
                .col(big_integer_null(Matter::OriginatingAttorneyId))
                .col(boolean(Matter::PermissionEveryone))
                .foreign_key(&mut fk((Matter::Table, Matter::FirmId), Firm::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Matter::Table)
                        .from_col(Matter::ResponsibleAttorneyId)
                        .to_tbl(User::Table)
                        .to_col(User::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Matter::Table)
                        .from_col(Matter::OriginatingAttorneyId)
                        .to_tbl(User::Table)
                        .to_col(User::Id),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_matter_firm_key",
            Matter::Table,
            cols![Matter::FirmId, Matter::Key],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_matter_responsible",
            Matter::Table,
            cols![Matter::FirmId, Matter::ResponsibleAttorneyId, Matter::Status],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_matter_status",
            Matter::Table,
            cols![Matter::FirmId, Matter::Status],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(MatterPermittedUser::Table)
                .col(big_integer(MatterPermittedUser::MatterId))
                .col(big_integer(MatterPermittedUser::UserId))
                .col(big_integer(MatterPermittedUser::FirmId))
                .primary_key(
                    Index::create()
                        .col(MatterPermittedUser::MatterId)
                        .col(MatterPermittedUser::UserId),
                )
                .foreign_key(&mut fk(
                    (MatterPermittedUser::Table, MatterPermittedUser::MatterId),
                    Matter::Table,
                ))
                .foreign_key(&mut fk(
                    (MatterPermittedUser::Table, MatterPermittedUser::UserId),
                    User::Table,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_matter_permitted_user_user",
            MatterPermittedUser::Table,
            cols![MatterPermittedUser::UserId],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(MatterPermittedGroup::Table)
                .col(big_integer(MatterPermittedGroup::MatterId))
                .col(big_integer(MatterPermittedGroup::GroupId))
                .col(big_integer(MatterPermittedGroup::FirmId))
                .primary_key(
                    Index::create()
                        .col(MatterPermittedGroup::MatterId)
                        .col(MatterPermittedGroup::GroupId),
                )
                .foreign_key(&mut fk(
                    (MatterPermittedGroup::Table, MatterPermittedGroup::MatterId),
                    Matter::Table,
                ))
                .foreign_key(&mut fk(
                    (MatterPermittedGroup::Table, MatterPermittedGroup::GroupId),
                    UserGroup::Table,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_matter_permitted_group_group",
            MatterPermittedGroup::Table,
            cols![MatterPermittedGroup::GroupId],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Task::Table)
                .col(big_pk_auto(Task::Id))
                .col(big_integer(Task::FirmId))
                .col(string(Task::Key))
                .col(string(Task::Name))
                .col(big_integer_null(Task::MatterId))
                .col(big_integer(Task::AssigneeId))
                .col(big_integer_null(Task::AssignerId))
                .col(date_null(Task::DueDate))
                .col(string_len(Task::Status, 16))
                .col(boolean(Task::StatuteOfLimitations))
                .foreign_key(&mut fk((Task::Table, Task::FirmId), Firm::Table))
                .foreign_key(&mut fk((Task::Table, Task::MatterId), Matter::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Task::Table)
                        .from_col(Task::AssigneeId)
                        .to_tbl(User::Table)
                        .to_col(User::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Task::Table)
                        .from_col(Task::AssignerId)
                        .to_tbl(User::Table)
                        .to_col(User::Id),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_task_firm_key",
            Task::Table,
            cols![Task::FirmId, Task::Key],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_task_assignee",
            Task::Table,
            // Covering for the reassignment rules: a holder's tasks without touching the table.
            cols![
                Task::FirmId,
                Task::AssigneeId,
                Task::Status,
                Task::DueDate,
                Task::MatterId
            ],
            false,
        ))
        .await?;
        m.create_index(index("ix_task_matter", Task::Table, cols![Task::MatterId], false))
            .await?;

        m.create_table(
            Table::create()
                .table(Calendar::Table)
                .col(big_pk_auto(Calendar::Id))
                .col(big_integer(Calendar::FirmId))
                .col(string_len(Calendar::Kind, 16))
                .col(big_integer_null(Calendar::OwnerUserId))
                .col(string(Calendar::Name))
                .foreign_key(&mut fk((Calendar::Table, Calendar::FirmId), Firm::Table))
                .foreign_key(&mut fk((Calendar::Table, Calendar::OwnerUserId), User::Table))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_calendar_owner",
            Calendar::Table,
            cols![Calendar::FirmId, Calendar::Kind, Calendar::OwnerUserId],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CalendarEvent::Table)
                .col(big_pk_auto(CalendarEvent::Id))
                .col(big_integer(CalendarEvent::FirmId))
                .col(string(CalendarEvent::Key))
                .col(string(CalendarEvent::Title))
                .col(big_integer_null(CalendarEvent::MatterId))
                .col(big_integer(CalendarEvent::CalendarId))
                .col(timestamp_with_time_zone(CalendarEvent::StartAt))
                .col(timestamp_with_time_zone(CalendarEvent::EndAt))
                .col(boolean(CalendarEvent::AllDay))
                .foreign_key(&mut fk((CalendarEvent::Table, CalendarEvent::FirmId), Firm::Table))
                .foreign_key(&mut fk((CalendarEvent::Table, CalendarEvent::MatterId), Matter::Table))
                .foreign_key(&mut fk(
                    (CalendarEvent::Table, CalendarEvent::CalendarId),
                    Calendar::Table,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_event_firm_key",
            CalendarEvent::Table,
            cols![CalendarEvent::FirmId, CalendarEvent::Key],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_event_calendar_start",
            CalendarEvent::Table,
            // Covering for the reassignment rules: a calendar's events without touching the table.
            cols![
                CalendarEvent::CalendarId,
                CalendarEvent::StartAt,
                CalendarEvent::AllDay,
                CalendarEvent::MatterId
            ],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_event_matter",
            CalendarEvent::Table,
            cols![CalendarEvent::MatterId],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(EventAttendee::Table)
                .col(big_integer(EventAttendee::EventId))
                .col(big_integer(EventAttendee::UserId))
                .col(big_integer(EventAttendee::FirmId))
                .primary_key(Index::create().col(EventAttendee::EventId).col(EventAttendee::UserId))
                .foreign_key(&mut fk(
                    (EventAttendee::Table, EventAttendee::EventId),
                    CalendarEvent::Table,
                ))
                .foreign_key(&mut fk((EventAttendee::Table, EventAttendee::UserId), User::Table))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_event_attendee_user",
            EventAttendee::Table,
            cols![EventAttendee::UserId],
            false,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            EventAttendee::Table.into_iden(),
            CalendarEvent::Table.into_iden(),
            Calendar::Table.into_iden(),
            Task::Table.into_iden(),
            MatterPermittedGroup::Table.into_iden(),
            MatterPermittedUser::Table.into_iden(),
            Matter::Table.into_iden(),
            GroupMember::Table.into_iden(),
            UserGroup::Table.into_iden(),
            User::Table.into_iden(),
            Firm::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
