//! Planned handovers (SPEC.md section 8) and deactivation, as GraphQL types.

use super::DateTime;
use super::{
    CategoryPreview, PlannedHandoverStatus, ReassignWorkInput, Reassignment, ReassignmentPreview, User, UserError,
    load_user,
};
use crate::error::AppError;
use crate::graphql::connection::connection;
use crate::graphql::context::{db, live, now, viewer};
use crate::ids::{self, Kind};
use crate::planned::{self, PlanRequest, deactivate::Deactivation};
use crate::reassign::{self, history};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::planned_handover;
use std::sync::Arc;

#[derive(InputObject)]
pub struct PlanHandoverInput {
    /// The work, as for `reassignWork` (`previewToken` and `idempotencyKey` are not accepted).
    pub work: ReassignWorkInput,
    /// Exactly one of `startsAt` and `startsOn`.
    pub starts_at: Option<DateTime>,
    /// 00:00 of that day in the firm's time zone; today starts at once.
    pub starts_on: Option<super::Date>,
    /// A temporary cover: the work goes back then. At most one of `returnsAt` and `returnsOn`.
    pub returns_at: Option<DateTime>,
    pub returns_on: Option<super::Date>,
    /// A leaver: deactivate the source when the handover starts, in the same transaction.
    #[graphql(default = false)]
    pub deactivate_source: bool,
}

impl PlanHandoverInput {
    pub fn to_request(&self) -> PlanRequest {
        PlanRequest {
            work: self.work.to_request(),
            starts_at: self.starts_at.map(|t| t.0),
            starts_on: self.starts_on.as_ref().map(|d| d.0),
            returns_at: self.returns_at.map(|t| t.0),
            returns_on: self.returns_on.as_ref().map(|d| d.0),
            deactivate_source: self.deactivate_source,
        }
    }
}

/// The result of `planHandover` and `cancelPlannedHandover`.
#[derive(SimpleObject)]
pub struct PlanHandoverPayload {
    pub planned_handover: Option<PlannedHandover>,
    pub user_errors: Vec<UserError>,
}

impl PlanHandoverPayload {
    pub fn from_outcome(outcome: reassign::Outcome<planned_handover::Model>) -> Self {
        match outcome {
            Ok(plan) => PlanHandoverPayload {
                planned_handover: Some(PlannedHandover(plan)),
                user_errors: Vec::new(),
            },
            Err(errors) => PlanHandoverPayload {
                planned_handover: None,
                user_errors: errors.into_iter().map(UserError::from).collect(),
            },
        }
    }
}

#[derive(Clone)]
pub struct PlannedHandover(pub planned_handover::Model);

/// A handover on a date: for good, or for a period after which the work goes back.
#[Object]
impl PlannedHandover {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::PlannedHandover, self.0.id))
    }

    async fn status(&self) -> PlannedHandoverStatus {
        self.0.status.into()
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// The administrator who planned it; the start runs on their behalf.
    async fn created_by(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, Some(self.0.created_by_user_id))
            .await?
            .ok_or_else(|| AppError::internal("a plan's administrator is gone").into())
    }

    #[allow(clippy::wrong_self_convention)]
    async fn from_user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, Some(self.0.from_user_id))
            .await?
            .ok_or_else(|| AppError::internal("a plan's source is gone").into())
    }

    async fn starts_at(&self) -> DateTime {
        DateTime(self.0.starts_at)
    }

    /// When the work goes back; null for a handover for good.
    async fn returns_at(&self) -> Option<DateTime> {
        self.0.returns_at.map(DateTime)
    }

    async fn deactivate_source(&self) -> bool {
        self.0.deactivate_source
    }

    /// The reassignment that ran at the start.
    async fn start_reassignment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Reassignment>> {
        linked(ctx, self.0.start_reassignment_id).await
    }

    /// The reassignment that gave the work back.
    async fn return_reassignment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Reassignment>> {
        linked(ctx, self.0.return_reassignment_id).await
    }

    /// Why it failed, when it did.
    async fn failure(&self) -> Option<Vec<UserError>> {
        (self.0.status == entity::PlannedHandoverStatus::Failed)
            .then(|| planned::failure(&self.0).into_iter().map(UserError::from).collect())
    }

    /// What would move if the plan started now: computed now, with the rules of a
    /// `reassignmentPreview` of its work (the start plans afresh). Null once it has started, or
    /// when its work would no longer be accepted (the start would then fail).
    async fn preview_now(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ReassignmentPreview>> {
        if self.0.status != entity::PlannedHandoverStatus::Scheduled {
            return Ok(None);
        }
        let work = planned::Work::parse(&self.0.work)?;
        let outcome = reassign::preview(db(ctx)?, live(ctx)?, viewer(ctx)?, &work.request(), now(ctx)?).await?;
        Ok(outcome.ok().map(|p| ReassignmentPreview(Arc::new(p))))
    }
}

async fn linked(ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<Reassignment>> {
    let Some(id) = id else { return Ok(None) };
    Ok(history::find(db(ctx)?, viewer(ctx)?.firm_id(), id)
        .await?
        .map(Reassignment))
}

connection!(PlannedHandoverConnection, PlannedHandoverEdge, PlannedHandover);

pub struct OpenWork(pub Arc<reassign::Preview>);

/// What a user holds that a reassignment would move, and what it would leave, per category.
#[Object]
impl OpenWork {
    async fn matters(&self) -> CategoryPreview {
        CategoryPreview::new(entity::WorkKind::Matter, &self.0, None)
    }

    async fn tasks(&self) -> CategoryPreview {
        CategoryPreview::new(entity::WorkKind::Task, &self.0, None)
    }

    async fn calendar_events(&self) -> CategoryPreview {
        CategoryPreview::new(entity::WorkKind::CalendarEvent, &self.0, None)
    }
}

/// The result of `deactivateUser` and `reactivateUser`.
#[derive(SimpleObject)]
pub struct DeactivateUserPayload {
    /// The user as they are now (unchanged when refused).
    pub user: Option<User>,
    /// With `HOLDS_WORK`: what would move, and what would not and why.
    pub open_work: Option<OpenWork>,
    pub user_errors: Vec<UserError>,
}

impl From<Deactivation> for DeactivateUserPayload {
    fn from(d: Deactivation) -> Self {
        DeactivateUserPayload {
            user: d.user.map(User),
            open_work: d.open_work.map(|p| OpenWork(Arc::new(p))),
            user_errors: d.user_errors.into_iter().map(UserError::from).collect(),
        }
    }
}
