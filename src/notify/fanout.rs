//! Several server instances on one PostgreSQL: each reassignment sends one `NOTIFY` (delivered
//! when it commits); every instance `LISTEN`s, reads the notifications of that reassignment from
//! the durable rows and wakes its own subscribers. After a reconnect the listener re-reads
//! every notification it may have missed. On SQLite (one instance) the mutation publishes to the
//! in-process hub directly.

use super::{Hub, Published};
use entity::notification;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::time::Duration;

pub const CHANNEL: &str = "handover_work_assigned";

/// Whose notifications a wake-up is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Those written with a reassignment (payload: its id).
    Reassignment(i64),
    /// Notifications written without a reassignment (a heads-up, a failure), by id (payload:
    /// `n:FIRST-LAST`).
    Notifications(i64, i64),
    /// Users or firms changed: cached viewers are stale (payload: `u`).
    Users,
}

impl Topic {
    fn payload(self) -> String {
        match self {
            Topic::Reassignment(id) => id.to_string(),
            Topic::Notifications(first, last) => format!("n:{first}-{last}"),
            Topic::Users => "u".into(),
        }
    }

    fn parse(payload: &str) -> Option<Topic> {
        if payload == "u" {
            return Some(Topic::Users);
        }
        match payload.strip_prefix("n:") {
            Some(range) => {
                let (first, last) = range.split_once('-')?;
                Some(Topic::Notifications(first.parse().ok()?, last.parse().ok()?))
            }
            None => payload.parse().ok().map(Topic::Reassignment),
        }
    }
}

/// Inside the writing transaction: wake every instance once it commits.
pub async fn announce<C: ConnectionTrait>(txn: &C, topic: Topic) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), topic.payload().into()],
        ))
        .await?;
    }
    Ok(())
}

/// Inside the writing transaction: wake every instance for these notifications (written without
/// a reassignment) once it commits.
pub async fn announce_notifications<C: ConnectionTrait>(txn: &C, told: &[Published]) -> Result<(), sea_orm::DbErr> {
    let ids = told.iter().map(|p| p.0.id);
    match (ids.clone().min(), ids.max()) {
        (Some(first), Some(last)) => announce(txn, Topic::Notifications(first, last)).await,
        _ => Ok(()),
    }
}

/// Whether mutations publish to the local hub themselves (SQLite) or leave it to the listener.
pub fn publishes_locally(db: &DatabaseConnection) -> bool {
    db.get_database_backend() != DatabaseBackend::Postgres
}

async fn newest_id(db: &DatabaseConnection) -> i64 {
    notification::Entity::find()
        .select_only()
        .column_as(notification::Column::Id.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await
        .ok()
        .flatten()
        .flatten()
        .unwrap_or(0)
}

async fn publish_after(db: &DatabaseConnection, hub: &Hub, after: i64, topic: Option<Topic>) -> Option<i64> {
    let mut select = notification::Entity::find().filter(notification::Column::Id.gt(after));
    match topic {
        Some(Topic::Reassignment(id)) => select = select.filter(notification::Column::ReassignmentId.eq(id)),
        Some(Topic::Users) => return None,
        Some(Topic::Notifications(first, last)) => {
            select = select
                .filter(notification::Column::Id.gte(first))
                .filter(notification::Column::Id.lte(last))
        }
        None => {}
    }
    let rows = select
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await
        .map_err(|e| tracing::warn!(error = %e, "cannot read notifications"))
        .ok()?;
    let last = rows.last().map(|r| r.id);
    hub.publish(rows.into_iter().map(|row| Published(std::sync::Arc::new(row))));
    last
}

/// Listen until the process ends; reconnect with a pause after any failure.
pub async fn listen(db: DatabaseConnection, hub: Hub, viewers: std::sync::Arc<crate::auth::Viewers>) {
    let mut last_seen = newest_id(&db).await;
    let mut first = true;
    loop {
        let pool = db.get_postgres_connection_pool().clone();
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // From here every change to users is heard: the viewers' cache may serve.
        viewers.set_serving(true);
        if !first {
            // What was committed while we were away.
            if let Some(last) = publish_after(&db, &hub, last_seen, None).await {
                last_seen = last;
            }
        }
        first = false;
        loop {
            match listener.recv().await {
                Ok(n) => {
                    let Some(topic) = Topic::parse(n.payload()) else {
                        continue;
                    };
                    if topic == Topic::Users {
                        viewers.forget_all();
                        continue;
                    }
                    if let Some(last) = publish_after(&db, &hub, 0, Some(topic)).await {
                        last_seen = last_seen.max(last);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                    viewers.set_serving(false);
                    break;
                }
            }
        }
    }
}
