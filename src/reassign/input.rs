//! What an administrator asks for, and its validation. Violations come back as `UserError`s
//! (field, message, code) and nothing is changed.

use super::order::{CategorySpec, Order};
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
}

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
    ]
    .into_iter()
    .flatten()
    .flatten()
    {
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
                let mut ok = true;
                if !t.enabled {
                    errors.push(UserError::new(
                        &field,
                        "TARGET_DISABLED",
                        format!("{} is deactivated", t.name),
                    ));
                    ok = false;
                }
                if from.as_ref().is_some_and(|f| f.id == t.id) {
                    errors.push(UserError::new(&field, "SAME_USER", "the target must not be the source"));
                    ok = false;
                }
                if must_be_attorney && t.licence != Licence::Attorney {
                    errors.push(UserError::new(
                        &field,
                        "TARGET_NOT_ATTORNEY",
                        format!("{} cannot be responsible attorney: not an attorney", t.name),
                    ));
                    ok = false;
                }
                ok.then(|| t.clone())
            }
        }
    };
    let matters_to = target_for("matters", &req.matters, true);
    let tasks_to = target_for("tasks", &req.tasks, false);
    let events_to = target_for("calendarEvents", &req.calendar_events, false);

    if !req.matters.include && !req.tasks.include && !req.calendar_events.include {
        errors.push(UserError::new(
            &["input"],
            "NO_CATEGORY",
            "include at least one of matters, tasks, calendarEvents",
        ));
    }

    let matter_ids = match &req.matter_ids {
        None => None,
        Some(list) if list.len() > MAX_MATTER_IDS => {
            errors.push(UserError::new(
                &["input", "matterIds"],
                "TOO_MANY",
                format!("at most {MAX_MATTER_IDS} matters in one reassignment"),
            ));
            None
        }
        Some(list) => {
            let ids: BTreeSet<i64> = list.iter().filter_map(|r| r.ok()).collect();
            let found: BTreeSet<i64> = matter::Entity::find()
                .select_only()
                .column(matter::Column::Id)
                .filter(matter::Column::FirmId.eq(firm_id))
                .filter(matter::Column::Id.is_in(ids.iter().copied()))
                .into_tuple::<i64>()
                .all(db)
                .await?
                .into_iter()
                .collect();
            let unknown: Vec<usize> = list
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.is_ok_and(|id| found.contains(&id)))
                .map(|(i, _)| i)
                .collect();
            for i in unknown.iter().take(MAX_REPORTED_IDS) {
                let index = i.to_string();
                errors.push(UserError::new(
                    &["input", "matterIds", &index],
                    "NOT_FOUND",
                    "no such matter in this firm",
                ));
            }
            if unknown.len() > MAX_REPORTED_IDS {
                errors.push(UserError::new(
                    &["input", "matterIds"],
                    "NOT_FOUND",
                    format!(
                        "and {} more matterIds name no matter in this firm",
                        unknown.len() - MAX_REPORTED_IDS
                    ),
                ));
            }

            if list.is_empty() {
                errors.push(UserError::new(
                    &["input", "matterIds"],
                    "EMPTY",
                    "matterIds, when given, names at least one matter",
                ));
            }
            Some(found)
        }
    };

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
    Ok(Ok(Order {
        matters: category(matters_to),
        tasks: category(tasks_to),
        events: category(events_to),
        matter_ids,
        grant_access: req.grant_matter_access,
        note,
        idempotency_key: key,
        preview_token: req.preview_token.clone(),
        ..Order::by(viewer, cutoff, from)
    }))
}
