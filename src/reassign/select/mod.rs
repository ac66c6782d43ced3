//! The one selection path, shared by preview, apply and undo: gather every record a category
//! considers, load the facts the rules need in a few set-based statements, and let `rules`
//! decide each record. The result is a `Plan`; nothing here writes. The SQL is in [`load`].

mod load;
mod matters;
mod plan;

use super::order::{Back, CategorySpec, Order};
use super::rules::route::{MatterTraits, Receiver, Router};
use super::rules::{self, EventFacts, MatterFacts, Reason, TaskFacts, Verdict, risk};
use crate::error::AppResult;
use crate::firm::access::{Matters, each_matter, permission_lists, rows_and_lists};
use crate::notify::When;
use entity::WorkKind;
use load::{load_assigners, load_events, load_matters, load_tasks};
use matters::KnownMatters;
use rustc_hash::{FxHashMap, FxHashSet};
use sea_orm::{ConnectionTrait, StreamTrait};
use std::sync::Arc;

pub use load::Loaded;
pub use plan::{CategoryPlan, Plan, PlannedItem, PreviewList, Tally};

/// Bound on ids per `IN (…)` list, far below SQLite's and PostgreSQL's parameter limits.
pub const CHUNK: usize = 5000;

/// A record going back (an undo, a return) goes to whoever held it before, whether or not they
/// were on the matter's permission then: putting things back needs no new access.
fn restoring(facts: MatterFacts, back: Option<Back>) -> MatterFacts {
    MatterFacts {
        target_has_access: facts.target_has_access || back.is_some(),
        ..facts
    }
}

/// Plan on `db`: for apply and undo, their transaction (the plan sees exactly what the writes
/// will); for a preview, the pool (the loads run side by side).
pub async fn plan<C: ConnectionTrait + StreamTrait>(db: &C, spec: &Order) -> AppResult<Plan> {
    Ok(evaluate(spec, &Arc::new(load(db, spec).await?)))
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
    let mut known = KnownMatters::with_capacity(linked.len());
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
                let (from, back) = c.expected(id);
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
                let (from, back) = c.expected(id);
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
                let (from, back) = c.expected(e.id);
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
                let (from, back) = c.expected(id);
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
    use super::load::{EventRow, MatterRow, TaskRow};
    use super::matters::KnownMatter;
    use super::plan::Decided;

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
}
