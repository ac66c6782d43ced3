//! The mutation root. Business rejections come back as `userErrors`; FORBIDDEN and
//! UNAUTHENTICATED as errors.

use crate::graphql::context::{db, viewer};
use crate::graphql::types::{ReassignWorkInput, ReassignWorkPayload, UserError};
use crate::ids::{self, Kind};
use crate::notify::Hub;
use crate::reassign;
use async_graphql::{Context, ID, Object, SimpleObject};

#[derive(Default)]
pub struct Mutation;

/// Wake the new assignees' subscriptions: the reassignment has committed.
/// On PostgreSQL every instance's listener does it (see `notify::fanout`).
fn publish(ctx: &Context<'_>, outcome: reassign::Outcome<reassign::Applied>) -> reassign::Outcome<reassign::Applied> {
    if let (Ok(applied), Ok(m)) = (&outcome, ctx.data::<std::sync::Arc<crate::metrics::Metrics>>())
        && !applied.replayed
    {
        use std::sync::atomic::Ordering::Relaxed;
        let r = &applied.reassignment;
        m.reassignments.fetch_add(1, Relaxed);
        if r.undo_of_id.is_some() {
            m.undos.fetch_add(1, Relaxed);
        }
        m.matters_moved.fetch_add(r.matters_reassigned as u64, Relaxed);
        m.tasks_moved.fetch_add(r.tasks_reassigned as u64, Relaxed);
        m.events_moved.fetch_add(r.events_reassigned as u64, Relaxed);
        m.notifications.fetch_add(applied.notifications.len() as u64, Relaxed);
    }
    if let (Ok(applied), Ok(hub), Ok(db)) = (&outcome, ctx.data::<Hub>(), ctx.data::<sea_orm::DatabaseConnection>())
        && crate::notify::fanout::publishes_locally(db)
    {
        hub.publish(applied.notifications.iter().cloned());
    }
    outcome
}

/// `RATE_LIMITED` when the administrator is over the per-minute cap.
fn rate_limited(ctx: &Context<'_>, user_id: i64) -> Option<ReassignWorkPayload> {
    let limit = ctx.data::<crate::graphql::rate::RateLimit>().ok()?;
    let wait = limit.check(user_id).err()?;
    Some(ReassignWorkPayload::from_outcome(Err(vec![reassign::UserError::new(
        &[],
        "RATE_LIMITED",
        format!("too many reassignments in the last minute; try again in {wait} s"),
    )])))
}

/// Most ids `markNotificationsRead` takes at once.
const MAX_IDS: usize = 1000;

/// The result of `markNotificationsRead`.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many notifications changed from unread to read.
    pub count: u64,
    pub user_errors: Vec<UserError>,
}

#[Object]
impl Mutation {
    /// Move the work in one atomic step. Administrators only.
    async fn reassign_work(
        &self,
        ctx: &Context<'_>,
        input: ReassignWorkInput,
    ) -> async_graphql::Result<ReassignWorkPayload> {
        let v = viewer(ctx)?;
        v.require_admin()?;
        if let Some(refused) = rate_limited(ctx, v.user_id()) {
            return Ok(refused);
        }
        let outcome = reassign::reassign(db(ctx)?, v, &input.to_request(), chrono::Utc::now()).await?;
        Ok(ReassignWorkPayload::from_outcome(publish(ctx, outcome)))
    }

    /// Mark your notifications read: those listed, or with `all: true` every one.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Option<Vec<ID>>,
        #[graphql(default = false)] all: bool,
    ) -> async_graphql::Result<MarkNotificationsReadPayload> {
        let v = viewer(ctx)?;
        let ids = match (ids, all) {
            (_, true) => None,
            (Some(list), false) => {
                if list.len() > MAX_IDS {
                    return Err(crate::error::AppError::BadUserInput(format!("at most {MAX_IDS} ids at once")).into());
                }
                Some(
                    list.iter()
                        .map(|id| ids::decode(Kind::Notification, id))
                        .collect::<Result<Vec<_>, _>>()?,
                )
            }
            (None, false) => {
                return Ok(MarkNotificationsReadPayload {
                    count: 0,
                    user_errors: vec![UserError {
                        field: Some(vec!["ids".into()]),
                        message: "give the ids to mark, or all: true".into(),
                        code: "REQUIRED".into(),
                    }],
                });
            }
        };
        let count = crate::notify::store::mark_read(db(ctx)?, v, ids, chrono::Utc::now()).await?;
        Ok(MarkNotificationsReadPayload {
            count,
            user_errors: Vec::new(),
        })
    }

    /// Take a reassignment back: what it moved and is still as it was left goes back to its
    /// previous holder. The undo is a reassignment of its own. Administrators only.
    async fn undo_reassignment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ReassignWorkPayload> {
        let v = viewer(ctx)?;
        v.require_admin()?;
        let Ok(id) = ids::decode(Kind::Reassignment, &id) else {
            return Ok(ReassignWorkPayload::from_outcome(Err(vec![reassign::UserError::new(
                &["id"],
                "NOT_FOUND",
                "no such reassignment in this firm",
            )])));
        };
        if let Some(refused) = rate_limited(ctx, v.user_id()) {
            return Ok(refused);
        }
        let outcome = reassign::undo(db(ctx)?, v, id, chrono::Utc::now()).await?;
        Ok(ReassignWorkPayload::from_outcome(publish(ctx, outcome)))
    }
}
