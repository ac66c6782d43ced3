//! The one selection path, shared by preview, apply and undo: gather every record a category
//! considers, load the facts the rules need in a few set-based statements, and let `rules`
//! decide each record. The result is a `Plan`; nothing here writes. The SQL is in [`load`].

mod load;

use super::order::{Back, CategorySpec, Order};
use super::rules::route::{MatterTraits, Receiver, Router};
use super::rules::{self, EventFacts, MatterFacts, Reason, TaskFacts, Verdict, risk};
use crate::error::AppResult;
use crate::firm::access::{Matters, Permission, each_matter, permission_lists, rows_and_lists};
use crate::notify::{Delivery, When};
use entity::{MatterStatus, RiskReason, WorkKind};
use load::{load_assigners, load_events, load_matters, load_tasks};
use rustc_hash::{FxHashMap, FxHashSet};
use sea_orm::{ConnectionTrait, StreamTrait};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bound on ids per `IN (…)` list, far below SQLite's and PostgreSQL's parameter limits.
pub const CHUNK: usize = 5000;

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

    fn skipped(record_id: i64, matter_id: Option<i64>, from: i64, reason: Reason) -> Self {
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
}

/// What the rules decided for one loaded row (the rest of its `PlannedItem` is the row's).
#[derive(Debug, Clone, Copy)]
struct Decided {
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
    fn new(kind: WorkKind, loaded: &Arc<Loaded>, items: impl Iterator<Item = PlannedItem>) -> Self {
        let mut pairs = Pairs::default();
        let decided = items.map(|item| pairs.decided(&item)).collect();
        CategoryPlan {
            kind,
            loaded: Arc::clone(loaded),
            decided,
            pairs: pairs.pairs,
        }
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
        let reasons: std::collections::BTreeSet<Reason> = self.items().filter_map(|i| i.reason()).collect();
        reasons.into_iter().collect()
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

/// What the rules read of each matter a plan's records link to: its status and who may see it
/// (everyone, or the users its lists resolve to). Kept as compactly as a plan needs it, one
/// entry a matter (the reference firm's plan links to 14,000): a status map beside the
/// `Permission`s the read API uses took about 100 bytes a matter, and a tree node for each
/// resolved set.
#[derive(Default)]
struct KnownMatters(FxHashMap<i64, KnownMatter>);

struct KnownMatter {
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
    /// A matter's facts, from its status and permission as [`each_matter`] gives them one at a
    /// time (a matter whose row was not read is not known).
    fn add(&mut self, id: i64, status: Option<MatterStatus>, permission: Permission) {
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

    fn knows(&self, matter_id: i64) -> bool {
        self.0.contains_key(&matter_id)
    }

    /// A matter's facts for `target`, with the status its own row was read with.
    fn facts(&self, matter_id: i64, status: MatterStatus, target: i64) -> MatterFacts {
        facts_of(self.0.get(&matter_id), status, target)
    }

    /// The facts of the matter a task or an event links to, if it is known: one lookup, as
    /// every such record the plan decides asks.
    fn linked(&self, matter_id: i64, target: i64) -> Option<MatterFacts> {
        let known = self.0.get(&matter_id)?;
        Some(facts_of(Some(known), known.status, target))
    }

    fn admits(&self, matter_id: i64, user: i64) -> bool {
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

/// A record going back (an undo, a return) goes to whoever held it before, whether or not they
/// were on the matter's permission then: putting things back needs no new access.
fn restoring(facts: MatterFacts, back: Option<Back>) -> MatterFacts {
    MatterFacts {
        target_has_access: facts.target_has_access || back.is_some(),
        ..facts
    }
}

/// Whose a record must be, and (an undo) whom it goes back to.
pub(super) fn expected(c: &CategorySpec, record_id: i64) -> (i64, Option<Back>) {
    match c.only.as_ref().and_then(|only| only.get(&record_id)) {
        Some(back) => (back.holder, Some(*back)),
        None => (c.from, None),
    }
}

/// Plan on `db`: for apply and undo, their transaction (the plan sees exactly what the writes
/// will); for a preview, the pool (the loads run side by side).
pub async fn plan<C: ConnectionTrait + StreamTrait>(db: &C, spec: &Order) -> AppResult<Plan> {
    Ok(evaluate(spec, &Arc::new(load(db, spec).await?)))
}

/// What the rules read from the database for an order: its records and the facts about their
/// matters. It depends on the order's people, categories, matters and routes, not on its clock.
pub struct Loaded {
    matter_rows: Vec<load::MatterRow>,
    tasks: load::Tasks,
    event_rows: Vec<load::EventRow>,
    assigner_rows: Vec<load::AssignerRow>,
    matters: KnownMatters,
    /// Open matters per pool member, when a route balances them.
    loads: Vec<(i64, i64)>,
}

impl Loaded {
    /// Row `i` of a category's records: its id, its matter and when it falls.
    fn row(&self, kind: WorkKind, i: usize) -> (i64, Option<i64>, When) {
        match kind {
            WorkKind::Matter => (self.matter_rows[i].id, Some(self.matter_rows[i].id), When::Unknown),
            WorkKind::Task => {
                let t = &self.tasks.rows[i];
                (t.id, t.matter.id(), When::Due(self.tasks.group(t).due_date))
            }
            WorkKind::CalendarEvent => {
                let e = &self.event_rows[i];
                (e.id, e.matter.id(), When::Starts(e.start))
            }
            WorkKind::TaskAssigner => (self.assigner_rows[i].0, self.assigner_rows[i].1, When::Unknown),
        }
    }
}

/// Read what the rules need for `spec`, in a few set-based statements.
pub async fn load<C: ConnectionTrait + StreamTrait>(db: &C, spec: &Order) -> AppResult<Loaded> {
    let routing = &spec.routing;
    let started = std::time::Instant::now();
    // The categories load side by side: on a pool, on separate connections. Beside them, who
    // the source's own matters list (most of the matters a plan links to); their rows, read
    // with the matters considered, hold the rest of their facts.
    let held_by = spec
        .matters
        .as_ref()
        .filter(|c| c.only.is_none() && spec.matter_ids.is_none())
        .map(|c| c.from);
    let (matter_rows, tasks, event_rows, assigner_rows, held_lists) = tokio::try_join!(
        async {
            match &spec.matters {
                Some(c) => load_matters(db, spec, c).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match &spec.tasks {
                Some(c) => load_tasks(db, spec, c).await,
                None => Ok(load::Tasks::default()),
            }
        },
        async {
            match &spec.events {
                Some(c) => load_events(db, spec, c).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match &spec.assigners {
                Some(c) => load_assigners(db, spec, c).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match held_by {
                Some(user) => permission_lists(db, spec.firm_id, Matters::HeldBy(user)).await,
                None => Ok(Vec::new()),
            }
        },
    )?;
    tracing::debug!(elapsed = ?started.elapsed(), "candidates loaded");

    // Facts about every other matter any candidate is linked to, in a few statements; and the
    // pools' loads when a route balances them. The links are gathered in a set (the reference
    // firm's 145,000 name 14,000 matters), and each matter's facts go straight into their
    // compact entry, in a table sized once for them: gathered first as `Permission`s, the
    // 20,000 held matters of the bench at scale 2 took 4.7 MiB, then the largest part of a
    // preview's peak.
    let mut linked: FxHashSet<i64> = matter_rows.iter().map(|m| m.id).collect();
    linked.extend(tasks.rows.iter().filter_map(|t| t.matter.id()));
    linked.extend(event_rows.iter().filter_map(|e| e.matter.id()));
    let mut known = KnownMatters::default();
    known.0.reserve(linked.len());
    if held_by.is_some() {
        each_matter(
            matter_rows.iter().map(|m| (m.id, m.status, i64::from(m.everyone))),
            held_lists,
            |id, status, permission| known.add(id, status, permission),
        );
    }
    let mut matter_ids: Vec<i64> = linked.into_iter().filter(|id| !known.knows(*id)).collect();
    matter_ids.sort_unstable();
    let pools: Vec<i64> = routing
        .routes
        .iter()
        .filter(|r| matches!(r.to, Receiver::Pool { .. }))
        .flat_map(|r| r.receivers().iter().copied())
        .collect();
    let ((other_rows, other_lists), loads) = tokio::try_join!(
        async {
            if matter_ids.is_empty() {
                return Ok(Default::default());
            }
            rows_and_lists(db, spec.firm_id, Matters::Listed(&matter_ids)).await
        },
        async {
            if pools.is_empty() || spec.matters.is_none() {
                return Ok(Vec::new());
            }
            crate::firm::users::open_matters_of(db, spec.firm_id, &pools).await
        }
    )?;
    each_matter(other_rows, other_lists, |id, status, permission| {
        known.add(id, status, permission)
    });
    tracing::debug!(elapsed = ?started.elapsed(), others = matter_ids.len(), "matter facts loaded");
    Ok(Loaded {
        matter_rows,
        tasks,
        event_rows,
        assigner_rows,
        matters: known,
        loads,
    })
}

/// Let the rules decide every record loaded, at the order's clock.
pub fn evaluate(spec: &Order, shared: &Arc<Loaded>) -> Plan {
    let clock = spec.clock;
    let routing = &spec.routing;
    let window = routing.risk_window_days;
    let started = std::time::Instant::now();
    let Loaded {
        matter_rows,
        tasks,
        event_rows,
        assigner_rows,
        matters: known,
        loads,
    } = shared.as_ref();
    // Rule 1 and the routes: each matter's new responsible attorney.
    let matters = spec.matters.as_ref().map(|c| {
        let mut router = Router::new(&routing.routes, Some(c.to), loads.iter().copied().collect());
        CategoryPlan::new(
            WorkKind::Matter,
            shared,
            matter_rows.iter().map(|m| {
                let (id, status) = (m.id, m.status);
                let (from, back) = expected(c, id);
                if m.holder != Some(from) {
                    return PlannedItem::skipped(id, Some(id), from, Reason::Changed);
                }
                if let Some(reason) = rules::held_back(&known.facts(id, status, c.to)) {
                    return PlannedItem::skipped(id, Some(id), from, reason);
                }
                let to = match back {
                    Some(back) => Some(back.to),
                    None => router.route(
                        &MatterTraits {
                            id,
                            practice_area: m.names.as_ref().and_then(|n| n.practice_area.as_deref()),
                            client: m.names.as_ref().map_or("", |n| &n.client),
                        },
                        |user| known.admits(id, user),
                        spec.grant_access,
                    ),
                };
                let verdict = match to {
                    Some(to) => rules::matter(&restoring(known.facts(id, status, to), back), spec.grant_access),
                    None => Verdict::Skip(Reason::TargetNoAccess),
                };
                PlannedItem {
                    to,
                    verdict,
                    ..PlannedItem::skipped(id, Some(id), from, Reason::Changed)
                }
            }),
        )
    });

    // Work follows its matter: where each moving matter goes (not for an undo, whose records
    // each go back where they came from).
    let matter_goes_to: FxHashMap<i64, i64> = match &matters {
        Some(m) => m.moving().filter_map(|i| i.to.map(|to| (i.record_id, to))).collect(),
        _ => FxHashMap::default(),
    };
    let receiver = |c: &CategorySpec, back: Option<Back>, matter: Option<i64>| -> i64 {
        match back {
            Some(back) => back.to,
            None => matter
                .filter(|_| c.follows_matter)
                .and_then(|m| matter_goes_to.get(&m).copied())
                .unwrap_or(c.to),
        }
    };
    let facts_for = |matter: Option<i64>, to: i64, back: Option<Back>| {
        matter.and_then(|m| known.linked(m, to)).map(|f| restoring(f, back))
    };

    // Rule 2, the past-due sweep, and their risks.
    let tasks = spec.tasks.as_ref().map(|c| {
        CategoryPlan::new(
            WorkKind::Task,
            shared,
            tasks.rows.iter().map(|t| {
                let (id, matter_id, group) = (t.id, t.matter.id(), tasks.group(t));
                let (from, back) = expected(c, id);
                if group.assignee != from {
                    return PlannedItem::skipped(id, matter_id, from, Reason::Changed);
                }
                let mut to = receiver(c, back, matter_id);
                let mut facts = TaskFacts {
                    status: group.status,
                    due_date: group.due_date,
                    statute_of_limitations: t.statute_of_limitations,
                    matter: facts_for(matter_id, to, back),
                };
                let mut verdict = if spec.returning || back.is_some_and(|b| b.past_due) {
                    rules::returning_task(&facts, &clock)
                } else {
                    rules::task(&facts, &clock, spec.grant_access)
                };
                let mut past_due = false;
                if verdict == Verdict::Skip(Reason::PastDue)
                    && let Some(sweep_to) = routing.past_due_to
                {
                    to = sweep_to;
                    facts.matter = facts_for(matter_id, to, None);
                    verdict = rules::past_due_task(&facts, &clock, spec.grant_access);
                    past_due = true;
                }
                let moves = matches!(verdict, Verdict::Move | Verdict::MoveGrantingAccess);
                PlannedItem {
                    record_id: id,
                    matter_id,
                    from,
                    to: Some(to),
                    verdict,
                    source_attends: false,
                    past_due: past_due && moves,
                    risk: if moves {
                        risk::task(&facts, &clock, window)
                    } else {
                        None
                    },
                    when: When::Due(group.due_date),
                }
            }),
        )
    });

    // Rule 3 and its risks.
    let events = spec.events.as_ref().map(|c| {
        CategoryPlan::new(
            WorkKind::CalendarEvent,
            shared,
            event_rows.iter().map(|e| {
                let (from, back) = expected(c, e.id);
                let matter_id = e.matter.id();
                let to = receiver(c, back, matter_id);
                let facts = EventFacts {
                    on_source_calendar: e.on_source_calendar,
                    start: e.start,
                    all_day: e.all_day,
                    matter: facts_for(matter_id, to, back),
                };
                // For undo, an event that left the calendar it was moved to has changed; it is
                // not an attendee-only event.
                let verdict = if c.only.is_some() && !e.on_source_calendar {
                    Verdict::Skip(Reason::Changed)
                } else {
                    rules::event(&facts, &clock, spec.grant_access)
                };
                let swap = c.attendee_swap.as_ref().is_none_or(|only| only.contains(&e.id));
                let moves = matches!(verdict, Verdict::Move | Verdict::MoveGrantingAccess);
                PlannedItem {
                    record_id: e.id,
                    matter_id,
                    from,
                    to: Some(to),
                    verdict,
                    source_attends: e.source_attends && swap,
                    past_due: false,
                    risk: if moves {
                        risk::event(e.start, &clock, window)
                    } else {
                        None
                    },
                    when: When::Starts(e.start),
                }
            }),
        )
    });

    // The assigner sweep.
    let assigners = spec.assigners.as_ref().map(|c| {
        CategoryPlan::new(
            WorkKind::TaskAssigner,
            shared,
            assigner_rows.iter().map(|&(id, matter_id, assigner, status)| {
                let (from, back) = expected(c, id);
                if assigner != Some(from) {
                    return PlannedItem::skipped(id, matter_id, from, Reason::Changed);
                }
                PlannedItem {
                    to: Some(back.map_or(c.to, |b| b.to)),
                    verdict: rules::assigner(status),
                    ..PlannedItem::skipped(id, matter_id, from, Reason::Changed)
                }
            }),
        )
    });

    tracing::debug!(elapsed = ?started.elapsed(), "planned");
    Plan {
        matters,
        tasks,
        events,
        assigners,
    }
}

#[cfg(test)]
mod tests {
    use super::load::{EventRow, MatterRef, MatterRow, TaskGroup, TaskRow, Tasks};
    use super::*;
    use chrono::NaiveDate;
    use entity::TaskStatus;

    // What a plan holds for every record considered: growing any of these grows every preview's
    // and apply's memory with the size of the work.
    #[test]
    fn what_a_plan_holds_per_record_stays_small() {
        assert!(size_of::<Decided>() <= 8, "Decided: {} bytes", size_of::<Decided>());
        assert!(size_of::<TaskRow>() <= 24, "TaskRow: {} bytes", size_of::<TaskRow>());
        assert!(size_of::<EventRow>() <= 32, "EventRow: {} bytes", size_of::<EventRow>());
        assert!(
            size_of::<MatterRow>() <= 40,
            "MatterRow: {} bytes",
            size_of::<MatterRow>()
        );
        assert!(
            size_of::<KnownMatter>() <= 24,
            "KnownMatter: {} bytes",
            size_of::<KnownMatter>()
        );
    }

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
            plan.pairs,
            vec![(7, Some(8)), (7, None), (7, Some(i64::MAX)), (9, Some(7))]
        );
    }
}
