//! Cheaper report items, the rows an apply writes most (one per record considered):
//! - the batch index (reassignment, kind, outcome) gives way to (reassignment, id), the order in
//!   which the report and the history page through a batch's items; the old one served no query
//!   better and cost more to write, its keys being long runs of equal strings. On PostgreSQL
//!   (reassignment, id) becomes the primary key itself: one index to write per item, not two
//!   (an item is never looked up by its id alone). SQLite keeps `id` as its row id and adds the
//!   index;
//! - PostgreSQL: the items' foreign key to their reassignment goes. It checked every item row by
//!   row (a trigger and a row lock on the batch each), while items are only ever written by the
//!   apply, in the transaction that inserts their batch, and batches are never deleted. SQLite
//!   keeps it: dropping it there means rebuilding the table, and its check is a plain lookup.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            for sql in [
                "ALTER TABLE reassignment_item DROP CONSTRAINT IF EXISTS reassignment_item_reassignment_id_fkey",
                "ALTER TABLE reassignment_item DROP CONSTRAINT reassignment_item_pkey",
                "ALTER TABLE reassignment_item ADD CONSTRAINT reassignment_item_pkey PRIMARY KEY (reassignment_id, id)",
            ] {
                db.execute_unprepared(sql).await?;
            }
        } else {
            db.execute_unprepared("CREATE INDEX ix_reassignment_item_page ON reassignment_item (reassignment_id, id)")
                .await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS ix_reassignment_item_batch")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_reassignment_item_batch ON reassignment_item (reassignment_id, kind, outcome)",
        )
        .await?;
        if db.get_database_backend() == DatabaseBackend::Postgres {
            for sql in [
                "ALTER TABLE reassignment_item DROP CONSTRAINT reassignment_item_pkey",
                "ALTER TABLE reassignment_item ADD CONSTRAINT reassignment_item_pkey PRIMARY KEY (id)",
                "ALTER TABLE reassignment_item ADD CONSTRAINT reassignment_item_reassignment_id_fkey
                 FOREIGN KEY (reassignment_id) REFERENCES reassignment (id) ON DELETE CASCADE",
            ] {
                db.execute_unprepared(sql).await?;
            }
        } else {
            db.execute_unprepared("DROP INDEX ix_reassignment_item_page").await?;
        }
        Ok(())
    }
}
