use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matter_permitted_group")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: i64,
    pub firm_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
