//! Reassignment: the heart of the product (SPEC.md section 3).
//!
//! - [`rules`]: what moves and what never does, as pure functions. Start reading here.
//! - [`select`]: the one selection path (preview, apply and undo): gathers candidates and
//!   facts, asks the rules, returns a `Plan`.
//! - [`input`]: the request and its validation (`UserError`s).
//! - [`apply`]: the transactional write of a plan, guarded by the previous holder.
//! - [`undo`]: a reassignment taken back, planned by the same selection path.
//! - [`history`]: past reassignments and their items (the report).
//!
//! Only an enabled account administrator of the firm may preview, apply, read or undo.

pub mod apply;
pub mod history;
pub mod input;
pub mod rules;
pub mod select;
pub mod undo;

pub use input::{CategoryChoice, Request, UserError};
pub use rules::{Clock, Reason, Verdict};
pub use select::{CategoryPlan, CategorySpec, Plan, PlanSpec, PlannedItem};
pub use undo::undo;

use crate::auth::Viewer;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::firm::firm_tz;
use apply::BatchInfo;
use chrono::{DateTime, Utc};
use entity::reassignment;
use input::Valid;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// A business answer: done, or refused with reasons the client can show.
pub type Outcome<T> = Result<T, Vec<UserError>>;

fn refuse<T>(field: &[&str], code: &'static str, message: impl Into<String>) -> AppResult<Outcome<T>> {
    Ok(Err(vec![UserError::new(field, code, message)]))
}

/// A dry run: the plan, exactly as applying now would carry it out.
#[derive(Debug, Clone)]
pub struct Preview {
    pub plan: Plan,
    pub token: String,
    pub clock: Clock,
    pub valid: Valid,
}

/// A reassignment written (or found again, for a repeated idempotency key).
#[derive(Debug, Clone)]
pub struct Applied {
    pub reassignment: reassignment::Model,
    /// True when an earlier batch with the same idempotency key and input was returned.
    pub replayed: bool,
    /// The notifications written with it, to wake their recipients once committed.
    pub notifications: Vec<crate::notify::Published>,
}

fn spec_for(firm_id: i64, valid: &Valid, clock: Clock) -> PlanSpec {
    let category = |to: &Option<entity::user::Model>| {
        to.as_ref().map(|t| CategorySpec {
            from: valid.from.id,
            to: t.id,
            only: None,
            attendee_swap: None,
        })
    };
    PlanSpec {
        firm_id,
        matters: category(&valid.matters_to),
        tasks: category(&valid.tasks_to),
        events: category(&valid.events_to),
        matter_ids: valid.matter_ids.clone(),
        grant_access: valid.grant_matter_access,
        clock,
    }
}

fn clock_for(viewer: &Viewer, cutoff: DateTime<Utc>) -> Clock {
    Clock {
        cutoff,
        time_zone: firm_tz(&viewer.firm.time_zone),
    }
}

/// What would move, what would not and why; writes nothing.
pub async fn preview(
    db: &DatabaseConnection,
    viewer: &Viewer,
    request: &Request,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Preview>> {
    viewer.require_admin()?;
    let valid = match input::validate(db, viewer.firm_id(), request).await? {
        Ok(v) => v,
        Err(errors) => return Ok(Err(errors)),
    };
    let clock = clock_for(viewer, cutoff);
    let plan = select::plan(db, &spec_for(viewer.firm_id(), &valid, clock)).await?;
    let token = plan.token();
    Ok(Ok(Preview {
        plan,
        token,
        clock,
        valid,
    }))
}

async fn by_key<C: ConnectionTrait>(db: &C, firm_id: i64, key: &str) -> AppResult<Option<reassignment::Model>> {
    Ok(reassignment::Entity::find()
        .filter(reassignment::Column::FirmId.eq(firm_id))
        .filter(reassignment::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// The same key with the same input returns the first result; with another input it is an error.
fn replay(existing: reassignment::Model, fingerprint: &str) -> Outcome<Applied> {
    if existing.input_fingerprint == fingerprint {
        Ok(Applied {
            reassignment: existing,
            replayed: true,
            notifications: Vec::new(),
        })
    } else {
        Err(vec![UserError::new(
            &["input", "idempotencyKey"],
            "IDEMPOTENCY_KEY_REUSED",
            "this idempotency key was used for a different reassignment",
        )])
    }
}

/// Run a write again when the database aborted it to break a deadlock with a concurrent one:
/// nothing of the aborted attempt remains, and the retry plans afresh.
async fn retrying<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    const ATTEMPTS: u32 = 4;
    for n in 1..=ATTEMPTS {
        match attempt().await {
            Err(AppError::Transient(detail)) if n < ATTEMPTS => {
                tracing::warn!(attempt = n, error = %detail, "write transaction aborted by a conflict; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(n))).await;
            }
            other => return other,
        }
    }
    unreachable!("the last attempt returns")
}

/// Apply a reassignment, atomically.
pub async fn reassign(
    db: &DatabaseConnection,
    viewer: &Viewer,
    request: &Request,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Applied>> {
    retrying(|| reassign_once(db, viewer, request, cutoff)).await
}

async fn reassign_once(
    db: &DatabaseConnection,
    viewer: &Viewer,
    request: &Request,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Applied>> {
    viewer.require_admin()?;
    let valid = match input::validate(db, viewer.firm_id(), request).await? {
        Ok(v) => v,
        Err(errors) => return Ok(Err(errors)),
    };
    let fingerprint = valid.fingerprint();
    if let Some(key) = &valid.idempotency_key
        && let Some(existing) = by_key(db, viewer.firm_id(), key).await?
    {
        return Ok(replay(existing, &fingerprint));
    }

    let spec = spec_for(viewer.firm_id(), &valid, clock_for(viewer, cutoff));
    let txn = begin_write(db).await?;
    if let Some(key) = &valid.idempotency_key
        && let Some(existing) = by_key(&txn, viewer.firm_id(), key).await?
    {
        txn.rollback().await?;
        return Ok(replay(existing, &fingerprint));
    }
    let plan = select::plan(&txn, &spec).await?;
    if let Some(token) = &valid.preview_token
        && *token != plan.token()
    {
        txn.rollback().await?;
        return refuse(
            &["input", "previewToken"],
            "PREVIEW_STALE",
            "the work has changed since the preview; preview again and review the new plan",
        );
    }
    let info = BatchInfo {
        firm_id: viewer.firm_id(),
        actor_id: viewer.user_id(),
        from_user_id: valid.from.id,
        matter_ids: valid.matter_ids.clone(),
        note: valid.note.clone(),
        idempotency_key: valid.idempotency_key.clone(),
        fingerprint: fingerprint.clone(),
        undo_of: None,
    };
    match apply::execute(&txn, info, &spec, &plan).await {
        Ok((model, notifications)) => {
            txn.commit().await?;
            Ok(Ok(Applied {
                reassignment: model,
                replayed: false,
                notifications,
            }))
        }
        Err(e) => {
            txn.rollback().await.ok();
            // A concurrent request with the same key committed first (unique index): answer
            // as for a retry.
            if let Some(key) = &valid.idempotency_key
                && let Some(existing) = by_key(db, viewer.firm_id(), key).await?
            {
                return Ok(replay(existing, &fingerprint));
            }
            Err(e)
        }
    }
}
