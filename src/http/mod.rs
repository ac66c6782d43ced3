//! HTTP: the router and its handlers. Thinner than the GraphQL layer: authenticate, decode
//! the request, hand it over, encode the answer.

mod assets;
mod door;
mod pages;

pub use assets::embedded as browser_assets_embedded;
mod graphql;
mod health;
mod observe;
mod report;
pub mod server;
mod websocket;

use crate::auth::JwtKeys;
use crate::config::QueryLimits;
use crate::graphql::AppSchema;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub live: crate::notify::Live,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Flips to true when the server is stopping: WebSocket connections close cleanly.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Origins allowed to call the API from a browser (none by default).
    pub cors_origins: Arc<Vec<String>>,
    pub schema: AppSchema,
    pub keys: Arc<JwtKeys>,
    pub limits: Arc<QueryLimits>,
    /// Open WebSockets per user, for the per-user cap.
    pub(crate) sockets: Arc<websocket::Sockets>,
}

impl AppState {
    /// Must be called inside the Tokio runtime: on PostgreSQL it starts the LISTEN task.
    pub fn new(db: DatabaseConnection, keys: JwtKeys, limits: QueryLimits) -> Self {
        Self::with_metrics(db, keys, limits, Arc::default())
    }

    /// As `new`, reporting to `metrics` (which the caller may also feed, e.g. a statement count).
    pub fn with_metrics(
        db: DatabaseConnection,
        keys: JwtKeys,
        limits: QueryLimits,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        let mut live = crate::notify::Live::start(&db, metrics.clone());
        live.planning = crate::reassign::Planning::new(limits.max_concurrent_plans);
        live.vacuum = crate::db::vacuum::AfterBulk::new(&db, limits.vacuum_after, metrics.clone());
        let schema = crate::graphql::build(db.clone(), live.clone(), &limits);
        AppState {
            db,
            live,
            metrics,
            shutdown: tokio::sync::watch::channel(false).0,
            cors_origins: Arc::new(Vec::new()),
            schema,
            keys: Arc::new(keys),
            limits: Arc::new(limits),
            sockets: Arc::default(),
        }
    }
}

impl AppState {
    pub fn with_cors_origins(mut self, origins: Vec<String>) -> Self {
        self.cors_origins = Arc::new(origins);
        self
    }

    /// Tell long-lived connections that the server is stopping.
    pub fn begin_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}

/// The caller of a request, from its `Authorization: Bearer` header.
pub async fn viewer_from(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> crate::error::AppResult<crate::auth::Viewer> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = crate::auth::bearer_token(header).map_err(crate::error::AppError::Unauthenticated)?;
    crate::auth::authenticate(&state.db, &state.live.viewers, &state.keys, token).await
}

/// The HTTP status of a domain error.
pub fn status_of(err: &crate::error::AppError) -> StatusCode {
    use crate::error::AppError;
    match err {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadUserInput(_) => StatusCode::BAD_REQUEST,
        AppError::Internal(_) | AppError::Transient(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as a GraphQL-shaped JSON body with its HTTP status (and `WWW-Authenticate` for 401).
pub fn error_response(err: crate::error::AppError, content_type: axum::http::HeaderValue) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let body = serde_json::json!({ "errors": [err.to_graphql_json()] }).to_string();
    let mut response = (status_of(&err), body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    if matches!(err, crate::error::AppError::Unauthenticated(_)) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// A refusal outside GraphQL execution, still shaped as a GraphQL error with a code.
fn refusal(status: StatusCode, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let code = match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::INTERNAL_SERVER_ERROR => "INTERNAL",
        _ => "BAD_USER_INPUT",
    };
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(
            axum::http::header::ALLOW,
            axum::http::HeaderValue::from_static("GET, POST"),
        );
    }
    response
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let cors = observe::cors(&state.cors_origins);
    Router::new()
        .route(
            "/graphql",
            get(graphql::get_handler)
                .post(graphql::post_handler)
                .fallback(|| async { refusal(StatusCode::METHOD_NOT_ALLOWED, "use GET or POST") }),
        )
        .route("/graphiql", get(pages::graphiql))
        .route("/console", get(pages::console))
        .route("/assets/{name}", get(assets::asset))
        .route("/reassignments/{id}/report.csv", get(report::csv_report))
        .route("/reassignments/{id}/report.json", get(report::json_report))
        .route("/reassignments/{id}/clients.csv", get(report::clients_csv))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(observe::metrics))
        .fallback(|| async { refusal(StatusCode::NOT_FOUND, "no such path") })
        .layer(DefaultBodyLimit::max(body_limit))
        // A panic in a handler is an INTERNAL answer (logged), not a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            tracing::error!("panic in a request handler");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .layer(cors)
        .with_state(state)
}
