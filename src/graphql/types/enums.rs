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
