use crate::firm::users::{self, UserFilter as DomainUserFilter};
use crate::graphql::connection::*;
use crate::graphql::context::{db, load_failed, loaders, viewer};
use crate::graphql::types::UserConnection;
use crate::graphql::types::{Licence, User};
use crate::ids::{self, Kind};
use async_graphql::{Context, ID, InputObject, Object};

#[derive(Default)]
pub struct PeopleQuery;

/// Narrow the list of users; every field is optional and they combine with AND.
#[derive(InputObject, Default)]
pub struct UserFilter {
    pub enabled: Option<bool>,
    pub account_admin: Option<bool>,
    pub licence: Option<Licence>,
    /// Case-insensitive part of the name or the email.
    pub search: Option<String>,
}

#[Object]
impl PeopleQuery {
    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        Ok(User(viewer(ctx)?.user.clone()))
    }

    /// The firm's users. Administrators only.
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let req = page_request(ctx, first, after)?;
        let f = filter.unwrap_or_default();
        let filter = DomainUserFilter {
            enabled: f.enabled,
            account_admin: f.account_admin,
            licence: f.licence.map(Into::into),
            search: f.search,
        };
        let page = users::list(db(ctx)?, viewer(ctx)?, &filter, req).await?;
        let look = ctx.look_ahead();
        if look.field("nodes").field("workload").exists()
            || look.field("edges").field("node").field("workload").exists()
        {
            let ids = page.items.iter().map(|u| u.id);
            loaders(ctx)?.workloads.load_many(ids).await.map_err(load_failed)?;
        }
        Ok(UserConnection::from_page(page, |u| u.id, User))
    }

    /// One user: administrators may look up anyone in the firm, other users only themselves.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        let id = ids::decode(Kind::User, &id)?;
        Ok(Some(User(users::get(db(ctx)?, viewer(ctx)?, id).await?)))
    }
}
