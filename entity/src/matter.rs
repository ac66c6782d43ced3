use crate::MatterStatus;
use sea_orm::ActiveValue;
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
    /// `search_text([display_number, description, client_name])`, what `matters(filter:
    /// {search})` matches.
    pub search_text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl ActiveModel {
    /// Fill the search column from the fields set on this model.
    pub fn folded(mut self) -> Self {
        if let (ActiveValue::Set(number), ActiveValue::Set(description), ActiveValue::Set(client)) =
            (&self.display_number, &self.description, &self.client_name)
        {
            self.search_text = ActiveValue::Set(crate::search_text(&[number, description, client]));
        }
        self
    }
}
