//! Connecting (SQLite pragmas and pool / PostgreSQL), migrating, write transactions, and the
//! helpers of hand-written set-based statements (id lists as one parameter, JSON-aggregated rows).

use crate::error::{AppError, AppResult};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use serde::de::DeserializeOwned;
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
        // No JIT: the selection's statements over a large firm cost enough to trigger it, and
        // compiling them took longer (about 200 ms) than running them (EXPLAIN ANALYZE).
        opts.max_connections(16)
            .min_connections(1)
            .map_sqlx_postgres_opts(|o| o.options([("jit", "off")]));
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

/// A hand-written statement with `$1`-style placeholders, rewritten to `?1` for SQLite.
pub fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DatabaseBackend::Sqlite => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    out.push('?');
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// A whole list of ids as one parameter, and the SQL that reads it back as rows of `id`:
/// `json_each` on SQLite, `unnest` of an array on PostgreSQL. One statement then covers any
/// number of records, with no per-row parameters and no `IN (…)` list to plan.
pub fn id_rows(backend: DatabaseBackend, param: usize, ids: &[i64]) -> (String, Value) {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    match backend {
        DatabaseBackend::Postgres => (
            format!("(SELECT unnest(CAST(${param} AS BIGINT[])) AS id)"),
            Value::from(format!("{{{list}}}")),
        ),
        _ => (
            format!("(SELECT CAST(value AS INTEGER) AS id FROM json_each(${param}))"),
            Value::from(format!("[{list}]")),
        ),
    }
}

/// As [`id_rows`], for (id, optional matter id) pairs: rows of `id, matter_id`.
pub fn id_matter_rows(backend: DatabaseBackend, param: usize, pairs: &[(i64, Option<i64>)]) -> (String, Vec<Value>) {
    let opt = |m: Option<i64>, null: &str| m.map_or(null.to_string(), |m| m.to_string());
    match backend {
        DatabaseBackend::Postgres => {
            let ids = pairs.iter().map(|p| p.0.to_string()).collect::<Vec<_>>().join(",");
            let matters = pairs.iter().map(|p| opt(p.1, "NULL")).collect::<Vec<_>>().join(",");
            (
                format!(
                    "(SELECT * FROM unnest(CAST(${param} AS BIGINT[]), CAST(${} AS BIGINT[])) AS t(id, matter_id))",
                    param + 1
                ),
                vec![Value::from(format!("{{{ids}}}")), Value::from(format!("{{{matters}}}"))],
            )
        }
        _ => {
            let json = pairs
                .iter()
                .map(|p| format!("[{},{}]", p.0, opt(p.1, "null")))
                .collect::<Vec<_>>()
                .join(",");
            (
                format!(
                    "(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS matter_id \
                     FROM json_each(${param}))"
                ),
                vec![Value::from(format!("[{json}]"))],
            )
        }
    }
}

/// Parameters of a hand-written statement, numbered as they are added.
#[derive(Default)]
pub struct Params(Vec<Value>);

impl Params {
    pub fn add(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }

    /// The values, in order, for `statement`.
    pub fn values(self) -> Vec<Value> {
        self.0
    }

    /// A list of ids as one parameter, read back as rows of `id`.
    pub fn ids<'a>(&mut self, backend: DatabaseBackend, ids: impl IntoIterator<Item = &'a i64>) -> String {
        let list: Vec<i64> = ids.into_iter().copied().collect();
        let (rows, value) = id_rows(backend, self.0.len() + 1, &list);
        self.0.push(value);
        rows
    }
}

/// An instant as `json_rows` returns it: RFC 3339 from PostgreSQL, `YYYY-MM-DD HH:MM:SS+00:00`
/// from SQLite.
pub fn instant(text: &str) -> AppResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| AppError::internal(format!("instant {text}: {e}")))
}

/// A stored enum (a status, a kind, a reason) as aggregated rows return it: its text.
pub fn enum_value<T: sea_orm::ActiveEnum<Value = String>>(text: &str) -> AppResult<T> {
    T::try_from_value(&text.to_string()).map_err(|_| AppError::internal(format!("unknown value {text}")))
}

/// Rows of `columns`, aggregated by the database into one JSON array: one row to fetch instead of
/// one per record (the per-row cost of a driver dominates a plan over 100,000 records).
pub async fn json_rows<T: DeserializeOwned, C: ConnectionTrait>(
    db: &C,
    columns: &str,
    from_where: &str,
    params: Params,
) -> AppResult<Vec<T>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            format!("SELECT CAST(COALESCE(json_agg(json_build_array({columns})), '[]') AS TEXT) FROM {from_where}")
        }
        _ => format!("SELECT json_group_array(json_array({columns})) FROM {from_where}"),
    };
    let row = db.query_one_raw(statement(backend, &sql, params.0)).await?;
    let text: String = match row {
        Some(r) => r.try_get_by_index::<Option<String>>(0)?.unwrap_or_else(|| "[]".into()),
        None => "[]".into(),
    };
    serde_json::from_str(&text).map_err(|e| AppError::internal(format!("aggregated rows: {e}")))
}
