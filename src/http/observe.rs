//! What operators see: one log line per request (no tokens, no query strings, no personal
//! data), request metrics, `/metrics`, and CORS for browser front ends on other origins.

use super::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use entity::{OutboxState, outbox_email};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::time::Instant;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The GraphQL operation a response answered, for the request log.
#[derive(Clone)]
pub struct OperationName(pub String);

pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe_request(status, took);
    let operation = response
        .extensions()
        .get::<OperationName>()
        .map(|o| o.0.as_str())
        .unwrap_or("");
    tracing::info!(
        target: "handover::request",
        method = %method,
        path = %path,
        status,
        duration_ms = (took.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
        operation,
        "request"
    );
    response
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let backlog = outbox_email::Entity::find()
        .filter(outbox_email::Column::State.eq(OutboxState::Pending))
        .count(&state.db)
        .await
        .unwrap_or_default();
    let planning = &state.live.planning;
    let mut text = state.metrics.render(backlog);
    text.push_str(&crate::metrics::gauge(
        "handover_plans_running",
        "Reassignments being planned now (at most --max-concurrent-plans).",
        planning.busy(),
    ));
    text.push_str(&crate::metrics::gauge(
        "handover_plans_waiting",
        "Requests waiting for a planning slot.",
        planning.waiting(),
    ));
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Only the configured origins; none configured, no CORS headers at all.
pub fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(std::time::Duration::from_secs(600))
}
