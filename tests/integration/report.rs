//! The downloadable report: who may fetch it, its exact rows, CSV safety, JSON shape.

use crate::common::*;
use crate::on_both_databases;
use serde_json::{Value, json};

const APPLIED: &str = "id reportUrl skipped matters { reassigned } tasks { reassigned } calendarEvents { reassigned }";

pub async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (u16, String, String) {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

/// Parse our CSV (every cell quoted, CRLF lines) back into rows of cells.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

async fn the_report_lists_every_record_considered(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    // A task name that a spreadsheet would run as a formula.
    {
        use entity::task;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        task::Entity::update_many()
            .col_expr(
                task::Column::Name,
                Expr::value("=HYPERLINK(\"http://evil.test\",\"click\")"),
            )
            .filter(task::Column::Key.eq("t-smith-motion"))
            .exec(&app.db)
            .await
            .unwrap();
    }
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    let data = app
        .reassign(
            &admin,
            &json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob, "note": "=1+1, \"quoted\"" }),
            APPLIED,
        )
        .await;
    let r = &data["reassignment"];
    let url = r["reportUrl"].as_str().unwrap().to_string();
    let total = ["matters", "tasks", "calendarEvents"]
        .iter()
        .map(|c| r[c]["reassigned"].as_i64().unwrap())
        .sum::<i64>()
        + r["skipped"].as_i64().unwrap();

    let (status, ct, text) = get(&app, Some(&admin), &url).await;
    assert_eq!(status, 200, "{text}");
    assert!(ct.starts_with("text/csv"));
    assert!(text.starts_with('\u{feff}'), "UTF-8 byte-order mark for spreadsheets");
    let rows = parse_csv(&text);
    let header: Vec<&Vec<String>> = rows.iter().filter(|r| r[0].starts_with("# ")).collect();
    let field = |name: &str| {
        header
            .iter()
            .find(|r| r[0] == format!("# {name}"))
            .map(|r| r[1].clone())
            .unwrap()
    };
    assert_eq!(field("reassignment"), r["id"].as_str().unwrap());
    assert_eq!(field("actor"), "Alice Admin <alice@demo.test>");
    assert_eq!(field("from"), "Lee Leaver <lee@demo.test>");
    assert_eq!(field("tasks_to"), "Bob Barrister <bob@demo.test>");
    assert_eq!(field("time_zone"), "America/New_York");
    assert_eq!(
        field("note"),
        "'=1+1, \"quoted\"",
        "a formula in the note is neutralised"
    );
    let columns = &rows[header.len()];
    assert_eq!(columns[..4], ["kind", "record_id", "key", "title"]);
    let items: Vec<&Vec<String>> = rows[header.len() + 1..].iter().collect();
    assert_eq!(items.len() as i64, total, "one row per record considered");
    let by_key = |key: &str| {
        items
            .iter()
            .find(|r| r[2] == key)
            .unwrap_or_else(|| panic!("no row for {key}"))
    };
    let col = |name: &str| columns.iter().position(|c| c == name).unwrap();

    let overdue = by_key("t-garcia-late");
    assert_eq!(overdue[col("kind")], "TASK");
    assert_eq!(overdue[col("title")], "Collect signed will (overdue)");
    assert_eq!(overdue[col("matter_number")], "00102-Garcia");
    assert_eq!(overdue[col("matter_status")], "PENDING");
    assert_eq!(overdue[col("previous_holder")], "Lee Leaver <lee@demo.test>");
    assert_eq!(overdue[col("new_holder")], "");
    assert_eq!(
        (overdue[col("outcome")].as_str(), overdue[col("reason")].as_str()),
        ("SKIPPED", "PAST_DUE")
    );
    let hearing = by_key("e-smith-hearing");
    assert_eq!(
        (hearing[col("outcome")].as_str(), hearing[col("reason")].as_str()),
        ("REASSIGNED", "")
    );
    assert_eq!(hearing[col("new_holder")], "Bob Barrister <bob@demo.test>");
    assert_eq!(hearing[col("attendee_replaced")], "true");
    assert!(!hearing[col("start")].is_empty());
    let smith = by_key("m-smith");
    assert_eq!(
        (smith[col("kind")].as_str(), smith[col("title")].as_str()),
        ("MATTER", "00101-Smith")
    );
    let evil = by_key("t-smith-motion");
    assert!(
        evil[col("title")].starts_with("'="),
        "formula neutralised: {}",
        evil[col("title")]
    );

    // JSON: the same rows under a header object.
    let (status, ct, text) = get(&app, Some(&admin), &url.replace(".csv", ".json")).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"));
    let body: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(body["reassignment"]["reassignmentId"], r["id"]);
    assert_eq!(body["items"].as_array().unwrap().len() as i64, total);
    let late = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "t-garcia-late")
        .unwrap();
    assert_eq!(late["reason"], "PAST_DUE");
    assert_eq!(late["dueDate"].as_str().unwrap().len(), 10);
}

async fn only_the_firms_administrators_may_download(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob_id = app.user_id(&admin, "bob@demo.test").await;
    let data = app
        .reassign(
            &admin,
            &json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob_id }),
            APPLIED,
        )
        .await;
    let url = data["reassignment"]["reportUrl"].as_str().unwrap().to_string();

    let (status, _, body) = get(&app, None, &url).await;
    assert_eq!(status, 401);
    assert!(body.contains("UNAUTHENTICATED"));
    let bob = app.token("bob@demo.test").await;
    let (status, _, body) = get(&app, Some(&bob), &url).await;
    assert_eq!(status, 403);
    assert!(body.contains("FORBIDDEN"));
    // A non-administrator gets the same answer for a batch that does not exist: no hint.
    let (status, _, _) = get(&app, Some(&bob), "/reassignments/UmVhc3NpZ25tZW50Ojk5OTk/report.csv").await;
    assert_eq!(status, 403);
    let olga = app.token("olga@other.test").await;
    let (status, _, body) = get(&app, Some(&olga), &url).await;
    assert_eq!(status, 404);
    assert!(body.contains("NOT_FOUND") && !body.contains("Lee"));
    for path in [
        "/reassignments/garbage/report.json",
        "/reassignments/UmVhc3NpZ25tZW50Ojk5OTk/report.json",
    ] {
        let (status, _, _) = get(&app, Some(&admin), path).await;
        assert_eq!(status, 404, "{path}");
    }
}

on_both_databases!(
    the_report_lists_every_record_considered,
    only_the_firms_administrators_may_download
);
