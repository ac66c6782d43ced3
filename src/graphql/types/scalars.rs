//! The schema's own scalars, each with a description a client can read and the `@specifiedBy`
//! URL of the format it follows (the stock chrono scalar's description is an implementer's note).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date without time or zone, `YYYY-MM-DD` (RFC 3339 `full-date`), for example
/// `2026-11-28`. Due dates and limitation deadlines are dates: they fall on the same day in
/// every time zone.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date, YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant, as an RFC 3339 `date-time` string with an offset, for example
/// `2026-11-28T09:30:00+00:00`. Answers are in UTC; inputs may carry any offset (`Z`, `-05:00`).
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| DateTime(t.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom("expected an RFC 3339 date-time, e.g. 2026-11-28T09:30:00Z")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}
