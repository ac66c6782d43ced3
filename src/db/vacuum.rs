//! After a big reassignment commits on PostgreSQL, the tables it rewrote are vacuumed and
//! analysed in the background.
//!
//! Every moved matter, task and event leaves a dead row version behind, and until a vacuum
//! clears them (and marks the pages all-visible again) the index-only scans the selection reads
//! with go to the table for every page touched. PostgreSQL's autovacuum waits for a fifth of a
//! table to change: one leaver's work in a big firm's task table (the bench's 55,000 of 500,000)
//! never reaches that, so the next previews, applies and reads stayed slow until other churn
//! did (measured: a preview 395 ms against 248 ms, an apply 1.85x–2.02x of the raw writes
//! against 1.21x). SQLite keeps no row versions; nothing is done there.

use crate::metrics::Metrics;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, ExecResult};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

/// Vacuum and analyse what a reassignment rewrites: the records it moves, an event's attendee
/// rows with them. (Not the report's items, which are only ever added: with the item table at
/// 30 million rows its vacuum took 5–8 s against 1.2 s for these, and autovacuum counts its
/// inserts.) Outside any transaction: VACUUM cannot run in one. PostgreSQL only.
pub async fn vacuum_rewritten(db: &DatabaseConnection) -> Result<ExecResult, DbErr> {
    db.execute_unprepared("VACUUM (ANALYZE) matter, task, calendar_event, event_attendee")
        .await
}

/// Records moved at once from which the tables are vacuumed (`--vacuum-after`).
pub const DEFAULT_AFTER: u64 = 10_000;

pub struct AfterBulk {
    /// `None`: nothing to do (SQLite, or turned off).
    db: Option<DatabaseConnection>,
    after: u64,
    state: Mutex<State>,
    metrics: Arc<Metrics>,
}

/// One vacuum at a time: a big commit while one runs asks for one more after it.
#[derive(Default)]
struct State {
    running: bool,
    again: bool,
}

impl AfterBulk {
    /// Vacuum after `after` records or more moved at once; 0: never.
    pub fn new(db: &DatabaseConnection, after: u64, metrics: Arc<Metrics>) -> Arc<Self> {
        let db = (db.get_database_backend() == DatabaseBackend::Postgres && after > 0).then(|| db.clone());
        Arc::new(AfterBulk {
            db,
            after,
            state: Mutex::default(),
            metrics,
        })
    }

    /// A reassignment moving `records` has committed. Must be called inside the Tokio runtime.
    pub fn moved(self: &Arc<Self>, records: u64) {
        let Some(db) = self.db.clone().filter(|_| records >= self.after) else {
            return;
        };
        let Ok(mut state) = self.state.lock() else { return };
        if state.running {
            state.again = true;
            return;
        }
        state.running = true;
        drop(state);
        let this = Arc::clone(self);
        tokio::spawn(async move { this.run(&db).await });
    }

    /// Whether a vacuum is running (or asked for) now.
    pub fn running(&self) -> bool {
        self.state.lock().is_ok_and(|s| s.running)
    }

    async fn run(&self, db: &DatabaseConnection) {
        loop {
            let started = std::time::Instant::now();
            match vacuum_rewritten(db).await {
                Ok(_) => {
                    self.metrics.vacuums.fetch_add(1, Relaxed);
                    tracing::info!(elapsed = ?started.elapsed(), "tables vacuumed after a big reassignment");
                }
                Err(e) => tracing::warn!(error = %e, "could not vacuum after a big reassignment"),
            }
            let Ok(mut state) = self.state.lock() else { return };
            if !std::mem::take(&mut state.again) {
                state.running = false;
                return;
            }
        }
    }
}
