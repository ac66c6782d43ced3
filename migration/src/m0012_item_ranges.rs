//! A reassignment records where its items are: the first and the last item id it wrote. The
//! report, the history and the undo read a batch's items within that range, so SQLite no longer
//! needs the (reassignment, id) index, which was the costliest part of writing items (160,000
//! items: about 220 ms with it, about 110 ms without, in the `sqlite3` shell). A batch's items
//! are written by one transaction; on SQLite, with one writer at a time, their ids are one run,
//! so the range holds exactly them. PostgreSQL keeps (reassignment, id) as the items' primary
//! key: its ids are not a run when batches are written at once, and the range only narrows the
//! same index walk there.
//!
//! SQLite keeps the items' foreign key to their reassignment (only inserts check it: batches
//! are never deleted, so its cascade never has to find a batch's items).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "ALTER TABLE reassignment ADD COLUMN first_item_id BIGINT NULL",
            "ALTER TABLE reassignment ADD COLUMN last_item_id BIGINT NULL",
            // Batches written before: their range read through the index, while it is there.
            "UPDATE reassignment SET
               first_item_id = (SELECT min(i.id) FROM reassignment_item i WHERE i.reassignment_id = reassignment.id),
               last_item_id = (SELECT max(i.id) FROM reassignment_item i WHERE i.reassignment_id = reassignment.id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            db.execute_unprepared("DROP INDEX ix_reassignment_item_page").await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            db.execute_unprepared("CREATE INDEX ix_reassignment_item_page ON reassignment_item (reassignment_id, id)")
                .await?;
        }
        for sql in [
            "ALTER TABLE reassignment DROP COLUMN last_item_id",
            "ALTER TABLE reassignment DROP COLUMN first_item_id",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
