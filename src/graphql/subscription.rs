//! The subscription root: live notifications for the signed-in user, and no one else's.

use crate::graphql::context::{db, viewer};
use crate::graphql::types::WorkAssignedNotification;
use crate::notify::{Hub, store};
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
        let viewer = viewer(ctx)?.clone();
        let db = db(ctx)?.clone();
        let receiver = ctx
            .data::<Hub>()
            .map_err(|_| crate::error::AppError::internal("no hub"))?
            .subscribe();
        Ok(futures::stream::unfold(receiver, move |mut receiver| {
            let (viewer, db) = (viewer.clone(), db.clone());
            async move {
                loop {
                    match receiver.recv().await {
                        // Only the viewer's own; the row is read back under the same check, and a
                        // user deactivated since the connection opened hears nothing more.
                        Ok(p) if p.user_id == viewer.user_id() => {
                            if !still_enabled(&db, viewer.user_id()).await {
                                return None;
                            }
                            match store::get(&db, &viewer, p.notification_id).await {
                                Ok(Some(n)) => return Some((WorkAssignedNotification(n), receiver)),
                                Ok(None) => continue,
                                Err(e) => tracing::warn!(error = %e.detail(), "cannot load a notification"),
                            }
                        }
                        Ok(_) => continue,
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "a subscriber fell behind; it can catch up with `notifications`")
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        }))
    }
}

async fn still_enabled(db: &sea_orm::DatabaseConnection, user_id: i64) -> bool {
    use sea_orm::EntityTrait;
    matches!(entity::user::Entity::find_by_id(user_id).one(db).await, Ok(Some(u)) if u.enabled)
}
