//! A plan: what the rules decided for every record an order considers, kept beside the loaded
//! rows it was decided on, and what is read off it (the preview token, its counts, the risks,
//! each receiver's deliveries).

use super::load::Loaded;
use crate::notify::{Delivery, When};
use crate::reassign::order::{CategorySpec, Order};
use crate::reassign::rules::{Reason, Verdict};
use entity::{RiskReason, WorkKind};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedItem {
    pub record_id: i64,
    pub matter_id: Option<i64>,
    /// Who holds it, and must still when the update runs.
    pub from: i64,
    /// Who it goes to: its route's, its matter's or its category's target (an undo: whom it
    /// came from). `None` when no one could take it.
    pub to: Option<i64>,
    pub verdict: Verdict,
    /// Events: the source is among the attendees (the target takes that place).
    pub source_attends: bool,
    /// Moves under the past-due sweep: reported as moved, with reason `PAST_DUE`.
    pub past_due: bool,
    /// Why it needs a second look before it moves (moving tasks and events only).
    pub risk: Option<RiskReason>,
    /// When it falls (tasks and events): what its receiver's digest lists first.
    pub when: When,
}

impl PlannedItem {
    pub fn moves(&self) -> bool {
        matches!(self.verdict, Verdict::Move | Verdict::MoveGrantingAccess)
    }

    pub fn reason(&self) -> Option<Reason> {
        match self.verdict {
            Verdict::Skip(r) => Some(r),
            _ => None,
        }
    }

    /// Which of a preview's lists it is on.
    pub fn list(&self) -> PreviewList {
        match self.verdict {
            Verdict::Skip(reason) => PreviewList::Excluded(reason),
            _ if self.past_due => PreviewList::PastDue,
            _ => PreviewList::Moving,
        }
    }

    pub(super) fn skipped(record_id: i64, matter_id: Option<i64>, from: i64, reason: Reason) -> Self {
        PlannedItem {
            record_id,
            matter_id,
            from,
            to: None,
            verdict: Verdict::Skip(reason),
            source_attends: false,
            past_due: false,
            risk: None,
            when: When::Unknown,
        }
    }
}

/// One category's verdicts: every record considered, by record id. What the rules decided is
/// kept beside the loaded rows it was decided on, which the plan shares (with a preview's kept
/// loads, too): each record's id, matter and date are not held twice. A `PlannedItem` of the old
/// shape took 72 bytes a record on top of the loads; what is decided takes 8.
#[derive(Clone)]
pub struct CategoryPlan {
    kind: WorkKind,
    loaded: Arc<Loaded>,
    decided: Vec<Decided>,
    /// Who held and who receives, as `decided` names them by index: a handful of pairs (a
    /// pool's members, the matters' receivers, an undo's holders), where each record naming
    /// two people by id took 16 bytes.
    pairs: Vec<(i64, Option<i64>)>,
    tally: Tally,
}

/// The lists a preview shows a category's records on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewList {
    /// Moving, apart from the past-due sweep's (listed under `pastDueTasks`).
    Moving,
    /// Moving under the past-due sweep.
    PastDue,
    /// Left, for this reason.
    Excluded(Reason),
}

/// How many of a category's records are on each of a preview's lists, counted as they were
/// decided, so that a preview's counts read no record again. Answered by passes over the
/// records, the reference preview's counts took seven over its 100,000 tasks and eight over its
/// 50,000 events, after the plan was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    moving: usize,
    past_due: usize,
    /// By reason, in the order of `Reason`.
    excluded: BTreeMap<Reason, usize>,
}

impl Tally {
    fn add(&mut self, item: &PlannedItem) {
        match item.list() {
            PreviewList::Moving => self.moving += 1,
            PreviewList::PastDue => self.past_due += 1,
            PreviewList::Excluded(reason) => *self.excluded.entry(reason).or_default() += 1,
        }
    }

    /// How many records move, the past-due sweep's included.
    pub fn moves(&self) -> usize {
        self.moving + self.past_due
    }

    /// How many records are on `list`.
    pub fn count(&self, list: PreviewList) -> usize {
        match list {
            PreviewList::Moving => self.moving,
            PreviewList::PastDue => self.past_due,
            PreviewList::Excluded(reason) => self.excluded.get(&reason).copied().unwrap_or(0),
        }
    }
}

/// What the rules decided for one loaded row (the rest of its `PlannedItem` is the row's).
#[derive(Debug, Clone, Copy)]
pub(super) struct Decided {
    /// Who holds it and who it goes to: an index into the plan's `pairs`.
    pair: u32,
    verdict: Verdict,
    risk: Option<RiskReason>,
    /// `SOURCE_ATTENDS` and `PAST_DUE`.
    flags: u8,
}

const SOURCE_ATTENDS: u8 = 1;
const PAST_DUE: u8 = 2;

/// Each (holder, receiver) pair's index in a plan's `pairs`, given out as they first appear.
#[derive(Default)]
struct Pairs {
    index: FxHashMap<(i64, Option<i64>), u32>,
    pairs: Vec<(i64, Option<i64>)>,
    /// The last pair given out: records in a row mostly share it.
    last: Option<((i64, Option<i64>), u32)>,
}

impl Pairs {
    fn of(&mut self, pair: (i64, Option<i64>)) -> u32 {
        if let Some((last, i)) = self.last
            && last == pair
        {
            return i;
        }
        let i = *self.index.entry(pair).or_insert_with(|| {
            self.pairs.push(pair);
            // Never more pairs than records, which a plan holds 8 bytes of each.
            u32::try_from(self.pairs.len() - 1).expect("fewer pairs than u32::MAX")
        });
        self.last = Some((pair, i));
        i
    }

    fn decided(&mut self, item: &PlannedItem) -> Decided {
        Decided {
            pair: self.of((item.from, item.to)),
            verdict: item.verdict,
            risk: item.risk,
            flags: if item.source_attends { SOURCE_ATTENDS } else { 0 } | if item.past_due { PAST_DUE } else { 0 },
        }
    }
}

impl CategoryPlan {
    pub(super) fn new(kind: WorkKind, loaded: &Arc<Loaded>, items: impl Iterator<Item = PlannedItem>) -> Self {
        let (mut pairs, mut tally) = (Pairs::default(), Tally::default());
        let decided = items
            .map(|item| {
                tally.add(&item);
                pairs.decided(&item)
            })
            .collect();
        CategoryPlan {
            kind,
            loaded: Arc::clone(loaded),
            decided,
            pairs: pairs.pairs,
            tally,
        }
    }

    /// How many of its records are on each of a preview's lists.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Every record considered, in record id order.
    pub fn items(&self) -> impl ExactSizeIterator<Item = PlannedItem> + '_ {
        self.decided.iter().enumerate().map(|(i, d)| {
            let (record_id, matter_id, when) = self.loaded.row(self.kind, i);
            PlannedItem {
                record_id,
                matter_id,
                from: self.pairs[d.pair as usize].0,
                to: self.pairs[d.pair as usize].1,
                verdict: d.verdict,
                source_attends: d.flags & SOURCE_ATTENDS != 0,
                past_due: d.flags & PAST_DUE != 0,
                risk: d.risk,
                when,
            }
        })
    }

    pub fn moving(&self) -> impl Iterator<Item = PlannedItem> + '_ {
        self.items().filter(PlannedItem::moves)
    }

    /// The reasons its excluded records were left for, each once, in a stable order.
    pub fn exclusion_reasons(&self) -> Vec<Reason> {
        self.tally.excluded.keys().copied().collect()
    }
}

impl std::fmt::Debug for CategoryPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CategoryPlan")
            .field("kind", &self.kind)
            .field("records", &self.decided.len())
            .finish()
    }
}

/// An order's verdicts, category by category (a category the order leaves out is `None`).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub matters: Option<CategoryPlan>,
    pub tasks: Option<CategoryPlan>,
    pub events: Option<CategoryPlan>,
    /// The assigner sweep's tasks.
    pub assigners: Option<CategoryPlan>,
}

impl Plan {
    /// Each category planned, with the order's move for it.
    pub fn categories<'a>(
        &'a self,
        order: &'a Order,
    ) -> impl Iterator<Item = (WorkKind, &'a CategorySpec, &'a CategoryPlan)> {
        order
            .categories()
            .filter_map(|(kind, spec)| self.category(kind).map(|p| (kind, spec, p)))
    }

    /// One category's verdicts, if the order planned it.
    pub fn category(&self, kind: WorkKind) -> Option<&CategoryPlan> {
        match kind {
            WorkKind::Matter => self.matters.as_ref(),
            WorkKind::Task => self.tasks.as_ref(),
            WorkKind::CalendarEvent => self.events.as_ref(),
            WorkKind::TaskAssigner => self.assigners.as_ref(),
        }
    }

    /// A fingerprint of the plan of `order`: targets, and every record with its verdict, its
    /// receiver and its risk. Applying with a token that no longer matches is refused
    /// (`PREVIEW_STALE`).
    pub fn token(&self, order: &Order) -> String {
        let mut h = Sha256::new();
        h.update([u8::from(order.grant_access)]);
        for (kind, spec, c) in self.categories(order) {
            h.update([kind as u8]);
            h.update(spec.from.to_le_bytes());
            h.update(spec.to.to_le_bytes());
            for i in c.items() {
                h.update(i.record_id.to_le_bytes());
                h.update([verdict_code(i.verdict), u8::from(i.source_attends)]);
                // Routing and the sweeps: only when they decide something, so that a plan
                // without them keeps the token it had before they existed.
                if i.to.is_some_and(|to| to != spec.to) || i.past_due || i.risk.is_some() {
                    h.update(i.to.unwrap_or(-1).to_le_bytes());
                    h.update([u8::from(i.past_due), i.risk.map_or(0, |r| 1 + r as u8)]);
                }
            }
            h.update(b"|");
        }
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize())
    }

    /// Each moving task and event at risk, with its reason (section 9).
    fn at_risk(&self) -> impl Iterator<Item = (RiskReason, WorkKind, PlannedItem)> + '_ {
        [WorkKind::Task, WorkKind::CalendarEvent]
            .into_iter()
            .flat_map(move |kind| {
                self.category(kind)
                    .into_iter()
                    .flat_map(|p| p.moving())
                    .filter_map(move |item| item.risk.map(|r| (r, kind, item)))
            })
    }

    /// The moving records at risk, by reason, in the order of `RiskReason`.
    pub fn risks(&self) -> Vec<(RiskReason, Vec<(WorkKind, PlannedItem)>)> {
        let mut by: BTreeMap<RiskReason, Vec<(WorkKind, PlannedItem)>> = BTreeMap::new();
        for (reason, kind, item) in self.at_risk() {
            by.entry(reason).or_default().push((kind, item));
        }
        by.into_iter().collect()
    }

    /// How many moving records are at risk, by reason, in the order of `RiskReason`: what an
    /// apply checks, without holding the records.
    pub fn risk_counts(&self) -> Vec<(RiskReason, usize)> {
        let mut by: BTreeMap<RiskReason, usize> = BTreeMap::new();
        for (reason, ..) in self.at_risk() {
            *by.entry(reason).or_default() += 1;
        }
        by.into_iter().collect()
    }

    /// What each receiver would get, risks included (the digest's counts).
    pub fn deliveries(&self) -> BTreeMap<i64, Delivery> {
        let mut out: BTreeMap<i64, Delivery> = BTreeMap::new();
        for kind in [
            WorkKind::Matter,
            WorkKind::Task,
            WorkKind::CalendarEvent,
            WorkKind::TaskAssigner,
        ] {
            for item in self.category(kind).iter().flat_map(|p| p.moving()) {
                if let Some(to) = item.to {
                    out.entry(to).or_default().count(kind, item.risk);
                }
            }
        }
        out
    }
}

/// A byte per verdict, for the fingerprint.
fn verdict_code(v: Verdict) -> u8 {
    match v {
        Verdict::Move => 0,
        Verdict::MoveGrantingAccess => 1,
        Verdict::Skip(r) => 2 + r as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{MatterRef, TaskGroup, TaskRow, Tasks};
    use super::super::matters::KnownMatters;
    use super::*;
    use chrono::NaiveDate;
    use entity::TaskStatus;

    #[test]
    fn a_category_plan_gives_back_what_was_decided() {
        let row = |id: i64, matter: Option<i64>| TaskRow {
            id,
            matter: MatterRef::new(matter),
            group: 0,
            statute_of_limitations: false,
        };
        let loaded = Arc::new(Loaded {
            matter_rows: Vec::new(),
            tasks: Tasks {
                rows: vec![
                    row(1, Some(10)),
                    row(2, None),
                    row(3, Some(i64::MAX)),
                    row(4, Some(10)),
                    row(5, Some(10)),
                ],
                groups: vec![TaskGroup {
                    assignee: 7,
                    due_date: NaiveDate::from_ymd_opt(2026, 12, 1),
                    status: TaskStatus::Pending,
                }],
            },
            event_rows: Vec::new(),
            assigner_rows: Vec::new(),
            matters: KnownMatters::default(),
            loads: Vec::new(),
        });
        let when = When::Due(NaiveDate::from_ymd_opt(2026, 12, 1));
        let item = |record_id: i64, matter_id: Option<i64>, from: i64, to: Option<i64>| PlannedItem {
            record_id,
            matter_id,
            from,
            to,
            verdict: Verdict::Move,
            source_attends: false,
            past_due: false,
            risk: None,
            when,
        };
        let decided = vec![
            item(1, Some(10), 7, Some(8)),
            PlannedItem {
                verdict: Verdict::Skip(Reason::TargetNoAccess),
                ..item(2, None, 7, None)
            },
            PlannedItem {
                verdict: Verdict::MoveGrantingAccess,
                past_due: true,
                risk: Some(RiskReason::DueSoon),
                ..item(3, Some(i64::MAX), 7, Some(i64::MAX))
            },
            PlannedItem {
                source_attends: true,
                ..item(4, Some(10), 9, Some(7))
            },
            // A pair seen before, but not just before.
            PlannedItem {
                verdict: Verdict::Skip(Reason::Changed),
                ..item(5, Some(10), 7, Some(8))
            },
        ];
        let plan = CategoryPlan::new(WorkKind::Task, &loaded, decided.clone().into_iter());
        assert_eq!(plan.items().collect::<Vec<_>>(), decided);
        assert_eq!(
            plan.tally(),
            &Tally {
                moving: 2,
                past_due: 1,
                excluded: BTreeMap::from([(Reason::TargetNoAccess, 1), (Reason::Changed, 1)]),
            }
        );
        assert_eq!(plan.exclusion_reasons(), vec![Reason::TargetNoAccess, Reason::Changed]);
        assert_eq!(
            plan.tally().moves(),
            plan.moving().count(),
            "the sweep's moves count too"
        );
        assert_eq!(
            plan.pairs,
            vec![(7, Some(8)), (7, None), (7, Some(i64::MAX)), (9, Some(7))]
        );
    }
}
