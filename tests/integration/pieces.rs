//! Aggregated reads taken in pieces along an ordered column (a holder's calendar, along its
//! start) return every row once, on SQLite and PostgreSQL, however the values tie across the
//! end of a piece.

use crate::common::*;
use crate::on_both_databases;
use handover::db::{Along, At, Params, each_aggregated_piece};
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;

/// Forty rows of one group over nine distinct instants (ties of four and five), two rows of
/// another group, read four at a time: each piece is a range of instants after the last, holds
/// at least the four asked for (all but the last) and at most those and their last instant's
/// ties; together the pieces hold the group's rows once each.
async fn a_read_in_pieces_returns_every_row_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.db;
    let column = match backend {
        Backend::Postgres => "TIMESTAMPTZ",
        Backend::Sqlite => "TEXT",
    };
    db.execute_unprepared(&format!(
        "CREATE TABLE piece_test (id BIGINT PRIMARY KEY, grp BIGINT NOT NULL, at {column} NOT NULL)"
    ))
    .await
    .unwrap();
    db.execute_unprepared("CREATE INDEX ix_piece_test ON piece_test (grp, at)")
        .await
        .unwrap();
    // Instants with fractions of a second, as stored starts have.
    let instant = |id: i64| format!("2027-01-15T09:{:02}:00.{:06}+00:00", (id * 7) % 9, (id * 7) % 9);
    let mut expected = BTreeMap::new();
    for id in 1..=42i64 {
        let grp = if id > 40 { 2 } else { 1 };
        let at = instant(id);
        let value = match backend {
            Backend::Postgres => format!("TIMESTAMPTZ '{at}'"),
            Backend::Sqlite => format!("'{at}'"),
        };
        db.execute_unprepared(&format!("INSERT INTO piece_test VALUES ({id}, {grp}, {value})"))
            .await
            .unwrap();
        if grp == 1 {
            expected.insert(id, chrono::DateTime::parse_from_rfc3339(&at).unwrap().to_utc());
        }
    }

    let mut p = Params::default();
    let from_where = format!("piece_test WHERE grp = {}", p.add(1i64));
    let along = Along {
        column: "at",
        pg_type: "timestamptz",
    };
    let mut pieces: Vec<Vec<(i64, At)>> = Vec::new();
    each_aggregated_piece(db, along, "id, at", &from_where, p, 4, |rows| pieces.push(rows))
        .await
        .unwrap();

    let mut read = BTreeMap::new();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        let highest = piece.iter().map(|(_, At(t))| *t).max();
        let ties = |t| expected.values().filter(|v| **v == t).count();
        assert!(last || piece.len() >= 4, "piece {i} holds {} rows", piece.len());
        assert!(
            piece.len() <= 4 + highest.map_or(0, |t| ties(t) - 1),
            "piece {i} holds {} rows",
            piece.len()
        );
        if let (Some(next), Some(highest)) = (pieces.get(i + 1), highest) {
            assert!(
                next.iter().all(|(_, At(t))| *t > highest),
                "piece {} begins after piece {i}",
                i + 1
            );
        }
        for (id, At(t)) in piece {
            assert!(read.insert(*id, *t).is_none(), "row {id} read twice");
        }
    }
    assert_eq!(read, expected);
    assert!(pieces.len() >= 6, "{} pieces", pieces.len());
}

on_both_databases!(a_read_in_pieces_returns_every_row_once);
