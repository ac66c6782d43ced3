//! SeaORM entities: one module per table. Plain data; no GraphQL, no business rules.
//! Every table but `firm` carries `firm_id`: nothing ever crosses firms.

pub mod calendar;
pub mod calendar_event;
pub mod enums;
pub mod event_attendee;
pub mod firm;
pub mod group;
pub mod group_member;
pub mod matter;
pub mod matter_permitted_group;
pub mod matter_permitted_user;
pub mod notification;
pub mod outbox_email;
pub mod reassignment;
pub mod reassignment_grant;
pub mod reassignment_item;
pub mod task;
pub mod user;

pub use enums::*;
