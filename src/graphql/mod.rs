//! The GraphQL layer: schema assembly, types, loaders. Thin: it maps arguments to the domain
//! (`firm`, later `reassign` and `notify`) and domain rows to types, and holds no rules.

pub mod connection;
pub mod context;
pub mod error;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod rate;
pub mod subscription;
pub mod types;

use crate::config::QueryLimits;
use async_graphql::{Schema, SchemaBuilder};
use mutation::Mutation;
use sea_orm::DatabaseConnection;
use subscription::SubscriptionRoot;

pub use context::RequestContext;

pub type AppSchema = Schema<query::Query, Mutation, SubscriptionRoot>;

/// The schema without its runtime data (the database, the live hub): for `sdl()` and for
/// tests that only parse and validate.
pub fn builder(limits: &QueryLimits) -> SchemaBuilder<query::Query, Mutation, SubscriptionRoot> {
    let mut b = Schema::build(query::Query::default(), Mutation::default(), SubscriptionRoot)
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

pub fn build(db: DatabaseConnection, live: crate::notify::Live, limits: &QueryLimits) -> AppSchema {
    builder(limits)
        .data(db)
        .data(live.hub.clone())
        .data(live)
        .data(rate::RateLimit::new(limits.max_reassignments_per_minute))
        .finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder(&QueryLimits::default())
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
