//! The order: one reassignment from validation to commit. Who asked, for which firm, on which
//! clock; what moves from whom to whom; what the batch row records. `input::validate` makes one
//! from a request, `undo` from the reassignment it takes back; the engine (`super::run`) plans
//! and carries out either the same way.

use super::rules::Clock;
use super::rules::route::Route;
use crate::auth::Viewer;
use crate::firm::firm_tz;
use chrono::{DateTime, Utc};
use entity::{WorkKind, firm};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// For an undo: who holds a record now, and whom it goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Back {
    pub holder: i64,
    pub to: i64,
    /// It was moved by the past-due sweep: it goes back past due as it came.
    pub past_due: bool,
}

/// One category's move: from whom, to whom, and (for undo) exactly which records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySpec {
    pub from: i64,
    pub to: i64,
    /// Consider exactly these records (undo), each going back from its holder now to the one
    /// it came from; a record no longer held so is `CHANGED`. `None`: every record `from` holds.
    pub only: Option<BTreeMap<i64, Back>>,
    /// Events whose attendee place the target takes when the source attends. `None`: all of
    /// them. Undo swaps back only where the reassignment it undoes swapped.
    pub attendee_swap: Option<BTreeSet<i64>>,
    /// Tasks and events: a record whose matter moves in this reassignment goes to that
    /// matter's new attorney (`followMatter`, when the category has no target of its own).
    pub follows_matter: bool,
}

impl CategorySpec {
    /// Every record `from` holds goes to `to`.
    pub fn all(from: i64, to: i64) -> Self {
        CategorySpec {
            from,
            to,
            only: None,
            attendee_swap: None,
            follows_matter: false,
        }
    }

    /// Whose a record must be, and (an undo) whom it goes back to.
    pub fn expected(&self, record_id: i64) -> (i64, Option<Back>) {
        match self.only.as_ref().and_then(|only| only.get(&record_id)) {
            Some(back) => (back.holder, Some(*back)),
            None => (self.from, None),
        }
    }
}

/// SPEC.md section 9: how a handover is split and which risks were accepted. Stored with the
/// reassignment (and with a planned handover's work) as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Routing {
    /// Ordered; the first match decides a matter's new responsible attorney.
    pub routes: Vec<Route>,
    /// Tasks and events go to whoever receives their matter in this reassignment, unless their
    /// category names a target of its own (see `CategorySpec::follows_matter`).
    pub follow_matter: bool,
    /// Risks were seen and accepted: without it, a plan with risks is refused.
    pub acknowledge_risks: bool,
    pub risk_window_days: u16,
    /// The past-due sweep: tasks left behind only for being past due go to this user.
    pub past_due_to: Option<i64>,
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            routes: Vec::new(),
            follow_matter: true,
            acknowledge_risks: false,
            risk_window_days: 7,
            past_due_to: None,
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
    /// The assigner sweep: tasks not complete whose assigner is `from` get `to` as assigner.
    pub assigners: Option<CategorySpec>,
    pub routing: Routing,
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
    /// A reversal (an undo, a cover's return): the batch whose moved items go back. Its
    /// categories then name who holds them and who gets them back, and each pass of the items
    /// brings its own exact records (`undo::pass`).
    pub reverses: Option<Reverses>,
}

/// The batch a reversal takes back, whose items are read a pass at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reverses {
    pub batch: i64,
    /// The batch's items lie between these ids (both `None`: it has none).
    pub first_item: Option<i64>,
    pub last_item: Option<i64>,
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
            clock: Clock::new(cutoff, firm_tz(&firm.time_zone)),
            from_user_id,
            matters: None,
            tasks: None,
            events: None,
            assigners: None,
            routing: Routing::default(),
            matter_ids: None,
            grant_access: false,
            note: None,
            idempotency_key: None,
            preview_token: None,
            undo_of: None,
            returning: false,
            reverses: None,
        }
    }

    /// The categories included, in report order.
    pub fn categories(&self) -> impl Iterator<Item = (WorkKind, &CategorySpec)> {
        [
            (WorkKind::Matter, &self.matters),
            (WorkKind::Task, &self.tasks),
            (WorkKind::CalendarEvent, &self.events),
            (WorkKind::TaskAssigner, &self.assigners),
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
        let mut text = format!(
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
        // Section 9's options only when used, so that a key sent before they existed still
        // replays the same.
        if self.assigners.is_some() || self.routing != Routing::default() {
            text.push_str(&format!(";a={};routing={:?}", to(&self.assigners), self.routing));
        }
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
    }
}
