//! What an administrator asks for, and its validation. Violations come back as `UserError`s
//! (field, message, code) and nothing is changed.

use super::order::{CategorySpec, Order, Routing};
use super::rules::route::{Condition, Receiver, Route, Strategy};
use crate::auth::Viewer;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use entity::{Licence, matter, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeSet;

/// A business rejection, shown to the client as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// Path to the input field, e.g. `["input", "matters", "toUserId"]`.
    pub field: Option<Vec<String>>,
    pub message: String,
    pub code: &'static str,
}

impl UserError {
    pub fn new(field: &[&str], code: &'static str, message: impl Into<String>) -> Self {
        UserError {
            field: (!field.is_empty()).then(|| field.iter().map(|s| s.to_string()).collect()),
            message: message.into(),
            code,
        }
    }

    /// The same error for a request nested in another input: a field path starting at `input`
    /// starts at `at` instead (`["input", "work"]` in a plan, `["handover"]` in a deactivation).
    pub fn nested_at(mut self, at: &[&str]) -> Self {
        if let Some(field) = &mut self.field
            && field.first().is_some_and(|f| f == "input")
        {
            field.splice(0..1, at.iter().map(|s| s.to_string()));
        }
        self
    }
}

/// One category of work: included or not, and an optional target of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryChoice {
    pub include: bool,
    /// Overrides the request's default target. `Err(())`: an ID that names no user.
    pub to_user_id: Option<Result<i64, ()>>,
}

impl Default for CategoryChoice {
    fn default() -> Self {
        CategoryChoice {
            include: true,
            to_user_id: None,
        }
    }
}

/// A reassignment request with IDs already decoded; `Err(())` marks an ID that could not be.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub from_user_id: Option<Result<i64, ()>>,
    pub to_user_id: Option<Result<i64, ()>>,
    pub matters: CategoryChoice,
    pub tasks: CategoryChoice,
    pub calendar_events: CategoryChoice,
    pub matter_ids: Option<Vec<Result<i64, ()>>>,
    pub grant_matter_access: bool,
    pub note: Option<String>,
    pub idempotency_key: Option<String>,
    pub preview_token: Option<String>,
    /// Section 9: ordered routes for matters.
    pub routes: Vec<RouteRequest>,
    /// `None`: true (work follows its matter).
    pub follow_matter: Option<bool>,
    pub acknowledge_risks: bool,
    /// `None`: 7.
    pub risk_window_days: Option<i64>,
    /// The past-due sweep (opt-in).
    pub past_due_tasks: Option<CategoryChoice>,
    /// The assigner sweep (opt-in).
    pub assigner: Option<CategoryChoice>,
}

/// One route as asked: a condition and a receiver, IDs decoded.
#[derive(Debug, Clone)]
pub struct RouteRequest {
    pub practice_areas: Option<Vec<String>>,
    pub clients: Option<Vec<String>>,
    pub matter_ids: Option<Vec<Result<i64, ()>>>,
    pub to_user_id: Option<Result<i64, ()>>,
    pub pool: Option<Vec<Result<i64, ()>>>,
    pub strategy: Strategy,
}

pub const MAX_ROUTES: usize = 100;
pub const MAX_POOL: usize = 100;
/// Most names (practice areas, clients) or matters in one route's condition.
pub const MAX_CRITERIA: usize = 1000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_RISK_WINDOW_DAYS: i64 = 366;

pub const MAX_NOTE_CHARS: usize = 2000;
/// Most matters one request may name.
pub const MAX_MATTER_IDS: usize = 10_000;
/// Most unknown matter IDs reported one by one; the rest are counted in one more error.
const MAX_REPORTED_IDS: usize = 20;
pub const MAX_KEY_CHARS: usize = 200;

/// Check a request against the viewer's firm: every error found, or the order it asks for,
/// measured at `cutoff`.
pub async fn validate<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    req: &Request,
    cutoff: DateTime<Utc>,
) -> AppResult<Result<Order, Vec<UserError>>> {
    let firm_id = viewer.firm_id();
    let mut errors = Vec::new();

    // Every user the request names, loaded once and only from this firm.
    let mut wanted: BTreeSet<i64> = BTreeSet::new();
    for id in [
        req.from_user_id,
        req.to_user_id,
        req.matters.to_user_id,
        req.tasks.to_user_id,
        req.calendar_events.to_user_id,
        req.past_due_tasks.and_then(|c| c.to_user_id),
        req.assigner.and_then(|c| c.to_user_id),
    ]
    .into_iter()
    .chain(req.routes.iter().take(MAX_ROUTES).map(|r| r.to_user_id))
    .flatten()
    .flatten()
    .chain(
        req.routes
            .iter()
            .take(MAX_ROUTES)
            .flat_map(|r| r.pool.iter().flatten().take(MAX_POOL))
            .filter_map(|id| id.ok()),
    ) {
        wanted.insert(id);
    }
    let users = crate::firm::users::by_ids(db, firm_id, wanted).await?;
    let lookup = |id: Option<Result<i64, ()>>| -> Option<Option<&user::Model>> {
        id.map(|r| r.ok().and_then(|id| users.get(&id)))
    };

    let from = match lookup(req.from_user_id) {
        None => {
            errors.push(UserError::new(
                &["input", "fromUserId"],
                "REQUIRED",
                "fromUserId is required",
            ));
            None
        }
        Some(None) => {
            errors.push(UserError::new(
                &["input", "fromUserId"],
                "NOT_FOUND",
                "no such user in this firm",
            ));
            None
        }
        Some(Some(u)) => Some(u.clone()),
    };

    let default_target = lookup(req.to_user_id);
    if let Some(None) = default_target {
        errors.push(UserError::new(
            &["input", "toUserId"],
            "NOT_FOUND",
            "no such user in this firm",
        ));
    }

    let mut target_for = |name: &str, choice: &CategoryChoice, must_be_attorney: bool| -> Option<user::Model> {
        if !choice.include {
            return None;
        }
        let (target, field): (Option<Option<&user::Model>>, Vec<&str>) = match lookup(choice.to_user_id) {
            Some(t) => (Some(t), vec!["input", name, "toUserId"]),
            None => (default_target, vec!["input", "toUserId"]),
        };
        match target {
            None => {
                errors.push(UserError::new(
                    &["input", name, "toUserId"],
                    "NO_TARGET",
                    format!("{name} is included but has no target: give toUserId or {name}.toUserId"),
                ));
                None
            }
            // Already reported (either the default or this category's ID).
            Some(None) => {
                if choice.to_user_id.is_some() {
                    errors.push(UserError::new(&field, "NOT_FOUND", "no such user in this firm"));
                }
                None
            }
            Some(Some(t)) => {
                let found = check_target(t, from.as_ref(), must_be_attorney, &field);
                let ok = found.is_empty();
                errors.extend(found);
                ok.then(|| t.clone())
            }
        }
    };
    let matters_to = target_for("matters", &req.matters, true);
    let tasks_to = target_for("tasks", &req.tasks, false);
    let events_to = target_for("calendarEvents", &req.calendar_events, false);
    let past_due_to = req
        .past_due_tasks
        .filter(|c| c.include)
        .and_then(|c| target_for("pastDueTasks", &c, false));
    let assigner_to = req
        .assigner
        .filter(|c| c.include)
        .and_then(|c| target_for("assigner", &c, false));
    let ids_in_firm = known_matters(db, firm_id, req).await?;
    let routes = routes(req, &users, from.as_ref(), &ids_in_firm, &mut errors);
    if !req.routes.is_empty() && matters_to.is_none() && req.matters.include {
        // Already reported: the matters' target is missing or refused.
    } else if !req.routes.is_empty() && !req.matters.include {
        errors.push(UserError::new(
            &["input", "routes"],
            "MATTERS_EXCLUDED",
            "routes decide who receives matters: include matters, or give no routes",
        ));
    }
    if past_due_to.is_some() && !req.tasks.include {
        errors.push(UserError::new(
            &["input", "pastDueTasks"],
            "TASKS_EXCLUDED",
            "the past-due sweep moves tasks: include tasks too",
        ));
    }
    let risk_window_days = req.risk_window_days.unwrap_or(7);
    if !(0..=MAX_RISK_WINDOW_DAYS).contains(&risk_window_days) {
        errors.push(UserError::new(
            &["input", "riskWindowDays"],
            "OUT_OF_RANGE",
            format!("riskWindowDays is from 0 to {MAX_RISK_WINDOW_DAYS}"),
        ));
    }

    if !req.matters.include && !req.tasks.include && !req.calendar_events.include {
        errors.push(UserError::new(
            &["input"],
            "NO_CATEGORY",
            "include at least one of matters, tasks, calendarEvents",
        ));
    }

    let matter_ids = req
        .matter_ids
        .as_ref()
        .and_then(|list| matter_list(list, &ids_in_firm, &["input", "matterIds"], &mut errors));

    let note = req
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        errors.push(UserError::new(
            &["input", "note"],
            "TOO_LONG",
            format!("the note is limited to {MAX_NOTE_CHARS} characters"),
        ));
    }
    let key = req
        .idempotency_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    if key.as_ref().is_some_and(|k| k.chars().count() > MAX_KEY_CHARS) {
        errors.push(UserError::new(
            &["input", "idempotencyKey"],
            "TOO_LONG",
            format!("at most {MAX_KEY_CHARS} characters"),
        ));
    }

    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let from = from.expect("no errors").id;
    let category = |to: Option<user::Model>| to.map(|t| CategorySpec::all(from, t.id));
    // Work follows its matter unless its category was given a target of its own: an explicit
    // choice wins over the default.
    let follow = req.follow_matter.unwrap_or(true);
    let following = |to: Option<user::Model>, choice: &CategoryChoice| {
        category(to).map(|c| CategorySpec {
            follows_matter: follow && choice.to_user_id.is_none(),
            ..c
        })
    };
    Ok(Ok(Order {
        matters: category(matters_to),
        tasks: following(tasks_to, &req.tasks),
        events: following(events_to, &req.calendar_events),
        assigners: category(assigner_to),
        routing: Routing {
            routes,
            follow_matter: follow,
            acknowledge_risks: req.acknowledge_risks,
            risk_window_days: risk_window_days as u16,
            past_due_to: past_due_to.map(|u| u.id),
        },
        matter_ids,
        grant_access: req.grant_matter_access,
        note,
        idempotency_key: key,
        preview_token: req.preview_token.clone(),
        ..Order::by(viewer, cutoff, from)
    }))
}

/// The checks every receiver passes: enabled, not the source, an attorney where matters go.
fn check_target(t: &user::Model, from: Option<&user::Model>, must_be_attorney: bool, field: &[&str]) -> Vec<UserError> {
    let mut errors = Vec::new();
    if !t.enabled {
        errors.push(UserError::new(
            field,
            "TARGET_DISABLED",
            format!("{} is deactivated", t.name),
        ));
    }
    if from.is_some_and(|f| f.id == t.id) {
        errors.push(UserError::new(field, "SAME_USER", "the target must not be the source"));
    }
    if must_be_attorney && t.licence != Licence::Attorney {
        errors.push(UserError::new(
            field,
            "TARGET_NOT_ATTORNEY",
            format!("{} cannot be responsible attorney: not an attorney", t.name),
        ));
    }
    errors
}

/// Of every matter ID the request names (its restriction and its routes'), those of this firm.
async fn known_matters<C: ConnectionTrait>(db: &C, firm_id: i64, req: &Request) -> AppResult<BTreeSet<i64>> {
    let lists = req
        .matter_ids
        .iter()
        .chain(req.routes.iter().take(MAX_ROUTES).filter_map(|r| r.matter_ids.as_ref()));
    let ids: BTreeSet<i64> = lists
        .flat_map(|list| list.iter().take(MAX_MATTER_IDS).filter_map(|r| r.ok()))
        .collect();
    if ids.is_empty() {
        return Ok(ids);
    }
    let mut found = BTreeSet::new();
    let ids: Vec<i64> = ids.into_iter().collect();
    for chunk in ids.chunks(super::select::CHUNK) {
        found.extend(
            matter::Entity::find()
                .select_only()
                .column(matter::Column::Id)
                .filter(matter::Column::FirmId.eq(firm_id))
                .filter(matter::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<i64>()
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// A list of matter IDs, each of this firm: the set, or errors at `field`.
fn matter_list(
    list: &[Result<i64, ()>],
    known: &BTreeSet<i64>,
    field: &[&str],
    errors: &mut Vec<UserError>,
) -> Option<BTreeSet<i64>> {
    if list.len() > MAX_MATTER_IDS {
        errors.push(UserError::new(
            field,
            "TOO_MANY",
            format!("at most {MAX_MATTER_IDS} matters in one list"),
        ));
        return None;
    }
    if list.is_empty() {
        errors.push(UserError::new(
            field,
            "EMPTY",
            "a list of matters, when given, names at least one",
        ));
    }
    let unknown: Vec<usize> = list
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_ok_and(|id| known.contains(&id)))
        .map(|(i, _)| i)
        .collect();
    for i in unknown.iter().take(MAX_REPORTED_IDS) {
        let index = i.to_string();
        let mut at = field.to_vec();
        at.push(&index);
        errors.push(UserError::new(&at, "NOT_FOUND", "no such matter in this firm"));
    }
    if unknown.len() > MAX_REPORTED_IDS {
        errors.push(UserError::new(
            field,
            "NOT_FOUND",
            format!(
                "and {} more IDs name no matter in this firm",
                unknown.len() - MAX_REPORTED_IDS
            ),
        ));
    }
    Some(
        list.iter()
            .filter_map(|r| r.ok())
            .filter(|id| known.contains(id))
            .collect(),
    )
}

/// Names a route matches on: trimmed, folded, each non-empty and of sensible length.
fn names(list: &Option<Vec<String>>, field: &[&str], errors: &mut Vec<UserError>) -> Option<BTreeSet<String>> {
    let list = list.as_ref()?;
    if list.is_empty() {
        errors.push(UserError::new(
            field,
            "EMPTY",
            "a list of names, when given, holds at least one",
        ));
    }
    if list.len() > MAX_CRITERIA {
        errors.push(UserError::new(
            field,
            "TOO_MANY",
            format!("at most {MAX_CRITERIA} names"),
        ));
        return None;
    }
    let mut out = BTreeSet::new();
    for (i, name) in list.iter().enumerate() {
        let trimmed = name.trim();
        let index = i.to_string();
        let mut at = field.to_vec();
        at.push(&index);
        if trimmed.is_empty() || trimmed.contains('\0') {
            errors.push(UserError::new(
                &at,
                "INVALID",
                "a name is non-empty text without NUL characters",
            ));
        } else if trimmed.chars().count() > MAX_NAME_CHARS {
            errors.push(UserError::new(
                &at,
                "TOO_LONG",
                format!("at most {MAX_NAME_CHARS} characters"),
            ));
        } else {
            out.insert(entity::fold(trimmed));
        }
    }
    Some(out)
}

/// `input.routes.<index>.<rest…>`
fn route_field<'a>(index: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut field = vec!["input", "routes", index];
    field.extend_from_slice(rest);
    field
}

/// The routes, validated: a condition of known names and matters, and exactly one receiver
/// (a user, or a pool of distinct members), each checked like the matters' target.
fn routes(
    req: &Request,
    users: &std::collections::HashMap<i64, user::Model>,
    from: Option<&user::Model>,
    known: &BTreeSet<i64>,
    errors: &mut Vec<UserError>,
) -> Vec<Route> {
    if req.routes.len() > MAX_ROUTES {
        errors.push(UserError::new(
            &["input", "routes"],
            "TOO_MANY",
            format!("at most {MAX_ROUTES} routes"),
        ));
        return Vec::new();
    }
    // A receiver: a user of this firm who may become responsible attorney.
    let check = |id: &Result<i64, ()>, field: &[&str], errors: &mut Vec<UserError>| -> Option<i64> {
        match id.ok().and_then(|id| users.get(&id)) {
            None => {
                errors.push(UserError::new(field, "NOT_FOUND", "no such user in this firm"));
                None
            }
            Some(u) => {
                let found = check_target(u, from, true, field);
                let ok = found.is_empty();
                errors.extend(found);
                ok.then_some(u.id)
            }
        }
    };
    let mut out = Vec::new();
    for (i, r) in req.routes.iter().enumerate() {
        let index = i.to_string();
        let f = |rest: &[&'static str]| route_field(&index, rest);
        let when = Condition {
            practice_areas: names(&r.practice_areas, &f(&["when", "practiceAreas"]), errors),
            clients: names(&r.clients, &f(&["when", "clients"]), errors),
            matter_ids: r
                .matter_ids
                .as_ref()
                .and_then(|list| matter_list(list, known, &f(&["when", "matterIds"]), errors)),
        };
        let to = match (&r.to_user_id, &r.pool) {
            (Some(id), None) => check(id, &f(&["toUserId"]), errors).map(Receiver::User),
            (None, Some(pool)) if pool.is_empty() || pool.len() > MAX_POOL => {
                errors.push(UserError::new(
                    &f(&["pool"]),
                    "POOL_SIZE",
                    format!("a pool has from 1 to {MAX_POOL} members"),
                ));
                None
            }
            (None, Some(pool)) => {
                let mut members = Vec::new();
                let mut ok = true;
                for (k, id) in pool.iter().enumerate() {
                    let k = k.to_string();
                    let field = route_field(&index, &["pool", &k]);
                    match check(id, &field, errors) {
                        Some(m) if members.contains(&m) => {
                            errors.push(UserError::new(&field, "DUPLICATE", "a member is listed twice"));
                            ok = false;
                        }
                        Some(m) => members.push(m),
                        None => ok = false,
                    }
                }
                ok.then_some(Receiver::Pool {
                    members,
                    strategy: r.strategy,
                })
            }
            _ => {
                errors.push(UserError::new(
                    &f(&[]),
                    "ONE_OF",
                    "a route gives its matters to exactly one of toUserId or pool",
                ));
                None
            }
        };
        if let Some(to) = to {
            out.push(Route { when, to });
        }
    }
    out
}
