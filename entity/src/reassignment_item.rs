use crate::{ExclusionReason, ItemOutcome, RiskReason, WorkKind};
use sea_orm::entity::prelude::*;

/// One record considered by a reassignment, moved or not, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reassignment_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub reassignment_id: i64,
    pub firm_id: i64,
    pub kind: WorkKind,
    /// The matter, task or calendar event.
    pub record_id: i64,
    pub matter_id: Option<i64>,
    pub previous_holder_id: i64,
    /// The holder it was moved to; `None` when skipped.
    pub new_holder_id: Option<i64>,
    pub outcome: ItemOutcome,
    pub reason: Option<ExclusionReason>,
    /// Events: the source was an attendee and the new holder took that place.
    pub attendee_replaced: bool,
    /// The risk it carried when it moved (SPEC.md section 9), if any.
    pub risk: Option<RiskReason>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
