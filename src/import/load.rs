//! The transactional load: one write transaction, records matched by key, a record written only
//! when something in it differs (so importing the same file twice writes nothing).

use super::ImportError;
use super::document::{FIRM_CALENDAR, FirmDocument, PermissionIn, Problem};
use crate::db::begin_write;
use entity::{
    CalendarKind, calendar, calendar_event, event_attendee, firm, group, group_member, matter, matter_permitted_group,
    matter_permitted_user, task, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// How many records of one kind the import created, updated, or found already as in the file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub firm_key: String,
    pub firm_id: i64,
    /// (kind, counts), in file order: firm, users, groups, matters, tasks, calendarEvents.
    pub kinds: Vec<(&'static str, Counts)>,
}

impl ImportSummary {
    pub fn changed(&self) -> usize {
        self.kinds.iter().map(|(_, c)| c.created + c.updated).sum()
    }
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "firm \"{}\": {} records written", self.firm_key, self.changed())?;
        for (kind, c) in &self.kinds {
            writeln!(
                f,
                "  {kind:<15} created {:>6}  updated {:>6}  unchanged {:>6}",
                c.created, c.updated, c.unchanged
            )?;
        }
        Ok(())
    }
}

const CHUNK: usize = 500;

pub async fn load(db: &DatabaseConnection, doc: &FirmDocument) -> Result<ImportSummary, ImportError> {
    let txn = begin_write(db).await?;
    let summary = load_in(&txn, doc).await?;
    txn.commit().await?;
    Ok(summary)
}

async fn load_in<C: ConnectionTrait>(db: &C, doc: &FirmDocument) -> Result<ImportSummary, ImportError> {
    let mut kinds = Vec::new();

    // Firm.
    let mut counts = Counts::default();
    let existing = firm::Entity::find()
        .filter(firm::Column::Key.eq(&doc.firm.key))
        .one(db)
        .await?;
    let firm_id = match existing {
        Some(f) if f.name == doc.firm.name && f.time_zone == doc.firm.time_zone => {
            counts.unchanged += 1;
            f.id
        }
        Some(f) => {
            let mut am: firm::ActiveModel = f.into();
            am.name = Set(doc.firm.name.clone());
            am.time_zone = Set(doc.firm.time_zone.clone());
            counts.updated += 1;
            am.update(db).await?.id
        }
        None => {
            counts.created += 1;
            firm::ActiveModel {
                key: Set(doc.firm.key.clone()),
                name: Set(doc.firm.name.clone()),
                time_zone: Set(doc.firm.time_zone.clone()),
                ..Default::default()
            }
            .insert(db)
            .await?
            .id
        }
    };
    kinds.push(("firm", counts));

    let users = load_users(db, firm_id, doc).await?;
    kinds.push(("users", users.counts));
    let user_id = |key: &str| users.ids[key];
    ensure_calendars(db, firm_id, doc, &users.ids).await?;

    // Groups and their members.
    let mut counts = Counts::default();
    let existing: HashMap<String, group::Model> = group::Entity::find()
        .filter(group::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.key.clone(), g))
        .collect();
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
    let group_ids: HashMap<String, i64> = group::Entity::find()
        .filter(group::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.key, g.id))
        .collect();
    let current: Links = group_member::Entity::find()
        .filter(group_member::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.group_id, m.user_id))
        .collect();
    let wanted: Vec<(i64, BTreeSet<i64>)> = doc
        .groups
        .iter()
        .map(|g| (group_ids[&g.key], g.members.iter().map(|k| user_id(k)).collect()))
        .collect();
    let diff = diff_links(&current, &wanted);
    for (g, u) in &diff.remove {
        group_member::Entity::delete_many()
            .filter(group_member::Column::GroupId.eq(*g))
            .filter(group_member::Column::UserId.eq(*u))
            .exec(db)
            .await?;
    }
    let rows = diff.add.iter().map(|(g, u)| group_member::ActiveModel {
        group_id: Set(*g),
        user_id: Set(*u),
        firm_id: Set(firm_id),
    });
    insert_chunks::<group_member::Entity, _>(db, rows.collect()).await?;
    for g in &doc.groups {
        let id = group_ids[&g.key];
        match existing.get(&g.key) {
            None => counts.created += 1,
            Some(old) if old.name != g.name || diff.changed_owners.contains(&id) => counts.updated += 1,
            Some(_) => counts.unchanged += 1,
        }
    }
    kinds.push(("groups", counts));

    // Matters and their permissions.
    let mut counts = Counts::default();
    let existing: HashMap<String, matter::Model> = matter::Entity::find()
        .filter(matter::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.key.clone(), m))
        .collect();
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
    let matter_ids: HashMap<String, i64> = matter::Entity::find()
        .filter(matter::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.key, m.id))
        .collect();
    let listed = |m: &super::document::MatterIn, pick: fn(&PermissionIn) -> &[String]| -> Vec<String> {
        pick(&m.permission).to_vec()
    };
    fn users_of(p: &PermissionIn) -> &[String] {
        match p {
            PermissionIn::Listed { users, .. } => users,
            PermissionIn::Everyone => &[],
        }
    }
    fn groups_of(p: &PermissionIn) -> &[String] {
        match p {
            PermissionIn::Listed { groups, .. } => groups,
            PermissionIn::Everyone => &[],
        }
    }
    let current: Links = matter_permitted_user::Entity::find()
        .filter(matter_permitted_user::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.matter_id, p.user_id))
        .collect();
    let wanted: Vec<(i64, BTreeSet<i64>)> = doc
        .matters
        .iter()
        .map(|m| {
            (
                matter_ids[&m.key],
                listed(m, users_of).iter().map(|k| user_id(k)).collect(),
            )
        })
        .collect();
    let user_diff = diff_links(&current, &wanted);
    for (m, u) in &user_diff.remove {
        matter_permitted_user::Entity::delete_many()
            .filter(matter_permitted_user::Column::MatterId.eq(*m))
            .filter(matter_permitted_user::Column::UserId.eq(*u))
            .exec(db)
            .await?;
    }
    let rows = user_diff.add.iter().map(|(m, u)| matter_permitted_user::ActiveModel {
        matter_id: Set(*m),
        user_id: Set(*u),
        firm_id: Set(firm_id),
    });
    insert_chunks::<matter_permitted_user::Entity, _>(db, rows.collect()).await?;
    let current: Links = matter_permitted_group::Entity::find()
        .filter(matter_permitted_group::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.matter_id, p.group_id))
        .collect();
    let wanted: Vec<(i64, BTreeSet<i64>)> = doc
        .matters
        .iter()
        .map(|m| {
            (
                matter_ids[&m.key],
                listed(m, groups_of).iter().map(|k| group_ids[k]).collect(),
            )
        })
        .collect();
    let group_diff = diff_links(&current, &wanted);
    for (m, g) in &group_diff.remove {
        matter_permitted_group::Entity::delete_many()
            .filter(matter_permitted_group::Column::MatterId.eq(*m))
            .filter(matter_permitted_group::Column::GroupId.eq(*g))
            .exec(db)
            .await?;
    }
    let rows = group_diff.add.iter().map(|(m, g)| matter_permitted_group::ActiveModel {
        matter_id: Set(*m),
        group_id: Set(*g),
        firm_id: Set(firm_id),
    });
    insert_chunks::<matter_permitted_group::Entity, _>(db, rows.collect()).await?;
    for m in &doc.matters {
        let id = matter_ids[&m.key];
        if !existing.contains_key(&m.key) {
            counts.created += 1;
        } else if updated_keys.contains(&m.key)
            || user_diff.changed_owners.contains(&id)
            || group_diff.changed_owners.contains(&id)
        {
            counts.updated += 1;
        } else {
            counts.unchanged += 1;
        }
    }
    kinds.push(("matters", counts));

    // Tasks.
    let mut counts = Counts::default();
    let existing: HashMap<String, task::Model> = task::Entity::find()
        .filter(task::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.key.clone(), t))
        .collect();
    let mut new_rows = Vec::new();
    for t in &doc.tasks {
        let matter_id = t.matter.as_ref().map(|k| matter_ids[k]);
        let assigner_id = t.assigner.as_deref().map(user_id);
        let mut am = task::ActiveModel {
            firm_id: Set(firm_id),
            key: Set(t.key.clone()),
            name: Set(t.name.clone()),
            matter_id: Set(matter_id),
            assignee_id: Set(user_id(&t.assignee)),
            assigner_id: Set(assigner_id),
            due_date: Set(t.due_date),
            status: Set(t.status),
            statute_of_limitations: Set(t.statute_of_limitations),
            ..Default::default()
        };
        match existing.get(&t.key) {
            None => {
                counts.created += 1;
                new_rows.push(am);
            }
            Some(old)
                if old.name == t.name
                    && old.matter_id == matter_id
                    && old.assignee_id == user_id(&t.assignee)
                    && old.assigner_id == assigner_id
                    && old.due_date == t.due_date
                    && old.status == t.status
                    && old.statute_of_limitations == t.statute_of_limitations =>
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
    insert_chunks::<task::Entity, _>(db, new_rows).await?;
    kinds.push(("tasks", counts));

    // Calendar events and their attendees.
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
    let existing: HashMap<String, calendar_event::Model> = calendar_event::Entity::find()
        .filter(calendar_event::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.key.clone(), e))
        .collect();
    let mut new_rows = Vec::new();
    let mut updated_keys = HashSet::new();
    for e in &doc.calendar_events {
        let matter_id = e.matter.as_ref().map(|k| matter_ids[k]);
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
    let event_ids: HashMap<String, i64> = calendar_event::Entity::find()
        .filter(calendar_event::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.key, e.id))
        .collect();
    let current: Links = event_attendee::Entity::find()
        .filter(event_attendee::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.event_id, a.user_id))
        .collect();
    let wanted: Vec<(i64, BTreeSet<i64>)> = doc
        .calendar_events
        .iter()
        .map(|e| (event_ids[&e.key], e.attendees.iter().map(|k| user_id(k)).collect()))
        .collect();
    let diff = diff_links(&current, &wanted);
    for (e, u) in &diff.remove {
        event_attendee::Entity::delete_many()
            .filter(event_attendee::Column::EventId.eq(*e))
            .filter(event_attendee::Column::UserId.eq(*u))
            .exec(db)
            .await?;
    }
    let rows = diff.add.iter().map(|(e, u)| event_attendee::ActiveModel {
        event_id: Set(*e),
        user_id: Set(*u),
        firm_id: Set(firm_id),
    });
    insert_chunks::<event_attendee::Entity, _>(db, rows.collect()).await?;
    for e in &doc.calendar_events {
        if !existing.contains_key(&e.key) {
            counts.created += 1;
        } else if updated_keys.contains(&e.key) || diff.changed_owners.contains(&event_ids[&e.key]) {
            counts.updated += 1;
        } else {
            counts.unchanged += 1;
        }
    }
    kinds.push(("calendarEvents", counts));

    Ok(ImportSummary {
        firm_key: doc.firm.key.clone(),
        firm_id,
        kinds,
    })
}

struct LoadedUsers {
    counts: Counts,
    ids: HashMap<String, i64>,
}

async fn load_users<C: ConnectionTrait>(db: &C, firm_id: i64, doc: &FirmDocument) -> Result<LoadedUsers, ImportError> {
    let mut counts = Counts::default();
    let existing: HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.key.clone(), u))
        .collect();

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
    let ids = user::Entity::find()
        .filter(user::Column::FirmId.eq(firm_id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.key, u.id))
        .collect();
    Ok(LoadedUsers { counts, ids })
}

/// Every user has one personal calendar; every firm has one firm calendar.
async fn ensure_calendars<C: ConnectionTrait>(
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

type Links = HashSet<(i64, i64)>;

struct LinkDiff {
    add: Vec<(i64, i64)>,
    remove: Vec<(i64, i64)>,
    changed_owners: HashSet<i64>,
}

/// Replace each listed owner's set of links with the wanted set; owners not listed keep theirs.
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

async fn insert_chunks<E, C>(db: &C, rows: Vec<E::ActiveModel>) -> Result<(), ImportError>
where
    E: EntityTrait,
    C: ConnectionTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}
