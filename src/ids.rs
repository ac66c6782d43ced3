//! Opaque public IDs. A record's ID is `base64url("Kind:row id")`, so a matter's ID can never
//! be mistaken for a user's and clients treat IDs as strings, not numbers.

use crate::error::AppError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Firm,
    User,
    Group,
    Matter,
    Task,
    Calendar,
    CalendarEvent,
    Reassignment,
    ReassignmentItem,
    Notification,
    PlannedHandover,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Firm => "Firm",
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::Matter => "Matter",
            Kind::Task => "Task",
            Kind::Calendar => "Calendar",
            Kind::CalendarEvent => "CalendarEvent",
            Kind::Reassignment => "Reassignment",
            Kind::ReassignmentItem => "ReassignmentItem",
            Kind::Notification => "Notification",
            Kind::PlannedHandover => "PlannedHandover",
        }
    }

    /// The noun used in "… not found" messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Firm => "firm",
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Matter => "matter",
            Kind::Task => "task",
            Kind::Calendar => "calendar",
            Kind::CalendarEvent => "calendar event",
            Kind::Reassignment => "reassignment",
            Kind::ReassignmentItem => "reassignment item",
            Kind::Notification => "notification",
            Kind::PlannedHandover => "planned handover",
        }
    }
}

pub fn encode(kind: Kind, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name()))
}

/// Decode an ID of the expected kind. Anything else (garbage, another kind) is simply "not
/// found": an ID never tells more than whether the caller may see the record.
pub fn decode(kind: Kind, id: &str) -> Result<i64, AppError> {
    let not_found = || AppError::NotFound(kind.noun());
    let bytes = URL_SAFE_NO_PAD.decode(id.trim()).map_err(|_| not_found())?;
    let text = String::from_utf8(bytes).map_err(|_| not_found())?;
    let (name, row) = text.split_once(':').ok_or_else(not_found)?;
    if name != kind.name() {
        return Err(not_found());
    }
    row.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_kind_check() {
        let id = encode(Kind::Matter, 42);
        assert_eq!(decode(Kind::Matter, &id).unwrap(), 42);
        assert!(decode(Kind::User, &id).is_err());
        assert!(decode(Kind::User, "not an id").is_err());
        assert!(decode(Kind::User, &URL_SAFE_NO_PAD.encode("User:-1")).is_err());
    }
}
