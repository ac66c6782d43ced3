//! The order: one reassignment from validation to commit. Who asked, for which firm, on which
//! clock; what moves from whom to whom; what the batch row records. `input::validate` makes one
//! from a request, `undo` from the reassignment it takes back; the engine (`super::run`) plans
//! and carries out either the same way.

use super::rules::Clock;
use crate::auth::Viewer;
use crate::firm::firm_tz;
use chrono::{DateTime, Utc};
use entity::{WorkKind, firm};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// One category's move: from whom, to whom, and (for undo) exactly which records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySpec {
    pub from: i64,
    pub to: i64,
    /// Consider exactly these records (undo). A record no longer held by `from` is `CHANGED`.
    /// `None`: every record `from` holds.
    pub only: Option<BTreeSet<i64>>,
    /// Events whose attendee place the target takes when the source attends. `None`: all of
    /// them. Undo swaps back only where the reassignment it undoes swapped.
    pub attendee_swap: Option<BTreeSet<i64>>,
}

impl CategorySpec {
    /// Every record `from` holds goes to `to`.
    pub fn all(from: i64, to: i64) -> Self {
        CategorySpec {
            from,
            to,
            only: None,
            attendee_swap: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Order {
    pub firm_id: i64,
    /// The administrator who asked (the batch's actor).
    pub actor_id: i64,
    pub clock: Clock,
    /// The person whose work moves (for an undo: who holds it now).
    pub from_user_id: i64,
    /// Each category's move; `None` when the category is left out.
    pub matters: Option<CategorySpec>,
    pub tasks: Option<CategorySpec>,
    pub events: Option<CategorySpec>,
    /// Only work on these matters.
    pub matter_ids: Option<BTreeSet<i64>>,
    pub grant_access: bool,
    pub note: Option<String>,
    pub idempotency_key: Option<String>,
    /// Apply exactly the plan this token fingerprints, or refuse (`PREVIEW_STALE`).
    pub preview_token: Option<String>,
    /// The reassignment this order takes back.
    pub undo_of: Option<i64>,
    /// A cover's return (SPEC.md section 8): past-due tasks go back too.
    pub returning: bool,
}

impl Order {
    /// An order on behalf of `viewer`, measured at `cutoff` in the firm's time zone, moving
    /// nothing yet.
    pub fn by(viewer: &Viewer, cutoff: DateTime<Utc>, from_user_id: i64) -> Self {
        Order::in_firm(&viewer.firm, viewer.user_id(), cutoff, from_user_id)
    }

    /// As [`Order::by`], for an actor known only by id (the command line, a check).
    pub fn in_firm(firm: &firm::Model, actor_id: i64, cutoff: DateTime<Utc>, from_user_id: i64) -> Self {
        Order {
            firm_id: firm.id,
            actor_id,
            clock: Clock {
                cutoff,
                time_zone: firm_tz(&firm.time_zone),
            },
            from_user_id,
            matters: None,
            tasks: None,
            events: None,
            matter_ids: None,
            grant_access: false,
            note: None,
            idempotency_key: None,
            preview_token: None,
            undo_of: None,
            returning: false,
        }
    }

    /// The categories included, in report order.
    pub fn categories(&self) -> impl Iterator<Item = (WorkKind, &CategorySpec)> {
        [
            (WorkKind::Matter, &self.matters),
            (WorkKind::Task, &self.tasks),
            (WorkKind::CalendarEvent, &self.events),
        ]
        .into_iter()
        .filter_map(|(kind, c)| c.as_ref().map(|c| (kind, c)))
    }

    /// Fingerprint of what was asked, to tell a retry (same key, same input) from a reuse.
    pub fn fingerprint(&self) -> String {
        if let Some(original) = self.undo_of {
            return format!("undo:{original}");
        }
        let to = |c: &Option<CategorySpec>| c.as_ref().map(|c| c.to.to_string()).unwrap_or_default();
        let text = format!(
            "from={};m={};t={};e={};ids={:?};grant={};note={:?};token={:?}",
            self.from_user_id,
            to(&self.matters),
            to(&self.tasks),
            to(&self.events),
            self.matter_ids,
            self.grant_access,
            self.note,
            self.preview_token
        );
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
    }
}
