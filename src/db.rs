//! Connecting (SQLite pragmas and pool / PostgreSQL), migrating, and write transactions.

use crate::error::{AppError, AppResult};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// Normalise a database setting: a bare file name means a SQLite file; SQLite files are created
/// when missing.
pub fn normalise_url(url: &str) -> String {
    let url = if url.contains("://") || url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    };
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url
    }
}

pub async fn connect(url: &str) -> AppResult<DatabaseConnection> {
    let url = normalise_url(url);
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // Readers run in parallel under WAL; writers queue on the busy timeout and, because
        // every write transaction begins IMMEDIATE, never fail with "database is locked".
        opts.max_connections(8).min_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    } else {
        opts.max_connections(16).min_connections(1);
    }
    Database::connect(opts)
        .await
        .map_err(|e| AppError::internal(format!("cannot connect to the database: {e}")))
}

pub async fn migrate(db: &DatabaseConnection) -> AppResult<()> {
    Migrator::up(db, None)
        .await
        .map_err(|e| AppError::internal(format!("migration failed: {e}")))
}

/// Begin a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a transaction that reads first and upgrades later can fail with "database is
/// locked" whatever the busy timeout. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}

pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => "postgres",
        DatabaseBackend::Sqlite => "sqlite",
        _ => "other",
    }
}
