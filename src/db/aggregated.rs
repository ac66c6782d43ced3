//! Rows aggregated by the database: one row to fetch instead of one per record (the per-row
//! cost of a driver dominates a plan over 100,000 records). Each column comes back as one array,
//! read where the driver holds it into the row type: PostgreSQL's binary arrays (`pg_arrays`),
//! SQLite's JSON arrays (`json_columns`).

use super::{Params, json_columns, pg_arrays, statement};
use crate::error::{AppError, AppResult};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, StreamTrait};
use serde::de::DeserializeOwned;

/// Rows of `columns` from `from_where`, aggregated into one row.
pub async fn aggregated_rows<T: DeserializeOwned, C: ConnectionTrait>(
    db: &C,
    columns: &str,
    from_where: &str,
    params: Params,
) -> AppResult<Vec<T>> {
    let backend = db.get_database_backend();
    let columns = split_columns(columns);
    let sql = format!("SELECT {} FROM {from_where}", arrays(backend, &columns));
    match db.query_one_raw(statement(backend, &sql, params.0)).await? {
        Some(row) => decode(backend, &row, 0, columns.len(), Counted::After),
        None => Ok(Vec::new()),
    }
}

/// As [`aggregated_rows`], one aggregated row per value of `key`, each handed to `each` as it
/// arrives: the key's columns are sent once a group instead of once a row, and each group's
/// text is let go once it is decoded, not held with every other group's (the text of one
/// aggregate is held three times over while it is read: built, as the statement's result and
/// as the driver's copy; the driver may read a few groups ahead). Where the rows are read
/// in the order of an index that begins with the key (the holder's tasks, by status and due
/// date), the database groups them as it walks the index, with no sort.
pub async fn each_aggregated_group<K, T, C>(
    db: &C,
    key: &str,
    columns: &str,
    from_where: &str,
    params: Params,
    mut each: impl FnMut(K, Vec<T>),
) -> AppResult<()>
where
    K: DeserializeOwned,
    T: DeserializeOwned,
    C: ConnectionTrait + StreamTrait,
{
    use futures::TryStreamExt as _;
    let backend = ConnectionTrait::get_database_backend(db);
    let keys = split_columns(key);
    let columns = split_columns(columns);
    // Each key column as an array of its one value, so that the key is read as the rows are.
    let key_arrays = each_column(&keys, |k| match backend {
        DatabaseBackend::Postgres => format!("array_send(ARRAY[{k}])"),
        _ => format!("json_array({k})"),
    });
    let sql = format!(
        "SELECT {key_arrays}, {} FROM {from_where} GROUP BY {key}",
        arrays(backend, &columns)
    );
    let groups = db.stream_raw(statement(backend, &sql, params.0)).await?;
    let mut groups = std::pin::pin!(groups);
    while let Some(row) = groups.try_next().await? {
        let key = decode::<K>(backend, &row, 0, keys.len(), Counted::One)?
            .pop()
            .ok_or_else(|| broken(&"a group without its key"))?;
        each(key, decode(backend, &row, keys.len(), columns.len(), Counted::After)?);
    }
    Ok(())
}

/// The column a read is taken in pieces along ([`each_aggregated_piece`]), and its type on
/// PostgreSQL (a piece's bounds travel as text, as the database writes them, so that they are
/// compared exactly).
pub struct Along<'a> {
    pub column: &'a str,
    pub pg_type: &'a str,
}

/// As [`aggregated_rows`], in pieces of `piece` rows in the order of `along`, each handed to
/// `each` as it is read: no more than a piece's text is held at a time, whatever the number of
/// rows. A piece ends at the value `piece` rows on (rows that share it come in the same piece)
/// and the next begins after it, so `from_where` (a table and its conditions) should be read in
/// the order of an index that has `along` right after the columns it fixes: then finding a
/// bound walks `piece` entries of the index and reading a piece walks its range.
pub async fn each_aggregated_piece<T: DeserializeOwned, C: ConnectionTrait>(
    db: &C,
    along: Along<'_>,
    columns: &str,
    from_where: &str,
    params: Params,
    piece: usize,
    mut each: impl FnMut(Vec<T>),
) -> AppResult<()> {
    let backend = db.get_database_backend();
    let col = along.column;
    let beyond = |p: &mut Params, op: &str, bound: &str| {
        let value = p.add(bound.to_owned());
        match backend {
            DatabaseBackend::Postgres => format!(" AND {col} {op} CAST({value} AS {})", along.pg_type),
            _ => format!(" AND {col} {op} {value}"),
        }
    };
    let mut after: Option<String> = None;
    loop {
        let mut p = params.clone();
        let from = match &after {
            Some(a) => format!("{from_where}{}", beyond(&mut p, ">", a)),
            None => from_where.to_owned(),
        };
        let bound_sql = format!(
            "SELECT CAST({col} AS TEXT) AS piece_end FROM {from} ORDER BY {col} LIMIT 1 OFFSET {}",
            piece.saturating_sub(1)
        );
        let bound = match db.query_one_raw(statement(backend, &bound_sql, p.clone().0)).await? {
            Some(row) => Some(row.try_get_by_index::<String>(0)?),
            None => None,
        };
        let upto = bound.as_deref().map(|b| beyond(&mut p, "<=", b)).unwrap_or_default();
        each(aggregated_rows(db, columns, &format!("{from}{upto}"), p).await?);
        match bound {
            Some(b) => after = Some(b),
            None => return Ok(()),
        }
    }
}

/// The select list of the aggregates of `columns`. SQLite's arrays do not say how long they
/// are: it counts the rows beside them, so that they are read into a vector of that size (grown
/// by doubling, a big one took half as much again and, while it moved, its old and new blocks
/// both).
fn arrays(backend: DatabaseBackend, columns: &[&str]) -> String {
    let arrays = each_column(columns, |c| match backend {
        DatabaseBackend::Postgres => format!("array_send(array_agg({c}))"),
        _ => format!("json_group_array({c})"),
    });
    match backend {
        DatabaseBackend::Postgres => arrays,
        _ => format!("{arrays}, count(*)"),
    }
}

/// A select list: each of `columns` as `wrap` writes it.
fn each_column(columns: &[&str], wrap: impl Fn(&str) -> String) -> String {
    columns.iter().map(|c| wrap(c)).collect::<Vec<_>>().join(", ")
}

fn broken(e: &dyn std::fmt::Display) -> AppError {
    AppError::internal(format!("aggregated rows: {e}"))
}

/// How many rows SQLite's arrays hold.
#[derive(Clone, Copy)]
enum Counted {
    /// As the count right after them says (the aggregates of [`arrays`]).
    After,
    /// One (a group's key).
    One,
}

/// The `n` arrays of `row` from column `from`, as rows.
fn decode<T: DeserializeOwned>(
    backend: DatabaseBackend,
    row: &QueryResult,
    from: usize,
    n: usize,
    counted: Counted,
) -> AppResult<Vec<T>> {
    use sea_orm::sqlx::Row as _;
    let at = from..from + n;
    if backend == DatabaseBackend::Postgres {
        let row = row.try_as_pg_row().ok_or_else(|| broken(&"not a PostgreSQL row"))?;
        let arrays = at
            .map(|i| row.try_get::<Option<&[u8]>, _>(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| broken(&e))?;
        return pg_arrays::decode(&arrays).map_err(|e| broken(&e));
    }
    let row = row.try_as_sqlite_row().ok_or_else(|| broken(&"not a SQLite row"))?;
    let arrays = at
        .map(|i| row.try_get::<&str, _>(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| broken(&e))?;
    let rows = match counted {
        Counted::After => row.try_get::<i64, _>(from + n).map_err(|e| broken(&e))?,
        Counted::One => 1,
    };
    json_columns::decode(&arrays, usize::try_from(rows).unwrap_or(0)).map_err(|e| broken(&e))
}

/// A select list split at its top-level commas (a comma inside parentheses is an argument's).
fn split_columns(columns: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in columns.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(columns[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(columns[start..].trim());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn select_lists_split_at_their_own_commas() {
        assert_eq!(
            super::split_columns("id, CAST(NULL AS BIGINT), coalesce(a, b),CASE WHEN x THEN 1 ELSE 0 END"),
            [
                "id",
                "CAST(NULL AS BIGINT)",
                "coalesce(a, b)",
                "CASE WHEN x THEN 1 ELSE 0 END"
            ]
        );
        assert_eq!(super::split_columns("id"), ["id"]);
    }

    /// Each group comes back with its key, its rows in the order read, and no group for no rows.
    #[tokio::test]
    async fn groups_read_back_with_their_keys_on_sqlite() {
        use super::super::Params;
        use sea_orm::{ConnectionTrait, Database};
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        db.execute_unprepared(
            r#"CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, s TEXT, v TEXT);
               INSERT INTO t VALUES (1, 7, 'a', 'x'), (2, NULL, 'say "hi"', NULL), (3, 7, 'a', 'Zoë'),
                 (4, 7, 'b', ''), (5, NULL, 'say "hi"', 'y');"#,
        )
        .await
        .expect("table");
        type Group = ((Option<i64>, String), Vec<(i64, Option<String>)>);
        let read = |above: i64| {
            let db = &db;
            async move {
                let mut p = Params::default();
                let from_where = format!("t WHERE id > {}", p.add(above));
                let mut groups: Vec<Group> = Vec::new();
                super::each_aggregated_group(db, "k, s", "id, v", &from_where, p, |k, rows| groups.push((k, rows)))
                    .await
                    .expect("groups");
                groups.sort();
                groups
            }
        };
        let text = |t: &str| Some(t.to_string());
        assert_eq!(
            read(0).await,
            vec![
                ((None, r#"say "hi""#.into()), vec![(2, None), (5, text("y"))]),
                ((Some(7), "a".into()), vec![(1, text("x")), (3, text("Zoë"))]),
                ((Some(7), "b".into()), vec![(4, text(""))]),
            ]
        );
        assert_eq!(read(5).await, Vec::<Group>::new());
    }
}
