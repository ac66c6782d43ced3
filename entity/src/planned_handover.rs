use crate::PlannedHandoverStatus;
use sea_orm::entity::prelude::*;

/// A handover on a date, optionally for a period (a cover that returns), optionally a leaver's
/// (the source is deactivated when it starts). The schedule is these rows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "planned_handover")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    /// The administrator who planned it; the start runs on their behalf.
    pub created_by_user_id: i64,
    pub from_user_id: i64,
    /// The work to move, as asked (JSON; see `planned::Work`).
    pub work: String,
    pub starts_at: DateTimeUtc,
    pub returns_at: Option<DateTimeUtc>,
    pub deactivate_source: bool,
    pub status: PlannedHandoverStatus,
    pub start_reassignment_id: Option<i64>,
    pub return_reassignment_id: Option<i64>,
    /// Why it failed (JSON list of user errors).
    pub failure: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
