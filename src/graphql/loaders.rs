//! Per-request DataLoaders, each scoped to the viewer's firm, so a page of records with their
//! people, permissions and counts costs a bounded number of statements.

use crate::auth::Viewer;
use crate::firm::access::{Permission, matters_visible_to, permissions};
use crate::firm::users::{Workload, workloads};
use crate::firm::work::{MatterCounts, matter_counts};
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::{DateTime, Utc};
use entity::{calendar, calendar_event, event_attendee, group, group_member, matter, task, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::time::Duration;

/// Loader errors must be `Clone`; the detail is logged when converted to an `AppError`.
pub type LoadError = String;

fn db_err(e: sea_orm::DbErr) -> LoadError {
    format!("database: {e}")
}

/// How long a loader waits for more keys before it runs its statement.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

pub struct Loaders {
    pub users: DataLoader<ById<user::Entity>, HashMapCache>,
    pub matters: DataLoader<MatterLoader, HashMapCache>,
    pub calendars: DataLoader<ById<calendar::Entity>, HashMapCache>,
    pub tasks: DataLoader<ById<task::Entity>, HashMapCache>,
    pub events: DataLoader<ById<calendar_event::Entity>, HashMapCache>,
    pub permissions: DataLoader<PermissionLoader, HashMapCache>,
    pub groups: DataLoader<ById<group::Entity>, HashMapCache>,
    pub workloads: DataLoader<WorkloadLoader, HashMapCache>,
    pub matter_counts: DataLoader<MatterCountsLoader, HashMapCache>,
    pub attendees: DataLoader<AttendeesLoader, HashMapCache>,
    pub group_members: DataLoader<GroupMembersLoader, HashMapCache>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection, viewer: &Viewer, now: DateTime<Utc>, today_start: DateTime<Utc>) -> Self {
        let firm_id = viewer.firm_id();
        let scope = || Scope {
            db: db.clone(),
            firm_id,
        };
        // Cached per request (loaders never outlive one), and a batch window wide enough for a
        // whole page's resolvers to register their keys before the first statement runs.
        fn new<L: Loader<i64>>(loader: L) -> DataLoader<L, HashMapCache> {
            DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default()).delay(BATCH_WINDOW)
        }
        Loaders {
            users: new(
                ById::<user::Entity>::new(scope(), user::Column::FirmId, user::Column::Id, |u| u.id)
                    .shown(crate::firm::USER_DERIVED),
            ),
            matters: new(MatterLoader {
                scope: scope(),
                visible_to: (!viewer.is_admin()).then_some(viewer.user_id()),
            }),
            calendars: new(ById::<calendar::Entity>::new(
                scope(),
                calendar::Column::FirmId,
                calendar::Column::Id,
                |c| c.id,
            )),
            tasks: new(ById::<task::Entity>::new(
                scope(),
                task::Column::FirmId,
                task::Column::Id,
                |t| t.id,
            )),
            events: new(ById::<calendar_event::Entity>::new(
                scope(),
                calendar_event::Column::FirmId,
                calendar_event::Column::Id,
                |e| e.id,
            )),
            permissions: new(PermissionLoader(scope())),
            groups: new(ById::<group::Entity>::new(
                scope(),
                group::Column::FirmId,
                group::Column::Id,
                |g| g.id,
            )),
            workloads: new(WorkloadLoader {
                scope: scope(),
                now,
                today_start,
            }),
            matter_counts: new(MatterCountsLoader {
                scope: scope(),
                now,
                today_start,
            }),
            attendees: new(AttendeesLoader(scope())),
            group_members: new(GroupMembersLoader(scope())),
        }
    }
}

#[derive(Clone)]
pub struct Scope {
    db: DatabaseConnection,
    firm_id: i64,
}

/// Rows of one table by id, in the viewer's firm (another firm's load as absent).
pub struct ById<E: EntityTrait> {
    scope: Scope,
    firm: E::Column,
    id: E::Column,
    key: fn(&E::Model) -> i64,
    /// Columns read as empty (see `firm::shown`).
    derived: &'static [&'static str],
}

impl<E: EntityTrait> ById<E> {
    fn new(scope: Scope, firm: E::Column, id: E::Column, key: fn(&E::Model) -> i64) -> Self {
        ById {
            scope,
            firm,
            id,
            key,
            derived: &[],
        }
    }

    fn shown(mut self, derived: &'static [&'static str]) -> Self {
        self.derived = derived;
        self
    }
}

impl<E> Loader<i64> for ById<E>
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = crate::firm::shown(E::find(), self.derived)
            .filter(self.firm.eq(self.scope.firm_id))
            .filter(self.id.is_in(keys.iter().copied()))
            .all(&self.scope.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|r| ((self.key)(&r), r)).collect())
    }
}

/// Matters by id; for a non-administrator only those they may see (others load as absent).
pub struct MatterLoader {
    scope: Scope,
    visible_to: Option<i64>,
}

impl Loader<i64> for MatterLoader {
    type Value = matter::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut select = matter::Entity::find()
            .filter(matter::Column::FirmId.eq(self.scope.firm_id))
            .filter(matter::Column::Id.is_in(keys.iter().copied()));
        if let Some(user_id) = self.visible_to {
            select = select.filter(matters_visible_to(user_id));
        }
        let rows = select.all(&self.scope.db).await.map_err(db_err)?;
        Ok(rows.into_iter().map(|m| (m.id, m)).collect())
    }
}

/// Matters' permissions, through the one SQL that resolves them (`firm::access::permissions`).
pub struct PermissionLoader(Scope);

impl Loader<i64> for PermissionLoader {
    type Value = Permission;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut ids = keys.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let found = permissions(&self.0.db, self.0.firm_id, &ids)
            .await
            .map_err(|e| e.detail())?;
        Ok(found.into_iter().collect())
    }
}

pub struct WorkloadLoader {
    scope: Scope,
    now: DateTime<Utc>,
    today_start: DateTime<Utc>,
}

impl Loader<i64> for WorkloadLoader {
    type Value = Workload;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        workloads(&self.scope.db, self.scope.firm_id, keys, self.now, self.today_start)
            .await
            .map_err(|e| e.detail())
    }
}

pub struct MatterCountsLoader {
    scope: Scope,
    now: DateTime<Utc>,
    today_start: DateTime<Utc>,
}

impl Loader<i64> for MatterCountsLoader {
    type Value = MatterCounts;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        matter_counts(&self.scope.db, self.scope.firm_id, keys, self.now, self.today_start)
            .await
            .map_err(|e| e.detail())
    }
}

/// Event id -> attendee user ids.
pub struct AttendeesLoader(Scope);

impl Loader<i64> for AttendeesLoader {
    type Value = Vec<i64>;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut out: HashMap<i64, Vec<i64>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in event_attendee::Entity::find()
            .filter(event_attendee::Column::FirmId.eq(self.0.firm_id))
            .filter(event_attendee::Column::EventId.is_in(keys.iter().copied()))
            .all(&self.0.db)
            .await
            .map_err(db_err)?
        {
            out.entry(row.event_id).or_default().push(row.user_id);
        }
        Ok(out)
    }
}

/// Group id -> member user ids.
pub struct GroupMembersLoader(Scope);

impl Loader<i64> for GroupMembersLoader {
    type Value = Vec<i64>;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut out: HashMap<i64, Vec<i64>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in group_member::Entity::find()
            .filter(group_member::Column::FirmId.eq(self.0.firm_id))
            .filter(group_member::Column::GroupId.is_in(keys.iter().copied()))
            .all(&self.0.db)
            .await
            .map_err(db_err)?
        {
            out.entry(row.group_id).or_default().push(row.user_id);
        }
        Ok(out)
    }
}
