//! Matters (by key) and their permissions: everyone, or the users and groups listed.

use super::links::{self, link_table};
use super::{Counts, Keys, by_key, insert_chunks};
use crate::import::ImportError;
use crate::import::document::{FirmDocument, PermissionIn};
use entity::matter;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use std::collections::{BTreeSet, HashMap, HashSet};

pub(super) async fn load<C: ConnectionTrait>(
    db: &C,
    doc: &FirmDocument,
    keys: &Keys,
) -> Result<(Counts, HashMap<String, i64>), ImportError> {
    let firm_id = keys.firm_id;
    let user_id = |key: &str| keys.user(key);
    let existing = by_key(db, matter::Column::FirmId, firm_id, |m| (m.key.clone(), m)).await?;
    let mut new_rows = Vec::new();
    let mut updated_keys = HashSet::new();
    for m in &doc.matters {
        let mut am = matter::ActiveModel {
            firm_id: Set(firm_id),
            key: Set(m.key.clone()),
            display_number: Set(m.display_number.clone()),
            description: Set(m.description.clone()),
            status: Set(m.status),
            practice_area: Set(m.practice_area.clone()),
            client_name: Set(m.client.clone()),
            responsible_attorney_id: Set(m.responsible_attorney.as_deref().map(user_id)),
            originating_attorney_id: Set(m.originating_attorney.as_deref().map(user_id)),
            permission_everyone: Set(m.permission == PermissionIn::Everyone),
            ..Default::default()
        }
        .folded();
        match existing.get(&m.key) {
            None => new_rows.push(am),
            Some(old) => {
                let same = old.display_number == m.display_number
                    && old.description == m.description
                    && old.status == m.status
                    && old.practice_area == m.practice_area
                    && old.client_name == m.client
                    && old.responsible_attorney_id == m.responsible_attorney.as_deref().map(user_id)
                    && old.originating_attorney_id == m.originating_attorney.as_deref().map(user_id)
                    && old.permission_everyone == (m.permission == PermissionIn::Everyone);
                if !same {
                    am.id = Set(old.id);
                    am.update(db).await?;
                    updated_keys.insert(m.key.clone());
                }
            }
        }
    }
    insert_chunks::<matter::Entity, _>(db, new_rows).await?;
    let matter_ids = by_key(db, matter::Column::FirmId, firm_id, |m| (m.key, m.id)).await?;

    let listed = |ids: &dyn Fn(&PermissionIn) -> BTreeSet<i64>| -> Vec<(i64, BTreeSet<i64>)> {
        doc.matters
            .iter()
            .map(|m| (matter_ids[&m.key], ids(&m.permission)))
            .collect()
    };
    let users = listed(&|p| match p {
        PermissionIn::Listed { users, .. } => users.iter().map(|k| keys.user(k)).collect(),
        PermissionIn::Everyone => BTreeSet::new(),
    });
    let groups = listed(&|p| match p {
        PermissionIn::Listed { groups, .. } => groups.iter().map(|k| keys.groups[k]).collect(),
        PermissionIn::Everyone => BTreeSet::new(),
    });
    let permitted_users = link_table!(matter_permitted_user, MatterId matter_id, UserId user_id);
    let permitted_groups = link_table!(matter_permitted_group, MatterId matter_id, GroupId group_id);
    let mut changed = links::sync(db, firm_id, permitted_users, users).await?;
    changed.extend(links::sync(db, firm_id, permitted_groups, groups).await?);

    let mut counts = Counts::default();
    for m in &doc.matters {
        if !existing.contains_key(&m.key) {
            counts.created += 1;
        } else if updated_keys.contains(&m.key) || changed.contains(&matter_ids[&m.key]) {
            counts.updated += 1;
        } else {
            counts.unchanged += 1;
        }
    }
    Ok((counts, matter_ids))
}
