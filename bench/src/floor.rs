//! The floor: the same changes as an apply (records moved under the same rules, a batch row and
//! one item per record considered), written by hand as a few set-based SQL statements in one
//! transaction, commit included. Its batch is an ordinary reassignment, so the benchmark undoes
//! it afterwards (untimed) and can be repeated on the same data.

use chrono::{DateTime, NaiveDate, Utc};
use handover::db::statement as stmt;
use handover::error::AppResult;
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use std::time::{Duration, Instant};

pub struct FloorInput {
    pub firm_id: i64,
    pub source: i64,
    pub target: i64,
    pub source_calendar: i64,
    pub target_calendar: i64,
    pub today: NaiveDate,
    pub cutoff: DateTime<Utc>,
    pub today_start: DateTime<Utc>,
}

/// Returns the time taken, the items written, and the batch id.
pub async fn run(db: &DatabaseConnection, f: &FloorInput) -> AppResult<(Duration, u64, i64)> {
    let backend = db.get_database_backend();
    let txn = handover::db::begin_write(db).await?;
    let started = Instant::now();
    let v = |x: i64| Value::from(x);
    let temp = |name: &str, cols: &str| format!("CREATE TEMP TABLE {name} ({cols})");
    for sql in [
        temp("f_resolved", "matter_id BIGINT, user_id BIGINT"),
        temp("f_matter", "id BIGINT PRIMARY KEY, held BOOLEAN, reason TEXT"),
        temp("f_task", "id BIGINT PRIMARY KEY, matter_id BIGINT, reason TEXT"),
        temp(
            "f_event",
            "id BIGINT PRIMARY KEY, matter_id BIGINT, reason TEXT, attends BOOLEAN",
        ),
    ] {
        txn.execute_unprepared(&sql).await?;
    }
    // Who may see each matter.
    txn.execute_raw(stmt(
        backend,
        "INSERT INTO f_resolved SELECT matter_id, user_id FROM matter_permitted_user WHERE firm_id = $1
         UNION SELECT p.matter_id, g.user_id FROM matter_permitted_group p JOIN group_member g ON g.group_id = p.group_id
         WHERE p.firm_id = $1",
        vec![v(f.firm_id)],
    ))
    .await?;
    // Every matter the source's work touches, with the matter-level reason (none = movable).
    txn.execute_raw(stmt(
        backend,
        "INSERT INTO f_matter
         SELECT m.id, m.responsible_attorney_id = $2,
           CASE WHEN m.status = 'CLOSED' THEN 'CLOSED_MATTER'
                WHEN NOT m.permission_everyone AND COALESCE(p.n, 0) = 1 THEN 'PRIVATE_MATTER'
                WHEN NOT m.permission_everyone AND COALESCE(p.target_in, 0) = 0 THEN 'TARGET_NO_ACCESS' END
         FROM matter m
         LEFT JOIN (SELECT matter_id, COUNT(*) AS n, MAX(CASE WHEN user_id = $3 THEN 1 ELSE 0 END) AS target_in
                    FROM f_resolved GROUP BY matter_id) p ON p.matter_id = m.id
         WHERE m.firm_id = $1 AND (m.responsible_attorney_id = $2
           OR m.id IN (SELECT matter_id FROM task WHERE assignee_id = $2)
           OR m.id IN (SELECT matter_id FROM calendar_event WHERE calendar_id = $4))",
        vec![v(f.firm_id), v(f.source), v(f.target), v(f.source_calendar)],
    ))
    .await?;
    txn.execute_raw(stmt(
        backend,
        "INSERT INTO f_task
         SELECT t.id, t.matter_id,
           CASE WHEN t.matter_id IS NULL THEN 'NO_MATTER'
                WHEN fm.reason IN ('CLOSED_MATTER', 'PRIVATE_MATTER') THEN fm.reason
                WHEN t.status = 'COMPLETE' THEN 'COMPLETED'
                WHEN t.due_date < $3 THEN 'PAST_DUE'
                ELSE fm.reason END
         FROM task t LEFT JOIN f_matter fm ON fm.id = t.matter_id
         WHERE t.firm_id = $1 AND t.assignee_id = $2",
        vec![v(f.firm_id), v(f.source), Value::from(f.today)],
    ))
    .await?;
    txn.execute_raw(stmt(
        backend,
        "INSERT INTO f_event
         SELECT e.id, e.matter_id,
           CASE WHEN e.calendar_id <> $3 THEN 'ATTENDEE_ONLY'
                WHEN e.matter_id IS NULL THEN 'NO_MATTER'
                WHEN fm.reason IN ('CLOSED_MATTER', 'PRIVATE_MATTER') THEN fm.reason
                WHEN (e.all_day AND e.start_at < $5) OR (NOT e.all_day AND e.start_at < $4) THEN 'PAST_EVENT'
                ELSE fm.reason END,
           EXISTS (SELECT 1 FROM event_attendee a WHERE a.event_id = e.id AND a.user_id = $2)
         FROM calendar_event e LEFT JOIN f_matter fm ON fm.id = e.matter_id
         WHERE e.firm_id = $1 AND (e.calendar_id = $3
           OR e.id IN (SELECT event_id FROM event_attendee WHERE user_id = $2))",
        vec![
            v(f.firm_id),
            v(f.source),
            v(f.source_calendar),
            Value::from(f.cutoff),
            Value::from(f.today_start),
        ],
    ))
    .await?;

    // The batch row.
    let batch = txn
        .query_one_raw(stmt(
            backend,
            "INSERT INTO reassignment (firm_id, actor_user_id, from_user_id, matters_to_user_id, tasks_to_user_id,
               events_to_user_id, grant_matter_access, input_fingerprint, cutoff_at, time_zone, status,
               matters_reassigned, tasks_reassigned, events_reassigned, items_skipped, created_at)
             VALUES ($1, $2, $2, $3, $3, $3, FALSE, 'floor', $4, 'America/New_York', 'APPLIED', 0, 0, 0, 0, $4)
             RETURNING id",
            vec![v(f.firm_id), v(f.source), v(f.target), Value::from(f.cutoff)],
        ))
        .await?
        .expect("a returned id")
        .try_get_by_index::<i64>(0)?;

    // The moves, guarded by the previous holder.
    let updates = [
        (
            "UPDATE matter SET responsible_attorney_id = $1 WHERE responsible_attorney_id = $2
           AND status IN ('OPEN', 'PENDING') AND id IN (SELECT id FROM f_matter WHERE held AND reason IS NULL)",
            vec![v(f.target), v(f.source)],
        ),
        (
            "UPDATE task SET assignee_id = $1 WHERE assignee_id = $2 AND status <> 'COMPLETE'
           AND id IN (SELECT id FROM f_task WHERE reason IS NULL)",
            vec![v(f.target), v(f.source)],
        ),
        (
            "UPDATE calendar_event SET calendar_id = $1 WHERE calendar_id = $2
           AND id IN (SELECT id FROM f_event WHERE reason IS NULL)",
            vec![v(f.target_calendar), v(f.source_calendar)],
        ),
        (
            "DELETE FROM event_attendee WHERE user_id = $2
           AND event_id IN (SELECT id FROM f_event WHERE reason IS NULL AND attends)
           AND event_id IN (SELECT event_id FROM event_attendee WHERE user_id = $1)",
            vec![v(f.target), v(f.source)],
        ),
        (
            "UPDATE event_attendee SET user_id = $1 WHERE user_id = $2
           AND event_id IN (SELECT id FROM f_event WHERE reason IS NULL AND attends)",
            vec![v(f.target), v(f.source)],
        ),
    ];
    for (sql, values) in updates {
        txn.execute_raw(stmt(backend, sql, values)).await?;
    }

    // The report: one item per record considered, and where they are.
    let items_after = handover::reassign::apply::ItemsAfter::mark(&txn).await?;
    let mut items = 0;
    for (kind, table, filter, attends) in [
        ("MATTER", "f_matter", "WHERE held", "FALSE"),
        ("TASK", "f_task", "", "FALSE"),
        ("CALENDAR_EVENT", "f_event", "", "(reason IS NULL AND attends)"),
    ] {
        let matter = if kind == "MATTER" { "id" } else { "matter_id" };
        let sql = format!(
            "INSERT INTO reassignment_item (reassignment_id, firm_id, kind, record_id, matter_id, previous_holder_id,
               new_holder_id, outcome, reason, attendee_replaced)
             SELECT $1, $2, '{kind}', id, {matter}, $3, CASE WHEN reason IS NULL THEN CAST($4 AS BIGINT) END,
               CASE WHEN reason IS NULL THEN 'REASSIGNED' ELSE 'SKIPPED' END, reason, {attends}
             FROM {table} {filter}"
        );
        items += txn
            .execute_raw(stmt(
                backend,
                &sql,
                vec![v(batch), v(f.firm_id), v(f.source), v(f.target)],
            ))
            .await?
            .rows_affected();
    }
    let (first, last) = items_after.range(&txn, batch).await?;
    txn.execute_raw(stmt(
        backend,
        "UPDATE reassignment SET first_item_id = $1, last_item_id = $2 WHERE id = $3",
        vec![first.into(), last.into(), v(batch)],
    ))
    .await?;
    for table in ["f_event", "f_task", "f_matter", "f_resolved"] {
        txn.execute_unprepared(&format!("DROP TABLE {table}")).await?;
    }
    txn.commit().await?;
    Ok((started.elapsed(), items, batch))
}
