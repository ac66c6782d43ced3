//! Telling new assignees (SPEC.md section 4). A reassignment writes, in its own transaction, one
//! durable notification per new assignee (a digest) and one outbox email; after it commits, the
//! live hub wakes the recipients' subscriptions. The durable rows are the truth: a client that
//! was offline catches up with the `notifications` query.

pub mod digest;
pub mod fanout;
pub mod hub;
pub mod mailer;
pub mod store;

pub use digest::{Arrivals, When};
pub use hub::{Hub, Published};
pub use store::{Delivery, Received, record_for_batch};

use crate::metrics::Metrics;
use entity::reassignment;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// Live delivery and what follows a commit, for every path that commits a reassignment (a
/// mutation today; a scheduled start or return tomorrow).
#[derive(Clone)]
pub struct Live {
    pub hub: Hub,
    metrics: Arc<Metrics>,
    /// SQLite (one instance): the committing path wakes the hub itself. PostgreSQL: every
    /// instance's listener does, from the `NOTIFY` sent in the transaction.
    local: bool,
    /// Who is asking, kept between requests while this instance hears every change to users.
    pub viewers: Arc<crate::auth::Viewers>,
    /// A preview's loads, kept for the apply that follows it while the database is unchanged.
    pub reuse: Arc<crate::reassign::Reuse>,
    /// How many reassignments are planned at once (`--max-concurrent-plans`).
    pub planning: crate::reassign::Planning,
    /// The tables a big reassignment rewrote, vacuumed after it (`--vacuum-after`).
    pub vacuum: Arc<crate::db::vacuum::AfterBulk>,
}

impl Live {
    /// Must be called inside the Tokio runtime: on PostgreSQL it starts the LISTEN task.
    pub fn start(db: &DatabaseConnection, metrics: Arc<Metrics>) -> Self {
        let hub = Hub::default();
        let local = fanout::publishes_locally(db);
        let viewers = Arc::new(crate::auth::Viewers::default());
        if !local {
            tokio::spawn(fanout::listen(db.clone(), hub.clone(), viewers.clone()));
        }
        Live {
            hub,
            metrics: metrics.clone(),
            local,
            viewers,
            reuse: Arc::new(crate::reassign::Reuse::new(db)),
            planning: crate::reassign::Planning::per_core(),
            vacuum: crate::db::vacuum::AfterBulk::new(db, crate::db::vacuum::DEFAULT_AFTER, metrics.clone()),
        }
    }

    /// Users or firms changed (the transaction also announced it to the other instances).
    pub fn users_changed(&self) {
        self.viewers.forget_all();
    }

    /// Notifications written without a reassignment (a heads-up, a failure) have committed.
    pub fn wake(&self, notifications: &[Published]) {
        self.metrics
            .notifications
            .fetch_add(notifications.len() as u64, Relaxed);
        if self.local {
            self.hub.publish(notifications.iter().cloned());
        }
    }

    /// A reassignment (or undo) has committed: count it, and wake its recipients' subscriptions.
    pub fn after_commit(&self, batch: &reassignment::Model, notifications: &[Published]) {
        let m = &self.metrics;
        m.reassignments.fetch_add(1, Relaxed);
        if batch.undo_of_id.is_some() {
            m.undos.fetch_add(1, Relaxed);
        }
        m.matters_moved.fetch_add(batch.matters_reassigned as u64, Relaxed);
        m.tasks_moved.fetch_add(batch.tasks_reassigned as u64, Relaxed);
        m.events_moved.fetch_add(batch.events_reassigned as u64, Relaxed);
        m.notifications.fetch_add(notifications.len() as u64, Relaxed);
        if self.local {
            self.hub.publish(notifications.iter().cloned());
        }
        let moved = batch.matters_reassigned + batch.tasks_reassigned + batch.events_reassigned;
        self.vacuum.moved(u64::try_from(moved).unwrap_or(0));
    }
}
