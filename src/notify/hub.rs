//! The live hub: an in-process broadcast of new notifications, each read from the database
//! once per instance and shared by every subscriber (who keeps only their own): one user's many
//! subscriptions cost no database reads and cannot slow anyone else's request.

use entity::notification;
use std::sync::Arc;
use tokio::sync::{Notify, broadcast};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published(pub Arc<notification::Model>);

impl Published {
    pub fn user_id(&self) -> i64 {
        self.0.user_id
    }
}

#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Published>,
    /// Wakes the outbox worker: new emails were committed.
    mail: Arc<Notify>,
}

/// How many wake-ups a slow subscriber may fall behind before it misses some (it can still
/// catch up from the durable rows).
const CAPACITY: usize = 4096;

impl Default for Hub {
    fn default() -> Self {
        Hub {
            sender: broadcast::channel(CAPACITY).0,
            mail: Arc::new(Notify::new()),
        }
    }
}

impl Hub {
    pub fn publish(&self, items: impl IntoIterator<Item = Published>) {
        let mut any = false;
        for item in items {
            // No subscriber at all is not an error: the row is durable.
            let _ = self.sender.send(item);
            any = true;
        }
        if any {
            self.mail.notify_one();
        }
    }

    pub fn mail_waker(&self) -> Arc<Notify> {
        self.mail.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.sender.subscribe()
    }
}
