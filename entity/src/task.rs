use crate::TaskStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub key: String,
    pub name: String,
    pub matter_id: Option<i64>,
    pub assignee_id: i64,
    pub assigner_id: Option<i64>,
    /// A calendar date without time; compared with "today" in the firm's time zone.
    pub due_date: Option<Date>,
    pub status: TaskStatus,
    pub statute_of_limitations: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
