//! The GraphQL layer: schema assembly, types, loaders. Thin: it maps arguments to the domain
//! (`firm`, later `reassign` and `notify`) and domain rows to types, and holds no rules.

pub mod connection;
pub mod context;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod types;

use crate::config::QueryLimits;
use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use mutation::Mutation;
use sea_orm::DatabaseConnection;

pub use context::RequestContext;

pub type AppSchema = Schema<query::Query, Mutation, EmptySubscription>;

fn builder(limits: &QueryLimits) -> SchemaBuilder<query::Query, Mutation, EmptySubscription> {
    let mut b = Schema::build(query::Query::default(), Mutation, EmptySubscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(16);
    if !limits.introspection {
        b = b.disable_introspection();
    }
    if !limits.field_suggestions {
        b = b.disable_suggestions();
    }
    b
}

pub fn build(db: DatabaseConnection, limits: &QueryLimits) -> AppSchema {
    builder(limits).data(db).finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder(&QueryLimits::default()).finish().sdl()
}
