use crate::graphql::connection::*;
use crate::graphql::context::{db, live, now, viewer};
use crate::graphql::types::ReassignmentConnection;
use crate::graphql::types::{ReassignWorkInput, Reassignment, ReassignmentPreview, reassignment_preview_refused};
use crate::ids::{self, Kind};
use crate::reassign::{self, history};
use async_graphql::{Context, ID, Object};
use std::sync::Arc;

#[derive(Default)]
pub struct ReassignmentsQuery;

#[Object]
impl ReassignmentsQuery {
    /// A true dry run of `reassignWork`: what would move, to whom, and what would not and why.
    /// Writes nothing. Administrators only.
    async fn reassignment_preview(
        &self,
        ctx: &Context<'_>,
        input: ReassignWorkInput,
    ) -> async_graphql::Result<ReassignmentPreview> {
        let outcome = reassign::preview(db(ctx)?, live(ctx)?, viewer(ctx)?, &input.to_request(), now(ctx)?).await?;
        match outcome {
            Ok(preview) => Ok(ReassignmentPreview(Arc::new(preview))),
            Err(errors) => Err(reassignment_preview_refused(errors)),
        }
    }

    /// The firm's reassignments, newest first. Administrators only.
    async fn reassignments(
        &self,
        ctx: &Context<'_>,
        from_user_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ReassignmentConnection> {
        let req = page_request(ctx, first, after)?;
        let filter = history::HistoryFilter {
            from_user_id: from_user_id.map(|id| ids::decode(Kind::User, &id)).transpose()?,
        };
        let page = history::list(db(ctx)?, viewer(ctx)?, &filter, req).await?;
        Ok(ReassignmentConnection::from_page(page, |r| r.id, Reassignment))
    }

    /// One reassignment, with its report. Administrators only.
    async fn reassignment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Reassignment>> {
        let v = viewer(ctx)?;
        v.require_admin()?;
        let id = ids::decode(Kind::Reassignment, &id)?;
        Ok(Some(Reassignment(history::get(db(ctx)?, v, id).await?)))
    }
}
