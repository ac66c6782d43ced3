//! Planned handovers (SPEC.md section 8): work handed over on a date, for a period with an
//! automatic return, or for good when someone leaves the firm.
//!
//! - this file: planning (`plan`), cancelling, and reading plans;
//! - [`schedule`]: the durable scheduler; each due start and return is claimed in its own
//!   transaction and runs once, all-or-nothing, through the reassignment engine;
//! - [`deactivate`]: deactivating a user, guarded so that work is never left with someone who
//!   cannot log in.
//!
//! A plan stores the work as validated (`Work`); at its start it is validated again and planned
//! afresh with the rules of section 3 at that instant.

pub mod deactivate;
pub mod schedule;

use crate::auth::Viewer;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::firm::page::{self, Page, PageRequest};
use crate::firm::{firm_tz, midnight};
use crate::notify::{Delivery, Live, Published, store};
use crate::reassign::{self, CategoryChoice, Order, Outcome, Request, Run, UserError, input};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{NotificationKind, PlannedHandoverStatus as Status, planned_handover, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};

/// A `planHandover` request, IDs decoded.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    pub work: Request,
    pub starts_at: Option<DateTime<Utc>>,
    pub starts_on: Option<NaiveDate>,
    pub returns_at: Option<DateTime<Utc>>,
    pub returns_on: Option<NaiveDate>,
    pub deactivate_source: bool,
}

/// A stored route as the request it came from, to be validated again at the start.
fn route_request(route: &reassign::rules::route::Route) -> reassign::RouteRequest {
    use reassign::rules::route::Receiver;
    let names = |set: &Option<std::collections::BTreeSet<String>>| set.as_ref().map(|s| s.iter().cloned().collect());
    let (to_user_id, pool, strategy) = match &route.to {
        Receiver::User(id) => (Some(Ok(*id)), None, reassign::rules::route::Strategy::LeastLoaded),
        Receiver::Pool { members, strategy } => (None, Some(members.iter().copied().map(Ok).collect()), *strategy),
    };
    reassign::RouteRequest {
        practice_areas: names(&route.when.practice_areas),
        clients: names(&route.when.clients),
        matter_ids: route
            .when
            .matter_ids
            .as_ref()
            .map(|ids| ids.iter().copied().map(Ok).collect()),
        to_user_id,
        pool,
        strategy,
    }
}

/// The work of a plan as validated: whose, each included category's target, the options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    pub from: i64,
    pub matters_to: Option<i64>,
    pub tasks_to: Option<i64>,
    pub events_to: Option<i64>,
    pub matter_ids: Option<Vec<i64>>,
    pub grant_matter_access: bool,
    pub note: Option<String>,
    /// Section 9: routes, sweeps, risks (absent in plans made before them).
    #[serde(default)]
    pub routing: reassign::order::Routing,
    #[serde(default)]
    pub assigner_to: Option<i64>,
    /// Tasks, events: their category had no target of its own, so they follow their matter.
    #[serde(default)]
    pub tasks_follow: bool,
    #[serde(default)]
    pub events_follow: bool,
}

impl Work {
    fn of(order: &Order) -> Self {
        let to = |c: &Option<reassign::CategorySpec>| c.as_ref().map(|c| c.to);
        Work {
            from: order.from_user_id,
            matters_to: to(&order.matters),
            tasks_to: to(&order.tasks),
            events_to: to(&order.events),
            matter_ids: order.matter_ids.as_ref().map(|ids| ids.iter().copied().collect()),
            grant_matter_access: order.grant_access,
            note: order.note.clone(),
            routing: order.routing.clone(),
            assigner_to: to(&order.assigners),
            tasks_follow: order.tasks.as_ref().is_some_and(|c| c.follows_matter),
            events_follow: order.events.as_ref().is_some_and(|c| c.follows_matter),
        }
    }

    /// The request this work is, to be validated again at the start.
    pub fn request(&self) -> Request {
        let choice = |to: Option<i64>| CategoryChoice {
            include: to.is_some(),
            to_user_id: to.map(Ok),
        };
        // A category that followed its matter had no target of its own: it took the default.
        let follows = |to: Option<i64>, follow: bool| {
            if follow {
                CategoryChoice {
                    include: to.is_some(),
                    to_user_id: None,
                }
            } else {
                choice(to)
            }
        };
        let default = [(self.tasks_to, self.tasks_follow), (self.events_to, self.events_follow)]
            .into_iter()
            .find_map(|(to, follow)| to.filter(|_| follow));
        Request {
            from_user_id: Some(Ok(self.from)),
            to_user_id: default.map(Ok),
            matters: choice(self.matters_to),
            tasks: follows(self.tasks_to, self.tasks_follow),
            calendar_events: follows(self.events_to, self.events_follow),
            matter_ids: self
                .matter_ids
                .as_ref()
                .map(|ids| ids.iter().copied().map(Ok).collect()),
            grant_matter_access: self.grant_matter_access,
            note: self.note.clone(),
            idempotency_key: None,
            preview_token: None,
            routes: self.routing.routes.iter().map(route_request).collect(),
            follow_matter: Some(self.routing.follow_matter),
            acknowledge_risks: self.routing.acknowledge_risks,
            risk_window_days: Some(i64::from(self.routing.risk_window_days)),
            past_due_tasks: self.routing.past_due_to.map(|to| choice(Some(to))),
            assigner: self.assigner_to.map(|to| choice(Some(to))),
        }
    }

    /// The people the work goes to, each once.
    fn targets(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = [
            self.matters_to,
            self.tasks_to,
            self.events_to,
            self.routing.past_due_to,
            self.assigner_to,
        ]
        .into_iter()
        .flatten()
        .chain(self.routing.routes.iter().flat_map(|r| r.receivers().iter().copied()))
        .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn parse(text: &str) -> AppResult<Work> {
        serde_json::from_str(text).map_err(|e| AppError::internal(format!("stored work: {e}")))
    }
}

/// A validation error of the work, placed under `input.work`.
fn under_work(e: UserError) -> UserError {
    e.nested_at(&["input", "work"])
}

/// Exactly one of an instant and a day (00:00 in the firm's time zone); `required` says whether
/// neither is an error.
fn instant(
    at: Option<DateTime<Utc>>,
    on: Option<NaiveDate>,
    names: [&str; 2],
    tz: chrono_tz::Tz,
    required: bool,
    errors: &mut Vec<UserError>,
) -> Option<DateTime<Utc>> {
    match (at, on) {
        (Some(at), None) => Some(at),
        (None, Some(day)) => Some(midnight(day, tz)),
        (None, None) => {
            if required {
                errors.push(UserError::new(
                    &["input", names[0]],
                    "REQUIRED",
                    format!("give {} or {}", names[0], names[1]),
                ));
            }
            None
        }
        (Some(_), Some(_)) => {
            errors.push(UserError::new(
                &["input", names[1]],
                "ONE_OF",
                format!("give {} or {}, not both", names[0], names[1]),
            ));
            None
        }
    }
}

/// Whether deactivating `user_id` leaves the firm without an enabled administrator.
pub(crate) async fn is_last_admin<C: ConnectionTrait>(db: &C, firm_id: i64, user_id: i64) -> AppResult<bool> {
    let admins: Vec<i64> = user::Entity::find()
        .filter(user::Column::FirmId.eq(firm_id))
        .filter(user::Column::AccountAdmin.eq(true))
        .filter(user::Column::Enabled.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    Ok(admins == [user_id])
}

/// Plans of the same source that are still to run or running, overlapping `[starts, returns)`
/// (a plan with no return runs on for ever).
async fn overlapping<C: ConnectionTrait>(
    db: &C,
    firm_id: i64,
    from: i64,
    starts: DateTime<Utc>,
    returns: Option<DateTime<Utc>>,
) -> AppResult<bool> {
    let plans = planned_handover::Entity::find()
        .filter(planned_handover::Column::FirmId.eq(firm_id))
        .filter(planned_handover::Column::FromUserId.eq(from))
        .filter(planned_handover::Column::Status.is_in([Status::Scheduled, Status::Active]))
        .all(db)
        .await?;
    Ok(plans.iter().any(|p| {
        let before_other_ends = p.returns_at.is_none_or(|end| starts < end);
        let other_starts_before = returns.is_none_or(|end| p.starts_at < end);
        before_other_ends && other_starts_before
    }))
}

/// Plan a handover: validated now as `reassignWork` would be, stored, and each target told in
/// advance with counts from a preview. A start that is already due (`startsOn` today) runs at
/// once.
pub async fn plan(
    db: &DatabaseConnection,
    live: &Live,
    viewer: &Viewer,
    request: &PlanRequest,
    now: DateTime<Utc>,
) -> AppResult<Outcome<planned_handover::Model>> {
    viewer.require_admin()?;
    let mut errors = Vec::new();
    for (given, field) in [
        (request.work.preview_token.is_some(), "previewToken"),
        (request.work.idempotency_key.is_some(), "idempotencyKey"),
    ] {
        if given {
            errors.push(UserError::new(
                &["input", "work", field],
                "NOT_ACCEPTED",
                format!("{field} is not accepted in a plan: the plan is made afresh when it starts"),
            ));
        }
    }
    let order = match input::validate(db, viewer, &request.work, now).await? {
        Ok(order) => Some(order),
        Err(refused) => {
            errors.extend(refused.into_iter().map(under_work));
            None
        }
    };
    let tz = firm_tz(&viewer.firm.time_zone);
    let starts = instant(
        request.starts_at,
        request.starts_on,
        ["startsAt", "startsOn"],
        tz,
        true,
        &mut errors,
    );
    let returns = instant(
        request.returns_at,
        request.returns_on,
        ["returnsAt", "returnsOn"],
        tz,
        false,
        &mut errors,
    );
    let today = now.with_timezone(&tz).date_naive();
    if let Some(s) = starts
        && s < now
        && request.starts_on != Some(today)
    {
        errors.push(UserError::new(
            &[
                "input",
                if request.starts_on.is_some() {
                    "startsOn"
                } else {
                    "startsAt"
                },
            ],
            "IN_PAST",
            "the start is in the past",
        ));
    }
    if let (Some(s), Some(r)) = (starts, returns)
        && r <= s
    {
        errors.push(UserError::new(
            &[
                "input",
                if request.returns_on.is_some() {
                    "returnsOn"
                } else {
                    "returnsAt"
                },
            ],
            "RETURN_BEFORE_START",
            "the return must come after the start",
        ));
    }
    if request.deactivate_source {
        if returns.is_some() {
            errors.push(UserError::new(
                &["input", "deactivateSource"],
                "DEACTIVATE_WITH_RETURN",
                "a cover returns its work to the source, who must then be able to log in: deactivate only a leaver",
            ));
        }
        if let Some(order) = &order {
            if order.from_user_id == viewer.user_id() {
                errors.push(UserError::new(
                    &["input", "deactivateSource"],
                    "SELF",
                    "you cannot plan your own deactivation",
                ));
            } else if is_last_admin(db, viewer.firm_id(), order.from_user_id).await? {
                errors.push(UserError::new(
                    &["input", "deactivateSource"],
                    "LAST_ADMIN",
                    "the firm's last enabled administrator cannot be deactivated",
                ));
            }
        }
    }
    let (Some(order), Some(starts), true) = (order, starts, errors.is_empty()) else {
        return Ok(Err(errors));
    };

    // Counts for the heads-up, from a preview now (labelled "about": they are made afresh at
    // the start).
    // The slot is let go before a start already due runs (it takes one of its own).
    let expected = {
        let slot = live.planning.enter().await?;
        let preview = reassign::run(&order, Run::DryRun(db), &slot).await?;
        preview.map(|ran| ran.plan.deliveries()).unwrap_or_default()
    };

    let work = Work::of(&order);
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // Two plans for one source at once: the second waits here and then sees the first.
        txn.execute_raw(crate::db::statement(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT id FROM \"user\" WHERE id = $1 FOR UPDATE",
            vec![order.from_user_id.into()],
        ))
        .await?;
    }
    if overlapping(&txn, viewer.firm_id(), order.from_user_id, starts, returns).await? {
        txn.rollback().await?;
        return Ok(Err(vec![UserError::new(
            &["input", "startsAt"],
            "OVERLAPS",
            "another plan for the same person covers part of this period",
        )]));
    }
    let row = planned_handover::ActiveModel {
        firm_id: Set(viewer.firm_id()),
        created_by_user_id: Set(viewer.user_id()),
        from_user_id: Set(order.from_user_id),
        work: Set(serde_json::to_string(&work).map_err(AppError::internal)?),
        starts_at: Set(starts),
        returns_at: Set(returns),
        deactivate_source: Set(request.deactivate_source),
        status: Set(Status::Scheduled),
        start_reassignment_id: Set(None),
        return_reassignment_id: Set(None),
        failure: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let told = heads_up(&txn, viewer, &row, &work, &expected, now).await?;
    txn.commit().await?;
    live.wake(&told);

    if starts <= now {
        schedule::tick(db, live, now).await?;
    }
    Ok(Ok(planned_handover::Entity::find_by_id(row.id)
        .one(db)
        .await?
        .unwrap_or(row)))
}

/// "From 1 December you will cover Lee's work": one notification and email per target.
async fn heads_up<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    plan: &planned_handover::Model,
    work: &Work,
    expected: &std::collections::BTreeMap<i64, Delivery>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Published>> {
    let mut wanted = work.targets();
    wanted.push(work.from);
    let people = crate::firm::users::by_ids(db, plan.firm_id, wanted).await?;
    let tz = firm_tz(&viewer.firm.time_zone);
    let from = people.get(&work.from).map_or("someone", |u| u.name.as_str());
    let day = plan.starts_at.with_timezone(&tz).format("%-d %B %Y");
    let mut told = Vec::new();
    for id in work.targets() {
        let Some(recipient) = people.get(&id) else { continue };
        if id == viewer.user_id() || !recipient.enabled {
            continue;
        }
        let delivery = expected.get(&id).copied().unwrap_or_default();
        let title = match plan.returns_at {
            Some(_) => format!("From {day} you will cover {from}'s work"),
            None => format!("From {day} you will take over {from}'s work"),
        };
        // A pool member may receive nothing as the work stands today: routing decides at the start.
        let mut body = if delivery == Delivery::default() {
            "You are among its receivers; what you receive is decided at the start.".to_string()
        } else {
            format!("About {}, counted today.", store::summary(&delivery))
        };
        if let Some(returns) = plan.returns_at {
            body.push_str(&format!(
                " It goes back on {}.",
                returns.with_timezone(&tz).format("%-d %B %Y")
            ));
        }
        told.push(
            store::tell(
                db,
                store::Message {
                    kind: NotificationKind::HandoverPlanned,
                    recipient,
                    reassignment_id: None,
                    planned_handover_id: Some(plan.id),
                    actor_user_id: viewer.user_id(),
                    from_user_id: work.from,
                    delivery,
                    title,
                    body,
                    html: None,
                    note: work.note.clone(),
                },
                now,
            )
            .await?,
        );
    }
    crate::notify::fanout::announce_notifications(db, &told).await?;
    Ok(told)
}

/// Cancel a plan: a scheduled one never runs; an active cover ends now (its return runs at once).
pub async fn cancel(
    db: &DatabaseConnection,
    live: &Live,
    viewer: &Viewer,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Outcome<planned_handover::Model>> {
    viewer.require_admin()?;
    let not_cancellable = |status: Status| {
        use sea_orm::ActiveEnum;
        Ok(Err(vec![UserError::new(
            &["id"],
            "NOT_CANCELLABLE",
            format!("a plan that is {} cannot be cancelled", status.to_value()),
        )]))
    };
    let Some(plan) = find(db, viewer.firm_id(), id).await? else {
        return Ok(Err(vec![UserError::new(
            &["id"],
            "NOT_FOUND",
            "no such planned handover in this firm",
        )]));
    };
    let moved_on = match plan.status {
        Status::Scheduled => {
            let cancelled = planned_handover::Entity::update_many()
                .col_expr(planned_handover::Column::Status, Expr::value(Status::Cancelled))
                .filter(planned_handover::Column::Id.eq(plan.id))
                .filter(planned_handover::Column::Status.eq(Status::Scheduled))
                .exec(db)
                .await?;
            cancelled.rows_affected == 1
        }
        Status::Active => schedule::return_now(db, live, plan.id, now).await?,
        other => return not_cancellable(other),
    };
    let after = find(db, viewer.firm_id(), id)
        .await?
        .ok_or(AppError::NotFound("planned handover"))?;
    if !moved_on {
        // It started, returned or failed meanwhile.
        return not_cancellable(after.status);
    }
    Ok(Ok(after))
}

/// A plan of the firm, if there is one with this id.
pub async fn find<C: ConnectionTrait>(db: &C, firm_id: i64, id: i64) -> AppResult<Option<planned_handover::Model>> {
    Ok(planned_handover::Entity::find_by_id(id)
        .filter(planned_handover::Column::FirmId.eq(firm_id))
        .one(db)
        .await?)
}

/// The firm's plans, newest first, optionally of some statuses. Administrators only.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    statuses: Option<Vec<Status>>,
    req: PageRequest,
) -> AppResult<Page<planned_handover::Model>> {
    viewer.require_admin()?;
    let mut select = planned_handover::Entity::find().filter(planned_handover::Column::FirmId.eq(viewer.firm_id()));
    if let Some(statuses) = statuses {
        select = select.filter(planned_handover::Column::Status.is_in(statuses));
    }
    page::fetch_newest_first(db, select, planned_handover::Column::Id, req).await
}

/// The reasons a plan failed, as stored.
pub fn failure(plan: &planned_handover::Model) -> Vec<UserError> {
    #[derive(Deserialize)]
    struct Stored {
        field: Option<Vec<String>>,
        code: String,
        message: String,
    }
    let Some(text) = &plan.failure else { return Vec::new() };
    serde_json::from_str::<Vec<Stored>>(text)
        .unwrap_or_default()
        .into_iter()
        .map(|s| UserError {
            field: s.field,
            message: s.message,
            code: failure_code(&s.code),
        })
        .collect()
}

/// Stored codes back to the `'static` codes `UserError` carries.
fn failure_code(code: &str) -> &'static str {
    // Every code a start or a return can fail with: its own, and `reassignWork`'s validation.
    const KNOWN: &[&str] = &[
        "PLANNER_NOT_ADMIN",
        "SOURCE_DISABLED",
        "LAST_ADMIN",
        "TARGET_DISABLED",
        "TARGET_NOT_ATTORNEY",
        "NOT_FOUND",
        "REQUIRED",
        "SAME_USER",
        "NO_TARGET",
        "NO_CATEGORY",
        "EMPTY",
        "TOO_MANY",
        "TOO_LONG",
        // Section 9: routes, sweeps and the risk gate.
        "RISK_NOT_ACKNOWLEDGED",
        "ONE_OF",
        "POOL_SIZE",
        "DUPLICATE",
        "INVALID",
        "MATTERS_EXCLUDED",
        "TASKS_EXCLUDED",
        "OUT_OF_RANGE",
    ];
    KNOWN.iter().find(|k| **k == code).copied().unwrap_or("FAILED")
}

fn store_failure(errors: &[UserError]) -> String {
    let list: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| serde_json::json!({ "field": e.field, "code": e.code, "message": e.message }))
        .collect();
    serde_json::Value::Array(list).to_string()
}
