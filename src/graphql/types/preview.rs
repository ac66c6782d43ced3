//! What a reassignment would do, as a front end reads it: the preview, its categories,
//! exclusions, risks and receivers' loads, and the work items they list.

use super::DateTime;
use super::{ExclusionReason, Matter, RiskReason, User, WorkKind, Workload, load_user};
use crate::error::AppError;
use crate::firm::{Page, PageRequest};
use crate::graphql::connection::*;
use crate::graphql::context::{db, load_failed, loaders};
use crate::ids::{self, Kind};
use crate::reassign::{self, Preview, PreviewList};
use async_graphql::{Context, ID, Object};
use std::sync::Arc;

/// A matter, task or calendar event, as listed in previews and reports.
#[derive(Clone)]
pub struct WorkItem {
    pub kind: entity::WorkKind,
    pub record_id: i64,
    pub matter_id: Option<i64>,
    /// Who it goes (or went) to.
    pub to: Option<i64>,
    pub risk: Option<entity::RiskReason>,
}

#[Object]
impl WorkItem {
    /// The record's own ID (a Matter, Task or CalendarEvent ID).
    async fn id(&self) -> ID {
        let kind = match self.kind {
            entity::WorkKind::Matter => Kind::Matter,
            entity::WorkKind::Task | entity::WorkKind::TaskAssigner => Kind::Task,
            entity::WorkKind::CalendarEvent => Kind::CalendarEvent,
        };
        ID(ids::encode(kind, self.record_id))
    }

    async fn kind(&self) -> WorkKind {
        self.kind.into()
    }

    /// The record's import key.
    async fn key(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(self.load(ctx).await?.map(|(key, _)| key))
    }

    /// Display number and description, task name, or event title.
    async fn title(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(self
            .load(ctx)
            .await?
            .map(|(_, title)| title)
            .unwrap_or_else(|| "(deleted)".into()))
    }

    async fn matter(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Matter>> {
        super::work::visible_matter(ctx, self.matter_id).await
    }

    /// Who this record would go to (in a preview; in a report, who it went to). Null for a
    /// record no one could take.
    async fn to_user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.to).await
    }

    /// Why it needs a second look before it moves, if it does.
    async fn risk(&self) -> Option<RiskReason> {
        self.risk.map(Into::into)
    }
}

impl WorkItem {
    async fn load(&self, ctx: &Context<'_>) -> Result<Option<(String, String)>, AppError> {
        let l = loaders(ctx)?;
        Ok(match self.kind {
            entity::WorkKind::Matter => l
                .matters
                .load_one(self.record_id)
                .await
                .map_err(load_failed)?
                .map(|m| (m.key, format!("{} {}", m.display_number, m.description))),
            entity::WorkKind::Task | entity::WorkKind::TaskAssigner => l
                .tasks
                .load_one(self.record_id)
                .await
                .map_err(load_failed)?
                .map(|t| (t.key, t.name)),
            entity::WorkKind::CalendarEvent => l
                .events
                .load_one(self.record_id)
                .await
                .map_err(load_failed)?
                .map(|e| (e.key, e.title)),
        })
    }
}

/// The records a list shows. A plan's are picked from it when a page is asked for, not copied:
/// a preview of 160,000 records would otherwise hold them twice while it answers.
#[derive(Clone)]
enum Records {
    Picked {
        preview: Arc<Preview>,
        kind: entity::WorkKind,
        list: PreviewList,
    },
    /// Risks: few, each reason one kind's (tasks or events), listed as they are found.
    Listed(Vec<WorkItem>),
}

fn work_item(kind: entity::WorkKind, i: &reassign::PlannedItem) -> WorkItem {
    WorkItem {
        kind,
        record_id: i.record_id,
        matter_id: i.matter_id,
        to: i.to,
        risk: i.risk,
    }
}

impl Records {
    fn count(&self) -> usize {
        match self {
            Records::Picked { preview, kind, list } => {
                preview.plan.category(*kind).map_or(0, |c| c.tally().count(*list))
            }
            Records::Listed(items) => items.len(),
        }
    }

    fn items(&self) -> Box<dyn Iterator<Item = WorkItem> + '_> {
        match self {
            Records::Picked { preview, kind, list } => {
                Box::new(picked(preview, *kind, *list).map(|i| work_item(*kind, &i)))
            }
            Records::Listed(items) => Box::new(items.iter().cloned()),
        }
    }

    /// A page by record id (a category's records are in record id order, and so is each risk's).
    fn page(&self, req: PageRequest) -> Page<WorkItem> {
        let after = req.after.unwrap_or(i64::MIN);
        let mut rest = self.items().skip_while(|i| i.record_id <= after);
        let items: Vec<WorkItem> = rest.by_ref().take(req.first as usize).collect();
        Page {
            items,
            has_next_page: rest.next().is_some(),
            total: req.want_total.then(|| self.count() as u64),
        }
    }

    fn connection(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<WorkItemConnection> {
        let req = page_request(ctx, first, after)?;
        Ok(WorkItemConnection::from_page(self.page(req), |i| i.record_id, |i| i))
    }
}

fn picked(
    preview: &Preview,
    kind: entity::WorkKind,
    list: PreviewList,
) -> impl Iterator<Item = reassign::PlannedItem> + '_ {
    preview
        .plan
        .category(kind)
        .into_iter()
        .flat_map(|c| c.items())
        .filter(move |i| i.list() == list)
}

/// A dry run: exactly what `reassignWork` with the same input would do now.
pub struct ReassignmentPreview(pub Arc<Preview>);

#[Object]
impl ReassignmentPreview {
    #[allow(clippy::wrong_self_convention)]
    async fn from_user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, Some(self.0.order.from_user_id))
            .await?
            .ok_or_else(|| AppError::internal("the source of a validated order is gone").into())
    }

    /// The instant "upcoming" and "past due" were measured at.
    async fn cutoff(&self) -> DateTime {
        DateTime(self.0.order.clock.cutoff)
    }

    /// The firm's time zone, in which "today" was taken.
    async fn time_zone(&self) -> &str {
        self.0.order.clock.time_zone.name()
    }

    async fn matters(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::Matter,
            &self.0,
            self.0.order.matters.as_ref().map(|c| c.to),
        )
    }

    async fn tasks(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::Task,
            &self.0,
            self.0.order.tasks.as_ref().map(|c| c.to),
        )
    }

    async fn calendar_events(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::CalendarEvent,
            &self.0,
            self.0.order.events.as_ref().map(|c| c.to),
        )
    }

    /// The past-due sweep: past-due tasks that would move to its user (those it could not move
    /// are listed under `tasks.excluded`). Left out: `toUser` null, count 0.
    async fn past_due_tasks(&self) -> CategoryPreview {
        CategoryPreview::past_due(&self.0, self.0.order.routing.past_due_to)
    }

    /// The assigner sweep: open tasks whose assigner would change.
    async fn assigner(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::TaskAssigner,
            &self.0,
            self.0.order.assigners.as_ref().map(|c| c.to),
        )
    }

    /// Each user who would receive work, with their load before and after.
    async fn targets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TargetLoad>> {
        Ok(self.0.targets(db(ctx)?).await?.into_iter().map(TargetLoad).collect())
    }

    /// Moving records that need a second look, by reason (a record under its first reason).
    /// When any is listed, `reassignWork` needs `acknowledgeRisks: true`.
    async fn risks(&self) -> Vec<Risk> {
        self.0
            .plan
            .risks()
            .into_iter()
            .map(|(reason, items)| Risk {
                reason: reason.into(),
                items: Records::Listed(items.into_iter().map(|(kind, i)| work_item(kind, &i)).collect()),
            })
            .collect()
    }

    /// Pass to `reassignWork` to apply exactly this plan, or nothing.
    async fn preview_token(&self) -> &str {
        &self.0.token
    }
}

pub struct CategoryPreview {
    to: Option<i64>,
    /// `None` when the order leaves the category out.
    preview: Option<Arc<Preview>>,
    kind: entity::WorkKind,
    /// The list its `count` and `items` are (moving, or the past-due sweep's).
    moving: PreviewList,
}

impl CategoryPreview {
    pub(super) fn new(kind: entity::WorkKind, preview: &Arc<Preview>, to: Option<i64>) -> Self {
        let planned = preview.plan.category(kind).is_some();
        CategoryPreview {
            to: to.filter(|_| planned),
            preview: planned.then(|| preview.clone()),
            kind,
            moving: PreviewList::Moving,
        }
    }

    fn past_due(preview: &Arc<Preview>, to: Option<i64>) -> Self {
        CategoryPreview {
            moving: PreviewList::PastDue,
            ..CategoryPreview::new(entity::WorkKind::Task, preview, to)
        }
    }

    fn records(&self, list: PreviewList) -> Records {
        match &self.preview {
            Some(preview) => Records::Picked {
                preview: preview.clone(),
                kind: self.kind,
                list,
            },
            None => Records::Listed(Vec::new()),
        }
    }
}

/// A receiving user's load before and after the reassignment.
pub struct TargetLoad(reassign::TargetLoad);

#[Object]
impl TargetLoad {
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, Some(self.0.user_id))
            .await?
            .ok_or_else(|| AppError::internal("a receiver of a validated order is gone").into())
    }

    async fn before(&self) -> Workload {
        workload(self.0.before)
    }

    async fn after(&self) -> Workload {
        workload(self.0.after)
    }
}

fn workload(w: crate::firm::users::Workload) -> Workload {
    Workload {
        open_matters: w.open_matters,
        open_tasks: w.open_tasks,
        upcoming_events: w.upcoming_events,
    }
}

#[Object]
impl CategoryPreview {
    /// The target; null when the category is left out.
    async fn to_user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.to).await
    }

    /// How many records would move.
    async fn count(&self) -> usize {
        self.records(self.moving).count()
    }

    /// What would move.
    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<WorkItemConnection> {
        self.records(self.moving).connection(ctx, first, after)
    }

    /// What would not move, one entry per reason that applies.
    async fn excluded(&self) -> Vec<Exclusion> {
        let plan = self.preview.as_ref().and_then(|p| p.plan.category(self.kind));
        match (plan, self.moving) {
            (Some(plan), PreviewList::Moving) => plan
                .exclusion_reasons()
                .into_iter()
                .map(|reason| Exclusion {
                    reason: reason.into(),
                    items: self.records(PreviewList::Excluded(reason)),
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

// Records under one reason: why they would not move (`Exclusion`) or why they need a second
// look (`Risk`). One implementation, two GraphQL types.
pub struct Grouped<R> {
    reason: R,
    items: Records,
}

pub type Exclusion = Grouped<ExclusionReason>;
pub type Risk = Grouped<RiskReason>;

#[Object(
    concrete(name = "Exclusion", params(ExclusionReason)),
    concrete(name = "Risk", params(RiskReason))
)]
impl<R: async_graphql::OutputType + Copy> Grouped<R> {
    async fn reason(&self) -> R {
        self.reason
    }

    async fn count(&self) -> usize {
        self.items.count()
    }

    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<WorkItemConnection> {
        self.items.connection(ctx, first, after)
    }
}

connection!(WorkItemConnection, WorkItemEdge, WorkItem);
