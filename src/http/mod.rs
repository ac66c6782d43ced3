//! HTTP: the router and its handlers. Thinner than the GraphQL layer: authenticate, decode
//! the request, hand it over, encode the answer.

mod graphiql;
mod graphql;
mod health;
mod report;
mod websocket;

use crate::auth::JwtKeys;
use crate::config::QueryLimits;
use crate::graphql::AppSchema;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub hub: crate::notify::Hub,
    pub schema: AppSchema,
    pub keys: Arc<JwtKeys>,
    pub limits: Arc<QueryLimits>,
}

impl AppState {
    /// Must be called inside the Tokio runtime: on PostgreSQL it starts the LISTEN task.
    pub fn new(db: DatabaseConnection, keys: JwtKeys, limits: QueryLimits) -> Self {
        let hub = crate::notify::Hub::default();
        if !crate::notify::fanout::publishes_locally(&db) {
            tokio::spawn(crate::notify::fanout::listen(db.clone(), hub.clone()));
        }
        let schema = crate::graphql::build(db.clone(), hub.clone(), &limits);
        AppState {
            db,
            hub,
            schema,
            keys: Arc::new(keys),
            limits: Arc::new(limits),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    Router::new()
        .route("/graphql", get(graphql::get_handler).post(graphql::post_handler))
        .route("/graphiql", get(graphiql::page))
        .route("/reassignments/{id}/report.csv", get(report::csv_report))
        .route("/reassignments/{id}/report.json", get(report::json_report))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
