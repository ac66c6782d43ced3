use sea_orm::entity::prelude::*;

/// Access a reassignment granted (`grantMatterAccess`): the user was added to the matter's
/// permission. Undo takes it back.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reassignment_grant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub reassignment_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub firm_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
