use crate::OutboxState;
use sea_orm::entity::prelude::*;

/// An email waiting to be sent (transactional outbox): written in the same transaction as the
/// reassignment, sent later by a worker.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_email")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub notification_id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    /// The same message as HTML; none on rows written before it existed (sent as plain text).
    pub body_html: Option<String>,
    pub state: OutboxState,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
