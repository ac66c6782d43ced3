//! PostgreSQL: every change to a user or a firm, by handover or by hand, tells every server
//! instance (`NOTIFY`, delivered at commit) so that each forgets the viewers it keeps. SQLite
//! needs none: there the viewers are not kept.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        // The channel and payload the listener knows (notify::fanout: `Topic::Users`).
        db.execute_unprepared(
            "CREATE FUNCTION handover_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_notify('handover_work_assigned', 'u'); RETURN NULL; END $$",
        )
        .await?;
        for table in ["\"user\"", "firm"] {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER handover_users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                 FOR EACH STATEMENT EXECUTE FUNCTION handover_users_changed()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        for table in ["\"user\"", "firm"] {
            db.execute_unprepared(&format!("DROP TRIGGER handover_users_changed ON {table}"))
                .await?;
        }
        db.execute_unprepared("DROP FUNCTION handover_users_changed()").await?;
        Ok(())
    }
}
