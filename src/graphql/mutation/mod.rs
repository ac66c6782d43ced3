//! The mutation root. Business rejections come back as `userErrors`; FORBIDDEN and
//! UNAUTHENTICATED as errors.

use crate::graphql::context::{db, viewer};
use crate::graphql::types::{ReassignWorkInput, ReassignWorkPayload};
use crate::ids::{self, Kind};
use crate::reassign;
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct Mutation;

#[Object]
impl Mutation {
    /// Move the work in one atomic step. Administrators only.
    async fn reassign_work(
        &self,
        ctx: &Context<'_>,
        input: ReassignWorkInput,
    ) -> async_graphql::Result<ReassignWorkPayload> {
        let outcome = reassign::reassign(db(ctx)?, viewer(ctx)?, &input.to_request(), chrono::Utc::now()).await?;
        Ok(ReassignWorkPayload::from_outcome(outcome))
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
        let outcome = reassign::undo(db(ctx)?, v, id, chrono::Utc::now()).await?;
        Ok(ReassignWorkPayload::from_outcome(outcome))
    }
}
