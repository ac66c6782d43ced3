//! Connecting (SQLite pragmas and pool / PostgreSQL), migrating, write transactions, and the
//! helpers of hand-written set-based statements: id lists as one parameter here, rows
//! aggregated in `aggregated`.

use crate::error::{AppError, AppResult};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait, Value,
};
use std::time::Duration;

mod aggregated;
mod columns;
mod json_columns;
mod pg_arrays;
pub mod vacuum;

pub use aggregated::{Along, aggregated_rows, each_aggregated_group, each_aggregated_piece};

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
                // Each connection's page cache fills as it reads and stays full (SQLite's
                // default is 2 MiB), and a preview's reads, taken in pieces, spread over the
                // pool's connections: at the bench's scale 2 the caches were 18 MiB of the
                // heap's peak, at scale 1 14 MiB. At 1 MiB each, six previews in a row
                // peaked at 58-61 MiB against 60-63 at scale 1 and 70-76 against 78-85 at
                // scale 2 (six runs each), with previews as fast (the pages stay in the OS's
                // cache).
                .pragma("cache_size", "-1024")
        });
    } else {
        // No JIT: the selection's statements over a large firm cost enough to trigger it, and
        // compiling them took longer (about 200 ms) than running them (EXPLAIN ANALYZE).
        //
        // A connection's read buffer grows to the largest message it has received and keeps
        // that size: a selection's aggregated rows are one message of tens of MiB, so every
        // pooled connection that ever carried one held as much. It is given back when the
        // connection returns to the pool.
        opts.max_connections(16)
            .min_connections(1)
            .map_sqlx_postgres_opts(|o| o.options([("jit", "off")]))
            .map_sqlx_postgres_pool_opts(|o| {
                o.after_release(|conn, _| {
                    Box::pin(async move {
                        sea_orm::sqlx::Connection::shrink_buffers(conn);
                        Ok(true)
                    })
                })
            });
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
        // SQLite reads a flat array of numbers faster than an array of pairs, whose every
        // element it parses again: 100,000 pairs read in 28 ms instead of 79, inserted as items
        // with their index in 71 ms instead of 131 (the bundled SQLite 3.51). So each pair is
        // one number when it fits: the id in the high 32 bits, the matter id + 1 in the low (0:
        // no matter).
        _ if pairs.iter().all(|&(id, matter)| packs(id, matter)) => {
            let packed = pairs
                .iter()
                .map(|&(id, matter)| ((id << 32) | matter.map_or(0, |m| m + 1)).to_string())
                .collect::<Vec<_>>()
                .join(",");
            (
                format!(
                    "(SELECT value >> 32 AS id, NULLIF(value & 4294967295, 0) - 1 AS matter_id FROM json_each(${param}))"
                ),
                vec![Value::from(format!("[{packed}]"))],
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

/// An (id, matter) pair fits one 64-bit number: an id below 2^31, a matter id + 1 below 2^32.
fn packs(id: i64, matter: Option<i64>) -> bool {
    (0..1 << 31).contains(&id) && matter.is_none_or(|m| (0..(1 << 32) - 1).contains(&m))
}

/// Parameters of a hand-written statement, numbered as they are added.
#[derive(Default, Clone)]
pub struct Params(Vec<Value>);

impl From<Vec<Value>> for Params {
    /// Values already numbered `$1`, `$2`, … in order.
    fn from(values: Vec<Value>) -> Self {
        Params(values)
    }
}

impl Params {
    pub fn add(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }

    /// The values, in order, for `statement`.
    pub fn values(self) -> Vec<Value> {
        self.0
    }

    /// `col` is one of `ids`, passed as one parameter and read back as rows. (Not `= ANY` of a
    /// cast array on PostgreSQL: a sequential scan searched it linearly for every row.)
    pub fn id_in<'a>(&mut self, backend: DatabaseBackend, col: &str, ids: impl IntoIterator<Item = &'a i64>) -> String {
        format!("{col} IN (SELECT id FROM {} l)", self.ids(backend, ids))
    }

    /// A list of ids as one parameter, read back as rows of `id`.
    pub fn ids<'a>(&mut self, backend: DatabaseBackend, ids: impl IntoIterator<Item = &'a i64>) -> String {
        let list: Vec<i64> = ids.into_iter().copied().collect();
        let (rows, value) = id_rows(backend, self.0.len() + 1, &list);
        self.0.push(value);
        rows
    }
}

/// An instant as aggregated rows carry it, parsed where it lies (no `String` kept per row):
/// RFC 3339 from PostgreSQL (formatted as its arrays are read), `YYYY-MM-DD HH:MM:SS+00:00`
/// as SQLite stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At(pub chrono::DateTime<chrono::Utc>);

impl<'de> serde::Deserialize<'de> for At {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(AtVisitor)
    }
}

struct AtVisitor;

impl serde::de::Visitor<'_> for AtVisitor {
    type Value = At;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an instant with its offset")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<At, E> {
        chrono::DateTime::parse_from_rfc3339(text)
            .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
            .map(|t| At(t.with_timezone(&chrono::Utc)))
            .map_err(|e| E::custom(format!("instant {text}: {e}")))
    }
}

/// A calendar date as aggregated rows carry it (`YYYY-MM-DD`), read without chrono's general
/// parser, which was a tenth of decoding a 100,000-task plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub chrono::NaiveDate);

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DayVisitor)
    }
}

/// Reads the text where it lies, borrowed or not, without copying it.
struct DayVisitor;

impl serde::de::Visitor<'_> for DayVisitor {
    type Value = Day;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a date as YYYY-MM-DD")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Day, E> {
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b[r].iter()
                .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
        };
        let fast = (b.len() == 10 && b[4] == b'-' && b[7] == b'-')
            .then(|| chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?))
            .flatten();
        fast.or_else(|| text.parse().ok())
            .map(Day)
            .ok_or_else(|| E::custom(format!("not a date: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::{At, Day};
    use chrono::NaiveDate;
    use sea_orm::{ActiveEnum, Iterable};

    /// Aggregated rows are decoded straight into the stored enums by serde: each variant's
    /// serde name must be its stored value.
    #[test]
    fn stored_enums_read_by_their_stored_values() {
        fn check<
            T: ActiveEnum<Value = String> + Iterable + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        >() {
            for v in T::iter() {
                let stored = v.to_value();
                assert_eq!(
                    serde_json::from_str::<T>(&format!("\"{stored}\"")).ok(),
                    Some(v),
                    "{stored}"
                );
            }
        }
        check::<entity::MatterStatus>();
        check::<entity::TaskStatus>();
        check::<entity::WorkKind>();
        check::<entity::ExclusionReason>();
        check::<entity::RiskReason>();
    }

    #[test]
    fn instants_read_in_both_databases_shapes() {
        let read = |json: &str| serde_json::from_str::<At>(json).map(|a| a.0.to_rfc3339()).ok();
        let at = Some("2026-11-30T19:00:00+00:00".to_string());
        assert_eq!(read(r#""2026-11-30T19:00:00+00:00""#), at, "PostgreSQL's");
        assert_eq!(read(r#""2026-11-30 19:00:00+00:00""#), at, "SQLite's");
        assert_eq!(read(r#""2026-11-30 14:00:00-05:00""#), at, "another offset");
        assert_eq!(
            read(r#""2026-11-30 19:00:00.250+00:00""#).as_deref(),
            Some("2026-11-30T19:00:00.250+00:00")
        );
        for bad in [r#""2026-11-30 19:00:00""#, r#""2026-11-30""#, r#""""#, "1764529200"] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_read_as_chrono_reads_them() {
        let read = |json: &str| serde_json::from_str::<Day>(json).map(|d| d.0).ok();
        assert_eq!(read(r#""2026-11-28""#), NaiveDate::from_ymd_opt(2026, 11, 28));
        assert_eq!(read(r#""0001-01-01""#), NaiveDate::from_ymd_opt(1, 1, 1));
        // Not a day: refused, whichever parser looks at it.
        for bad in [
            r#""2026-02-30""#,
            r#""2026-13-01""#,
            r#""2026-1a-01""#,
            r#""""#,
            r#""2026-11-28T00:00""#,
            "20261128",
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
        // Another shape chrono accepts still reads (the fast path only shortens the usual one).
        assert_eq!(read(r#""+2026-11-28""#), NaiveDate::from_ymd_opt(2026, 11, 28));
    }

    /// Pairs read back as they were given, packed or not (SQLite).
    #[tokio::test]
    async fn id_matter_pairs_read_back_on_sqlite() {
        use sea_orm::{ConnectionTrait, Database, DatabaseBackend};
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        let read = |pairs: Vec<(i64, Option<i64>)>| {
            let db = &db;
            async move {
                let (rows, values) = super::id_matter_rows(DatabaseBackend::Sqlite, 1, &pairs);
                let sql = format!("SELECT id, matter_id FROM {rows} r");
                let got: Vec<(i64, Option<i64>)> = db
                    .query_all_raw(super::statement(DatabaseBackend::Sqlite, &sql, values))
                    .await
                    .expect("query")
                    .iter()
                    .map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap()))
                    .collect();
                (got == pairs, sql.contains(">> 32"))
            }
        };
        let edges = vec![
            (0, Some(0)),
            (1, None),
            ((1 << 31) - 1, Some((1 << 32) - 2)),
            (42, Some(7)),
        ];
        assert_eq!(read(edges).await, (true, true), "packed");
        for beyond in [
            vec![(1 << 31, Some(1))],
            vec![(5, Some((1 << 32) - 1))],
            vec![(-1, None)],
        ] {
            assert_eq!(read(beyond.clone()).await, (true, false), "as pairs: {beyond:?}");
        }
        assert_eq!(read(Vec::new()).await, (true, true), "no pairs");
    }
}
