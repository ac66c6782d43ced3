use super::DateTime;
use super::{CalendarKind, Date, Matter, TaskStatus, User, load_user};
use crate::graphql::connection::connection;
use crate::graphql::context::{load_failed, loaders};
use crate::ids::{self, Kind};
use async_graphql::{Context, ID, Object};
use entity::{calendar, calendar_event, task};

/// A matter the viewer may see; `None` when the record has none or the viewer may not see it.
pub async fn visible_matter(ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<Matter>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx)?
        .matters
        .load_one(id)
        .await
        .map_err(load_failed)?
        .map(Matter))
}

#[derive(Clone)]
pub struct Task(pub task::Model);

#[Object]
impl Task {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Task, self.0.id))
    }

    /// The key this task was imported with.
    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn matter(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Matter>> {
        visible_matter(ctx, self.0.matter_id).await
    }

    async fn assignee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, Some(self.0.assignee_id)).await
    }

    async fn assigner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.assigner_id {
            Some(id) => load_user(ctx, Some(id)).await,
            None => Ok(None),
        }
    }

    /// A calendar date; past due when before today in the firm's time zone.
    async fn due_date(&self) -> Option<Date> {
        self.0.due_date.map(Date)
    }

    async fn status(&self) -> TaskStatus {
        self.0.status.into()
    }

    async fn statute_of_limitations(&self) -> bool {
        self.0.statute_of_limitations
    }
}

#[derive(Clone)]
pub struct CalendarEvent(pub calendar_event::Model);

#[Object]
impl CalendarEvent {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::CalendarEvent, self.0.id))
    }

    /// The key this event was imported with.
    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn matter(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Matter>> {
        visible_matter(ctx, self.0.matter_id).await
    }

    /// The calendar that owns the event.
    async fn calendar(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Calendar>> {
        Ok(loaders(ctx)?
            .calendars
            .load_one(self.0.calendar_id)
            .await
            .map_err(load_failed)?
            .map(Calendar))
    }

    async fn start(&self) -> DateTime {
        DateTime(self.0.start_at)
    }

    async fn end(&self) -> DateTime {
        DateTime(self.0.end_at)
    }

    async fn all_day(&self) -> bool {
        self.0.all_day
    }

    async fn attendees(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let l = loaders(ctx)?;
        let ids = l
            .attendees
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?
            .unwrap_or_default();
        let users = l.users.load_many(ids.iter().copied()).await.map_err(load_failed)?;
        let mut out: Vec<User> = ids.iter().filter_map(|id| users.get(id).cloned().map(User)).collect();
        out.sort_by_key(|u| u.0.id);
        Ok(out)
    }
}

/// A user's personal calendar, or the firm calendar.
#[derive(Clone)]
pub struct Calendar(pub calendar::Model);

#[Object]
impl Calendar {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Calendar, self.0.id))
    }

    async fn kind(&self) -> CalendarKind {
        self.0.kind.into()
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The owner of a personal calendar; null for the firm calendar.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.owner_user_id {
            Some(id) => load_user(ctx, Some(id)).await,
            None => Ok(None),
        }
    }
}

connection!(TaskConnection, TaskEdge, Task);
connection!(CalendarEventConnection, CalendarEventEdge, CalendarEvent);
