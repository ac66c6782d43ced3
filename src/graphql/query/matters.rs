use crate::firm::matters::{self, MatterFilter as DomainMatterFilter};
use crate::firm::users;
use crate::graphql::connection::*;
use crate::graphql::context::{db, viewer};
use crate::graphql::types::MatterConnection;
use crate::graphql::types::{Matter, MatterStatus};
use crate::ids::{self, Kind};
use async_graphql::{Context, ID, InputObject, Object};

#[derive(Default)]
pub struct MattersQuery;

/// Narrow the list of matters; every field is optional and they combine with AND.
#[derive(InputObject, Default)]
pub struct MatterFilter {
    /// Any of these statuses.
    pub status: Option<Vec<MatterStatus>>,
    pub responsible_attorney_id: Option<ID>,
    pub practice_area: Option<String>,
    /// Case-insensitive part of the display number, description or client name.
    pub search: Option<String>,
}

#[Object]
impl MattersQuery {
    /// Matters the viewer may see: all of the firm's for administrators, otherwise those whose
    /// permission includes the viewer.
    async fn matters(
        &self,
        ctx: &Context<'_>,
        filter: Option<MatterFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<MatterConnection> {
        let req = page_request(ctx, first, after)?;
        let f = filter.unwrap_or_default();
        let (db, viewer) = (db(ctx)?, viewer(ctx)?);
        let responsible_attorney_id = f
            .responsible_attorney_id
            .map(|id| ids::decode(Kind::User, &id))
            .transpose()?;
        if let Some(id) = responsible_attorney_id {
            users::require_in_firm(db, viewer.firm_id(), id).await?;
        }
        let filter = DomainMatterFilter {
            status: f.status.map(|s| s.into_iter().map(Into::into).collect()),
            responsible_attorney_id,
            practice_area: f.practice_area,
            search: f.search,
        };
        let page = matters::list(db, viewer, &filter, req).await?;
        crate::graphql::types::prime_matter_page(ctx, &page.items).await?;
        Ok(MatterConnection::from_page(page, |m| m.id, Matter))
    }

    /// One matter the viewer may see.
    async fn matter(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Matter>> {
        let id = ids::decode(Kind::Matter, &id)?;
        Ok(Some(Matter(matters::get(db(ctx)?, viewer(ctx)?, id).await?)))
    }
}
