//! Matter permissions: who may see a matter. A matter is visible to everyone in the firm, or to
//! the users it lists and the members of the groups it lists. A matter is *private* when that
//! resolves to exactly one user.

use entity::{
    group, group_member, matter, matter_permitted_group as permitted_group, matter_permitted_user as permitted_user,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};
use std::collections::BTreeSet;

/// A matter's permission: everyone, or the users and groups it lists, with the users that
/// resolves to. The one model of matter visibility, for the read API and the rules alike.
#[derive(Debug, Clone, Default)]
pub struct Permission {
    pub everyone: bool,
    /// Listed by name (as listed; for display).
    pub users: Vec<i64>,
    /// Listed groups (for display).
    pub groups: Vec<group::Model>,
    /// Every user the listed users and groups resolve to.
    pub resolved_users: BTreeSet<i64>,
}

impl Permission {
    /// The permission of `matter`, given what its lists resolve to.
    pub fn of(matter: &matter::Model, lists: Permission) -> Self {
        Permission {
            everyone: matter.permission_everyone,
            ..lists
        }
    }

    /// Private (Clio's "Me"): the permission resolves to exactly one user, whoever that is.
    pub fn is_private(&self) -> bool {
        !self.everyone && self.resolved_users.len() == 1
    }

    /// Whether `user_id` satisfies the permission.
    pub fn admits(&self, user_id: i64) -> bool {
        self.everyone || self.resolved_users.contains(&user_id)
    }
}

/// Rows of `matter` that `user_id` may see.
pub fn matters_visible_to(user_id: i64) -> Condition {
    let listed = Query::select()
        .column(permitted_user::Column::MatterId)
        .from(permitted_user::Entity)
        .and_where(permitted_user::Column::UserId.eq(user_id))
        .to_owned();
    let via_group = Query::select()
        .column((permitted_group::Entity, permitted_group::Column::MatterId))
        .from(permitted_group::Entity)
        .inner_join(
            group_member::Entity,
            Expr::col((group_member::Entity, group_member::Column::GroupId))
                .equals((permitted_group::Entity, permitted_group::Column::GroupId)),
        )
        .and_where(Expr::col((group_member::Entity, group_member::Column::UserId)).eq(user_id))
        .to_owned();
    Condition::any()
        .add(matter::Column::PermissionEveryone.eq(true))
        .add(matter::Column::Id.in_subquery(listed))
        .add(matter::Column::Id.in_subquery(via_group))
}
