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
    /// The first and the last id of the items it wrote (`None`: it wrote none). Its items are
    /// read within them: SQLite keeps no index by reassignment on the items.
    pub first_item_id: Option<i64>,
    pub last_item_id: Option<i64>,
}

impl Model {
    /// Its items, as a filter on `reassignment_item`.
    pub fn items(&self) -> sea_orm::Condition {
        self.items_after(None)
    }

    /// Its items after item `after` (exclusive), as a filter with one lower bound on the id:
    /// given the range's start and a page's cursor as two bounds, SQLite may walk the row ids
    /// from the range's start, and every page would read all the pages before it.
    pub fn items_after(&self, after: Option<i64>) -> sea_orm::Condition {
        use crate::reassignment_item::Column;
        let start = self
            .first_item_id
            .map(|first| after.map_or(first - 1, |a| a.max(first - 1)));
        sea_orm::Condition::all()
            .add(Column::ReassignmentId.eq(self.id))
            .add(Column::Id.gt(start))
            .add(Column::Id.lte(self.last_item_id))
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
