//! The subscription root: live notifications for the signed-in user, and no one else's.

use crate::graphql::context::viewer;
use crate::graphql::types::WorkAssignedNotification;
use crate::notify::Hub;
use async_graphql::{Context, Subscription};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Work assigned to you, as it happens. A client that was offline catches up with
    /// `notifications`.
    async fn work_assigned(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = WorkAssignedNotification> + use<>> {
        let me = viewer(ctx)?.user_id();
        let receiver = ctx
            .data::<Hub>()
            .map_err(|_| crate::error::AppError::internal("no hub"))?
            .subscribe();
        // Only the viewer's own. The rows come read once per instance; the connection itself is
        // closed when its user is deactivated or its token expires (see `http::websocket`).
        Ok(futures::stream::unfold(receiver, move |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(p) if p.user_id() == me => {
                        return Some((WorkAssignedNotification((*p.0).clone()), receiver));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a subscriber fell behind; it can catch up with `notifications`")
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }))
    }
}
