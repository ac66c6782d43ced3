//! The mutation root. Business rejections come back as `userErrors`; FORBIDDEN and
//! UNAUTHENTICATED as errors.

use crate::graphql::context::{db, live, now, viewer};
use crate::graphql::types::{ReassignWorkInput, ReassignWorkPayload, UserError};
use crate::ids::{self, Kind};
use crate::reassign;
use async_graphql::{Context, ID, Object, SimpleObject};

mod planned;

/// The mutation root, one object per domain, merged.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(WorkMutation, planned::PlannedMutation);

#[derive(Default)]
pub struct WorkMutation;

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
impl WorkMutation {
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
        let outcome = reassign::reassign(db(ctx)?, live(ctx)?, v, &input.to_request(), now(ctx)?).await?;
        Ok(ReassignWorkPayload::from_outcome(outcome))
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
        let count = crate::notify::store::mark_read(db(ctx)?, v, ids, now(ctx)?).await?;
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
        let outcome = reassign::undo(db(ctx)?, live(ctx)?, v, id, now(ctx)?).await?;
        Ok(ReassignWorkPayload::from_outcome(outcome))
    }
}
