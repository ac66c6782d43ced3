use crate::Licence;
use sea_orm::ActiveValue;
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
    /// `fold(email)`: unique in the firm, so `ZOË@x` and `zoë@x` cannot both exist.
    pub email_folded: String,
    /// `search_text([name, email])`, what `users(filter: {search})` matches.
    pub search_text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl ActiveModel {
    /// Fill the folded columns from the name and email set on this model (every insert and
    /// update of a name or email goes through here).
    pub fn folded(mut self) -> Self {
        if let (ActiveValue::Set(name), ActiveValue::Set(email)) = (&self.name, &self.email) {
            self.search_text = ActiveValue::Set(crate::search_text(&[name, email]));
            self.email_folded = ActiveValue::Set(crate::fold(email));
        }
        self
    }
}
