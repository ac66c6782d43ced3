//! Matter permissions: who may see a matter. A matter is visible to everyone in the firm, or to
//! the users it lists and the members of the groups it lists. A matter is *private* when that
//! resolves to exactly one user.

use entity::{
    group_member, matter, matter_permitted_group as permitted_group, matter_permitted_user as permitted_user,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

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
