//! Matter permissions: who may see a matter. A matter is visible to everyone in the firm, or to
//! the users it lists and the members of the groups it lists. A matter is *private* when that
//! resolves to exactly one user.

use crate::db::{Params, json_rows};
use crate::error::AppResult;
use entity::{
    group_member, matter, matter_permitted_group as permitted_group, matter_permitted_user as permitted_user,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use std::collections::{BTreeSet, HashMap};

/// A matter's permission: everyone, or the users and groups it lists, with the users that
/// resolves to. The one model of matter visibility, for the read API, the rules and the apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permission {
    pub everyone: bool,
    /// Users listed by name, by id.
    pub users: Vec<i64>,
    /// Groups listed, by id.
    pub groups: Vec<i64>,
    /// Every user the listed users and groups resolve to.
    pub resolved_users: BTreeSet<i64>,
}

impl Permission {
    /// Private (Clio's "Me"): the permission resolves to exactly one user, whoever that is.
    pub fn is_private(&self) -> bool {
        !self.everyone && self.resolved_users.len() == 1
    }

    /// Whether `user_id` satisfies the permission.
    pub fn admits(&self, user_id: i64) -> bool {
        self.everyone || self.resolved_users.contains(&user_id)
    }
}

/// The permission of each of the matters `ids` of the firm, in two set-based statements (a
/// matter with no row here is visible to nobody). The one SQL that resolves permissions: the
/// read API's loader and the rules both call it.
pub async fn permissions<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    ids: &BTreeSet<i64>,
) -> AppResult<HashMap<i64, Permission>> {
    let backend = db.get_database_backend();
    // Each statement is bound to (firm, matter ids) as $1 and $2.
    let bound = |from: fn(&str, &str) -> String| {
        let mut p = Params::default();
        let firm = p.add(firm_id);
        let list = p.ids(backend, ids);
        (from(&firm, &list), p)
    };
    let (open_from, open_params) = bound(|firm, list| {
        format!("matter WHERE firm_id = {firm} AND permission_everyone = TRUE AND id IN (SELECT id FROM {list} l)")
    });
    // Listed users (no group), and listed groups with each of their members (none for an
    // empty group).
    let (lists_from, lists_params) = bound(|firm, list| {
        format!(
            "(SELECT matter_id, user_id, CAST(NULL AS BIGINT) AS group_id FROM matter_permitted_user
                WHERE firm_id = {firm} AND matter_id IN (SELECT id FROM {list} l)
              UNION ALL
              SELECT g.matter_id, m.user_id, g.group_id FROM matter_permitted_group g
                LEFT JOIN group_member m ON m.group_id = g.group_id
                WHERE g.firm_id = {firm} AND g.matter_id IN (SELECT id FROM {list} l2)) lists"
        )
    });
    let (open, lists) = tokio::try_join!(
        json_rows::<(i64,), _>(db, "id", &open_from, open_params),
        json_rows::<(i64, Option<i64>, Option<i64>), _>(db, "matter_id, user_id, group_id", &lists_from, lists_params),
    )?;

    let mut out: HashMap<i64, Permission> = HashMap::new();
    for (matter_id,) in open {
        out.entry(matter_id).or_default().everyone = true;
    }
    for (matter_id, user_id, group_id) in lists {
        let p = out.entry(matter_id).or_default();
        match group_id {
            None => p.users.extend(user_id),
            Some(group_id) => p.groups.push(group_id),
        }
        p.resolved_users.extend(user_id);
    }
    for p in out.values_mut() {
        p.users.sort_unstable();
        p.users.dedup();
        p.groups.sort_unstable();
        p.groups.dedup();
    }
    Ok(out)
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
