use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::Licence")]
pub enum Licence {
    Attorney,
    NonAttorney,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::MatterStatus")]
pub enum MatterStatus {
    Open,
    Pending,
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::TaskStatus")]
pub enum TaskStatus {
    Pending,
    InProgress,
    InReview,
    Complete,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::CalendarKind")]
pub enum CalendarKind {
    /// A user's personal calendar.
    Personal,
    /// The firm-wide calendar.
    Firm,
}

/// The kind of a piece of work.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::WorkKind")]
pub enum WorkKind {
    Matter,
    Task,
    CalendarEvent,
    /// A task whose assigner changed (the assigner sweep); its assignee did not.
    TaskAssigner,
}

/// Why a moving record needs a second look (SPEC.md section 9). A record is listed once,
/// under the first reason that applies, in this order.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::RiskReason")]
pub enum RiskReason {
    /// A task flagged as a statute-of-limitations deadline.
    StatuteOfLimitations,
    /// A task due within the risk window (past-due tasks moved by the sweep too).
    DueSoon,
    /// An event starting within the risk window.
    StartsSoon,
}

/// How a pool shares out the matters a route gives it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::reassign::rules::route::Strategy")]
pub enum PoolStrategy {
    /// Each matter to the member with the fewest open matters, counting this plan's (ties:
    /// the lowest ID).
    LeastLoaded,
    /// The pool in its given order, cycling.
    RoundRobin,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ItemOutcome")]
pub enum ItemOutcome {
    Reassigned,
    Skipped,
}

/// Why a record was not moved.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ExclusionReason")]
pub enum ExclusionReason {
    /// Linked to a closed matter.
    ClosedMatter,
    /// A task or event linked to no matter.
    NoMatter,
    /// Linked to a private matter (its permission resolves to one user).
    PrivateMatter,
    /// A task due before today in the firm's time zone.
    PastDue,
    /// A completed task.
    Completed,
    /// An event that has already started.
    PastEvent,
    /// An event on another calendar where the source is only an attendee.
    AttendeeOnly,
    /// The target may not see the matter (see `grantMatterAccess`).
    TargetNoAccess,
    /// The record no longer matched the rules when the reassignment was applied.
    Changed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ReassignmentStatus")]
pub enum ReassignmentStatus {
    /// Applied and in force.
    Applied,
    /// Applied, then undone.
    Undone,
}

/// What a notification tells of.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::NotificationKind")]
pub enum NotificationKind {
    /// Work is now yours: a reassignment, a planned start, or your own work given back.
    WorkAssigned,
    /// A planned handover will give you work when it starts (a heads-up).
    HandoverPlanned,
    /// A cover you held has ended: what went back and what stays with you, and why.
    CoverEnded,
    /// A planned start or return could not run (administrators).
    HandoverFailed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::PlannedHandoverStatus")]
pub enum PlannedHandoverStatus {
    /// Waiting for its start.
    Scheduled,
    /// Started; a cover waiting for its return.
    Active,
    /// Started, with no return.
    Done,
    /// The cover's work went back.
    Returned,
    /// Cancelled before its start: nothing moved.
    Cancelled,
    /// The start or the return could not run; see `failure`.
    Failed,
}
