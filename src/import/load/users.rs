//! Users (by key; an email stays unique in the firm by its folded form) and the calendars every
//! user and the firm have.

use super::{Counts, by_key, insert_chunks};
use crate::import::ImportError;
use crate::import::document::{FirmDocument, Problem};
use entity::{CalendarKind, calendar, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};

pub(super) struct LoadedUsers {
    pub counts: Counts,
    pub ids: HashMap<String, i64>,
}

pub(super) async fn load<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    doc: &FirmDocument,
) -> Result<LoadedUsers, ImportError> {
    let mut counts = Counts::default();
    let existing = by_key(db, user::Column::FirmId, firm_id, |u| (u.key.clone(), u)).await?;

    // An email must stay unique in the firm, also against users the file does not mention.
    let mut problems = Vec::new();
    let file_keys: HashSet<&str> = doc.users.iter().map(|u| u.key.as_str()).collect();
    for (i, u) in doc.users.iter().enumerate() {
        if let Some(other) = existing
            .values()
            .find(|o| !file_keys.contains(o.key.as_str()) && o.email_folded == entity::fold(&u.email))
        {
            problems.push(Problem {
                path: format!("$.users[{i}].email"),
                message: format!(
                    "email \"{}\" already belongs to user \"{}\" of this firm",
                    u.email, other.key
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid(problems));
    }

    let mut new_rows = Vec::new();
    for u in &doc.users {
        let mut am = user::ActiveModel {
            firm_id: Set(firm_id),
            key: Set(u.key.clone()),
            name: Set(u.name.clone()),
            email: Set(u.email.clone()),
            account_admin: Set(u.account_admin),
            licence: Set(u.licence),
            enabled: Set(u.enabled),
            time_zone: Set(u.time_zone.clone()),
            ..Default::default()
        }
        .folded();
        match existing.get(&u.key) {
            None => {
                counts.created += 1;
                new_rows.push(am);
            }
            Some(old)
                if old.name == u.name
                    && old.email == u.email
                    && old.account_admin == u.account_admin
                    && old.licence == u.licence
                    && old.enabled == u.enabled
                    && old.time_zone == u.time_zone =>
            {
                counts.unchanged += 1
            }
            Some(old) => {
                counts.updated += 1;
                am.id = Set(old.id);
                am.update(db).await?;
            }
        }
    }
    insert_chunks::<user::Entity, _>(db, new_rows).await?;
    let ids = by_key(db, user::Column::FirmId, firm_id, |u| (u.key, u.id)).await?;
    Ok(LoadedUsers { counts, ids })
}

/// Every user has one personal calendar; every firm has one firm calendar.
pub(super) async fn ensure_calendars<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    doc: &FirmDocument,
    user_ids: &HashMap<String, i64>,
) -> Result<(), ImportError> {
    let calendars = calendar::Entity::find()
        .filter(calendar::Column::FirmId.eq(firm_id))
        .all(db)
        .await?;
    let mut rows = Vec::new();
    if !calendars.iter().any(|c| c.kind == CalendarKind::Firm) {
        rows.push(calendar::ActiveModel {
            firm_id: Set(firm_id),
            kind: Set(CalendarKind::Firm),
            owner_user_id: Set(None),
            name: Set(doc.firm.name.clone()),
            ..Default::default()
        });
    }
    let owners: HashSet<i64> = calendars.iter().filter_map(|c| c.owner_user_id).collect();
    for u in &doc.users {
        let id = user_ids[&u.key];
        if !owners.contains(&id) {
            rows.push(calendar::ActiveModel {
                firm_id: Set(firm_id),
                kind: Set(CalendarKind::Personal),
                owner_user_id: Set(Some(id)),
                name: Set(u.name.clone()),
                ..Default::default()
            });
        }
    }
    insert_chunks::<calendar::Entity, _>(db, rows).await?;
    Ok(())
}
