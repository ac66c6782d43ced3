//! Planned handovers and deactivation. Administrators only; business rejections come back as
//! `userErrors`.

use crate::graphql::context::{db, live, now, viewer};
use crate::graphql::types::{DeactivateUserPayload, PlanHandoverInput, PlanHandoverPayload, ReassignWorkInput};
use crate::ids::{self, Kind};
use crate::planned::{self, deactivate};
use crate::reassign::UserError;
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct PlannedMutation;

fn not_found(what: &str) -> UserError {
    UserError::new(&["id"], "NOT_FOUND", format!("no such {what} in this firm"))
}

/// The answer to a user ID that names no one.
fn no_such_user() -> DeactivateUserPayload {
    deactivate::Deactivation {
        user_errors: vec![not_found("user")],
        ..Default::default()
    }
    .into()
}

#[Object]
impl PlannedMutation {
    /// Hand work over on a date, for good or for a period (the work then goes back by itself).
    async fn plan_handover(
        &self,
        ctx: &Context<'_>,
        input: PlanHandoverInput,
    ) -> async_graphql::Result<PlanHandoverPayload> {
        let outcome = planned::plan(db(ctx)?, live(ctx)?, viewer(ctx)?, &input.to_request(), now(ctx)?).await?;
        Ok(PlanHandoverPayload::from_outcome(outcome))
    }

    /// A scheduled plan never runs; an active cover ends now (its return runs at once).
    async fn cancel_planned_handover(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PlanHandoverPayload> {
        let v = viewer(ctx)?;
        v.require_admin()?;
        let Ok(id) = ids::decode(Kind::PlannedHandover, &id) else {
            return Ok(PlanHandoverPayload::from_outcome(Err(vec![not_found(
                "planned handover",
            )])));
        };
        let outcome = planned::cancel(db(ctx)?, live(ctx)?, v, id, now(ctx)?).await?;
        Ok(PlanHandoverPayload::from_outcome(outcome))
    }

    /// Deactivate a user. Refused (`HOLDS_WORK`, with `openWork`) while they hold work that
    /// would move, unless `handover` moves it in the same transaction or `force` leaves it.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        handover: Option<ReassignWorkInput>,
        #[graphql(default = false)] force: bool,
    ) -> async_graphql::Result<DeactivateUserPayload> {
        let v = viewer(ctx)?;
        v.require_admin()?;
        let Ok(id) = ids::decode(Kind::User, &id) else {
            return Ok(no_such_user());
        };
        let request = handover.map(|h| h.to_request());
        let done = deactivate::deactivate(db(ctx)?, live(ctx)?, v, id, request.as_ref(), force, now(ctx)?).await?;
        Ok(done.into())
    }

    /// Let a deactivated user log in again (their work stays where it is).
    async fn reactivate_user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<DeactivateUserPayload> {
        let v = viewer(ctx)?;
        v.require_admin()?;
        let Ok(id) = ids::decode(Kind::User, &id) else {
            return Ok(no_such_user());
        };
        Ok(deactivate::reactivate(db(ctx)?, live(ctx)?, v, id).await?.into())
    }
}
