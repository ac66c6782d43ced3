//! The `Viewer`: who is asking, loaded from the database (or from the cache of viewers, which
//! every change to a user empties at once, see `cache`) on every request, so that a deactivated
//! user's token stops working at once and a demoted administrator loses their rights at once.

use crate::error::{AppError, AppResult};
use entity::{firm, user};
use sea_orm::{ConnectionTrait, EntityTrait, JoinType, QuerySelect, RelationDef};

#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: user::Model,
    pub firm: firm::Model,
}

impl Viewer {
    pub fn firm_id(&self) -> i64 {
        self.firm.id
    }

    pub fn user_id(&self) -> i64 {
        self.user.id
    }

    /// Enabled account administrator (enabled is already guaranteed by authentication).
    pub fn is_admin(&self) -> bool {
        self.user.account_admin && self.user.enabled
    }

    /// The user `user_id` and their firm, as a request of theirs would see them (for work done
    /// on someone's behalf without a request: a scheduled start, the demo). `None`: no such user.
    pub async fn load<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<Option<Viewer>> {
        // One statement: every request pays for this lookup.
        let firm_of: RelationDef = user::Entity::belongs_to(firm::Entity)
            .from(user::Column::FirmId)
            .to(firm::Column::Id)
            .into();
        let found = user::Entity::find_by_id(user_id)
            .select_also(firm::Entity)
            .join(JoinType::InnerJoin, firm_of)
            .one(db)
            .await?;
        Ok(found.and_then(|(user, firm)| firm.map(|firm| Viewer { user, firm })))
    }

    pub fn require_admin(&self) -> AppResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}
