//! The firm's records as the read API sees them: users, matters, tasks, calendar events, and
//! who may see what. Plain functions over the database; no HTTP, no GraphQL.
//!
//! Visibility: an administrator sees the whole firm. Any other user sees themselves, the
//! matters whose permission they satisfy, and their own tasks and events.

pub mod access;
pub mod matters;
pub mod page;
pub mod search;
pub mod users;
pub mod work;

pub use page::{Page, PageRequest};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, IdenStatic, Iterable, QuerySelect, Select};

/// Derived columns: folded copies of other columns, kept for matching (search, sign-in by
/// email) and never shown. Pages and loaders of the read API read them as empty strings instead
/// of carrying them (a third of a matter row's text).
pub const USER_DERIVED: &[&str] = &["email_folded", "search_text"];
pub const MATTER_DERIVED: &[&str] = &["search_text"];

/// `select` reading every column of `E` but the `derived` ones, which come back empty: rows for
/// showing, not for matching.
pub fn shown<E: EntityTrait>(select: Select<E>, derived: &[&str]) -> Select<E> {
    let mut select = select.select_only();
    for column in E::Column::iter() {
        let name = column.as_str();
        select = if derived.contains(&name) {
            select.column_as(Expr::value(""), name)
        } else {
            select.column(column)
        };
    }
    select
}

/// The firm's time zone; an unparsable name (impossible after import validation) falls back to
/// UTC rather than failing a read.
pub fn firm_tz(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// Midnight at the start of `now`'s day in `tz`, as an instant. All-day events of today count
/// as upcoming until the day is over.
pub fn start_of_day(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    midnight(now.with_timezone(&tz).date_naive(), tz)
}

/// 00:00 of `date` in `tz`, as an instant (the first instant of the day where a clock change
/// skips midnight).
pub fn midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    (0..=3)
        .find_map(|hour| {
            tz.from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(hour, 0, 0)?))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| date.and_time(NaiveTime::MIN).and_utc())
}
