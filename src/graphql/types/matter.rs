use super::{CalendarEventConnection, TaskConnection};
use super::{MatterStatus, User, load_user};
use crate::firm::work;
use crate::graphql::connection::*;
use crate::graphql::context::{db, load_failed, loaders, request};
use crate::graphql::types::{CalendarEvent, Task};
use crate::ids::{self, Kind};
use async_graphql::{Context, ID, Object};
use entity::{group, matter};

#[derive(Clone)]
pub struct Matter(pub matter::Model);

/// Load, in one batch per loader, what the selection asks of a page of matters, so that the
/// statements a page costs do not depend on how its resolvers happen to be scheduled.
pub async fn prime_page(ctx: &Context<'_>, matters: &[matter::Model]) -> async_graphql::Result<()> {
    let look = ctx.look_ahead();
    let node = |f: &str| look.field("nodes").field(f).exists() || look.field("edges").field("node").field(f).exists();
    let deep = |f: &str, g: &str| {
        look.field("nodes").field(f).field(g).exists() || look.field("edges").field("node").field(f).field(g).exists()
    };
    let l = loaders(ctx)?;
    let ids: Vec<i64> = matters.iter().map(|m| m.id).collect();
    let responsible: Vec<i64> = matters.iter().filter_map(|m| m.responsible_attorney_id).collect();
    let mut people = Vec::new();
    if node("responsibleAttorney") {
        people.extend(responsible.iter().copied());
    }
    if node("originatingAttorney") {
        people.extend(matters.iter().filter_map(|m| m.originating_attorney_id));
    }
    let users = async {
        if !people.is_empty() {
            l.users.load_many(people).await.map_err(load_failed)?;
        }
        if deep("responsibleAttorney", "workload") {
            l.workloads.load_many(responsible).await.map_err(load_failed)?;
        }
        Ok::<_, crate::error::AppError>(())
    };
    let counts = async {
        if node("openTaskCount") || node("upcomingEventCount") {
            l.matter_counts
                .load_many(ids.iter().copied())
                .await
                .map_err(load_failed)?;
        }
        Ok::<_, crate::error::AppError>(())
    };
    let permissions = async {
        if node("permission") || node("private") {
            l.permissions
                .load_many(ids.iter().copied())
                .await
                .map_err(load_failed)?;
        }
        Ok::<_, crate::error::AppError>(())
    };
    let (a, b, c) = futures::join!(users, counts, permissions);
    a?;
    b?;
    c?;
    Ok(())
}

#[Object]
impl Matter {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Matter, self.0.id))
    }

    /// The key this matter was imported with.
    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn display_number(&self) -> &str {
        &self.0.display_number
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn status(&self) -> MatterStatus {
        self.0.status.into()
    }

    async fn practice_area(&self) -> Option<&str> {
        self.0.practice_area.as_deref()
    }

    async fn client_name(&self) -> &str {
        &self.0.client_name
    }

    async fn responsible_attorney(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.responsible_attorney_id).await
    }

    async fn originating_attorney(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.originating_attorney_id).await
    }

    /// Who may see this matter.
    async fn permission(&self) -> MatterPermission {
        MatterPermission {
            matter_id: self.0.id,
            everyone: self.0.permission_everyone,
        }
    }

    /// True when the permission resolves to exactly one user (Clio's "Me"): work on a private
    /// matter is never reassigned.
    async fn private(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if self.0.permission_everyone {
            return Ok(false);
        }
        let permission = loaders(ctx)?
            .permissions
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?
            .unwrap_or_default();
        Ok(permission.is_private())
    }

    /// Tasks on this matter that are not complete.
    async fn open_task_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let c = loaders(ctx)?
            .matter_counts
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?
            .unwrap_or_default();
        Ok(c.open_tasks)
    }

    /// Events on this matter that have not started yet.
    async fn upcoming_event_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let c = loaders(ctx)?
            .matter_counts
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?
            .unwrap_or_default();
        Ok(c.upcoming_events)
    }

    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_completed: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<TaskConnection> {
        let req = page_request(ctx, first, after)?;
        let page = work::tasks_on_matter(db(ctx)?, self.0.firm_id, self.0.id, include_completed, req).await?;
        Ok(TaskConnection::from_page(page, |t| t.id, Task))
    }

    async fn calendar_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = true)] upcoming_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CalendarEventConnection> {
        let req = page_request(ctx, first, after)?;
        let since = upcoming_only
            .then(|| request(ctx).map(|r| r.upcoming_since()))
            .transpose()?;
        let page = work::events_on_matter(db(ctx)?, self.0.firm_id, self.0.id, since, req).await?;
        Ok(CalendarEventConnection::from_page(page, |e| e.id, CalendarEvent))
    }
}

/// `everyone`, or the listed users and groups.
pub struct MatterPermission {
    matter_id: i64,
    everyone: bool,
}

#[Object]
impl MatterPermission {
    async fn everyone(&self) -> bool {
        self.everyone
    }

    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let l = loaders(ctx)?;
        let p = l
            .permissions
            .load_one(self.matter_id)
            .await
            .map_err(load_failed)?
            .unwrap_or_default();
        let users = l.users.load_many(p.users.iter().copied()).await.map_err(load_failed)?;
        Ok(p.users
            .iter()
            .filter_map(|id| users.get(id).cloned().map(User))
            .collect())
    }

    async fn groups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Group>> {
        let l = loaders(ctx)?;
        let p = l
            .permissions
            .load_one(self.matter_id)
            .await
            .map_err(load_failed)?
            .unwrap_or_default();
        let groups = l
            .groups
            .load_many(p.groups.iter().copied())
            .await
            .map_err(load_failed)?;
        Ok(p.groups
            .iter()
            .filter_map(|id| groups.get(id).cloned().map(Group))
            .collect())
    }
}

/// A named set of users, used in matter permissions.
#[derive(Clone)]
pub struct Group(pub group::Model);

#[Object]
impl Group {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Group, self.0.id))
    }

    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let l = loaders(ctx)?;
        let ids = l
            .group_members
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

connection!(MatterConnection, MatterEdge, Matter);
