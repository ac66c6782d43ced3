//! Telling new assignees (SPEC.md section 4). A reassignment writes, in its own transaction, one
//! durable notification per new assignee (a digest) and one outbox email; after it commits, the
//! live hub wakes the recipients' subscriptions. The durable rows are the truth: a client that
//! was offline catches up with the `notifications` query.

pub mod fanout;
pub mod hub;
pub mod mailer;
pub mod store;

pub use hub::{Hub, Published};
pub use store::{Delivery, record_for_batch};
