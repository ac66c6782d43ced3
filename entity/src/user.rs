use crate::Licence;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub key: String,
    pub name: String,
    pub email: String,
    pub account_admin: bool,
    pub licence: Licence,
    /// false = deactivated: cannot sign in, cannot receive work.
    pub enabled: bool,
    /// IANA time zone; `None` means the firm's.
    pub time_zone: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
