use super::{CalendarEventConnection, MatterConnection, TaskConnection};
use super::{Licence, MatterStatus};
use crate::firm::work;
use crate::graphql::connection::*;
use crate::graphql::context::{db, load_failed, loaders, request, viewer};
use crate::graphql::types::{CalendarEvent, Matter, Task};
use crate::ids::{self, Kind};
use async_graphql::{Context, ID, Object, SimpleObject};
use entity::{firm, user};

#[derive(Clone)]
pub struct User(pub user::Model);

/// A firm member.
#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::User, self.0.id))
    }

    /// The key this user was imported with.
    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn account_admin(&self) -> bool {
        self.0.account_admin
    }

    async fn licence(&self) -> Licence {
        self.0.licence.into()
    }

    /// False when the account is deactivated.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// The user's IANA time zone (the firm's when the user has none of their own).
    async fn time_zone(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(match &self.0.time_zone {
            Some(tz) => tz.clone(),
            None => viewer(ctx)?.firm.time_zone.clone(),
        })
    }

    async fn firm(&self, ctx: &Context<'_>) -> async_graphql::Result<Firm> {
        Ok(Firm(viewer(ctx)?.firm.clone()))
    }

    /// What this person holds, counted as the reassignment rules count work in motion.
    /// Administrators, and the user themselves.
    async fn workload(&self, ctx: &Context<'_>) -> async_graphql::Result<Workload> {
        let v = viewer(ctx)?;
        if v.user_id() != self.0.id {
            v.require_admin()?;
        }
        let w = loaders(ctx)?
            .workloads
            .load_one(self.0.id)
            .await
            .map_err(load_failed)?
            .unwrap_or_default();
        Ok(Workload {
            open_matters: w.open_matters,
            open_tasks: w.open_tasks,
            upcoming_events: w.upcoming_events,
        })
    }

    /// Matters where this user is the responsible attorney (default: open and pending).
    async fn matters(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<MatterStatus>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<MatterConnection> {
        let v = viewer(ctx)?;
        if v.user_id() != self.0.id {
            v.require_admin()?;
        }
        let req = page_request(ctx, first, after)?;
        let status = match status {
            Some(asked) => asked.into_iter().map(Into::into).collect(),
            None => entity::MatterStatus::ACTIVE.to_vec(),
        };
        let filter = crate::firm::matters::MatterFilter {
            status: Some(status),
            responsible_attorney_id: Some(self.0.id),
            ..Default::default()
        };
        let page = crate::firm::matters::list(db(ctx)?, v, &filter, req).await?;
        crate::graphql::types::prime_matter_page(ctx, &page.items).await?;
        Ok(MatterConnection::from_page(page, |m| m.id, Matter))
    }

    /// Tasks assigned to this user (default: not complete).
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_completed: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<TaskConnection> {
        let req = page_request(ctx, first, after)?;
        let page = work::tasks_of(db(ctx)?, viewer(ctx)?, self.0.id, include_completed, req).await?;
        Ok(TaskConnection::from_page(page, |t| t.id, Task))
    }

    /// Events on this user's personal calendar (default: upcoming only).
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
        let page = work::events_of(db(ctx)?, viewer(ctx)?, self.0.id, since, req).await?;
        Ok(CalendarEventConnection::from_page(page, |e| e.id, CalendarEvent))
    }
}

/// Counts of the work a person holds.
#[derive(SimpleObject)]
pub struct Workload {
    /// Open or pending matters where they are the responsible attorney.
    pub open_matters: i64,
    /// Tasks assigned to them that are not complete.
    pub open_tasks: i64,
    /// Events on their personal calendar that have not started yet.
    pub upcoming_events: i64,
}

#[derive(Clone)]
pub struct Firm(pub firm::Model);

#[Object]
impl Firm {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Firm, self.0.id))
    }

    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// IANA time zone; "today" and "past due" are measured in it.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
}

/// A user of the viewer's firm by id, through the request's loader; `None` when absent.
pub async fn load_user(ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    Ok(crate::graphql::context::loaders(ctx)?
        .users
        .load_one(id)
        .await
        .map_err(crate::graphql::context::load_failed)?
        .map(User))
}

connection!(UserConnection, UserEdge, User);
