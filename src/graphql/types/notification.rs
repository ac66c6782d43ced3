use super::DateTime;
use super::{NotificationKind, User, load_user};
use crate::graphql::connection::connection;
use crate::ids::{self, Kind};
use async_graphql::{Context, ID, Object};
use entity::notification;

/// A notification: "work was assigned to you" (one per new assignee per reassignment, a digest),
/// or about a planned handover (see `kind`).
#[derive(Clone)]
pub struct WorkAssignedNotification(pub notification::Model);

#[Object]
impl WorkAssignedNotification {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Notification, self.0.id))
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    /// Matters of which you are now the responsible attorney.
    async fn matters(&self) -> i64 {
        self.0.matters
    }

    async fn tasks(&self) -> i64 {
        self.0.tasks
    }

    async fn calendar_events(&self) -> i64 {
        self.0.calendar_events
    }

    /// The administrator who reassigned the work.
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, Some(self.0.actor_user_id)).await
    }

    /// Whose work it was.
    #[allow(clippy::wrong_self_convention)]
    async fn from_user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, Some(self.0.from_user_id)).await
    }

    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// What this notification tells of.
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }

    /// The planned handover it tells of (a heads-up, a failure, a cover that ended).
    async fn planned_handover_id(&self) -> Option<ID> {
        self.0
            .planned_handover_id
            .map(|id| ID(ids::encode(Kind::PlannedHandover, id)))
    }

    /// The reassignment's ID (its details are for administrators); none for a heads-up or a
    /// failure.
    async fn reassignment_id(&self) -> Option<ID> {
        self.0.reassignment_id.map(|id| ID(ids::encode(Kind::Reassignment, id)))
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }

    async fn read_at(&self) -> Option<DateTime> {
        self.0.read_at.map(DateTime)
    }
}

connection!(NotificationConnection, NotificationEdge, WorkAssignedNotification);
