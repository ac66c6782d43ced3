//! Enumerations stored as short strings, so rows read the same on SQLite and PostgreSQL.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Licence {
    #[sea_orm(string_value = "ATTORNEY")]
    Attorney,
    #[sea_orm(string_value = "NON_ATTORNEY")]
    NonAttorney,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatterStatus {
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

impl MatterStatus {
    /// The statuses of an active matter: open and pending matters are "work in motion"; closed
    /// ones never move. The one definition, for Rust, filters and SQL alike.
    pub const ACTIVE: [MatterStatus; 2] = [MatterStatus::Open, MatterStatus::Pending];

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }

    /// `ACTIVE` as an SQL list of literals, for hand-written statements: `'OPEN', 'PENDING'`.
    pub fn active_sql() -> String {
        use sea_orm::ActiveEnum;
        Self::ACTIVE
            .iter()
            .map(|s| format!("'{}'", s.to_value()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    #[sea_orm(string_value = "IN_REVIEW")]
    InReview,
    #[sea_orm(string_value = "COMPLETE")]
    Complete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CalendarKind {
    /// A user's personal calendar (exactly one per user).
    #[sea_orm(string_value = "PERSONAL")]
    Personal,
    /// The firm-wide calendar (one per firm).
    #[sea_orm(string_value = "FIRM")]
    Firm,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkKind {
    #[sea_orm(string_value = "MATTER")]
    Matter,
    #[sea_orm(string_value = "TASK")]
    Task,
    #[sea_orm(string_value = "CALENDAR_EVENT")]
    CalendarEvent,
    /// A task whose assigner changed (the assigner sweep); the task's assignee is untouched.
    #[sea_orm(string_value = "TASK_ASSIGNER")]
    TaskAssigner,
}

/// Why a moving record needs a second look before the reassignment is applied, in the order a
/// record is listed under (first that applies).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskReason {
    #[sea_orm(string_value = "STATUTE_OF_LIMITATIONS")]
    StatuteOfLimitations,
    #[sea_orm(string_value = "DUE_SOON")]
    DueSoon,
    #[sea_orm(string_value = "STARTS_SOON")]
    StartsSoon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemOutcome {
    #[sea_orm(string_value = "REASSIGNED")]
    Reassigned,
    #[sea_orm(string_value = "SKIPPED")]
    Skipped,
}

/// Why a record was not moved (SPEC.md section 3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExclusionReason {
    #[sea_orm(string_value = "CLOSED_MATTER")]
    ClosedMatter,
    #[sea_orm(string_value = "NO_MATTER")]
    NoMatter,
    #[sea_orm(string_value = "PRIVATE_MATTER")]
    PrivateMatter,
    #[sea_orm(string_value = "PAST_DUE")]
    PastDue,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "PAST_EVENT")]
    PastEvent,
    #[sea_orm(string_value = "ATTENDEE_ONLY")]
    AttendeeOnly,
    #[sea_orm(string_value = "TARGET_NO_ACCESS")]
    TargetNoAccess,
    #[sea_orm(string_value = "CHANGED")]
    Changed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReassignmentStatus {
    /// Applied and in force.
    #[sea_orm(string_value = "APPLIED")]
    Applied,
    /// Applied, then undone by a later reassignment.
    #[sea_orm(string_value = "UNDONE")]
    Undone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboxState {
    /// Waiting to be sent (again, after a failed attempt, from `next_attempt_at`).
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// Given up on: the address is not one mailbox, or every attempt failed.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlannedHandoverStatus {
    /// Waiting for its start.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// Started; a cover waiting for its return.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Started, with no return.
    #[sea_orm(string_value = "DONE")]
    Done,
    /// The cover's work went back.
    #[sea_orm(string_value = "RETURNED")]
    Returned,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// The start or the return could not run; see `failure`.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationKind {
    /// Work is now yours (a reassignment, a planned start, a return).
    #[sea_orm(string_value = "WORK_ASSIGNED")]
    WorkAssigned,
    /// A planned handover will give you work (sent when it is planned).
    #[sea_orm(string_value = "HANDOVER_PLANNED")]
    HandoverPlanned,
    /// A cover ended: what left you and what stays with you.
    #[sea_orm(string_value = "COVER_ENDED")]
    CoverEnded,
    /// A planned start or return could not run (to the firm's administrators).
    #[sea_orm(string_value = "HANDOVER_FAILED")]
    HandoverFailed,
}
