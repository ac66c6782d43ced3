use super::{
    ExclusionReason, ItemOutcome, Matter, ReassignmentStatus, RiskReason, User, WorkKind, Workload, load_user,
};
use crate::error::AppError;
use crate::firm::{Page, PageRequest};
use crate::graphql::connection::*;
use crate::graphql::context::{db, load_failed, loaders};
use crate::ids::{self, Kind};
use crate::reassign::{self, Preview};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{reassignment, reassignment_item};
use std::sync::Arc;

/// One category of work in a reassignment.
#[derive(InputObject, Default, Clone)]
pub struct CategoryInput {
    /// Leave the category out with `false`.
    #[graphql(default = true)]
    pub include: bool,
    /// The target for this category; overrides `ReassignWorkInput.toUserId`.
    pub to_user_id: Option<ID>,
}

#[derive(InputObject)]
pub struct ReassignWorkInput {
    /// Whose work: any user of the firm, enabled or deactivated.
    pub from_user_id: ID,
    /// The default target of every included category.
    pub to_user_id: Option<ID>,
    /// Omitted: included, to the default target.
    pub matters: Option<CategoryInput>,
    pub tasks: Option<CategoryInput>,
    pub calendar_events: Option<CategoryInput>,
    /// Only work on these matters.
    pub matter_ids: Option<Vec<ID>>,
    /// Add the target to the permission of matters it may not see, instead of skipping their
    /// work as TARGET_NO_ACCESS.
    #[graphql(default = false)]
    pub grant_matter_access: bool,
    /// Shown to the new assignees.
    pub note: Option<String>,
    /// A retry with the same key and input returns the first result and changes nothing.
    pub idempotency_key: Option<String>,
    /// From `reassignmentPreview`: refuse (PREVIEW_STALE) if the plan is no longer the same.
    pub preview_token: Option<String>,
    /// Ordered; the first route whose condition matches a matter decides its new responsible
    /// attorney. Matters no route takes go to the matters' target.
    pub routes: Option<Vec<RouteInput>>,
    /// Tasks and events go to whoever receives their matter in this reassignment; other tasks
    /// and events go to their category's target.
    #[graphql(default = true)]
    pub follow_matter: bool,
    /// Required when the plan has risks (see `ReassignmentPreview.risks`); otherwise the
    /// reassignment is refused with RISK_NOT_ACKNOWLEDGED and nothing changes.
    #[graphql(default = false)]
    pub acknowledge_risks: bool,
    /// Tasks due, and events starting, from today through today + this many days (firm time
    /// zone) are risks.
    #[graphql(default = 7)]
    pub risk_window_days: i32,
    /// Opt-in: past-due tasks (which would stay behind as PAST_DUE) go to this user instead,
    /// e.g. a supervisor.
    pub past_due_tasks: Option<CategoryInput>,
    /// Opt-in: open tasks the source assigned, anywhere in the firm, get this user as assigner.
    pub assigner: Option<CategoryInput>,
}

/// Which matters a route takes: every criterion given must match (none given: every matter).
/// Practice areas and clients are compared case-insensitively.
#[derive(InputObject, Default)]
pub struct RouteCondition {
    pub practice_areas: Option<Vec<String>>,
    pub clients: Option<Vec<String>>,
    pub matter_ids: Option<Vec<ID>>,
}

/// Matters that match `when` go to `toUserId`, or are shared out across `pool` (exactly one).
#[derive(InputObject)]
pub struct RouteInput {
    pub when: RouteCondition,
    pub to_user_id: Option<ID>,
    pub pool: Option<Vec<ID>>,
    #[graphql(default_with = "super::PoolStrategy::LeastLoaded")]
    pub strategy: super::PoolStrategy,
}

impl ReassignWorkInput {
    pub fn to_request(&self) -> reassign::Request {
        let user = |id: &ID| ids::decode(Kind::User, id).map_err(|_| ());
        let matter = |id: &ID| ids::decode(Kind::Matter, id).map_err(|_| ());
        let category = |c: &Option<CategoryInput>| match c {
            None => reassign::CategoryChoice::default(),
            Some(c) => reassign::CategoryChoice {
                include: c.include,
                to_user_id: c.to_user_id.as_ref().map(user),
            },
        };
        reassign::Request {
            from_user_id: Some(user(&self.from_user_id)),
            to_user_id: self.to_user_id.as_ref().map(user),
            matters: category(&self.matters),
            tasks: category(&self.tasks),
            calendar_events: category(&self.calendar_events),
            matter_ids: self.matter_ids.as_ref().map(|list| list.iter().map(matter).collect()),
            grant_matter_access: self.grant_matter_access,
            note: self.note.clone(),
            idempotency_key: self.idempotency_key.clone(),
            preview_token: self.preview_token.clone(),
            routes: self
                .routes
                .iter()
                .flatten()
                .map(|r| reassign::RouteRequest {
                    practice_areas: r.when.practice_areas.clone(),
                    clients: r.when.clients.clone(),
                    matter_ids: r.when.matter_ids.as_ref().map(|list| list.iter().map(matter).collect()),
                    to_user_id: r.to_user_id.as_ref().map(user),
                    pool: r.pool.as_ref().map(|list| list.iter().map(user).collect()),
                    strategy: r.strategy.into(),
                })
                .collect(),
            follow_matter: Some(self.follow_matter),
            acknowledge_risks: self.acknowledge_risks,
            risk_window_days: Some(i64::from(self.risk_window_days)),
            past_due_tasks: self.past_due_tasks.as_ref().map(|c| category(&Some(c.clone()))),
            assigner: self.assigner.as_ref().map(|c| category(&Some(c.clone()))),
        }
    }
}

/// A business rejection of a mutation's input.
#[derive(SimpleObject, Clone)]
pub struct UserError {
    /// Path to the input field at fault.
    pub field: Option<Vec<String>>,
    pub message: String,
    pub code: String,
}

impl From<reassign::UserError> for UserError {
    fn from(e: reassign::UserError) -> Self {
        UserError {
            field: e.field,
            message: e.message,
            code: e.code.to_string(),
        }
    }
}

/// Preview refusals are errors of the query: `BAD_USER_INPUT`, with the same `userErrors` a
/// mutation would return in `extensions`.
pub fn preview_refused(errors: Vec<reassign::UserError>) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    let message = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
    let list: Vec<async_graphql::Value> = errors
        .iter()
        .map(|e| {
            let mut m = async_graphql::indexmap::IndexMap::new();
            m.insert(
                async_graphql::Name::new("field"),
                e.field
                    .clone()
                    .map(|f| async_graphql::Value::List(f.into_iter().map(async_graphql::Value::String).collect()))
                    .unwrap_or(async_graphql::Value::Null),
            );
            m.insert(
                async_graphql::Name::new("message"),
                async_graphql::Value::String(e.message.clone()),
            );
            m.insert(
                async_graphql::Name::new("code"),
                async_graphql::Value::String(e.code.to_string()),
            );
            async_graphql::Value::Object(m)
        })
        .collect();
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", "BAD_USER_INPUT");
        ext.set("userErrors", async_graphql::Value::List(list.clone()));
    })
}

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

/// A connection over planned items, paged by record id.
fn work_item_connection(
    ctx: &Context<'_>,
    items: &[WorkItem],
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<WorkItemConnection> {
    let req = page_request(ctx, first, after)?;
    Ok(WorkItemConnection::from_page(
        item_page(items, req),
        |i| i.record_id,
        |i| i,
    ))
}

/// A page of planned items, by record id.
fn item_page(items: &[WorkItem], req: PageRequest) -> Page<WorkItem> {
    let start = req
        .after
        .map_or(0, |after| items.partition_point(|i| i.record_id <= after));
    let end = (start + req.first as usize).min(items.len());
    Page {
        items: items[start..end].to_vec(),
        has_next_page: end < items.len(),
        total: Some(items.len() as u64),
    }
}

fn work_items(kind: entity::WorkKind, items: &[&reassign::PlannedItem]) -> Vec<WorkItem> {
    items
        .iter()
        .map(|i| WorkItem {
            kind,
            record_id: i.record_id,
            matter_id: i.matter_id,
            to: i.to,
            risk: i.risk,
        })
        .collect()
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
    async fn cutoff(&self) -> DateTime<Utc> {
        self.0.order.clock.cutoff
    }

    /// The firm's time zone, in which "today" was taken.
    async fn time_zone(&self) -> &str {
        self.0.order.clock.time_zone.name()
    }

    async fn matters(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::Matter,
            self.0.plan.matters.as_ref(),
            self.0.order.matters.as_ref().map(|c| c.to),
        )
    }

    async fn tasks(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::Task,
            self.0.plan.tasks.as_ref(),
            self.0.order.tasks.as_ref().map(|c| c.to),
        )
    }

    async fn calendar_events(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::CalendarEvent,
            self.0.plan.events.as_ref(),
            self.0.order.events.as_ref().map(|c| c.to),
        )
    }

    /// The past-due sweep: past-due tasks that would move to its user (those it could not move
    /// are listed under `tasks.excluded`). Left out: `toUser` null, count 0.
    async fn past_due_tasks(&self) -> CategoryPreview {
        CategoryPreview::past_due(self.0.plan.tasks.as_ref(), self.0.order.routing.past_due_to)
    }

    /// The assigner sweep: open tasks whose assigner would change.
    async fn assigner(&self) -> CategoryPreview {
        CategoryPreview::new(
            entity::WorkKind::TaskAssigner,
            self.0.plan.assigners.as_ref(),
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
                reason,
                items: items
                    .into_iter()
                    .map(|(kind, i)| work_items(kind, &[i]).remove(0))
                    .collect(),
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
    moving: Vec<WorkItem>,
    excluded: Vec<(entity::ExclusionReason, Vec<WorkItem>)>,
}

impl CategoryPreview {
    pub(super) fn new(kind: entity::WorkKind, plan: Option<&reassign::CategoryPlan>, to: Option<i64>) -> Self {
        match plan {
            None => CategoryPreview {
                to: None,
                moving: Vec::new(),
                excluded: Vec::new(),
            },
            Some(p) => CategoryPreview {
                to,
                // Past-due tasks moved by the sweep are listed under `pastDueTasks`.
                moving: work_items(kind, &p.moving().filter(|i| !i.past_due).collect::<Vec<_>>()),
                excluded: p
                    .excluded()
                    .into_iter()
                    .map(|(r, items)| (r, work_items(kind, &items)))
                    .collect(),
            },
        }
    }
}

impl CategoryPreview {
    fn past_due(tasks: Option<&reassign::CategoryPlan>, to: Option<i64>) -> Self {
        CategoryPreview {
            to: to.filter(|_| tasks.is_some()),
            moving: tasks.map_or_else(Vec::new, |p| {
                work_items(
                    entity::WorkKind::Task,
                    &p.moving().filter(|i| i.past_due).collect::<Vec<_>>(),
                )
            }),
            excluded: Vec::new(),
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

/// Moving records at risk, for one reason.
pub struct Risk {
    reason: entity::RiskReason,
    items: Vec<WorkItem>,
}

#[Object]
impl Risk {
    async fn reason(&self) -> RiskReason {
        self.reason.into()
    }

    async fn count(&self) -> usize {
        self.items.len()
    }

    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<WorkItemConnection> {
        work_item_connection(ctx, &self.items, first, after)
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
        self.moving.len()
    }

    /// What would move.
    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<WorkItemConnection> {
        work_item_connection(ctx, &self.moving, first, after)
    }

    /// What would not move, one entry per reason that applies.
    async fn excluded(&self) -> Vec<Exclusion> {
        self.excluded
            .iter()
            .map(|(reason, items)| Exclusion {
                reason: *reason,
                items: items.clone(),
            })
            .collect()
    }
}

pub struct Exclusion {
    reason: entity::ExclusionReason,
    items: Vec<WorkItem>,
}

#[Object]
impl Exclusion {
    async fn reason(&self) -> ExclusionReason {
        self.reason.into()
    }

    async fn count(&self) -> usize {
        self.items.len()
    }

    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<WorkItemConnection> {
        work_item_connection(ctx, &self.items, first, after)
    }
}

/// The result of `reassignWork` and `undoReassignment`.
#[derive(SimpleObject)]
pub struct ReassignWorkPayload {
    /// The reassignment written (or, for a repeated idempotency key, the first one).
    pub reassignment: Option<Reassignment>,
    pub user_errors: Vec<UserError>,
    /// True when an earlier reassignment with the same idempotency key was returned.
    pub replayed: bool,
}

impl ReassignWorkPayload {
    pub fn from_outcome(outcome: reassign::Outcome<reassign::Applied>) -> Self {
        match outcome {
            Ok(applied) => ReassignWorkPayload {
                reassignment: Some(Reassignment(applied.reassignment)),
                user_errors: Vec::new(),
                replayed: applied.replayed,
            },
            Err(errors) => ReassignWorkPayload {
                reassignment: None,
                user_errors: errors.into_iter().map(Into::into).collect(),
                replayed: false,
            },
        }
    }
}

#[derive(Clone)]
pub struct Reassignment(pub reassignment::Model);

/// What one category of a reassignment did.
#[derive(SimpleObject)]
pub struct CategoryResult {
    /// False when the category was left out.
    pub included: bool,
    pub to_user: Option<User>,
    /// Records moved.
    pub reassigned: i64,
}

impl Reassignment {
    async fn category(
        &self,
        ctx: &Context<'_>,
        to: Option<i64>,
        reassigned: i64,
    ) -> async_graphql::Result<CategoryResult> {
        let to_user = load_user(ctx, to).await?;
        Ok(CategoryResult {
            included: to.is_some(),
            to_user,
            reassigned,
        })
    }
}

#[Object]
impl Reassignment {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Reassignment, self.0.id))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn status(&self) -> ReassignmentStatus {
        self.0.status.into()
    }

    /// The administrator who ran it.
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, Some(self.0.actor_user_id)).await
    }

    /// Whose work it considered.
    #[allow(clippy::wrong_self_convention)]
    async fn from_user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, Some(self.0.from_user_id)).await
    }

    /// The instant "upcoming" and "past due" were measured at.
    async fn cutoff(&self) -> DateTime<Utc> {
        self.0.cutoff_at
    }

    /// The firm time zone "today" was taken in.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }

    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    async fn grant_matter_access(&self) -> bool {
        self.0.grant_matter_access
    }

    async fn idempotency_key(&self) -> Option<&str> {
        self.0.idempotency_key.as_deref()
    }

    /// The matters the reassignment was restricted to, if any.
    async fn matter_ids(&self) -> Option<Vec<ID>> {
        self.0.matter_ids.as_ref().map(|s| {
            s.split(',')
                .filter_map(|n| n.parse().ok())
                .map(|n| ID(ids::encode(Kind::Matter, n)))
                .collect()
        })
    }

    async fn matters(&self, ctx: &Context<'_>) -> async_graphql::Result<CategoryResult> {
        self.category(ctx, self.0.matters_to_user_id, self.0.matters_reassigned)
            .await
    }

    async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<CategoryResult> {
        self.category(ctx, self.0.tasks_to_user_id, self.0.tasks_reassigned)
            .await
    }

    async fn calendar_events(&self, ctx: &Context<'_>) -> async_graphql::Result<CategoryResult> {
        self.category(ctx, self.0.events_to_user_id, self.0.events_reassigned)
            .await
    }

    /// Records considered but not moved, all categories together.
    async fn skipped(&self) -> i64 {
        self.0.items_skipped
    }

    /// The reassignment this one undid.
    async fn undo_of(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Reassignment>> {
        self.related(ctx, self.0.undo_of_id).await
    }

    /// The reassignment that undid this one.
    async fn undone_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Reassignment>> {
        self.related(ctx, self.0.undone_by_id).await
    }

    /// The report: one item per record considered, moved or not.
    async fn items(
        &self,
        ctx: &Context<'_>,
        kind: Option<WorkKind>,
        outcome: Option<ItemOutcome>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ReassignmentItemConnection> {
        let req = page_request(ctx, first, after)?;
        let page =
            reassign::history::items(db(ctx)?, &self.0, kind.map(Into::into), outcome.map(Into::into), req).await?;
        Ok(ReassignmentItemConnection::from_page(page, |i| i.id, ReassignmentItem))
    }

    /// Where to download the report as CSV (`report.json` beside it for JSON); Bearer auth.
    async fn report_url(&self) -> String {
        format!(
            "/reassignments/{}/report.csv",
            ids::encode(Kind::Reassignment, self.0.id)
        )
    }
}

impl Reassignment {
    async fn related(&self, ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<Reassignment>> {
        let Some(id) = id else { return Ok(None) };
        Ok(reassign::history::find(db(ctx)?, self.0.firm_id, id)
            .await?
            .map(Reassignment))
    }
}

/// One record a reassignment considered.
#[derive(Clone)]
pub struct ReassignmentItem(pub reassignment_item::Model);

#[Object]
impl ReassignmentItem {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::ReassignmentItem, self.0.id))
    }

    async fn kind(&self) -> WorkKind {
        self.0.kind.into()
    }

    async fn record(&self) -> WorkItem {
        WorkItem {
            kind: self.0.kind,
            record_id: self.0.record_id,
            matter_id: self.0.matter_id,
            to: self.0.new_holder_id,
            risk: self.0.risk,
        }
    }

    /// Who held it when the reassignment ran.
    async fn previous_holder(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, Some(self.0.previous_holder_id)).await
    }

    /// Who it was moved to; null when skipped.
    async fn new_holder(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.new_holder_id).await
    }

    async fn outcome(&self) -> ItemOutcome {
        self.0.outcome.into()
    }

    /// Why it was skipped; null when reassigned.
    async fn reason(&self) -> Option<ExclusionReason> {
        self.0.reason.map(Into::into)
    }

    /// Events: the new holder took the previous holder's place among the attendees.
    async fn attendee_replaced(&self) -> bool {
        self.0.attendee_replaced
    }

    /// Why it needed a second look when it moved, if it did.
    async fn risk(&self) -> Option<RiskReason> {
        self.0.risk.map(Into::into)
    }
}

connection!(WorkItemConnection, WorkItemEdge, WorkItem);
connection!(ReassignmentConnection, ReassignmentEdge, Reassignment);
connection!(ReassignmentItemConnection, ReassignmentItemEdge, ReassignmentItem);
