//! Groups (by key) and their members.

use super::links::{self, link_table};
use super::{Counts, Keys, by_key, insert_chunks};
use crate::import::ImportError;
use crate::import::document::FirmDocument;
use entity::group;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use std::collections::{BTreeSet, HashMap};

pub(super) async fn load<C: ConnectionTrait>(
    db: &C,
    doc: &FirmDocument,
    keys: &Keys,
) -> Result<(Counts, HashMap<String, i64>), ImportError> {
    let firm_id = keys.firm_id;
    let existing = by_key(db, group::Column::FirmId, firm_id, |g| (g.key.clone(), g)).await?;
    let mut new_rows = Vec::new();
    for g in &doc.groups {
        match existing.get(&g.key) {
            Some(old) if old.name == g.name => {}
            Some(old) => {
                let mut am: group::ActiveModel = old.clone().into();
                am.name = Set(g.name.clone());
                am.update(db).await?;
            }
            None => new_rows.push(group::ActiveModel {
                firm_id: Set(firm_id),
                key: Set(g.key.clone()),
                name: Set(g.name.clone()),
                ..Default::default()
            }),
        }
    }
    insert_chunks::<group::Entity, _>(db, new_rows).await?;
    let group_ids = by_key(db, group::Column::FirmId, firm_id, |g| (g.key, g.id)).await?;
    let wanted: Vec<(i64, BTreeSet<i64>)> = doc
        .groups
        .iter()
        .map(|g| (group_ids[&g.key], g.members.iter().map(|k| keys.user(k)).collect()))
        .collect();
    let members = link_table!(group_member, GroupId group_id, UserId user_id);
    let changed = links::sync(db, firm_id, members, wanted).await?;
    let mut counts = Counts::default();
    for g in &doc.groups {
        match existing.get(&g.key) {
            None => counts.created += 1,
            Some(old) if old.name != g.name || changed.contains(&group_ids[&g.key]) => counts.updated += 1,
            Some(_) => counts.unchanged += 1,
        }
    }
    Ok((counts, group_ids))
}
