//! The import file: idempotent, all-or-nothing, every problem named by JSON path.

use crate::common::*;
use crate::on_both_databases;
use handover::import::{ImportError, import_text};
use serde_json::{Value, json};

async fn importing_twice_changes_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(backend, dir.path()).await;
    let first = import_text(&db, DEMO, false).await.unwrap();
    assert!(first.changed() >= 56, "{first}");
    let before = snapshot(&db).await;
    let second = import_text(&db, DEMO, false).await.unwrap();
    assert_eq!(second.changed(), 0, "{second}");
    assert_eq!(snapshot(&db).await, before);

    // An edit is an update of exactly that record; set-valued fields are replaced.
    let mut doc: Value = serde_json::from_str(DEMO).unwrap();
    doc["tasks"][0]["name"] = json!("Draft motion to compel (revised)");
    doc["groups"][0]["members"] = json!(["alice", "bob"]);
    let third = import_text(&db, &doc.to_string(), false).await.unwrap();
    let counts: Vec<(&str, usize, usize)> = third.kinds.iter().map(|(k, c)| (*k, c.created, c.updated)).collect();
    assert!(counts.contains(&("tasks", 0, 1)), "{third}");
    assert!(counts.contains(&("groups", 0, 1)), "{third}");
    assert_eq!(third.changed(), 2, "{third}");
}

async fn a_broken_file_writes_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(backend, dir.path()).await;
    import_text(&db, DEMO, false).await.unwrap();
    let before = snapshot(&db).await;

    let mut doc: Value = serde_json::from_str(DEMO).unwrap();
    doc["firm"]["name"] = json!("Renamed LLP"); // valid on its own: must not be written either
    doc["users"][2]["licence"] = json!("LAWYER");
    doc["matters"][0]["responsibleAttorney"] = json!("nobody");
    doc["tasks"][1]["dueDate"] = json!("2026-02-30");
    doc["tasks"][2]["key"] = doc["tasks"][0]["key"].clone();
    doc["calendarEvents"][0]["start"] = json!("tomorrow");
    doc["calendarEvents"][1]["calendar"] = json!("ghost");
    let Err(ImportError::Invalid(problems)) = import_text(&db, &doc.to_string(), false).await else {
        panic!("a broken file must be rejected");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "$.users[2].licence",
        "$.matters[0].responsibleAttorney",
        "$.tasks[1].dueDate",
        "$.tasks[2].key",
        "$.calendarEvents[0].start",
        "$.calendarEvents[1].calendar",
    ] {
        assert!(paths.contains(&expected), "{expected} not reported: {paths:?}");
    }
    assert_eq!(
        snapshot(&db).await,
        before,
        "a rejected file must leave the database as it was"
    );

    // A problem only the database can see (an email another user of the firm already has)
    // is found after the firm row was written in the transaction: it is rolled back.
    let mut doc: Value = serde_json::from_str(DEMO).unwrap();
    doc["firm"]["name"] = json!("Renamed LLP");
    doc["users"] =
        json!([{ "key": "newcomer", "name": "New Comer", "email": "alice@demo.test", "licence": "ATTORNEY" }]);
    doc["groups"] = json!([]);
    doc["matters"] = json!([]);
    doc["tasks"] = json!([]);
    doc["calendarEvents"] = json!([]);
    let Err(ImportError::Invalid(problems)) = import_text(&db, &doc.to_string(), false).await else {
        panic!("a duplicate email must be rejected");
    };
    assert_eq!(problems[0].path, "$.users[0].email");
    assert_eq!(snapshot(&db).await, before, "the transaction must roll back");

    // Not JSON at all.
    let Err(ImportError::Invalid(problems)) = import_text(&db, "{ \"firm\": ", false).await else {
        panic!()
    };
    assert_eq!(problems[0].path, "$");
    assert_eq!(snapshot(&db).await, before);
}

async fn rebased_demo_keeps_its_shape_relative_to_today(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(backend, dir.path()).await;
    import_text(&db, DEMO, true).await.unwrap();
    use entity::task;
    use sea_orm::ColumnTrait;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    let due = |key: &'static str| {
        let db = db.clone();
        async move { one::<task::Entity>(&db, task::Column::Key.eq(key)).await.due_date }
    };
    assert_eq!(due("t-smith-today").await, Some(today));
    assert_eq!(due("t-garcia-late").await, Some(today.pred_opt().unwrap()));
    assert_eq!(
        due("t-smith-motion").await,
        today.checked_add_days(chrono::Days::new(3))
    );
}

on_both_databases!(
    importing_twice_changes_nothing,
    a_broken_file_writes_nothing,
    rebased_demo_keeps_its_shape_relative_to_today
);
