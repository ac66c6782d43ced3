//! Calendar events (by key) on a user's or the firm's calendar, and their attendees.

use super::links::{self, link_table};
use super::{Counts, Keys, by_key, insert_chunks};
use crate::import::ImportError;
use crate::import::document::{FIRM_CALENDAR, FirmDocument};
use entity::{CalendarKind, calendar, calendar_event};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeSet, HashMap, HashSet};

pub(super) async fn load<C: ConnectionTrait>(db: &C, doc: &FirmDocument, keys: &Keys) -> Result<Counts, ImportError> {
    let firm_id = keys.firm_id;
    let user_id = |key: &str| keys.user(key);
    let mut counts = Counts::default();
    let calendars: Vec<calendar::Model> = calendar::Entity::find()
        .filter(calendar::Column::FirmId.eq(firm_id))
        .all(db)
        .await?;
    let firm_calendar = calendars
        .iter()
        .find(|c| c.kind == CalendarKind::Firm)
        .map(|c| c.id)
        .expect("ensured");
    let personal: HashMap<i64, i64> = calendars
        .iter()
        .filter_map(|c| c.owner_user_id.map(|owner| (owner, c.id)))
        .collect();
    let calendar_of = |key: &str| {
        if key == FIRM_CALENDAR {
            firm_calendar
        } else {
            personal[&user_id(key)]
        }
    };
    let existing = by_key(db, calendar_event::Column::FirmId, firm_id, |e| (e.key.clone(), e)).await?;
    let mut new_rows = Vec::new();
    let mut updated_keys = HashSet::new();
    for e in &doc.calendar_events {
        let matter_id = e.matter.as_ref().map(|k| keys.matters[k]);
        let calendar_id = calendar_of(&e.calendar);
        let mut am = calendar_event::ActiveModel {
            firm_id: Set(firm_id),
            key: Set(e.key.clone()),
            title: Set(e.title.clone()),
            matter_id: Set(matter_id),
            calendar_id: Set(calendar_id),
            start_at: Set(e.start),
            end_at: Set(e.end),
            all_day: Set(e.all_day),
            ..Default::default()
        };
        match existing.get(&e.key) {
            None => new_rows.push(am),
            Some(old)
                if old.title == e.title
                    && old.matter_id == matter_id
                    && old.calendar_id == calendar_id
                    && old.start_at == e.start
                    && old.end_at == e.end
                    && old.all_day == e.all_day => {}
            Some(old) => {
                updated_keys.insert(e.key.clone());
                am.id = Set(old.id);
                am.update(db).await?;
            }
        }
    }
    insert_chunks::<calendar_event::Entity, _>(db, new_rows).await?;
    let event_ids = by_key(db, calendar_event::Column::FirmId, firm_id, |e| (e.key, e.id)).await?;
    let wanted: Vec<(i64, BTreeSet<i64>)> = doc
        .calendar_events
        .iter()
        .map(|e| (event_ids[&e.key], e.attendees.iter().map(|k| user_id(k)).collect()))
        .collect();
    let attendees = link_table!(event_attendee, EventId event_id, UserId user_id);
    let changed = links::sync(db, firm_id, attendees, wanted).await?;
    for e in &doc.calendar_events {
        if !existing.contains_key(&e.key) {
            counts.created += 1;
        } else if updated_keys.contains(&e.key) || changed.contains(&event_ids[&e.key]) {
            counts.updated += 1;
        } else {
            counts.unchanged += 1;
        }
    }
    Ok(counts)
}
