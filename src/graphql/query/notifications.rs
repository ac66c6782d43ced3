use crate::graphql::connection::*;
use crate::graphql::context::{db, viewer};
use crate::graphql::types::NotificationConnection;
use crate::graphql::types::WorkAssignedNotification;
use crate::notify::store;
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// The viewer's notifications, newest first: what a client that was offline missed.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] unread_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<NotificationConnection> {
        let req = page_request(ctx, first, after)?;
        let page = store::list(db(ctx)?, viewer(ctx)?, unread_only, req).await?;
        Ok(NotificationConnection::from_page(
            page,
            |n| n.id,
            WorkAssignedNotification,
        ))
    }
}
