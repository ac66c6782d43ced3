//! What a new assignee's digest lists: the matters by number and description, the tasks by due
//! date (soonest first), the events by start in the assignee's own time zone, each list capped
//! with "and N more". One content, three renderings: the notification body and the email's
//! plain text part are the same text; the email's HTML part shows it as lists.

use crate::db::{At, Params, aggregated_rows};
use crate::error::AppResult;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;

/// Lines per list; the rest is "and N more".
pub const LISTED: usize = 10;
/// Ids per statement, as in the selection.
const CHUNK: usize = 5000;

/// The records one assignee received, by kind (ids of records that moved to them; tasks and
/// events with when they fall).
#[derive(Debug, Default, Clone)]
pub struct Arrivals {
    pub matters: Vec<i64>,
    pub tasks: Soonest,
    pub events: Soonest,
}

/// Kept beyond this many, a list's arrivals that can no longer be among its first lines are let
/// go: a big reassignment's tasks are not all held to find the ten soonest.
const KEPT: usize = 4096;

/// A list's arrivals that can still be among its first `LISTED` lines, and how many arrived.
#[derive(Debug, Default, Clone)]
pub struct Soonest {
    kept: Vec<(When, i64)>,
    arrived: usize,
    /// Let go of the rest when more than this are kept (ties and unknown times are all kept,
    /// so it doubles with what a pass could not let go of).
    bound: usize,
}

impl Soonest {
    pub fn push(&mut self, when: When, id: i64) {
        self.arrived += 1;
        self.kept.push((when, id));
        if self.kept.len() > self.bound.max(KEPT) {
            let last = last_listed(&self.kept);
            self.kept.retain(|(w, _)| listed(*w, last));
            self.kept.shrink_to(KEPT);
            self.bound = 2 * self.kept.len();
        }
    }

    /// The ids that can be among the list's first lines.
    pub fn ids(&self) -> Vec<i64> {
        soonest(&self.kept)
    }

    /// How many arrived, listed or not.
    pub fn arrived(&self) -> usize {
        self.arrived
    }
}

/// When a record falls, as its list orders it: a task by due date (none: last), an event by
/// its start. Known from the plan, so that a digest reads only the records that can be among
/// its first lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum When {
    #[default]
    Unknown,
    Due(Option<NaiveDate>),
    Starts(DateTime<Utc>),
}

impl When {
    /// The list's order (`None`: unknown, never left out).
    fn rank(self) -> Option<(bool, i64)> {
        match self {
            When::Unknown => None,
            When::Due(Some(day)) => Some((false, day.num_days_from_ce().into())),
            When::Due(None) => Some((true, 0)),
            // Microseconds: two starts apart by less tie, and both are kept.
            When::Starts(at) => Some((false, at.timestamp_micros())),
        }
    }
}

/// The ids that can be among a list's first `LISTED` lines: every record that falls no later
/// than the `LISTED`-th soonest (ties kept: the database orders them by name), and any whose
/// time is unknown.
fn soonest(arrived: &[(When, i64)]) -> Vec<i64> {
    let last = last_listed(arrived);
    arrived
        .iter()
        .filter(|(w, _)| listed(*w, last))
        .map(|&(_, id)| id)
        .collect()
}

/// The rank of the `LISTED`-th soonest; `None` when there are no more than `LISTED`.
fn last_listed(arrived: &[(When, i64)]) -> Option<(bool, i64)> {
    let mut ranks: Vec<(bool, i64)> = arrived.iter().filter_map(|(w, _)| w.rank()).collect();
    if ranks.len() <= LISTED {
        return None;
    }
    let (_, &mut last, _) = ranks.select_nth_unstable(LISTED - 1);
    Some(last)
}

fn listed(when: When, last: Option<(bool, i64)>) -> bool {
    last.is_none_or(|last| when.rank().is_none_or(|r| r <= last))
}

/// A list's first lines and how many records it stands for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    pub lines: Vec<T>,
    pub total: usize,
}

impl<T> Listed<T> {
    fn more(&self) -> usize {
        self.total - self.lines.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterLine {
    pub number: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLine {
    pub due: Option<NaiveDate>,
    pub name: String,
    pub matter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    pub start: DateTime<Utc>,
    pub all_day: bool,
    pub title: String,
}

/// What arrived, ready to render in `zone` (the assignee's own, else the firm's); all-day
/// events fall on their day in the firm's zone, as the rules count them.
#[derive(Debug, Clone)]
pub struct Lists {
    pub matters: Listed<MatterLine>,
    pub tasks: Listed<TaskLine>,
    pub events: Listed<EventLine>,
    pub zone: Tz,
    pub firm_zone: Tz,
}

/// The first lines of each list, read for just those records: each chunk of ids gives its own
/// first lines, and the chunks' are merged, so the cost follows the records that moved. Tasks
/// and events are read only where they can be among the first lines: 55,000 tasks' rows read
/// for ten lines had cost PostgreSQL 400 ms of an apply.
pub async fn lists<C: ConnectionTrait>(db: &C, arrived: &Arrivals, zone: Tz, firm_zone: Tz) -> AppResult<Lists> {
    Ok(Lists {
        matters: Listed {
            lines: first_lines(db, &arrived.matters, read_matters, |m: &MatterLine| m.number.clone()).await?,
            total: arrived.matters.len(),
        },
        tasks: Listed {
            lines: first_lines(db, &arrived.tasks.ids(), read_tasks, |t: &TaskLine| {
                (t.due.is_none(), t.due, t.name.clone())
            })
            .await?,
            total: arrived.tasks.arrived(),
        },
        events: Listed {
            lines: first_lines(db, &arrived.events.ids(), read_events, |e: &EventLine| {
                (e.start, e.title.clone())
            })
            .await?,
            total: arrived.events.arrived(),
        },
        zone,
        firm_zone,
    })
}

/// The first `LISTED` lines of the records `ids`.
async fn first_lines<'a, C, T, K, F, Fut>(
    db: &'a C,
    ids: &'a [i64],
    read: F,
    key: impl Fn(&T) -> K,
) -> AppResult<Vec<T>>
where
    C: ConnectionTrait,
    K: Ord,
    F: Fn(&'a C, &'a [i64]) -> Fut,
    Fut: std::future::Future<Output = AppResult<Vec<T>>>,
{
    let mut lines = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        lines.extend(read(db, chunk).await?);
        lines.sort_by_key(&key);
        lines.truncate(LISTED);
    }
    Ok(lines)
}

/// `(SELECT … ORDER BY … LIMIT n) d` over `table` rows whose id is in `ids`.
fn first_of(p: &mut Params, backend: sea_orm::DatabaseBackend, ids: &[i64], select: &str, order: &str) -> String {
    let ids = p.ids(backend, ids);
    format!("({select} WHERE x.id IN (SELECT id FROM {ids} o) ORDER BY {order} LIMIT {LISTED}) d")
}

async fn read_matters<'a, C: ConnectionTrait>(db: &'a C, ids: &'a [i64]) -> AppResult<Vec<MatterLine>> {
    let mut p = Params::default();
    let from = first_of(
        &mut p,
        db.get_database_backend(),
        ids,
        "SELECT x.display_number, x.description FROM matter x",
        "x.display_number, x.id",
    );
    let rows: Vec<(String, String)> = aggregated_rows(db, "display_number, description", &from, p).await?;
    Ok(rows
        .into_iter()
        .map(|(number, description)| MatterLine { number, description })
        .collect())
}

async fn read_tasks<'a, C: ConnectionTrait>(db: &'a C, ids: &'a [i64]) -> AppResult<Vec<TaskLine>> {
    let mut p = Params::default();
    let from = first_of(
        &mut p,
        db.get_database_backend(),
        ids,
        "SELECT x.name, x.due_date, x.matter_id FROM task x",
        "CASE WHEN x.due_date IS NULL THEN 1 ELSE 0 END, x.due_date, x.name",
    );
    // The matter's number only for the lines kept: joined before the sort, it was looked up
    // for every task of the chunk.
    let rows: Vec<(String, Option<NaiveDate>, Option<String>)> = aggregated_rows(
        db,
        "d.name, d.due_date, m.display_number",
        &format!("{from} LEFT JOIN matter m ON m.id = d.matter_id"),
        p,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, due, matter)| TaskLine { due, name, matter })
        .collect())
}

async fn read_events<'a, C: ConnectionTrait>(db: &'a C, ids: &'a [i64]) -> AppResult<Vec<EventLine>> {
    let mut p = Params::default();
    let from = first_of(
        &mut p,
        db.get_database_backend(),
        ids,
        "SELECT x.title, x.start_at, CASE WHEN x.all_day THEN 1 ELSE 0 END AS all_day FROM calendar_event x",
        "x.start_at, x.title",
    );
    let rows: Vec<(String, At, i64)> = aggregated_rows(db, "title, start_at, all_day", &from, p).await?;
    Ok(rows
        .into_iter()
        .map(|(title, At(start), all_day)| EventLine {
            start,
            all_day: all_day != 0,
            title,
        })
        .collect())
}

impl TaskLine {
    fn text(&self) -> String {
        let due = self
            .due
            .map_or_else(|| "no due date".to_string(), |d| d.format("%a %-d %b %Y").to_string());
        match &self.matter {
            Some(m) => format!("{due}: {} ({m})", self.name),
            None => format!("{due}: {}", self.name),
        }
    }
}

impl Lists {
    fn event_text(&self, e: &EventLine) -> String {
        if e.all_day {
            let day = e.start.with_timezone(&self.firm_zone).format("%a %-d %b %Y");
            format!("{day}, all day: {}", e.title)
        } else {
            let at = e.start.with_timezone(&self.zone).format("%a %-d %b %Y %H:%M");
            format!("{at}: {}", e.title)
        }
    }

    /// (heading, lines, how many more) of each non-empty list.
    fn sections(&self) -> Vec<(String, Vec<String>, usize)> {
        let mut out = Vec::new();
        if self.matters.total > 0 {
            let lines = self
                .matters
                .lines
                .iter()
                .map(|m| format!("{} {}", m.number, m.description))
                .collect();
            out.push(("Matters".to_string(), lines, self.matters.more()));
        }
        if self.tasks.total > 0 {
            let lines = self.tasks.lines.iter().map(TaskLine::text).collect();
            out.push(("Tasks, soonest first".to_string(), lines, self.tasks.more()));
        }
        if self.events.total > 0 {
            let lines = self.events.lines.iter().map(|e| self.event_text(e)).collect();
            out.push((
                format!("Calendar events (times in {})", self.zone.name()),
                lines,
                self.events.more(),
            ));
        }
        out
    }

    /// The lists as plain text: a heading, then "- " lines.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (heading, lines, more) in self.sections() {
            out.push_str(&format!("\n\n{heading}:"));
            for line in lines {
                out.push_str(&format!("\n- {line}"));
            }
            if more > 0 {
                out.push_str(&format!("\n- and {more} more"));
            }
        }
        out
    }

    /// The lists as HTML.
    pub fn html(&self) -> String {
        let mut out = String::new();
        for (heading, lines, more) in self.sections() {
            out.push_str(&format!("<h3>{}</h3>\n<ul>\n", escape(&heading)));
            for line in lines {
                out.push_str(&format!("  <li>{}</li>\n", escape(&line)));
            }
            if more > 0 {
                out.push_str(&format!("  <li><em>and {more} more</em></li>\n"));
            }
            out.push_str("</ul>\n");
        }
        out
    }
}

/// Text safe inside HTML elements and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text as HTML paragraphs (blank lines part them; single newlines are line breaks).
pub fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>\n", escape(p.trim()).replace('\n', "<br>\n")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{LISTED, Soonest, When, soonest};
    use chrono::{NaiveDate, TimeZone, Utc};

    fn day(d: u32) -> When {
        When::Due(NaiveDate::from_ymd_opt(2026, 12, d))
    }

    impl When {
        fn plus_days(self, n: i64) -> When {
            match self {
                When::Due(Some(d)) => When::Due(Some(d + chrono::Days::new(n as u64))),
                other => other,
            }
        }
    }

    #[test]
    fn only_what_can_be_listed_first_is_read() {
        // Few enough: all of them, whatever they are.
        let few: Vec<(When, i64)> = (1..=LISTED as i64).map(|i| (When::Due(None), i)).collect();
        assert_eq!(soonest(&few), (1..=LISTED as i64).collect::<Vec<_>>());

        // 30 tasks due on days 30, 29, …, 1 (ids 1..=30), one more without a due date, and one
        // of unknown time: the ten soonest (days 1 to 10: ids 21 to 30) and the unknown.
        let mut tasks: Vec<(When, i64)> = (1..=30).map(|i| (day(31 - i as u32), i)).collect();
        tasks.push((When::Due(None), 31));
        tasks.push((When::Unknown, 32));
        let mut read = soonest(&tasks);
        read.sort_unstable();
        assert_eq!(read, (21..=30).chain([32]).collect::<Vec<_>>());

        // Ties at the tenth are all kept (the database orders them by name).
        let mut tied: Vec<(When, i64)> = (1..=8).map(|i| (day(i as u32), i)).collect();
        tied.extend((9..=20).map(|i| (day(9), i)));
        tied.push((day(10), 21));
        assert_eq!(soonest(&tied), (1..=20).collect::<Vec<_>>());

        // Fewer than ten dated: every undated task can be listed, all kept.
        let mut undated: Vec<(When, i64)> = (1..=3).map(|i| (day(i as u32), i)).collect();
        undated.extend((4..=40).map(|i| (When::Due(None), i)));
        assert_eq!(soonest(&undated).len(), 40);

        // Events by start, to the microsecond.
        let at = |s: i64| When::Starts(Utc.timestamp_opt(1_800_000_000 + s, 0).single().expect("an instant"));
        let events: Vec<(When, i64)> = (0..100).map(|i| (at(100 - i), i)).collect();
        let mut read = soonest(&events);
        read.sort_unstable();
        assert_eq!(read, (90..100).collect::<Vec<_>>());
    }

    #[test]
    fn arrivals_keep_only_what_can_still_be_listed_first() {
        // 100,000 tasks over 400 days, in a scrambled order, some undated and some unknown: the
        // kept few give the same first lines as all of them, and the count is of all.
        let all: Vec<(When, i64)> = (0..100_000i64)
            .map(|i| {
                let id = (i * 7919) % 100_000;
                let when = match id % 1000 {
                    0 => When::Unknown,
                    1 => When::Due(None),
                    _ => day(1).plus_days(id % 400),
                };
                (when, id)
            })
            .collect();
        let mut kept = Soonest::default();
        for &(when, id) in &all {
            kept.push(when, id);
            assert!(kept.kept.len() <= 2 * super::KEPT, "bounded, not {}", kept.kept.len());
        }
        let (mut from_kept, mut from_all) = (kept.ids(), soonest(&all));
        from_kept.sort_unstable();
        from_all.sort_unstable();
        assert_eq!(from_kept, from_all);
        assert_eq!(kept.arrived(), 100_000);
    }
}
