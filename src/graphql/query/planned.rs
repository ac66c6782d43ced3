use crate::graphql::connection::*;
use crate::graphql::context::{db, viewer};
use crate::graphql::types::{PlannedHandover, PlannedHandoverConnection, PlannedHandoverStatus};
use crate::ids::{self, Kind};
use crate::planned;
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct PlannedQuery;

#[Object]
impl PlannedQuery {
    /// The firm's planned handovers, newest first, optionally of some statuses.
    /// Administrators only.
    async fn planned_handovers(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<PlannedHandoverStatus>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlannedHandoverConnection> {
        let req = page_request(ctx, first, after)?;
        let statuses = status.map(|list| list.into_iter().map(Into::into).collect());
        let page = planned::list(db(ctx)?, viewer(ctx)?, statuses, req).await?;
        Ok(PlannedHandoverConnection::from_page(page, |p| p.id, PlannedHandover))
    }

    /// One planned handover. Administrators only.
    async fn planned_handover(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<PlannedHandover>> {
        let v = viewer(ctx)?;
        v.require_admin()?;
        let id = ids::decode(Kind::PlannedHandover, &id)?;
        let plan = planned::find(db(ctx)?, v.firm_id(), id)
            .await?
            .ok_or(crate::error::AppError::NotFound("planned handover"))?;
        Ok(Some(PlannedHandover(plan)))
    }
}
