//! Durable notifications and outbox emails: written with the reassignment, read and marked by
//! their recipient.

use super::Published;
use super::digest::{self, Arrivals, When};
use crate::auth::Viewer;
use crate::error::AppResult;
use crate::firm::page::{self, Page, PageRequest};
use chrono::{DateTime, Utc};
use entity::{NotificationKind, OutboxState, RiskReason, WorkKind, notification, outbox_email, reassignment, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use std::collections::BTreeMap;

/// What one new assignee received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub matters: i64,
    pub tasks: i64,
    pub calendar_events: i64,
    /// Tasks of which they became the assigner (the assigner sweep).
    pub assigner_of: i64,
    /// Of what arrived, how much is at risk (SPEC.md section 9), by reason.
    pub statute_of_limitations: i64,
    pub due_soon: i64,
    pub starts_soon: i64,
}

impl Delivery {
    /// One more record of `kind`, carrying `risk`.
    pub fn count(&mut self, kind: WorkKind, risk: Option<RiskReason>) {
        self.add(kind, 1);
        match risk {
            Some(RiskReason::StatuteOfLimitations) => self.statute_of_limitations += 1,
            Some(RiskReason::DueSoon) => self.due_soon += 1,
            Some(RiskReason::StartsSoon) => self.starts_soon += 1,
            None => {}
        }
    }

    /// `n` more records of `kind`.
    pub fn add(&mut self, kind: WorkKind, n: i64) {
        match kind {
            WorkKind::Matter => self.matters += n,
            WorkKind::Task => self.tasks += n,
            WorkKind::CalendarEvent => self.calendar_events += n,
            WorkKind::TaskAssigner => self.assigner_of += n,
        }
    }

    /// The risk marks of a digest: "2 tasks due within 7 days, 1 statute-of-limitations task".
    pub fn risk_marks(&self, window_days: u16) -> Option<String> {
        let marks: Vec<String> = [
            (self.due_soon, "task due", "tasks due"),
            (
                self.statute_of_limitations,
                "statute-of-limitations task",
                "statute-of-limitations tasks",
            ),
            (self.starts_soon, "event starting", "events starting"),
        ]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| {
            let text = plural(n, one, many);
            if one.ends_with("task") {
                text
            } else {
                format!("{text} within {window_days} days")
            }
        })
        .collect();
        (!marks.is_empty()).then(|| marks.join(", "))
    }
}

/// What each new assignee of a reassignment received: the counts, and which records.
#[derive(Debug, Default)]
pub struct Received {
    pub deliveries: BTreeMap<i64, Delivery>,
    pub arrivals: BTreeMap<i64, Arrivals>,
}

impl Received {
    /// `to` received record `id` of `kind`, carrying `risk`, falling `when`.
    pub fn record(&mut self, to: i64, kind: WorkKind, id: i64, risk: Option<RiskReason>, when: When) {
        self.deliveries.entry(to).or_default().count(kind, risk);
        let arrived = self.arrivals.entry(to).or_default();
        match kind {
            WorkKind::Matter => arrived.matters.push(id),
            WorkKind::Task => arrived.tasks.push(when, id),
            WorkKind::CalendarEvent => arrived.events.push(when, id),
            WorkKind::TaskAssigner => {}
        }
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn summary(d: &Delivery) -> String {
    let parts: Vec<String> = [
        (d.matters, "matter", "matters"),
        (d.tasks, "task", "tasks"),
        (d.calendar_events, "calendar event", "calendar events"),
    ]
    .into_iter()
    .filter(|(n, ..)| *n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    match parts.len() {
        0 => "nothing".into(),
        1 => parts[0].clone(),
        _ => format!("{} and {}", parts[..parts.len() - 1].join(", "), parts[parts.len() - 1]),
    }
}

/// One notification and one outbox email per new assignee of `batch`, in the caller's
/// transaction. No one is told about their own work (the acting administrator) and deactivated
/// users are told nothing.
pub async fn record_for_batch<C: ConnectionTrait>(
    db: &C,
    batch: &reassignment::Model,
    received: &Received,
    window_days: u16,
    now: DateTime<Utc>,
) -> AppResult<Vec<Published>> {
    let (deliveries, arrivals) = (&received.deliveries, &received.arrivals);
    let mut wanted: Vec<i64> = deliveries.keys().copied().collect();
    wanted.extend([batch.actor_user_id, batch.from_user_id]);
    let people = crate::firm::users::by_ids(db, batch.firm_id, wanted).await?;
    let name = |id: i64| {
        people
            .get(&id)
            .map_or_else(|| "someone".to_string(), |u| u.name.clone())
    };
    let (actor, from) = (name(batch.actor_user_id), name(batch.from_user_id));
    let firm_zone: chrono_tz::Tz = batch.time_zone.parse().unwrap_or(chrono_tz::UTC);

    let mut published = Vec::new();
    for (&user_id, delivery) in deliveries {
        let Some(recipient) = people.get(&user_id) else {
            continue;
        };
        if user_id == batch.actor_user_id || !recipient.enabled || *delivery == Delivery::default() {
            continue;
        }
        let title = format!("{actor} assigned you work from {from}");
        let total = delivery.matters + delivery.tasks + delivery.calendar_events;
        let mut lead = if total > 0 {
            format!(
                "{} {} now yours.",
                summary(delivery),
                if total == 1 { "is" } else { "are" }
            )
        } else {
            String::new()
        };
        if let Some(marks) = delivery.risk_marks(window_days) {
            lead.push_str(&format!(" Needs attention first: {marks}."));
        }
        if delivery.assigner_of > 0 {
            if !lead.is_empty() {
                lead.push(' ');
            }
            lead.push_str(&format!(
                "You are now the assigner of {} (completion notices come to you).",
                plural(delivery.assigner_of, "open task", "open tasks")
            ));
        }
        // The assignee's own time zone for the events' times, else the firm's.
        let zone = recipient
            .time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(firm_zone);
        let lists = digest::lists(
            db,
            arrivals.get(&user_id).unwrap_or(&Arrivals::default()),
            zone,
            firm_zone,
        )
        .await?;
        let mut body = format!("{lead}{}", lists.text());
        let mut html = format!("{}{}", digest::paragraphs(&lead), lists.html());
        if let Some(note) = &batch.note {
            let note = format!("Note from {actor}: {note}");
            body.push_str(&format!("\n\n{note}"));
            html.push_str(&digest::paragraphs(&note));
        }
        let told = tell(
            db,
            Message {
                kind: NotificationKind::WorkAssigned,
                recipient,
                reassignment_id: Some(batch.id),
                planned_handover_id: None,
                actor_user_id: batch.actor_user_id,
                from_user_id: batch.from_user_id,
                delivery: *delivery,
                title,
                body,
                html: Some(html),
                note: batch.note.clone(),
            },
            now,
        )
        .await?;
        published.push(told);
    }
    Ok(published)
}

/// What to tell one person, and about what.
pub struct Message<'a> {
    pub kind: NotificationKind,
    pub recipient: &'a user::Model,
    pub reassignment_id: Option<i64>,
    pub planned_handover_id: Option<i64>,
    pub actor_user_id: i64,
    pub from_user_id: i64,
    pub delivery: Delivery,
    pub title: String,
    pub body: String,
    /// The body as HTML for the email; `None`: its paragraphs.
    pub html: Option<String>,
    pub note: Option<String>,
}

/// One durable notification and its outbox email, in the caller's transaction.
pub async fn tell<C: ConnectionTrait>(db: &C, message: Message<'_>, now: DateTime<Utc>) -> AppResult<Published> {
    let recipient = message.recipient;
    let html = message.html.unwrap_or_else(|| digest::paragraphs(&message.body));
    let row = notification::ActiveModel {
        firm_id: Set(recipient.firm_id),
        user_id: Set(recipient.id),
        kind: Set(message.kind),
        reassignment_id: Set(message.reassignment_id),
        planned_handover_id: Set(message.planned_handover_id),
        actor_user_id: Set(message.actor_user_id),
        from_user_id: Set(message.from_user_id),
        matters: Set(message.delivery.matters),
        tasks: Set(message.delivery.tasks),
        calendar_events: Set(message.delivery.calendar_events),
        title: Set(message.title.clone()),
        body: Set(message.body.clone()),
        note: Set(message.note),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    outbox_email::Entity::insert(outbox_email::ActiveModel {
        firm_id: Set(recipient.firm_id),
        notification_id: Set(row.id),
        to_address: Set(recipient.email.clone()),
        subject: Set(message.title),
        // The link to the console is the mailer's (it knows the public URL).
        body: Set(format!("Hello {},\n\n{}\n", recipient.name, message.body)),
        body_html: Set(Some(format!(
            "<p>Hello {},</p>\n{html}",
            digest::escape(&recipient.name)
        ))),
        state: Set(OutboxState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(Published(std::sync::Arc::new(row)))
}

/// The viewer's notifications, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    unread_only: bool,
    req: PageRequest,
) -> AppResult<Page<notification::Model>> {
    let mut select = notification::Entity::find()
        .filter(notification::Column::FirmId.eq(viewer.firm_id()))
        .filter(notification::Column::UserId.eq(viewer.user_id()));
    if unread_only {
        select = select.filter(notification::Column::ReadAt.is_null());
    }
    page::fetch_newest_first(db, select, notification::Column::Id, req).await
}

/// One of the viewer's notifications (anyone else's is simply absent).
pub async fn get<C: ConnectionTrait>(db: &C, viewer: &Viewer, id: i64) -> AppResult<Option<notification::Model>> {
    Ok(notification::Entity::find_by_id(id)
        .filter(notification::Column::FirmId.eq(viewer.firm_id()))
        .filter(notification::Column::UserId.eq(viewer.user_id()))
        .one(db)
        .await?)
}

/// Mark the viewer's notifications read: these ids, or all of them. Returns how many changed.
/// An id that is not one of the viewer's notifications is `NOT_FOUND`, and nothing changes.
pub async fn mark_read<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    ids: Option<Vec<i64>>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    if let Some(ids) = &ids {
        let wanted: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
        let mine = notification::Entity::find()
            .filter(notification::Column::FirmId.eq(viewer.firm_id()))
            .filter(notification::Column::UserId.eq(viewer.user_id()))
            .filter(notification::Column::Id.is_in(wanted.iter().copied()))
            .count(db)
            .await?;
        if mine != wanted.len() as u64 {
            return Err(crate::error::AppError::NotFound("notification"));
        }
    }
    let mut update = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::FirmId.eq(viewer.firm_id()))
        .filter(notification::Column::UserId.eq(viewer.user_id()))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(notification::Column::Id.is_in(ids));
    }
    Ok(update.exec(db).await?.rows_affected)
}
