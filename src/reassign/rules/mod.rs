//! The rules of reassignment, SPEC.md section 3, as pure functions over facts already loaded.
//! Nothing here touches the database: `select` gathers the facts, these decide.
//!
//! What moves:
//! 1. Matters: the responsible attorney of every OPEN or PENDING matter held by the source.
//! 2. Tasks assigned to the source, linked to an OPEN or PENDING matter, not COMPLETE, not
//!    past due (due before today in the firm's time zone; due today or undated is fine).
//! 3. Calendar events on the source's personal calendar, linked to an OPEN or PENDING matter,
//!    starting at or after the cutoff (all-day events: their day is today or later).
//!
//! What never moves, with its reason: closed matters, no matter, private matters, past due,
//! completed, past events, events where the source only attends, and work on a matter the
//! target may not see (unless access is granted).
//!
//! Section 9 adds who receives what when a handover is split ([`route`]), which moving records
//! need a second look ([`risk`]), and the opt-in sweeps (past-due tasks, a task's assigner).

pub mod risk;
pub mod route;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{ExclusionReason, MatterStatus, TaskStatus};

pub use entity::ExclusionReason as Reason;

/// The moment and place "now" and "today" are measured from.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub cutoff: DateTime<Utc>,
    pub time_zone: Tz,
    /// Worked out once: the rules ask for every record (a time zone lookup each, 3% of a
    /// preview's CPU when it was computed on every call).
    today: NaiveDate,
}

impl Clock {
    pub fn new(cutoff: DateTime<Utc>, time_zone: Tz) -> Self {
        Clock {
            cutoff,
            time_zone,
            today: cutoff.with_timezone(&time_zone).date_naive(),
        }
    }

    /// Today in the firm's time zone at the cutoff.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The calendar day of an instant, in the firm's time zone.
    pub fn day_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.time_zone).date_naive()
    }
}

/// What the rules need to know about a matter that work is linked to.
#[derive(Debug, Clone, Copy)]
pub struct MatterFacts {
    pub status: MatterStatus,
    /// The permission resolves to exactly one user (Clio's "Me").
    pub private: bool,
    /// The category's target satisfies the permission.
    pub target_has_access: bool,
}

/// The verdict on one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Move,
    /// Moves, and the target is added to the matter's permission first (`grantMatterAccess`).
    MoveGrantingAccess,
    Skip(Reason),
}

/// Work on a matter: closed and private matters never move; a target without access is
/// refused unless the administrator asked to grant it.
fn matter_verdict(matter: &MatterFacts, grant_access: bool) -> Verdict {
    if let Some(reason) = held_back(matter) {
        Verdict::Skip(reason)
    } else if !matter.target_has_access {
        if grant_access {
            Verdict::MoveGrantingAccess
        } else {
            Verdict::Skip(ExclusionReason::TargetNoAccess)
        }
    } else {
        Verdict::Move
    }
}

/// Closed and private matters never move, whoever would receive them; routing (section 9)
/// decides only for the rest.
pub fn held_back(matter: &MatterFacts) -> Option<Reason> {
    if !matter.status.is_active() {
        Some(ExclusionReason::ClosedMatter)
    } else if matter.private {
        Some(ExclusionReason::PrivateMatter)
    } else {
        None
    }
}

/// Rule 1: a matter whose responsible attorney is the source. The originating attorney never
/// changes, so it is not an input here.
pub fn matter(matter: &MatterFacts, grant_access: bool) -> Verdict {
    matter_verdict(matter, grant_access)
}

#[derive(Debug, Clone, Copy)]
pub struct TaskFacts {
    pub status: TaskStatus,
    pub due_date: Option<NaiveDate>,
    pub statute_of_limitations: bool,
    /// `None` when the task is linked to no matter.
    pub matter: Option<MatterFacts>,
}

/// Rule 2: a task assigned to the source.
pub fn task(task: &TaskFacts, clock: &Clock, grant_access: bool) -> Verdict {
    let Some(matter) = &task.matter else {
        return Verdict::Skip(ExclusionReason::NoMatter);
    };
    if !matter.status.is_active() {
        return Verdict::Skip(ExclusionReason::ClosedMatter);
    }
    if matter.private {
        return Verdict::Skip(ExclusionReason::PrivateMatter);
    }
    if task.status == TaskStatus::Complete {
        return Verdict::Skip(ExclusionReason::Completed);
    }
    // Past due: due strictly before today. Due today, or never, is not past due.
    if task.due_date.is_some_and(|due| due < clock.today()) {
        return Verdict::Skip(ExclusionReason::PastDue);
    }
    matter_verdict(matter, grant_access)
}

/// Section 9, the past-due sweep: a task that rule 2 leaves behind only because it is past due
/// goes to the sweep's user instead (whose access to the matter is checked as for any target).
/// Any other task: as rule 2.
pub fn past_due_task(facts: &TaskFacts, clock: &Clock, grant_access: bool) -> Verdict {
    match task(facts, clock, grant_access) {
        Verdict::Skip(ExclusionReason::PastDue) => facts
            .matter
            .as_ref()
            .map_or(Verdict::Skip(ExclusionReason::NoMatter), |m| {
                matter_verdict(m, grant_access)
            }),
        other => other,
    }
}

/// Section 9, the assigner sweep: every task not complete whose assigner is the source gets a
/// new assigner, whatever its matter (only who is told of its completion changes).
pub fn assigner(status: TaskStatus) -> Verdict {
    if status == TaskStatus::Complete {
        Verdict::Skip(ExclusionReason::Completed)
    } else {
        Verdict::Move
    }
}

/// Section 8, a cover's return: a task goes back to the person it covered even when it is now
/// past due (they are back; it is theirs). Otherwise as rule 2, with no access granted.
pub fn returning_task(facts: &TaskFacts, clock: &Clock) -> Verdict {
    past_due_task(facts, clock, false)
}

#[derive(Debug, Clone, Copy)]
pub struct EventFacts {
    /// The event is on the source's personal calendar (rather than on another user's or the
    /// firm's calendar, where the source is only an attendee).
    pub on_source_calendar: bool,
    pub start: DateTime<Utc>,
    pub all_day: bool,
    pub matter: Option<MatterFacts>,
}

/// Upcoming: starts at or after the cutoff; an all-day event, when its day is today or later.
pub fn is_upcoming(start: DateTime<Utc>, all_day: bool, clock: &Clock) -> bool {
    if all_day {
        clock.day_of(start) >= clock.today()
    } else {
        start >= clock.cutoff
    }
}

/// Rule 3: an event owned by, or attended by, the source.
pub fn event(event: &EventFacts, clock: &Clock, grant_access: bool) -> Verdict {
    if !event.on_source_calendar {
        return Verdict::Skip(ExclusionReason::AttendeeOnly);
    }
    let Some(matter) = &event.matter else {
        return Verdict::Skip(ExclusionReason::NoMatter);
    };
    if !matter.status.is_active() {
        return Verdict::Skip(ExclusionReason::ClosedMatter);
    }
    if matter.private {
        return Verdict::Skip(ExclusionReason::PrivateMatter);
    }
    if !is_upcoming(event.start, event.all_day, clock) {
        return Verdict::Skip(ExclusionReason::PastEvent);
    }
    matter_verdict(matter, grant_access)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const OPEN_SHARED: MatterFacts = MatterFacts {
        status: MatterStatus::Open,
        private: false,
        target_has_access: true,
    };

    /// 23:30 on 1 Dec in New York is already 2 Dec in UTC: "today" must be the 1st.
    fn late_evening_new_york() -> Clock {
        Clock::new(
            Utc.with_ymd_and_hms(2026, 12, 2, 4, 30, 0).unwrap(),
            chrono_tz::America::New_York,
        )
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn task_due(due: Option<NaiveDate>) -> TaskFacts {
        TaskFacts {
            status: TaskStatus::Pending,
            due_date: due,
            statute_of_limitations: false,
            matter: Some(OPEN_SHARED),
        }
    }

    #[test]
    fn past_due_is_measured_in_the_firm_time_zone() {
        let clock = late_evening_new_york();
        assert_eq!(clock.today(), day(1));
        assert_eq!(task(&task_due(Some(day(1))), &clock, false), Verdict::Move, "due today");
        assert_eq!(
            task(&task_due(Some(day(30).pred_opt().unwrap())), &clock, false),
            Verdict::Move
        );
        assert_eq!(
            task(
                &task_due(Some(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap())),
                &clock,
                false
            ),
            Verdict::Skip(Reason::PastDue),
            "due yesterday"
        );
        assert_eq!(task(&task_due(None), &clock, false), Verdict::Move, "no due date");
    }

    #[test]
    fn task_exclusions() {
        let clock = late_evening_new_york();
        let mut t = task_due(Some(day(5)));
        t.status = TaskStatus::Complete;
        assert_eq!(task(&t, &clock, false), Verdict::Skip(Reason::Completed));
        t = task_due(Some(day(5)));
        t.matter = None;
        assert_eq!(task(&t, &clock, false), Verdict::Skip(Reason::NoMatter));
        t.matter = Some(MatterFacts {
            status: MatterStatus::Closed,
            ..OPEN_SHARED
        });
        assert_eq!(task(&t, &clock, false), Verdict::Skip(Reason::ClosedMatter));
        t.matter = Some(MatterFacts {
            status: MatterStatus::Pending,
            ..OPEN_SHARED
        });
        assert_eq!(task(&t, &clock, false), Verdict::Move);
        t.matter = Some(MatterFacts {
            private: true,
            ..OPEN_SHARED
        });
        assert_eq!(
            task(&t, &clock, true),
            Verdict::Skip(Reason::PrivateMatter),
            "private wins over grant"
        );
        t.matter = Some(MatterFacts {
            target_has_access: false,
            ..OPEN_SHARED
        });
        assert_eq!(task(&t, &clock, false), Verdict::Skip(Reason::TargetNoAccess));
        assert_eq!(task(&t, &clock, true), Verdict::MoveGrantingAccess);
    }

    #[test]
    fn events_upcoming_and_all_day() {
        let clock = late_evening_new_york();
        let ev = |start: DateTime<Utc>, all_day: bool| EventFacts {
            on_source_calendar: true,
            start,
            all_day,
            matter: Some(OPEN_SHARED),
        };
        assert_eq!(
            event(&ev(clock.cutoff, false), &clock, false),
            Verdict::Move,
            "starts at the cutoff"
        );
        assert_eq!(
            event(&ev(clock.cutoff - chrono::Duration::minutes(1), false), &clock, false),
            Verdict::Skip(Reason::PastEvent),
            "already started"
        );
        // All-day today (midnight New York, 05:00 UTC on the 1st): still upcoming at 23:30.
        let today_all_day = Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 0).unwrap();
        assert_eq!(event(&ev(today_all_day, true), &clock, false), Verdict::Move);
        let yesterday_all_day = Utc.with_ymd_and_hms(2026, 11, 30, 5, 0, 0).unwrap();
        assert_eq!(
            event(&ev(yesterday_all_day, true), &clock, false),
            Verdict::Skip(Reason::PastEvent)
        );
        let mut attending = ev(clock.cutoff + chrono::Duration::days(1), false);
        attending.on_source_calendar = false;
        assert_eq!(event(&attending, &clock, false), Verdict::Skip(Reason::AttendeeOnly));
        let mut no_matter = ev(clock.cutoff + chrono::Duration::days(1), false);
        no_matter.matter = None;
        assert_eq!(event(&no_matter, &clock, false), Verdict::Skip(Reason::NoMatter));
    }

    #[test]
    fn matters() {
        assert_eq!(matter(&OPEN_SHARED, false), Verdict::Move);
        assert_eq!(
            matter(
                &MatterFacts {
                    status: MatterStatus::Closed,
                    ..OPEN_SHARED
                },
                true
            ),
            Verdict::Skip(Reason::ClosedMatter)
        );
        assert_eq!(
            matter(
                &MatterFacts {
                    private: true,
                    ..OPEN_SHARED
                },
                true
            ),
            Verdict::Skip(Reason::PrivateMatter)
        );
        assert_eq!(
            matter(
                &MatterFacts {
                    target_has_access: false,
                    ..OPEN_SHARED
                },
                false
            ),
            Verdict::Skip(Reason::TargetNoAccess)
        );
    }
}
