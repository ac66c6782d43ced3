//! A reassignment as asked (the input), as answered (the payload) and as recorded (history and
//! its items, the report).

use super::DateTime;
use super::preview::WorkItem;
use super::{ExclusionReason, ItemOutcome, ReassignmentStatus, RiskReason, User, WorkKind, load_user};
use crate::graphql::connection::*;
use crate::graphql::context::db;
use crate::ids::{self, Kind};
use crate::reassign;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::{reassignment, reassignment_item};

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

    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
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
    async fn cutoff(&self) -> DateTime {
        DateTime(self.0.cutoff_at)
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

connection!(ReassignmentConnection, ReassignmentEdge, Reassignment);
connection!(ReassignmentItemConnection, ReassignmentItemEdge, ReassignmentItem);
