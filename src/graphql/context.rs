//! What a resolver may ask for: the viewer and the request's clock (request data), the
//! database (schema data), and the per-request loaders.

use super::loaders::Loaders;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::firm::{firm_tz, start_of_day};
use async_graphql::Context;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

/// Built once per request after authentication (never stored in schema data).
pub struct RequestContext {
    pub viewer: Viewer,
    /// The instant the request started; "upcoming" and "today" are measured from it.
    pub now: DateTime<Utc>,
    /// Midnight today in the firm's time zone.
    pub today_start: DateTime<Utc>,
    pub loaders: Loaders,
}

impl RequestContext {
    pub fn new(db: &DatabaseConnection, viewer: Viewer) -> Self {
        let now = Utc::now();
        let today_start = start_of_day(now, firm_tz(&viewer.firm.time_zone));
        let loaders = Loaders::new(db, &viewer, now, today_start);
        RequestContext {
            viewer,
            now,
            today_start,
            loaders,
        }
    }

    pub fn upcoming_since(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.now, self.today_start)
    }
}

pub fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext, AppError> {
    ctx.data::<RequestContext>()
        .map_err(|_| AppError::Unauthenticated("missing bearer token"))
}

pub fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a Viewer, AppError> {
    request(ctx).map(|r| &r.viewer)
}

/// The request's clock: the instant it started. Resolvers never read the wall clock.
pub fn now(ctx: &Context<'_>) -> Result<DateTime<Utc>, AppError> {
    request(ctx).map(|r| r.now)
}

pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, AppError> {
    ctx.data::<DatabaseConnection>()
        .map_err(|_| AppError::internal("no database in schema data"))
}

pub fn live<'a>(ctx: &Context<'a>) -> Result<&'a crate::notify::Live, AppError> {
    ctx.data::<crate::notify::Live>()
        .map_err(|_| AppError::internal("no live delivery in schema data"))
}

pub fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders, AppError> {
    request(ctx).map(|r| &r.loaders)
}

/// Loader failures are internal errors (logged, not shown).
pub fn load_failed(detail: String) -> AppError {
    AppError::Internal(detail)
}
