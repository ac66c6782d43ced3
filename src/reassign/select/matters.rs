//! What a plan knows of each matter its records link to: its status and who may see it, kept
//! compactly, and the rules' `MatterFacts` read off it for a receiver.

use crate::firm::access::Permission;
use crate::reassign::rules::MatterFacts;
use entity::MatterStatus;
use rustc_hash::FxHashMap;

/// What the rules read of each matter a plan's records link to: its status and who may see it
/// (everyone, or the users its lists resolve to). Kept as compactly as a plan needs it, one
/// entry a matter (the reference firm's plan links to 14,000): a status map beside the
/// `Permission`s the read API uses took about 100 bytes a matter, and a tree node for each
/// resolved set.
#[derive(Default)]
pub(super) struct KnownMatters(FxHashMap<i64, KnownMatter>);

pub(super) struct KnownMatter {
    status: MatterStatus,
    everyone: bool,
    /// As `Permission::is_private` says.
    private: bool,
    /// Sorted.
    resolved_users: Box<[i64]>,
}

impl KnownMatter {
    fn admits(&self, user: i64) -> bool {
        self.everyone || self.resolved_users.binary_search(&user).is_ok()
    }
}

impl KnownMatters {
    /// Room for `n` matters, so that the table is not rehashed as it fills.
    pub(super) fn with_capacity(n: usize) -> Self {
        let mut known = KnownMatters::default();
        known.0.reserve(n);
        known
    }

    /// A matter's facts, from its status and permission as [`crate::firm::access::each_matter`]
    /// gives them, one at a time (a matter whose row was not read is not known).
    pub(super) fn add(&mut self, id: i64, status: Option<MatterStatus>, permission: Permission) {
        let Some(status) = status else { return };
        self.0.insert(
            id,
            KnownMatter {
                status,
                everyone: permission.everyone,
                private: permission.is_private(),
                resolved_users: permission.resolved_users.into_iter().collect(),
            },
        );
    }

    pub(super) fn knows(&self, matter_id: i64) -> bool {
        self.0.contains_key(&matter_id)
    }

    /// A matter's facts for `target`, with the status its own row was read with.
    pub(super) fn facts(&self, matter_id: i64, status: MatterStatus, target: i64) -> MatterFacts {
        facts_of(self.0.get(&matter_id), status, target)
    }

    /// The facts of the matter a task or an event links to, if it is known: one lookup, as
    /// every such record the plan decides asks.
    pub(super) fn linked(&self, matter_id: i64, target: i64) -> Option<MatterFacts> {
        let known = self.0.get(&matter_id)?;
        Some(facts_of(Some(known), known.status, target))
    }

    pub(super) fn admits(&self, matter_id: i64, user: i64) -> bool {
        self.0.get(&matter_id).is_some_and(|m| m.admits(user))
    }
}

fn facts_of(known: Option<&KnownMatter>, status: MatterStatus, target: i64) -> MatterFacts {
    MatterFacts {
        status,
        private: known.is_some_and(|m| m.private),
        target_has_access: known.is_some_and(|m| m.admits(target)),
    }
}
