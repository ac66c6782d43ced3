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

/// Inside the reassignment's transaction: wake every instance once it commits.
pub async fn announce<C: ConnectionTrait>(txn: &C, reassignment_id: i64) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), reassignment_id.to_string().into()],
        ))
        .await?;
    }
    Ok(())
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

async fn publish_after(db: &DatabaseConnection, hub: &Hub, after: i64, reassignment: Option<i64>) -> Option<i64> {
    let mut select = notification::Entity::find().filter(notification::Column::Id.gt(after));
    if let Some(r) = reassignment {
        select = select.filter(notification::Column::ReassignmentId.eq(r));
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
pub async fn listen(db: DatabaseConnection, hub: Hub) {
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
                    let Ok(reassignment) = n.payload().parse::<i64>() else {
                        continue;
                    };
                    if let Some(last) = publish_after(&db, &hub, 0, Some(reassignment)).await {
                        last_seen = last_seen.max(last);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                    break;
                }
            }
        }
    }
}
