//! The live hub: an in-process broadcast of "notification N is for user U". Subscribers filter
//! for their own user and load the durable row.

use std::sync::Arc;
use tokio::sync::{Notify, broadcast};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub user_id: i64,
    pub notification_id: i64,
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
