//! SPEC.md section 9, risks: the moving records an administrator must look at twice before the
//! reassignment is applied. A record is listed once, under the first reason that applies:
//! 1. `STATUTE_OF_LIMITATIONS`: a task flagged as a limitation deadline, whenever it is due.
//! 2. `DUE_SOON`: a task due on or before today + the window (firm time zone; with a window of
//!    7, due today through day 7; day 8 is not). A past-due task moved by the sweep is due soon.
//! 3. `STARTS_SOON`: an event starting before the end of that same day.

use super::{Clock, TaskFacts};
use chrono::{DateTime, NaiveDate, Utc};
pub use entity::RiskReason;

/// The last day of the window: today + `window_days`, in the firm's time zone.
pub fn last_day(clock: &Clock, window_days: u16) -> NaiveDate {
    clock.today() + chrono::Days::new(u64::from(window_days))
}

/// The risk of a task that moves.
pub fn task(facts: &TaskFacts, clock: &Clock, window_days: u16) -> Option<RiskReason> {
    if facts.statute_of_limitations {
        Some(RiskReason::StatuteOfLimitations)
    } else if facts.due_date.is_some_and(|due| due <= last_day(clock, window_days)) {
        Some(RiskReason::DueSoon)
    } else {
        None
    }
}

/// The risk of an event that moves: it starts (an all-day event: its day is) on or before the
/// window's last day.
pub fn event(start: DateTime<Utc>, clock: &Clock, window_days: u16) -> Option<RiskReason> {
    (clock.day_of(start) <= last_day(clock, window_days)).then_some(RiskReason::StartsSoon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use entity::TaskStatus;

    /// 22:00 on 30 Nov in Los Angeles: already 1 Dec in UTC. Today is the 30th.
    fn clock() -> Clock {
        Clock::new(
            Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap(),
            chrono_tz::America::Los_Angeles,
        )
    }

    fn due(d: Option<NaiveDate>, sol: bool) -> TaskFacts {
        TaskFacts {
            status: TaskStatus::Pending,
            due_date: d,
            statute_of_limitations: sol,
            matter: None,
        }
    }

    #[test]
    fn the_window_ends_on_day_seven_in_the_firm_time_zone() {
        let c = clock();
        let day = |n: u64| c.today() + chrono::Days::new(n);
        assert_eq!(
            task(&due(Some(day(0)), false), &c, 7),
            Some(RiskReason::DueSoon),
            "today"
        );
        assert_eq!(
            task(&due(Some(day(7)), false), &c, 7),
            Some(RiskReason::DueSoon),
            "day 7"
        );
        assert_eq!(task(&due(Some(day(8)), false), &c, 7), None, "day 8");
        assert_eq!(task(&due(None, false), &c, 7), None, "undated");
        assert_eq!(
            task(&due(Some(day(8)), false), &c, 8),
            Some(RiskReason::DueSoon),
            "wider window"
        );
        assert_eq!(
            task(&due(Some(day(300)), true), &c, 7),
            Some(RiskReason::StatuteOfLimitations),
            "a limitation deadline is a risk whenever it is due"
        );
        assert_eq!(
            task(&due(Some(day(1)), true), &c, 7),
            Some(RiskReason::StatuteOfLimitations),
            "listed once, under the first reason"
        );
    }

    #[test]
    fn events_start_soon_until_the_end_of_day_seven() {
        let c = clock();
        // 23:59 Los Angeles on day 7 (7 Dec) is 07:59 UTC on 8 Dec.
        let late_day_7 = Utc.with_ymd_and_hms(2026, 12, 8, 7, 59, 0).unwrap();
        assert_eq!(event(late_day_7, &c, 7), Some(RiskReason::StartsSoon));
        // 00:00 Los Angeles on day 8.
        let day_8 = Utc.with_ymd_and_hms(2026, 12, 8, 8, 0, 0).unwrap();
        assert_eq!(event(day_8, &c, 7), None);
    }
}
