//! The query root, one object per domain, merged.

mod matters;
mod notifications;
mod people;
mod planned;
mod reassignments;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    people::PeopleQuery,
    matters::MattersQuery,
    reassignments::ReassignmentsQuery,
    notifications::NotificationsQuery,
    planned::PlannedQuery,
);
