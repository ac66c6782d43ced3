//! Set-valued fields (group members, a matter's permitted users and groups, an event's
//! attendees): link tables of (owner, linked) pairs, made to match the file by one sync.

use super::insert_chunks;
use crate::import::ImportError;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeSet, HashSet};

type Links = HashSet<(i64, i64)>;

/// The link table `entity::$table`: its owner and linked columns (and fields of the same names
/// in snake case), e.g. `link_table!(group_member, GroupId group_id, UserId user_id)`.
macro_rules! link_table {
    ($table:ident, $Owner:ident $owner:ident, $Linked:ident $linked:ident) => {
        $crate::import::load::links::LinkTable::<entity::$table::Entity> {
            firm: entity::$table::Column::FirmId,
            owner: entity::$table::Column::$Owner,
            linked: entity::$table::Column::$Linked,
            pair: |r| (r.$owner, r.$linked),
            row: |firm_id, $owner, $linked| entity::$table::ActiveModel {
                $owner: sea_orm::ActiveValue::Set($owner),
                $linked: sea_orm::ActiveValue::Set($linked),
                firm_id: sea_orm::ActiveValue::Set(firm_id),
            },
        }
    };
}
pub(super) use link_table;

/// One link table of a firm: its columns, and how a row reads and is made.
pub(super) struct LinkTable<E: EntityTrait> {
    pub firm: E::Column,
    pub owner: E::Column,
    pub linked: E::Column,
    pub pair: fn(&E::Model) -> (i64, i64),
    pub row: fn(firm_id: i64, owner: i64, linked: i64) -> E::ActiveModel,
}

/// Make each listed owner's links exactly the wanted set (owners not listed keep theirs).
/// Returns the owners whose links changed.
pub(super) async fn sync<E, C>(
    db: &C,
    firm_id: i64,
    table: LinkTable<E>,
    wanted: Vec<(i64, BTreeSet<i64>)>,
) -> Result<HashSet<i64>, ImportError>
where
    E: EntityTrait,
    C: ConnectionTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let current: Links = E::find()
        .filter(table.firm.eq(firm_id))
        .all(db)
        .await?
        .iter()
        .map(table.pair)
        .collect();
    let diff = diff_links(&current, &wanted);
    for (owner, linked) in &diff.remove {
        E::delete_many()
            .filter(table.owner.eq(*owner))
            .filter(table.linked.eq(*linked))
            .exec(db)
            .await?;
    }
    let rows = diff
        .add
        .iter()
        .map(|(owner, linked)| (table.row)(firm_id, *owner, *linked));
    insert_chunks::<E, _>(db, rows.collect()).await?;
    Ok(diff.changed_owners)
}

struct LinkDiff {
    add: Vec<(i64, i64)>,
    remove: Vec<(i64, i64)>,
    changed_owners: HashSet<i64>,
}

fn diff_links(current: &Links, wanted: &[(i64, BTreeSet<i64>)]) -> LinkDiff {
    let owners: HashSet<i64> = wanted.iter().map(|(o, _)| *o).collect();
    let wanted_pairs: Links = wanted
        .iter()
        .flat_map(|(o, set)| set.iter().map(move |x| (*o, *x)))
        .collect();
    let mut add: Vec<_> = wanted_pairs.difference(current).copied().collect();
    let mut remove: Vec<_> = current
        .iter()
        .filter(|(o, _)| owners.contains(o))
        .filter(|p| !wanted_pairs.contains(p))
        .copied()
        .collect();
    add.sort_unstable();
    remove.sort_unstable();
    let changed_owners = add.iter().chain(remove.iter()).map(|(o, _)| *o).collect();
    LinkDiff {
        add,
        remove,
        changed_owners,
    }
}
