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
    let (matters, lists) = tokio::try_join!(
        aggregated_rows::<(i64, MatterStatus, i64), _>(db, &columns, &from_where, p),
        permission_lists(db, firm_id, which),
    )?;
    Ok(facts(matters, lists))
}

/// A matter's `permission_everyone` as aggregated rows carry it: 1 or 0.
pub const EVERYONE: &str = "CASE WHEN permission_everyone THEN 1 ELSE 0 END";

/// Who each of the matters lists, as (matter, user, group): the users listed by name (no
/// group), and the groups listed with each of their members (none for an empty group). A
/// reader that has the matter rows already (the selection, for the giver's own matters) asks
/// only for these, and puts them together with [`facts`].
pub async fn permission_lists<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    which: Matters<'_>,
) -> AppResult<Vec<(i64, Option<i64>, Option<i64>)>> {
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
/// [`permission_lists`].
pub fn facts(
    matters: impl IntoIterator<Item = (i64, MatterStatus, i64)>,
    lists: Vec<(i64, Option<i64>, Option<i64>)>,
) -> (FxHashMap<i64, MatterStatus>, FxHashMap<i64, Permission>) {
    let mut statuses = FxHashMap::default();
    let mut out: FxHashMap<i64, Permission> = FxHashMap::default();
    for (matter_id, status, everyone) in matters {
        statuses.insert(matter_id, status);
        if everyone != 0 {
            out.entry(matter_id).or_default().everyone = true;
        }
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
    (statuses, out)
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
