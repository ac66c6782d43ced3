//! The two pages handover serves: GraphiQL at `/graphiql` (for developers and administrators
//! exploring the API) and the reference console at `/console` (what a front end built on the
//! API looks like: preview, apply, report, undo, and the assignee's flash notification). Both
//! are static: the browser talks to `/graphql` like any other client.

use super::assets::{NOT_EMBEDDED, embedded, locked_down};
use axum::response::{Html, IntoResponse, Response};

fn page(html: &'static str) -> Response {
    locked_down(Html(if embedded() { html } else { NOT_EMBEDDED }).into_response())
}

/// `GET /graphiql`.
pub async fn graphiql() -> Response {
    page(include_str!("pages/graphiql.html"))
}

/// `GET /console`.
pub async fn console() -> Response {
    page(include_str!("pages/console.html"))
}
