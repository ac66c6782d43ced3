//! The demo firm, compiled into the binary so `serve --demo` works from any directory.
//! Its dates are written for `referenceDate` and moved to today when loaded (see README).

pub const DEMO_FIRM_JSON: &str = include_str!("../demo/demo-firm.json");

/// The demo administrator and the demo assignee whose tokens `serve --demo` prints.
pub const DEMO_ADMIN_EMAIL: &str = "alice@demo.test";
pub const DEMO_ASSIGNEE_EMAIL: &str = "bob@demo.test";

/// Carol's parental leave, so that a new demo shows a scheduled plan: from next Monday for three
/// weeks, Dan covering, planned by Alice.
pub async fn plan_leave(
    db: &sea_orm::DatabaseConnection,
    live: &crate::notify::Live,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::error::AppResult<()> {
    use chrono::Datelike;
    use entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let by_email = |email: &'static str| async move {
        user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(db)
            .await?
            .ok_or_else(|| crate::error::AppError::internal(format!("no demo user {email}")))
    };
    let (alice, carol, dan) = (
        by_email(DEMO_ADMIN_EMAIL).await?,
        by_email("carol@demo.test").await?,
        by_email("dan@demo.test").await?,
    );
    let viewer = crate::auth::Viewer::load(db, alice.id)
        .await?
        .ok_or_else(|| crate::error::AppError::internal("no demo administrator"))?;
    let today = now
        .with_timezone(&crate::firm::firm_tz(&viewer.firm.time_zone))
        .date_naive();
    let monday = today + chrono::Days::new(7 - u64::from(today.weekday().num_days_from_monday()));
    let request = crate::planned::PlanRequest {
        work: crate::reassign::Request {
            from_user_id: Some(Ok(carol.id)),
            acknowledge_risks: true,
            to_user_id: Some(Ok(dan.id)),
            note: Some("Carol is on parental leave; Dan covers until she is back.".into()),
            ..Default::default()
        },
        starts_on: Some(monday),
        returns_on: Some(monday + chrono::Days::new(21)),
        ..Default::default()
    };
    match crate::planned::plan(db, live, &viewer, &request, now).await? {
        Ok(plan) => tracing::info!(plan = plan.id, starts = %plan.starts_at, "demo: Carol's leave is planned"),
        Err(refused) => tracing::warn!(?refused, "demo: Carol's leave could not be planned"),
    }
    Ok(())
}
