use crate::ReassignmentStatus;
use sea_orm::entity::prelude::*;

/// One batch: who moved whose work to whom, when, under which cutoff. Its items are the report.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reassignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub actor_user_id: i64,
    /// The source: whose work was considered.
    pub from_user_id: i64,
    /// Per-category targets; `None` = the category was not included.
    pub matters_to_user_id: Option<i64>,
    pub tasks_to_user_id: Option<i64>,
    pub events_to_user_id: Option<i64>,
    /// Comma-separated matter ids the batch was restricted to, if any.
    pub matter_ids: Option<String>,
    pub grant_matter_access: bool,
    pub note: Option<String>,
    pub idempotency_key: Option<String>,
    /// Fingerprint of the input, to tell a retry from a reuse of the key.
    pub input_fingerprint: String,
    pub cutoff_at: DateTimeUtc,
    pub time_zone: String,
    pub status: ReassignmentStatus,
    /// Set on an undo: the batch it undid.
    pub undo_of_id: Option<i64>,
    /// Set on a batch that was undone: the undo.
    pub undone_by_id: Option<i64>,
    pub matters_reassigned: i64,
    pub tasks_reassigned: i64,
    pub events_reassigned: i64,
    pub items_skipped: i64,
    pub created_at: DateTimeUtc,
    /// The routes, sweeps and risk options it ran with, as JSON (SPEC.md section 9).
    pub routing: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
