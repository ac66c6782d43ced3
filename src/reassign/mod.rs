//! Reassignment: the heart of the product (SPEC.md section 3).
//!
//! - [`rules`]: what moves and what never does, as pure functions. Start reading here.
//! - [`order`]: one reassignment from validation to commit (who asked, the clock, each
//!   category's move), the one carrier every path hands to the engine ([`run`]).
//! - [`select`]: the one selection path (preview, apply and undo): gathers candidates and
//!   facts, asks the rules, returns a `Plan`.
//! - [`input`]: the request and its validation (`UserError`s) into an `Order`.
//! - [`apply`]: the transactional write of a plan, guarded by the previous holder.
//! - [`reuse`]: a preview's loads kept for the apply that follows it (SQLite).
//! - [`undo`]: a reassignment taken back: an order made from what it moved.
//! - [`gate`]: how many reassignments are planned at once (a `Slot` to plan).
//! - [`history`]: past reassignments and their items (the report).
//!
//! Only an enabled account administrator of the firm may preview, apply, read or undo.

pub mod apply;
pub mod gate;
pub mod history;
pub mod input;
pub mod order;
pub mod reuse;
pub mod rules;
pub mod select;
pub mod undo;

pub use gate::{Planning, Slot};
pub use input::{CategoryChoice, Request, RouteRequest, UserError};
pub use order::{CategorySpec, Order};
pub use reuse::Reuse;
pub use rules::{Clock, Reason, Verdict};
pub use select::{CategoryPlan, Plan, PlannedItem, PreviewList, Tally};
pub use undo::undo;

use crate::auth::Viewer;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::firm::users::Workload;
use crate::notify::{Live, Published};
use chrono::{DateTime, Utc};
use entity::reassignment;
use sea_orm::ActiveEnum;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter};

/// A business answer: done, or refused with reasons the client can show.
pub type Outcome<T> = Result<T, Vec<UserError>>;

fn refuse<T>(field: &[&str], code: &'static str, message: impl Into<String>) -> AppResult<Outcome<T>> {
    Ok(Err(vec![UserError::new(field, code, message)]))
}

/// A dry run: the plan, exactly as applying the same order now would carry it out.
#[derive(Debug, Clone)]
pub struct Preview {
    pub order: Order,
    pub plan: Plan,
    pub token: String,
}

/// A receiving user's load before the reassignment and after it (section 9, `targets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetLoad {
    pub user_id: i64,
    pub before: Workload,
    pub after: Workload,
}

impl Preview {
    /// Each user who would receive matters, tasks or events, with their load before and after,
    /// counted as `User.workload` counts (at the preview's cutoff).
    pub async fn targets(&self, db: &DatabaseConnection) -> AppResult<Vec<TargetLoad>> {
        let deliveries: Vec<(i64, crate::notify::Delivery)> = self
            .plan
            .deliveries()
            .into_iter()
            .filter(|(_, d)| d.matters + d.tasks + d.calendar_events > 0)
            .collect();
        let ids: Vec<i64> = deliveries.iter().map(|(id, _)| *id).collect();
        let clock = self.order.clock;
        let today_start = crate::firm::midnight(clock.today(), clock.time_zone);
        let before = crate::firm::users::workloads(db, self.order.firm_id, &ids, clock.cutoff, today_start).await?;
        Ok(deliveries
            .into_iter()
            .map(|(user_id, d)| {
                let before = before.get(&user_id).copied().unwrap_or_default();
                TargetLoad {
                    user_id,
                    before,
                    after: Workload {
                        open_matters: before.open_matters + d.matters,
                        open_tasks: before.open_tasks + d.tasks,
                        upcoming_events: before.upcoming_events + d.calendar_events,
                    },
                }
            })
            .collect())
    }
}

/// A reassignment written (or found again, for a repeated idempotency key).
#[derive(Debug, Clone)]
pub struct Applied {
    pub reassignment: reassignment::Model,
    /// True when an earlier batch with the same idempotency key and input was returned.
    pub replayed: bool,
    /// The notifications written with it, to wake their recipients once committed.
    pub notifications: Vec<Published>,
}

/// Where the engine runs an order.
pub enum Run<'a> {
    /// Plan on the pool (the loads run side by side); write nothing.
    DryRun(&'a DatabaseConnection),
    /// As `DryRun`, keeping the loads for the apply that may follow.
    Preview(&'a DatabaseConnection, &'a Reuse),
    /// Plan inside the write transaction, so the plan sees exactly what the writes will, and
    /// carry it out there. The caller commits.
    Write(&'a DatabaseTransaction),
    /// As `Write`, in a transaction that has not written yet: while the database is as a
    /// preview of the same order read it, the rules decide on that preview's loads.
    WriteAfterPreview(&'a DatabaseTransaction, &'a Reuse),
}

/// What the engine did with an order.
pub struct Ran {
    /// Empty for a reversal, which is planned and written a pass at a time.
    pub plan: Plan,
    pub token: String,
    /// The batch and the notifications written with it (not for a dry run).
    pub written: Option<(reassignment::Model, Vec<Published>)>,
}

/// The engine's one entry: preview, apply and undo (and next, scheduled starts and returns)
/// hand it an order. It plans through the one selection path and, when writing, refuses a stale
/// preview token, claims the reassignment an undo takes back, writes the batch, and takes back
/// the access the undone one granted. The caller holds one of the [`gate`]'s slots, taken
/// before any write transaction began.
pub async fn run(order: &Order, on: Run<'_>, _slot: &Slot) -> AppResult<Outcome<Ran>> {
    let dry = |plan: Plan| {
        let token = plan.token(order);
        Ok(Ok(Ran {
            plan,
            token,
            written: None,
        }))
    };
    if order.reverses.is_some() && matches!(on, Run::DryRun(_) | Run::Preview(..)) {
        return Err(AppError::internal("a reversal is written in passes, not previewed"));
    }
    let (txn, reuse) = match on {
        Run::DryRun(db) => return dry(select::plan(db, order).await?),
        Run::Preview(db, reuse) => return dry(plan_keeping(db, reuse, order).await?),
        Run::Write(txn) => (txn, None),
        Run::WriteAfterPreview(txn, reuse) => (txn, Some(reuse)),
    };
    if let Some(original) = order.undo_of
        && !undo::claim(txn, original).await?
    {
        return refuse(&["id"], "ALREADY_UNDONE", "this reassignment has already been undone");
    }
    if let Some(batch) = order.reverses {
        return Ok(Ok(reverse(txn, order, batch).await?));
    }
    let kept = match reuse {
        Some(reuse) => reuse.take(order).await,
        None => None,
    };
    let plan = match kept {
        Some(kept) => select::evaluate(order, &kept.loaded),
        None => select::plan(txn, order).await?,
    };
    let token = plan.token(order);
    if order.preview_token.as_ref().is_some_and(|t| *t != token) {
        return refuse(
            &["input", "previewToken"],
            "PREVIEW_STALE",
            "the work has changed since the preview; preview again and review the new plan",
        );
    }
    // Section 9: records at risk move only when the administrator has seen and accepted them.
    let risks = plan.risk_counts();
    if !order.routing.acknowledge_risks && !risks.is_empty() {
        let listed: Vec<String> = risks
            .iter()
            .map(|(reason, n)| format!("{n} {}", reason.to_value()))
            .collect();
        return refuse(
            &["input", "acknowledgeRisks"],
            "RISK_NOT_ACKNOWLEDGED",
            format!(
                "some work at risk would move ({}): review the preview's risks and apply with acknowledgeRisks: true",
                listed.join(", ")
            ),
        );
    }
    let (batch, notifications) = apply::execute(txn, order, &plan).await?;
    if let Some(original) = order.undo_of {
        undo::settle(txn, original, batch.id).await?;
    }
    Ok(Ok(Ran {
        plan,
        token,
        written: Some((batch, notifications)),
    }))
}

/// A reversal (an undo, a cover's return), a pass of the batch's items at a time: each pass is
/// planned by the one selection path inside `txn` and written into the one new batch, so that
/// what is held follows a pass, not the batch taken back. It has no preview token to check,
/// and its risks are accepted (putting work back is not a new risk); nor is a whole plan kept:
/// the `Ran`'s plan is empty.
async fn reverse(txn: &DatabaseTransaction, order: &Order, batch: order::Reverses) -> AppResult<Ran> {
    let mut written = apply::Batch::begin(txn, order).await?;
    for ids in undo::passes(batch) {
        let pass = undo::pass(txn, order, batch, ids).await?;
        let plan = select::plan(txn, &pass).await?;
        written.write(txn, &pass, &plan, apply::WRITE_CHUNK).await?;
    }
    let (row, notifications) = written.finish(txn, order).await?;
    if let Some(original) = order.undo_of {
        undo::settle(txn, original, row.id).await?;
    }
    Ok(Ran {
        plan: Plan::default(),
        token: String::new(),
        written: Some((row, notifications)),
    })
}

/// A preview's plan; its loads are kept when nothing was committed while they ran (they all
/// saw the database at one version). The same order previewed again while nothing has been
/// committed since (a front end paging through its lists) is decided on those loads.
async fn plan_keeping(db: &DatabaseConnection, reuse: &Reuse, order: &Order) -> AppResult<Plan> {
    if let Some(kept) = reuse.take(order).await {
        let plan = select::evaluate(order, &kept.loaded);
        reuse.put_back(kept);
        return Ok(plan);
    }
    let before = reuse.version().await;
    let loaded = std::sync::Arc::new(select::load(db, order).await?);
    let plan = select::evaluate(order, &loaded);
    if let Some(version) = before
        && reuse.version().await == Some(version)
    {
        reuse.keep(order, version, loaded);
    }
    Ok(plan)
}

/// Run `order` inside `txn` and commit; a refusal or an error rolls everything back.
async fn write(
    txn: DatabaseTransaction,
    order: &Order,
    reuse: Option<&Reuse>,
    slot: &Slot,
) -> AppResult<Outcome<Applied>> {
    let on = match reuse {
        Some(reuse) => Run::WriteAfterPreview(&txn, reuse),
        None => Run::Write(&txn),
    };
    match run(order, on, slot).await {
        Ok(Ok(Ran {
            written: Some((reassignment, notifications)),
            ..
        })) => {
            txn.commit().await?;
            Ok(Ok(Applied {
                reassignment,
                replayed: false,
                notifications,
            }))
        }
        Ok(Ok(Ran { written: None, .. })) => Err(AppError::internal("a write that wrote nothing")),
        Ok(Err(refused)) => {
            txn.rollback().await?;
            Ok(Err(refused))
        }
        Err(e) => {
            txn.rollback().await.ok();
            Err(e)
        }
    }
}

/// After a commit (not a replay): what follows it, as on every path that commits.
fn committed(live: &Live, outcome: Outcome<Applied>) -> Outcome<Applied> {
    if let Ok(applied) = &outcome
        && !applied.replayed
    {
        live.after_commit(&applied.reassignment, &applied.notifications);
    }
    outcome
}

/// What would move, what would not and why; writes nothing.
pub async fn preview(
    db: &DatabaseConnection,
    live: &Live,
    viewer: &Viewer,
    request: &Request,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Preview>> {
    viewer.require_admin()?;
    let started = std::time::Instant::now();
    let order = match input::validate(db, viewer, request, cutoff).await? {
        Ok(order) => order,
        Err(errors) => return Ok(Err(errors)),
    };
    tracing::debug!(elapsed = ?started.elapsed(), "order validated");
    let slot = live.planning.enter().await?;
    let ran = run(&order, Run::Preview(db, &live.reuse), &slot).await?;
    tracing::debug!(elapsed = ?started.elapsed(), "previewed");
    Ok(ran.map(|ran| Preview {
        order,
        plan: ran.plan,
        token: ran.token,
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
    live: &Live,
    viewer: &Viewer,
    request: &Request,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Applied>> {
    let outcome = retrying(|| reassign_once(db, live, viewer, request, cutoff)).await?;
    Ok(committed(live, outcome))
}

async fn reassign_once(
    db: &DatabaseConnection,
    live: &Live,
    viewer: &Viewer,
    request: &Request,
    cutoff: DateTime<Utc>,
) -> AppResult<Outcome<Applied>> {
    viewer.require_admin()?;
    let order = match input::validate(db, viewer, request, cutoff).await? {
        Ok(order) => order,
        Err(errors) => return Ok(Err(errors)),
    };
    let fingerprint = order.fingerprint();
    if let Some(key) = &order.idempotency_key
        && let Some(existing) = by_key(db, order.firm_id, key).await?
    {
        return Ok(replay(existing, &fingerprint));
    }

    let slot = live.planning.enter().await?;
    let txn = begin_write(db).await?;
    if let Some(key) = &order.idempotency_key
        && let Some(existing) = by_key(&txn, order.firm_id, key).await?
    {
        txn.rollback().await?;
        return Ok(replay(existing, &fingerprint));
    }
    match write(txn, &order, Some(&live.reuse), &slot).await {
        Err(e) => {
            // A concurrent request with the same key committed first (unique index): answer
            // as for a retry.
            if let Some(key) = &order.idempotency_key
                && let Some(existing) = by_key(db, order.firm_id, key).await?
            {
                return Ok(replay(existing, &fingerprint));
            }
            Err(e)
        }
        other => other,
    }
}
