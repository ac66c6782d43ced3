//! Matter permissions: who may see a matter. A matter is visible to everyone in the firm, or to
//! the users it lists and the members of the groups it lists. A matter is *private* when that
//! resolves to exactly one user.

use crate::db::{Params, aggregated_rows};
use crate::error::AppResult;
use entity::{
    MatterStatus, group_member, matter, matter_permitted_group as permitted_group,
    matter_permitted_user as permitted_user,
};
use rustc_hash::FxHashMap;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseBackend};
use std::collections::BTreeSet;

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

/// The permission of each of the matters `ids` of the firm (a matter missing here is visible to
/// nobody). The one SQL that resolves permissions: the read API's loader and the rules both
/// call it.
pub async fn permissions<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    ids: &[i64],
) -> AppResult<FxHashMap<i64, Permission>> {
    Ok(statuses_and_permissions(db, firm_id, Matters::Listed(ids)).await?.1)
}

/// Which of a firm's matters to read the facts of.
#[derive(Debug, Clone, Copy)]
pub enum Matters<'a> {
    Listed(&'a [i64]),
    /// Those a user is the responsible attorney of: a selection reads them beside its
    /// candidates, before it knows every matter its records link to.
    HeldBy(i64),
}

impl Matters<'_> {
    /// `col` (a matter id) is one of these matters.
    fn among(self, backend: DatabaseBackend, p: &mut Params, firm: &str, col: &str) -> String {
        match self {
            Matters::Listed(ids) => p.id_in(backend, col, ids),
            Matters::HeldBy(user) => format!(
                "{col} IN (SELECT id FROM matter WHERE firm_id = {firm} AND responsible_attorney_id = {})",
                p.add(user)
            ),
        }
    }
}

/// The status and the permission of each of the matters of the firm, in two set-based
/// statements: the matter rows (status, open to everyone), and the lists.
pub async fn statuses_and_permissions<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    which: Matters<'_>,
) -> AppResult<(FxHashMap<i64, MatterStatus>, FxHashMap<i64, Permission>)> {
    let (matters, lists) = rows_and_lists(db, firm_id, which).await?;
    Ok(facts(matters, lists))
}

/// The matters' rows as (id, status, [`EVERYONE`]), and their [`permission_lists`]: what
/// [`facts`] and [`each_matter`] put together.
pub async fn rows_and_lists<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    which: Matters<'_>,
) -> AppResult<(Vec<(i64, MatterStatus, i64)>, Vec<ListRow>)> {
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(firm_id);
    let chosen = match which {
        Matters::Listed(ids) => p.id_in(backend, "id", ids),
        Matters::HeldBy(user) => format!("responsible_attorney_id = {}", p.add(user)),
    };
    let (columns, from_where) = (
        format!("id, status, {EVERYONE}"),
        format!("matter WHERE firm_id = {firm} AND {chosen}"),
    );
    tokio::try_join!(
        aggregated_rows::<(i64, MatterStatus, i64), _>(db, &columns, &from_where, p),
        permission_lists(db, firm_id, which),
    )
}

/// A matter's `permission_everyone` as aggregated rows carry it: 1 or 0.
pub const EVERYONE: &str = "CASE WHEN permission_everyone THEN 1 ELSE 0 END";

/// One row of a matter's lists, as (matter, user, group): a user listed by name (no group), or
/// a group listed with one of its members (no user for an empty group).
pub type ListRow = (i64, Option<i64>, Option<i64>);

/// Who each of the matters lists. A reader that has the matter rows already (the selection,
/// for the giver's own matters) asks only for these, and puts them together with [`facts`] or
/// [`each_matter`].
pub async fn permission_lists<C: ConnectionTrait>(db: &C, firm_id: i64, which: Matters<'_>) -> AppResult<Vec<ListRow>> {
    let backend = db.get_database_backend();
    let mut p = Params::default();
    let firm = p.add(firm_id);
    let (users_listed, groups_listed) = (
        which.among(backend, &mut p, &firm, "matter_id"),
        which.among(backend, &mut p, &firm, "g.matter_id"),
    );
    let lists = format!(
        "(SELECT matter_id, user_id, CAST(NULL AS BIGINT) AS group_id FROM matter_permitted_user
            WHERE firm_id = {firm} AND {users_listed}
          UNION ALL
          SELECT g.matter_id, m.user_id, g.group_id FROM matter_permitted_group g
            LEFT JOIN group_member m ON m.group_id = g.group_id
            WHERE g.firm_id = {firm} AND {groups_listed}) lists"
    );
    aggregated_rows(db, "matter_id, user_id, group_id", &lists, p).await
}

/// Statuses and permissions from the matter rows, as (id, status, [`EVERYONE`]), and their
/// [`permission_lists`] (a matter that lists no one and is not open to everyone has no
/// permission: visible to nobody).
pub fn facts(
    matters: impl IntoIterator<Item = (i64, MatterStatus, i64)>,
    lists: Vec<ListRow>,
) -> (FxHashMap<i64, MatterStatus>, FxHashMap<i64, Permission>) {
    let mut statuses = FxHashMap::default();
    let mut out: FxHashMap<i64, Permission> = FxHashMap::default();
    each_matter(matters, lists, |id, status, permission| {
        if let Some(status) = status {
            statuses.insert(id, status);
        }
        if permission != Permission::default() {
            out.insert(id, permission);
        }
    });
    (statuses, out)
}

/// What [`facts`] gathers, one matter at a time in id order: its status (`None` when only its
/// lists were read) and its permission. A selection, which holds the facts of thousands of
/// matters at once, keeps something smaller of each than a map of `Permission`s.
pub fn each_matter(
    matters: impl IntoIterator<Item = (i64, MatterStatus, i64)>,
    mut lists: Vec<ListRow>,
    mut f: impl FnMut(i64, Option<MatterStatus>, Permission),
) {
    let mut matters: Vec<(i64, MatterStatus, i64)> = matters.into_iter().collect();
    matters.sort_unstable_by_key(|m| m.0);
    lists.sort_unstable_by_key(|l| l.0);
    let (mut rows, mut listed) = (
        matters.into_iter().peekable(),
        lists.chunk_by(|a, b| a.0 == b.0).peekable(),
    );
    loop {
        let (row_id, list_id) = (rows.peek().map(|m| m.0), listed.peek().map(|l| l[0].0));
        let id = match (row_id, list_id) {
            (None, None) => break,
            (Some(a), Some(b)) => Ord::min(a, b),
            (Some(a), None) | (None, Some(a)) => a,
        };
        let row = rows.next_if(|m| m.0 == id);
        let lists = listed.next_if(|l| l[0].0 == id).unwrap_or_default();
        let mut permission = Permission {
            everyone: row.is_some_and(|m| m.2 != 0),
            ..Permission::default()
        };
        for &(_, user_id, group_id) in lists {
            match group_id {
                None => permission.users.extend(user_id),
                Some(group_id) => permission.groups.push(group_id),
            }
            permission.resolved_users.extend(user_id);
        }
        permission.users.sort_unstable();
        permission.users.dedup();
        permission.groups.sort_unstable();
        permission.groups.dedup();
        f(id, row.map(|m| m.1), permission);
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

#[cfg(test)]
mod tests {
    use super::*;

    // Rows and lists arrive in any order, and either may name a matter the other does not.
    #[test]
    fn each_matter_puts_rows_and_lists_together() {
        let rows = vec![
            (30, MatterStatus::Open, 0),
            (10, MatterStatus::Closed, 1),
            (20, MatterStatus::Open, 0),
        ];
        let lists: Vec<ListRow> = vec![
            (30, Some(5), Some(2)),
            (40, Some(6), None),
            (10, Some(5), None),
            (30, Some(5), None),
            (30, Some(7), Some(2)),
            (30, None, Some(3)),
        ];
        let mut seen = Vec::new();
        each_matter(rows.clone(), lists.clone(), |id, status, p| seen.push((id, status, p)));
        let permission = |everyone, users: &[i64], groups: &[i64], resolved: &[i64]| Permission {
            everyone,
            users: users.to_vec(),
            groups: groups.to_vec(),
            resolved_users: resolved.iter().copied().collect(),
        };
        assert_eq!(
            seen,
            vec![
                (10, Some(MatterStatus::Closed), permission(true, &[5], &[], &[5])),
                (20, Some(MatterStatus::Open), Permission::default()),
                (30, Some(MatterStatus::Open), permission(false, &[5], &[2, 3], &[5, 7])),
                (40, None, permission(false, &[6], &[], &[6])),
            ]
        );
        // A matter that lists no one and is open to no one has no permission: nobody sees it.
        let (statuses, permissions) = facts(rows, lists);
        assert_eq!(statuses.len(), 3);
        assert!(!permissions.contains_key(&20));
        assert!(permissions[&40].is_private() && !permissions[&30].is_private());
    }
}
