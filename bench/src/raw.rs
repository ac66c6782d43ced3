//! The raw write reference: what the database itself takes to write as many rows as an apply,
//! with no rule evaluated. The records the apply moved (read back from its items, untimed) are
//! updated to the same receiver by one set-based `UPDATE` per table, and a copy of the apply's
//! items (prepared untimed) is inserted into a bare table (no key, no index), in one transaction, commit
//! included. Afterwards (untimed) the records are put back and the bare table dropped, so the
//! benchmark can be repeated on the same data.

use handover::db::statement as stmt;
use handover::error::AppResult;
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use std::time::{Duration, Instant};

pub struct RawInput {
    /// The apply's batch: its items say which records moved and how many rows to insert.
    pub batch: i64,
    pub source: i64,
    pub target: i64,
    pub source_calendar: i64,
    pub target_calendar: i64,
}

/// The items of batch `$1`, within the range it recorded.
const ITEMS_OF_BATCH: &str = "reassignment_id = $1 AND id BETWEEN
    (SELECT first_item_id FROM reassignment WHERE id = $1) AND (SELECT last_item_id FROM reassignment WHERE id = $1)";

/// (table, column written, the kind in the items).
const TABLES: [(&str, &str, &str); 3] = [
    ("matter", "responsible_attorney_id", "MATTER"),
    ("task", "assignee_id", "TASK"),
    ("calendar_event", "calendar_id", "CALENDAR_EVENT"),
];

/// Returns the time taken and the rows written (updated, inserted).
pub async fn run(db: &DatabaseConnection, r: &RawInput) -> AppResult<(Duration, u64, u64)> {
    let backend = db.get_database_backend();
    let v = |x: i64| Value::from(x);
    // Untimed: the ids to update, and the bare table.
    for (table, _, kind) in TABLES {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS raw_{table}"))
            .await?;
        db.execute_unprepared(&format!("CREATE TABLE raw_{table} (id BIGINT)"))
            .await?;
        db.execute_raw(stmt(
            backend,
            &format!(
                "INSERT INTO raw_{table} SELECT record_id FROM reassignment_item
                 WHERE {ITEMS_OF_BATCH} AND kind = '{kind}' AND outcome = 'REASSIGNED'"
            ),
            vec![v(r.batch)],
        ))
        .await?;
    }
    // The rows to insert are ready in a table of their own, so the timed insert only writes.
    for table in ["raw_item", "raw_item_source"] {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {table}")).await?;
        db.execute_unprepared(&format!(
            "CREATE TABLE {table} (reassignment_id BIGINT, firm_id BIGINT, kind TEXT, record_id BIGINT,
               matter_id BIGINT, previous_holder_id BIGINT, new_holder_id BIGINT, outcome TEXT, reason TEXT,
               attendee_replaced BOOLEAN, risk TEXT)"
        ))
        .await?;
    }
    db.execute_raw(stmt(
        backend,
        &format!(
            "INSERT INTO raw_item_source SELECT reassignment_id, firm_id, kind, record_id, matter_id, previous_holder_id,
           new_holder_id, outcome, reason, attendee_replaced, risk FROM reassignment_item WHERE {ITEMS_OF_BATCH}"
        ),
        vec![v(r.batch)],
    ))
    .await?;

    let txn = handover::db::begin_write(db).await?;
    let started = Instant::now();
    let mut updated = 0;
    for (table, column, _) in TABLES {
        updated += hand_over(&txn, table, column, r.holder(table, true)).await?;
    }
    let inserted = txn
        .execute_raw(stmt(
            backend,
            "INSERT INTO raw_item SELECT * FROM raw_item_source",
            vec![],
        ))
        .await?
        .rows_affected();
    txn.commit().await?;
    let took = started.elapsed();

    // Untimed: everything back as it was.
    for (table, column, _) in TABLES {
        hand_over(db, table, column, r.holder(table, false)).await?;
        db.execute_unprepared(&format!("DROP TABLE raw_{table}")).await?;
    }
    db.execute_unprepared("DROP TABLE raw_item").await?;
    db.execute_unprepared("DROP TABLE raw_item_source").await?;
    Ok((took, updated, inserted))
}

impl RawInput {
    /// Who holds the records of `table`: a calendar for events, a user otherwise.
    fn holder(&self, table: &str, target: bool) -> i64 {
        match (table == "calendar_event", target) {
            (true, true) => self.target_calendar,
            (true, false) => self.source_calendar,
            (false, true) => self.target,
            (false, false) => self.source,
        }
    }
}

/// The records of `table` listed in `raw_{table}` now held by `holder`: one set-based update.
async fn hand_over<C: ConnectionTrait>(conn: &C, table: &str, column: &str, holder: i64) -> AppResult<u64> {
    Ok(conn
        .execute_raw(stmt(
            conn.get_database_backend(),
            &format!("UPDATE {table} SET {column} = $1 WHERE id IN (SELECT id FROM raw_{table})"),
            vec![Value::from(holder)],
        ))
        .await?
        .rows_affected())
}
