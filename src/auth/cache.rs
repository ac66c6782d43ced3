//! Viewers kept between requests, so that a request's authentication costs no SQL statement;
//! with them, what single sign-on looks up: the firms that trust an issuer, and whom an
//! identity claim names.
//! Correct across instances: every change to the user or firm tables, by handover or by hand,
//! sends a PostgreSQL `NOTIFY` when it commits (a trigger, migration m0008); each instance's
//! listener empties its cache when it arrives, and an instance that made the change through the
//! API (a deactivation, a reactivation, a planned handover's start) empties its own right after
//! the commit. The cache serves only while
//! that listener is connected: on SQLite (where `handover import`, a separate process, could
//! not tell the server) and while the listener reconnects, every request reads the database,
//! as before. Entries also expire after `TTL`, a bound should a notification ever be missed.

use super::viewer::Viewer;
use crate::error::AppResult;
use entity::firm_issuer;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
    entries: HashMap<i64, (Option<Viewer>, Instant)>,
    /// The firms' rows trusting an issuer (often none: the server's own tokens name no firm's).
    issuers: HashMap<String, (Arc<Vec<firm_issuer::Model>>, Instant)>,
    /// The users an identity claim's value names (`IdentityRule::cache_key`).
    identities: HashMap<String, (Vec<i64>, Instant)>,
}

impl State {
    fn clear(&mut self) {
        self.entries.clear();
        self.issuers.clear();
        self.identities.clear();
    }
}

impl Viewers {
    /// The user `user_id` and their firm, from the cache while it serves, else from `db`.
    pub async fn load(&self, db: &DatabaseConnection, user_id: i64) -> AppResult<Option<Viewer>> {
        let found = self
            .through(
                |s| &mut s.entries,
                user_id,
                |found: &Option<Viewer>| found.is_some(),
                || async { Viewer::load(db, user_id).await },
            )
            .await?;
        Ok(found)
    }

    /// The firms' rows trusting `issuer`.
    pub async fn firm_issuers(&self, db: &DatabaseConnection, issuer: &str) -> AppResult<Arc<Vec<firm_issuer::Model>>> {
        self.through(
            |s| &mut s.issuers,
            issuer.to_string(),
            |_| true,
            || async {
                let rows = firm_issuer::Entity::find()
                    .filter(firm_issuer::Column::Issuer.eq(issuer))
                    .all(db)
                    .await?;
                Ok(Arc::new(rows))
            },
        )
        .await
    }

    /// The users an identity names (`key` from `IdentityRule::cache_key`), loaded by `load`.
    pub async fn identity<F, Fut>(&self, key: String, load: F) -> AppResult<Vec<i64>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = AppResult<Vec<i64>>>,
    {
        self.through(|s| &mut s.identities, key, |_| true, load).await
    }

    /// From `pick`'s map while the cache serves and the entry is young, else `load`ed (and
    /// kept when `keep` says so and nothing changed meanwhile).
    async fn through<K, V, F, Fut>(
        &self,
        pick: fn(&mut State) -> &mut HashMap<K, (V, Instant)>,
        key: K,
        keep: impl Fn(&V) -> bool,
        load: F,
    ) -> AppResult<V>
    where
        K: Hash + Eq,
        V: Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = AppResult<V>>,
    {
        if !self.serving.load(Ordering::Acquire) {
            return load().await;
        }
        let generation = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((value, at)) = pick(&mut state).get(&key)
                && at.elapsed() < TTL
            {
                return Ok(value.clone());
            }
            state.generation
        };
        let found = load().await?;
        if keep(&found) {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.generation == generation && self.serving.load(Ordering::Acquire) {
                let map = pick(&mut state);
                if map.len() >= CAPACITY {
                    map.clear();
                }
                map.insert(key, (found.clone(), Instant::now()));
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
        state.clear();
    }

    /// The listener is connected (changes will be heard) or not (serve nothing from memory).
    pub fn set_serving(&self, serving: bool) {
        self.serving.store(serving, Ordering::Release);
        self.forget_all();
    }
}
