//! The benchmark firm: generated straight into the database in one transaction, with the
//! source's work spread across every rule and every exclusion reason.

use chrono::{DateTime, Duration, Utc};
use entity::*;
use handover::db::begin_write;
use handover::error::AppResult;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

pub const FIRM_KEY: &str = "bench";

#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub users: usize,
    pub matters: usize,
    pub tasks: usize,
    pub events: usize,
    pub source_matters: usize,
    pub source_tasks: usize,
    pub source_events: usize,
}

impl Size {
    pub fn scaled(scale: f64) -> Size {
        let n = |full: f64, min: usize| ((full * scale).round() as usize).max(min);
        Size {
            users: n(500.0, 10),
            matters: n(50_000.0, 40),
            tasks: n(500_000.0, 200),
            events: n(200_000.0, 100),
            source_matters: n(10_000.0, 20),
            source_tasks: n(100_000.0, 100),
            source_events: n(50_000.0, 50),
        }
    }
}

/// Who is who in the generated firm.
#[derive(Debug, Clone, Copy)]
pub struct People {
    pub firm_id: i64,
    pub admin: i64,
    pub source: i64,
    pub target: i64,
}

async fn insert<E, C>(db: &C, rows: Vec<E::ActiveModel>, per_statement: usize) -> AppResult<()>
where
    E: EntityTrait,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(per_statement).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

async fn ids<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    firm_col: E::Column,
    id_col: E::Column,
    firm_id: i64,
) -> AppResult<Vec<i64>> {
    Ok(E::find()
        .select_only()
        .column(id_col)
        .filter(firm_col.eq(firm_id))
        .order_by_asc(id_col)
        .into_tuple()
        .all(db)
        .await?)
}

/// Find the bench firm, or generate it.
pub async fn ensure(db: &DatabaseConnection, size: Size, now: DateTime<Utc>) -> AppResult<(People, bool)> {
    if let Some(f) = firm::Entity::find()
        .filter(firm::Column::Key.eq(FIRM_KEY))
        .one(db)
        .await?
    {
        let users = ids::<user::Entity, _>(db, user::Column::FirmId, user::Column::Id, f.id).await?;
        return Ok((
            People {
                firm_id: f.id,
                admin: users[0],
                source: users[1],
                target: users[2],
            },
            false,
        ));
    }
    let db_conn = db;
    let txn = begin_write(db).await?;
    let db = &txn;
    let firm_id = firm::Entity::insert(firm::ActiveModel {
        key: Set(FIRM_KEY.into()),
        name: Set("Benchmark LLP".into()),
        time_zone: Set("America/New_York".into()),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;

    let users: Vec<user::ActiveModel> = (0..size.users)
        .map(|i| {
            user::ActiveModel {
                firm_id: Set(firm_id),
                key: Set(format!("u{i}")),
                name: Set(match i {
                    0 => "Bench Admin".into(),
                    1 => "Bench Source".into(),
                    2 => "Bench Target".into(),
                    _ => format!("User {i}"),
                }),
                email: Set(format!("u{i}@bench.test")),
                account_admin: Set(i == 0),
                licence: Set(if i % 4 == 3 {
                    Licence::NonAttorney
                } else {
                    Licence::Attorney
                }),
                enabled: Set(i != 1),
                time_zone: Set(None),
                ..Default::default()
            }
            .folded()
        })
        .collect();
    insert::<user::Entity, _>(db, users, 2000).await?;
    let user_ids = ids::<user::Entity, _>(db, user::Column::FirmId, user::Column::Id, firm_id).await?;
    let (admin, source, target) = (user_ids[0], user_ids[1], user_ids[2]);
    let other = |i: usize| user_ids[3 + i % (user_ids.len() - 3)];

    let mut calendars = vec![calendar::ActiveModel {
        firm_id: Set(firm_id),
        kind: Set(CalendarKind::Firm),
        owner_user_id: Set(None),
        name: Set("Firm".into()),
        ..Default::default()
    }];
    calendars.extend(user_ids.iter().map(|u| calendar::ActiveModel {
        firm_id: Set(firm_id),
        kind: Set(CalendarKind::Personal),
        owner_user_id: Set(Some(*u)),
        name: Set(format!("calendar {u}")),
        ..Default::default()
    }));
    insert::<calendar::Entity, _>(db, calendars, 2000).await?;
    let calendar_ids = ids::<calendar::Entity, _>(db, calendar::Column::FirmId, calendar::Column::Id, firm_id).await?;
    let personal = |user_index: usize| calendar_ids[1 + user_index];

    // Groups: 0 has the target, 1 does not, 2 is the source alone (a private matter by group).
    let groups: Vec<group::ActiveModel> = (0..20)
        .map(|g| group::ActiveModel {
            firm_id: Set(firm_id),
            key: Set(format!("g{g}")),
            name: Set(format!("Group {g}")),
            ..Default::default()
        })
        .collect();
    insert::<group::Entity, _>(db, groups, 2000).await?;
    let group_ids = ids::<group::Entity, _>(db, group::Column::FirmId, group::Column::Id, firm_id).await?;
    let mut members = vec![
        (group_ids[0], source),
        (group_ids[0], target),
        (group_ids[1], source),
        (group_ids[2], source),
    ];
    for (g, &group) in group_ids.iter().enumerate() {
        if g == 2 {
            continue;
        }
        for k in 0..5 {
            members.push((group, other(g * 7 + k)));
        }
    }
    members.sort_unstable();
    members.dedup();
    let members = members
        .into_iter()
        .map(|(g, u)| group_member::ActiveModel {
            group_id: Set(g),
            user_id: Set(u),
            firm_id: Set(firm_id),
        })
        .collect();
    insert::<group_member::Entity, _>(db, members, 2000).await?;

    // Matters. The source's: 65% open or pending for everyone, 10% closed, and 5% each private,
    // group with the target, group without, listed with the target, private by group.
    let mut listed: Vec<(usize, i64)> = Vec::new();
    let mut by_group: Vec<(usize, i64)> = Vec::new();
    let matters: Vec<matter::ActiveModel> = (0..size.matters)
        .map(|i| {
            let mine = i < size.source_matters;
            let bucket = i % 20;
            let mut everyone = true;
            let mut status = if i % 2 == 0 {
                MatterStatus::Open
            } else {
                MatterStatus::Pending
            };
            if mine {
                match bucket {
                    13 | 14 => status = MatterStatus::Closed,
                    15 => {
                        everyone = false;
                        listed.push((i, source));
                    }
                    16 => {
                        everyone = false;
                        by_group.push((i, group_ids[0]));
                    }
                    17 => {
                        everyone = false;
                        by_group.push((i, group_ids[1]));
                    }
                    18 => {
                        everyone = false;
                        listed.extend([(i, source), (i, target), (i, other(i))]);
                    }
                    19 => {
                        everyone = false;
                        by_group.push((i, group_ids[2]));
                    }
                    _ => {}
                }
            } else if bucket == 7 {
                everyone = false;
                by_group.push((i, group_ids[3 + i % 17]));
            } else if bucket == 11 {
                status = MatterStatus::Closed;
            }
            matter::ActiveModel {
                firm_id: Set(firm_id),
                key: Set(format!("m{i}")),
                display_number: Set(format!("{:05}-Bench", i + 1)),
                description: Set(format!("Benchmark matter {i}")),
                status: Set(status),
                practice_area: Set(Some(["Litigation", "Corporate", "Family", "Estates"][i % 4].into())),
                client_name: Set(format!("Client {}", i % 997)),
                responsible_attorney_id: Set(Some(if mine { source } else { other(i) })),
                originating_attorney_id: Set(Some(admin)),
                permission_everyone: Set(everyone),
                ..Default::default()
            }
            .folded()
        })
        .collect();
    insert::<matter::Entity, _>(db, matters, 2000).await?;
    let matter_ids = ids::<matter::Entity, _>(db, matter::Column::FirmId, matter::Column::Id, firm_id).await?;
    let rows = listed
        .into_iter()
        .map(|(m, u)| matter_permitted_user::ActiveModel {
            matter_id: Set(matter_ids[m]),
            user_id: Set(u),
            firm_id: Set(firm_id),
        })
        .collect();
    insert::<matter_permitted_user::Entity, _>(db, rows, 5000).await?;
    let rows = by_group
        .into_iter()
        .map(|(m, g)| matter_permitted_group::ActiveModel {
            matter_id: Set(matter_ids[m]),
            group_id: Set(g),
            firm_id: Set(firm_id),
        })
        .collect();
    insert::<matter_permitted_group::Entity, _>(db, rows, 5000).await?;

    // Tasks. The source's: 10% no matter, 10% complete, 10% past due, 10% due today, 10% on
    // someone else's matter, the rest on the source's own matters (whose mix adds closed,
    // private and no-access).
    let today = now.with_timezone(&chrono_tz::America::New_York).date_naive();
    let others = size.matters - size.source_matters;
    let tasks: Vec<task::ActiveModel> = (0..size.tasks)
        .map(|i| {
            let mine = i < size.source_tasks;
            let bucket = i % 10;
            let matter = if mine {
                match bucket {
                    0 => None,
                    4 => Some(matter_ids[size.source_matters + (i * 13) % others.max(1)]),
                    _ => Some(matter_ids[(i * 7) % size.source_matters]),
                }
            } else {
                Some(matter_ids[(i * 31) % size.matters])
            };
            task::ActiveModel {
                firm_id: Set(firm_id),
                key: Set(format!("t{i}")),
                name: Set(format!("Task {i}")),
                matter_id: Set(matter),
                assignee_id: Set(if mine { source } else { other(i) }),
                assigner_id: Set(Some(admin)),
                due_date: Set(match bucket {
                    2 => Some(today - Duration::days(5)),
                    3 => Some(today),
                    5 => None,
                    _ => Some(today + Duration::days(1 + (i % 60) as i64)),
                }),
                status: Set(if bucket == 1 {
                    TaskStatus::Complete
                } else {
                    TaskStatus::Pending
                }),
                statute_of_limitations: Set(i % 50 == 0),
                ..Default::default()
            }
        })
        .collect();
    insert::<task::Entity, _>(db, tasks, 3000).await?;

    // Events. The source's: 10% no matter, 10% past, 10% all day today, 10% on another user's
    // calendar with the source attending, the rest upcoming on the source's own matters; the
    // source attends a fifth of them.
    let mut attendees: Vec<(usize, i64)> = Vec::new();
    let events: Vec<calendar_event::ActiveModel> = (0..size.events)
        .map(|i| {
            let mine = i < size.source_events;
            let bucket = i % 10;
            let start = match bucket {
                1 if mine => now - Duration::days(3),
                2 if mine => today_midnight(now),
                _ => now + Duration::hours(2 + (i % 500) as i64),
            };
            let calendar = if !mine {
                personal(3 + i % (size.users - 3))
            } else if bucket == 4 {
                attendees.push((i, source));
                personal(3 + i % (size.users - 3))
            } else {
                if i % 5 == 0 {
                    attendees.push((i, source));
                }
                personal(1)
            };
            if !mine && i % 3 == 0 {
                attendees.push((i, other(i + 1)));
            }
            calendar_event::ActiveModel {
                firm_id: Set(firm_id),
                key: Set(format!("e{i}")),
                title: Set(format!("Event {i}")),
                matter_id: Set(if mine && bucket == 0 {
                    None
                } else if mine {
                    Some(matter_ids[(i * 3) % size.source_matters])
                } else {
                    Some(matter_ids[(i * 17) % size.matters])
                }),
                calendar_id: Set(calendar),
                start_at: Set(start),
                end_at: Set(start + Duration::hours(if mine && bucket == 2 { 24 } else { 1 })),
                all_day: Set(mine && bucket == 2),
                ..Default::default()
            }
        })
        .collect();
    insert::<calendar_event::Entity, _>(db, events, 3000).await?;
    let event_ids =
        ids::<calendar_event::Entity, _>(db, calendar_event::Column::FirmId, calendar_event::Column::Id, firm_id)
            .await?;
    let mut rows: Vec<(i64, i64)> = attendees.into_iter().map(|(e, u)| (event_ids[e], u)).collect();
    rows.sort_unstable();
    rows.dedup();
    let rows = rows
        .into_iter()
        .map(|(e, u)| event_attendee::ActiveModel {
            event_id: Set(e),
            user_id: Set(u),
            firm_id: Set(firm_id),
        })
        .collect();
    insert::<event_attendee::Entity, _>(db, rows, 5000).await?;
    txn.commit().await?;
    // Planner statistics, as any database that has lived a while has them.
    db_conn.execute_unprepared("ANALYZE").await?;
    Ok((
        People {
            firm_id,
            admin,
            source,
            target,
        },
        true,
    ))
}

/// Midnight today in New York, as an instant: all-day events of today start there.
fn today_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    handover::firm::start_of_day(now, chrono_tz::America::New_York)
}
