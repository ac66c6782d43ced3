//! Deactivating a user, guarded (SPEC.md section 8): work that would move is never left with
//! someone who cannot log in, unless the administrator says so (`force`) or hands it over in
//! the same transaction.

use super::is_last_admin;
use crate::auth::Viewer;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::notify::{Delivery, Live};
use crate::reassign::{self, CategorySpec, Order, Planning, Preview, Request, Run, Slot, UserError, input};
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// The answer of `deactivateUser` and `reactivateUser`.
#[derive(Debug, Default)]
pub struct Deactivation {
    /// The user as they are now (unchanged when refused).
    pub user: Option<user::Model>,
    /// With `HOLDS_WORK`: what would move, per category, and what is excluded, per reason.
    pub open_work: Option<Preview>,
    pub user_errors: Vec<UserError>,
}

fn refused(user: Option<user::Model>, error: UserError) -> Deactivation {
    Deactivation {
        user,
        open_work: None,
        user_errors: vec![error],
    }
}

/// What `user_id` holds that a reassignment would move, to anyone who may see it: every
/// category, to themselves, access granted (so no target's access excludes anything).
pub async fn open_work(
    db: &DatabaseConnection,
    firm: &entity::firm::Model,
    user_id: i64,
    now: DateTime<Utc>,
    slot: &Slot,
) -> AppResult<Preview> {
    let all = CategorySpec::all(user_id, user_id);
    let order = Order {
        matters: Some(all.clone()),
        tasks: Some(all.clone()),
        events: Some(all),
        grant_access: true,
        ..Order::in_firm(firm, user_id, now, user_id)
    };
    let ran = reassign::run(&order, Run::DryRun(db), slot)
        .await?
        .map_err(|_| AppError::internal("a dry run refused"))?;
    Ok(Preview {
        order,
        plan: ran.plan,
        token: ran.token,
    })
}

/// How much of each category would move.
fn moving(preview: &Preview) -> Delivery {
    let n = |c: &Option<reassign::CategoryPlan>| c.as_ref().map_or(0, |c| c.tally().moves() as i64);
    Delivery {
        matters: n(&preview.plan.matters),
        tasks: n(&preview.plan.tasks),
        calendar_events: n(&preview.plan.events),
        assigner_of: n(&preview.plan.assigners),
        ..Delivery::default()
    }
}

fn holds_work(preview: &Preview) -> bool {
    moving(preview) != Delivery::default()
}

/// Of `user_ids` (enabled before an import), those now deactivated who still hold work that
/// would move, with how much: the import goes through and the operator is warned.
pub async fn left_holding_work(
    db: &DatabaseConnection,
    user_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<Vec<(user::Model, Delivery)>> {
    let deactivated = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids.iter().copied()))
        .filter(user::Column::Enabled.eq(false))
        .all(db)
        .await?;
    let mut out = Vec::new();
    // The import command's own process: one plan at a time.
    let slot = Planning::new(1).enter().await?;
    for user in deactivated {
        let Some(firm) = entity::firm::Entity::find_by_id(user.firm_id).one(db).await? else {
            continue;
        };
        let held = moving(&open_work(db, &firm, user.id, now, &slot).await?);
        if held != Delivery::default() {
            out.push((user, held));
        }
    }
    Ok(out)
}

/// Deactivate `id`: refused for yourself (`SELF`), for the last enabled administrator
/// (`LAST_ADMIN`), and for someone holding work that would move (`HOLDS_WORK`) unless `handover`
/// moves it in the same transaction or `force` leaves it.
pub async fn deactivate(
    db: &DatabaseConnection,
    live: &Live,
    viewer: &Viewer,
    id: i64,
    handover: Option<&Request>,
    force: bool,
    now: DateTime<Utc>,
) -> AppResult<Deactivation> {
    viewer.require_admin()?;
    let Some(target) = user::Entity::find_by_id(id)
        .filter(user::Column::FirmId.eq(viewer.firm_id()))
        .one(db)
        .await?
    else {
        return Ok(refused(
            None,
            UserError::new(&["id"], "NOT_FOUND", "no such user in this firm"),
        ));
    };
    if target.enabled && is_last_admin(db, viewer.firm_id(), id).await? {
        return Ok(refused(
            Some(target),
            UserError::new(
                &["id"],
                "LAST_ADMIN",
                "the firm's last enabled administrator cannot be deactivated",
            ),
        ));
    }
    if id == viewer.user_id() {
        return Ok(refused(
            Some(target),
            UserError::new(&["id"], "SELF", "you cannot deactivate yourself"),
        ));
    }

    // Taken before the write transaction, as at every door (see `reassign::gate`).
    let slot = live.planning.enter().await?;
    let order = match handover {
        None => {
            if !force && target.enabled {
                let preview = open_work(db, &viewer.firm, id, now, &slot).await?;
                if holds_work(&preview) {
                    return Ok(Deactivation {
                        user: Some(target),
                        open_work: Some(preview),
                        user_errors: vec![UserError::new(
                            &["id"],
                            "HOLDS_WORK",
                            "this user holds work that would move: hand it over, or deactivate with force",
                        )],
                    });
                }
            }
            None
        }
        Some(request) => {
            if request.from_user_id.is_some_and(|from| from != Ok(id)) {
                return Ok(refused(
                    Some(target),
                    UserError::new(
                        &["handover", "fromUserId"],
                        "NOT_THE_USER",
                        "the handover must be of the work of the user being deactivated",
                    ),
                ));
            }
            match input::validate(db, viewer, request, now).await? {
                Ok(order) => Some(order),
                Err(errors) => {
                    return Ok(Deactivation {
                        user: Some(target),
                        open_work: None,
                        user_errors: errors.into_iter().map(under_handover).collect(),
                    });
                }
            }
        }
    };

    let txn = begin_write(db).await?;
    let mut written = None;
    if let Some(order) = &order {
        match reassign::run(order, Run::Write(&txn), &slot).await {
            Ok(Ok(ran)) => written = ran.written,
            Ok(Err(errors)) => {
                txn.rollback().await?;
                return Ok(Deactivation {
                    user: Some(target),
                    open_work: None,
                    user_errors: errors.into_iter().map(under_handover).collect(),
                });
            }
            Err(e) => {
                txn.rollback().await.ok();
                return Err(e);
            }
        }
    }
    user::Entity::update_many()
        .col_expr(user::Column::Enabled, Expr::value(false))
        .filter(user::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    live.users_changed();
    if let Some((batch, notifications)) = &written {
        live.after_commit(batch, notifications);
    }
    tracing::info!(
        user = id,
        by = viewer.user_id(),
        handed_over = written.is_some(),
        "user deactivated"
    );
    Ok(Deactivation {
        user: user::Entity::find_by_id(id).one(db).await?,
        open_work: None,
        user_errors: Vec::new(),
    })
}

/// A validation error of the handover, placed under `handover` instead of `input`.
fn under_handover(e: UserError) -> UserError {
    e.nested_at(&["handover"])
}

/// Let a deactivated user log in again. Their work is not given back: that is a reassignment.
pub async fn reactivate(db: &DatabaseConnection, live: &Live, viewer: &Viewer, id: i64) -> AppResult<Deactivation> {
    viewer.require_admin()?;
    let found = user::Entity::update_many()
        .col_expr(user::Column::Enabled, Expr::value(true))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::FirmId.eq(viewer.firm_id()))
        .exec(db)
        .await?;
    if found.rows_affected == 0 {
        return Ok(refused(
            None,
            UserError::new(&["id"], "NOT_FOUND", "no such user in this firm"),
        ));
    }
    // This instance at once; the others hear it from the database (m0008's trigger).
    live.users_changed();
    Ok(Deactivation {
        user: user::Entity::find_by_id(id).one(db).await?,
        open_work: None,
        user_errors: Vec::new(),
    })
}
