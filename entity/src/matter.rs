use crate::MatterStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matter")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub key: String,
    pub display_number: String,
    pub description: String,
    pub status: MatterStatus,
    pub practice_area: Option<String>,
    pub client_name: String,
    pub responsible_attorney_id: Option<i64>,
    pub originating_attorney_id: Option<i64>,
    /// true: every firm member may see the matter; false: only the users and groups listed in
    /// `matter_permitted_user` / `matter_permitted_group`.
    pub permission_everyone: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
