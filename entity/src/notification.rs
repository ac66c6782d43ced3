use crate::NotificationKind;
use sea_orm::entity::prelude::*;

/// A durable in-app notification: one per new assignee per reassignment (a digest), or about a
/// planned handover (a heads-up before it starts, a failure for the administrators).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    /// The recipient.
    pub user_id: i64,
    pub kind: NotificationKind,
    /// The reassignment it tells of; none for a heads-up or a failure.
    pub reassignment_id: Option<i64>,
    pub planned_handover_id: Option<i64>,
    pub actor_user_id: i64,
    pub from_user_id: i64,
    pub matters: i64,
    pub tasks: i64,
    pub calendar_events: i64,
    pub title: String,
    pub body: String,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
