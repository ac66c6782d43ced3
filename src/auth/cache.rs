//! Viewers kept between requests, so that a request's authentication costs no SQL statement.
//! Correct across instances: every change to the user or firm tables, by handover or by hand,
//! sends a PostgreSQL `NOTIFY` when it commits (a trigger, migration m0008); each instance's
//! listener empties its cache when it arrives, and an instance that made the change through the
//! API (a deactivation, a reactivation, a planned handover's start) empties its own right after
//! the commit. The cache serves only while
//! that listener is connected: on SQLite (where `handover import`, a separate process, could
//! not tell the server) and while the listener reconnects, every request reads the database,
//! as before. Entries also expire after `TTL`, a bound should a notification ever be missed.

use super::Viewer;
use crate::error::AppResult;
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(60);
/// Past this many people, the cache starts again empty (a bound on memory, not a policy).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct Viewers {
    serving: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bumped by every change: a load that began before a change does not store what it read.
    generation: u64,
    entries: HashMap<i64, (Viewer, Instant)>,
}

impl Viewers {
    /// The user `user_id` and their firm, from the cache while it serves, else from `db`.
    pub async fn load(&self, db: &DatabaseConnection, user_id: i64) -> AppResult<Option<Viewer>> {
        if !self.serving.load(Ordering::Acquire) {
            return Viewer::load(db, user_id).await;
        }
        let generation = {
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((viewer, at)) = state.entries.get(&user_id)
                && at.elapsed() < TTL
            {
                return Ok(Some(viewer.clone()));
            }
            state.generation
        };
        let found = Viewer::load(db, user_id).await?;
        if let Some(viewer) = &found {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.generation == generation && self.serving.load(Ordering::Acquire) {
                if state.entries.len() >= CAPACITY {
                    state.entries.clear();
                }
                state.entries.insert(user_id, (viewer.clone(), Instant::now()));
            }
        }
        Ok(found)
    }

    /// How many changes have emptied the cache so far (a test waits on it).
    pub fn changes_heard(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).generation
    }

    /// Users or firms changed: nothing cached is to be trusted.
    pub fn forget_all(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.clear();
    }

    /// The listener is connected (changes will be heard) or not (serve nothing from memory).
    pub fn set_serving(&self, serving: bool) {
        self.serving.store(serving, Ordering::Release);
        self.forget_all();
    }
}
