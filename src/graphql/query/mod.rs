//! The query root, one object per domain, merged.

mod matters;
mod people;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(people::PeopleQuery, matters::MattersQuery);
