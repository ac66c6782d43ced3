//! SeaORM entities: one module per table. Plain data; no GraphQL, no business rules.
//! Every table but `firm` carries `firm_id`: nothing ever crosses firms.

pub mod calendar;
pub mod calendar_event;
pub mod enums;
pub mod event_attendee;
pub mod firm;
pub mod firm_issuer;
pub mod group;
pub mod group_member;
pub mod matter;
pub mod matter_permitted_group;
pub mod matter_permitted_user;
pub mod notification;
pub mod outbox_email;
pub mod planned_handover;
pub mod reassignment;
pub mod reassignment_grant;
pub mod reassignment_item;
pub mod task;
pub mod user;

pub use enums::*;

/// Case folding for search and for email uniqueness: Unicode lower case, the same on every
/// database (SQLite's `lower()` folds ASCII only). Migration m0004 backfills with the same rule.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// The text a search matches against: the folded fields, one a line (a search never spans
/// two fields: it cannot contain a line break).
pub fn search_text(fields: &[&str]) -> String {
    fields.iter().map(|f| fold(f)).collect::<Vec<_>>().join("\n")
}
