//! A preview's loads, kept for the apply that follows it and for the same preview asked again
//! (SQLite). An apply plans inside its write transaction so that the plan sees exactly what the
//! writes will; reading every record again there took a fifth of the reference apply, with
//! every other writer waiting. A front end paging through a preview's lists asks for the whole
//! preview again with each page, and one trying receivers asks for the same work for each.
//! When nothing has been committed to the database since a preview read it, what the preview
//! read is what any of them would read, so the rules decide again, at the new request's clock
//! and for its receivers, on the preview's loads.
//!
//! "Nothing committed since" is SQLite's `PRAGMA data_version`, read on a connection of its own
//! that never writes: its value changes whenever any other connection, of this process or
//! another, commits. PostgreSQL has no such counter, and there every apply and preview reads
//! again.

use super::order::{CategorySpec, Order, Routing};
use super::select::Loaded;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{ConnectOptions, Connection};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Loads older than this are not reused: an apply (or a preview) that long after the preview
/// that read them reads afresh. (They are let go at the next preview or apply.)
const KEPT_FOR: Duration = Duration::from_secs(600);

pub struct Reuse {
    /// `None`: nothing is kept (PostgreSQL, or an in-memory SQLite database, which a second
    /// connection would not share).
    watcher: Option<Watcher>,
    /// One preview's loads: the latest, as an apply follows the preview it confirms.
    kept: Mutex<Option<Kept>>,
    /// Plans made on kept loads instead of reading again.
    reused: AtomicU64,
}

struct Watcher {
    options: Arc<SqliteConnectOptions>,
    conn: tokio::sync::Mutex<Option<SqliteConnection>>,
}

pub(super) struct Kept {
    key: String,
    version: i64,
    /// Shared with the plans made on them.
    pub(super) loaded: Arc<Loaded>,
    /// When the preview that read them kept them: a preview asked again keeps this age.
    at: Instant,
}

impl Reuse {
    pub fn new(db: &DatabaseConnection) -> Self {
        let watcher = (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then(|| db.get_sqlite_connection_pool().connect_options())
            .filter(|o| !o.get_filename().to_string_lossy().contains(":memory:"))
            .map(|options| Watcher {
                options,
                conn: tokio::sync::Mutex::new(None),
            });
        Reuse {
            watcher,
            kept: Mutex::new(None),
            reused: AtomicU64::new(0),
        }
    }

    /// How many applies and previews decided on a preview's loads instead of reading again.
    pub fn reused(&self) -> u64 {
        self.reused.load(Relaxed)
    }

    /// The database's change counter now; `None` when it cannot be told (nothing is reused).
    pub(super) async fn version(&self) -> Option<i64> {
        let watcher = self.watcher.as_ref()?;
        let mut conn = watcher.conn.lock().await;
        if conn.is_none() {
            match watcher.options.connect().await {
                Ok(c) => *conn = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "no connection to watch the database's changes");
                    return None;
                }
            }
        }
        // Stepped to its end (not `fetch_one`), so that no statement is left holding a read
        // transaction, which would keep checkpoints from getting past it.
        let read = sea_orm::sqlx::query_scalar::<_, i64>("PRAGMA data_version")
            .fetch_all(conn.as_mut()?)
            .await;
        match read {
            Ok(v) => v.first().copied(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the database's change counter");
                if let Some(c) = conn.take() {
                    c.close().await.ok();
                }
                None
            }
        }
    }

    /// Keep what a preview loaded at `version` (the counter before and after its loads).
    pub(super) fn keep(&self, order: &Order, version: i64, loaded: Arc<Loaded>) {
        if let (Some(key), Ok(mut kept)) = (key(order), self.kept.lock()) {
            *kept = Some(Kept {
                key,
                version,
                loaded,
                at: Instant::now(),
            });
        }
    }

    /// A preview's loads for `order` if the database is still at their version: taken, since
    /// an apply about to use them changes it (a preview asked again puts them back). Whatever
    /// was kept is let go either way, so that a preview about to load never holds two orders'
    /// loads at once. An apply calls this while it holds the write lock, so that nothing can
    /// commit between the version read here and its writes.
    pub(super) async fn take(&self, order: &Order) -> Option<Kept> {
        let kept = self.kept.lock().ok()?.take()?;
        let key = key(order)?;
        if kept.key != key || kept.at.elapsed() >= KEPT_FOR || self.version().await != Some(kept.version) {
            return None;
        }
        self.reused.fetch_add(1, Relaxed);
        Some(kept)
    }

    /// Keep again what a preview asked again took, with its version and age.
    pub(super) fn put_back(&self, kept: Kept) {
        if let Ok(mut slot) = self.kept.lock() {
            *slot = Some(kept);
        }
    }
}

/// What an order's loads depend on: everything but its clock, note, idempotency key, preview
/// token, whether it accepts the risks (a preview shows them; the apply that accepts them reads
/// what the preview read) and its categories' receivers. The loads are what the giver holds and
/// the facts about those matters, whoever receives them: whether a receiver may see a matter
/// is decided by the rules, from the matter's permission as loaded. So a front end that
/// previews the same work for one receiver and then another, or applies it to the second,
/// reads it once. `None` for an undo or a return, whose loads are never kept.
fn key(order: &Order) -> Option<String> {
    let exact = [&order.matters, &order.tasks, &order.events, &order.assigners]
        .iter()
        .any(|c| c.as_ref().is_some_and(|c| c.only.is_some()));
    if order.undo_of.is_some() || order.returning || exact {
        return None;
    }
    let routing = Routing {
        acknowledge_risks: false,
        ..order.routing.clone()
    };
    let without_receiver = |c: &Option<CategorySpec>| c.as_ref().map(|c| CategorySpec { to: 0, ..c.clone() });
    Some(format!(
        "{} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {}",
        order.firm_id,
        order.actor_id,
        order.from_user_id,
        without_receiver(&order.matters),
        without_receiver(&order.tasks),
        without_receiver(&order.events),
        without_receiver(&order.assigners),
        routing,
        order.matter_ids,
        order.grant_access,
    ))
}
