//! Routing and risk through the API, on the demo firm: a routed preview as a front end reads it,
//! the risk gate as a mutation answers it, and the client notice list as a download.

use crate::common::*;
use crate::on_both_databases;
use crate::report::{get, parse_csv};
use entity::matter;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const PREVIEW: &str = "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) {
    previewToken
    matters { count items(first: 50) { nodes { key toUser { email } } } excluded { reason count } }
    tasks { count items(first: 50) { nodes { key toUser { email } risk } } }
    pastDueTasks { toUser { email } count items { nodes { key risk } } }
    assigner { count items { nodes { key toUser { email } } } }
    targets { user { email } before { openMatters openTasks } after { openMatters openTasks } }
    risks { reason count items { nodes { key kind } } } } }";

/// Lee's work: Litigation to Grace, Smith Holdings to Dan, Family shared by Carol and Dan, the
/// rest to Bob; past-due tasks to Olivia; Lee's assigned tasks to Grace.
async fn routed_input(app: &TestApp, admin: &str) -> Value {
    let id = |email: &'static str| async move { app.user_id(admin, email).await };
    json!({
        "fromUserId": id("lee@demo.test").await,
        "toUserId": id("bob@demo.test").await,
        "routes": [
            { "when": { "practiceAreas": ["Litigation"] }, "toUserId": id("grace@demo.test").await },
            { "when": { "clients": ["smith holdings"] }, "toUserId": id("dan@demo.test").await },
            { "when": { "practiceAreas": ["Family"] },
              "pool": [id("carol@demo.test").await, id("dan@demo.test").await], "strategy": "LEAST_LOADED" }
        ],
        "pastDueTasks": { "toUserId": id("olivia@demo.test").await },
        "assigner": { "toUserId": id("grace@demo.test").await },
        "note": "Lee has left"
    })
}

fn by_key(nodes: &Value) -> std::collections::BTreeMap<String, String> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["key"].as_str().unwrap().to_string(),
                n["toUser"]["email"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

async fn a_routed_handover_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let input = routed_input(&app, &admin).await;
    let preview = app.data(&admin, PREVIEW, json!({ "i": input })).await["reassignmentPreview"].take();

    let matters = by_key(&preview["matters"]["items"]["nodes"]);
    assert_eq!(matters["m-smith"], "grace@demo.test", "Litigation comes first");
    assert_eq!(matters["m-nguyen"], "grace@demo.test");
    assert_eq!(matters["m-smith-corp"], "dan@demo.test", "the client's other matter");
    assert_eq!(
        matters["m-patel"], "carol@demo.test",
        "of the pool, only Carol may see it"
    );
    assert_eq!(matters["m-garcia"], "bob@demo.test", "no route: the matters' target");
    let tasks = by_key(&preview["tasks"]["items"]["nodes"]);
    assert_eq!(tasks["t-smith-motion"], "grace@demo.test", "follows its matter");
    assert_eq!(tasks["t-smith-corp-sign"], "dan@demo.test");
    assert_eq!(
        tasks["t-brown-sol"], "bob@demo.test",
        "its matter is Bob's: the tasks' target"
    );
    assert_eq!(preview["pastDueTasks"]["toUser"]["email"], "olivia@demo.test");
    assert_eq!(preview["pastDueTasks"]["items"]["nodes"][0]["key"], "t-garcia-late");
    assert_eq!(preview["pastDueTasks"]["count"], 1, "the sweep's own count");
    assert_eq!(preview["pastDueTasks"]["items"]["nodes"][0]["risk"], "DUE_SOON");
    let assigned = by_key(&preview["assigner"]["items"]["nodes"]);
    assert_eq!(
        assigned.keys().collect::<Vec<_>>(),
        ["t-brown-lee-review", "t-lopez-lee-memo"],
        "the open tasks Lee assigned to others"
    );

    // Each receiver's load, before and after.
    let targets = preview["targets"].as_array().unwrap();
    let grace = targets
        .iter()
        .find(|t| t["user"]["email"] == "grace@demo.test")
        .unwrap();
    assert_eq!(
        grace["after"]["openMatters"].as_i64().unwrap() - grace["before"]["openMatters"].as_i64().unwrap(),
        2
    );
    assert!(
        targets.iter().all(|t| t["user"]["email"] != "lee@demo.test"),
        "only receivers are listed"
    );

    // Risks, by reason; the limitation deadline first.
    let risks = preview["risks"].as_array().unwrap();
    assert_eq!(risks[0]["reason"], "STATUTE_OF_LIMITATIONS");
    assert_eq!(risks[0]["items"]["nodes"][0]["key"], "t-brown-sol");
    assert_eq!(risks[1]["reason"], "DUE_SOON");
    assert!(risks[1]["count"].as_i64().unwrap() >= 3);

    // Not acknowledged: refused, nothing changed.
    let before = snapshot(&app.db).await;
    let refused = app.reassign(&admin, &input, "id").await;
    assert_eq!(user_error_codes(&refused), ["RISK_NOT_ACKNOWLEDGED"]);
    assert_eq!(refused["userErrors"][0]["field"], json!(["input", "acknowledgeRisks"]));
    assert!(refused["reassignment"].is_null());
    assert_eq!(snapshot(&app.db).await, before);

    // A client name a spreadsheet would run, to check the download is safe.
    matter::Entity::update_many()
        .col_expr(
            matter::Column::ClientName,
            Expr::value("=HYPERLINK(\"http://evil.test\")"),
        )
        .filter(matter::Column::Key.eq("m-garcia"))
        .exec(&app.db)
        .await
        .unwrap();
    let mut acknowledged = input.clone();
    acknowledged["acknowledgeRisks"] = json!(true);
    acknowledged["previewToken"] = preview["previewToken"].clone();
    let applied = app.reassign(&admin, &acknowledged, "id reportUrl").await;
    assert_eq!(user_error_codes(&applied), Vec::<&str>::new());
    let id = applied["reassignment"]["id"].as_str().unwrap().to_string();

    // The report marks the risks.
    let (status, _, text) = get(&app, Some(&admin), &format!("/reassignments/{id}/report.csv")).await;
    assert_eq!(status, 200);
    let rows = parse_csv(&text);
    let columns = rows.iter().find(|r| r[0] == "kind").unwrap();
    let (key, risk) = (
        columns.iter().position(|c| c == "key").unwrap(),
        columns.iter().position(|c| c == "risk").unwrap(),
    );
    let sol = rows
        .iter()
        .find(|r| r.get(key).is_some_and(|k| k == "t-brown-sol"))
        .unwrap();
    assert_eq!(sol[risk], "STATUTE_OF_LIMITATIONS");

    let (_, _, json_text) = get(&app, Some(&admin), &format!("/reassignments/{id}/report.json")).await;
    let report: Value = serde_json::from_str(&json_text).unwrap();
    let sol = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "t-brown-sol")
        .unwrap();
    assert_eq!(sol["risk"], "STATUTE_OF_LIMITATIONS");

    // Bob's email, as the outbox holds it, marks what needs attention first.
    let bob_email = entity::outbox_email::Entity::find()
        .filter(entity::outbox_email::Column::ToAddress.eq("bob@demo.test"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        bob_email
            .body
            .contains("Needs attention first: 1 statute-of-limitations task"),
        "{}",
        bob_email.body
    );

    // The client notice list: one row per client, by name.
    let (status, ct, text) = get(&app, Some(&admin), &format!("/reassignments/{id}/clients.csv")).await;
    assert_eq!(status, 200, "{text}");
    assert!(ct.starts_with("text/csv"));
    assert!(text.starts_with('\u{feff}'));
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        [
            "client",
            "matter_count",
            "matters",
            "previous_attorney",
            "previous_attorney_email",
            "new_attorney",
            "new_attorney_email"
        ]
    );
    let clients: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        clients,
        [
            "'=HYPERLINK(\"http://evil.test\")",
            "Anita Patel",
            "Smith Holdings",
            "Tran Nguyen"
        ],
        "a formula is neutralised; one row per client"
    );
    let smith = &rows[3];
    assert_eq!(smith[1], "2");
    assert!(
        smith[2].contains("00101-Smith") && smith[2].contains("00111-Smith"),
        "{smith:?}"
    );
    assert_eq!(smith[3], "Lee Leaver");
    assert_eq!(smith[5], "Grace Litigator; Dan Defender");
    assert_eq!(smith[6], "grace@demo.test; dan@demo.test");

    // Who may download it: as the report.
    let bob = app.token("bob@demo.test").await;
    let (status, _, _) = get(&app, Some(&bob), &format!("/reassignments/{id}/clients.csv")).await;
    assert_eq!(status, 403);
    let olga = app.token("olga@other.test").await;
    let (status, _, body) = get(&app, Some(&olga), &format!("/reassignments/{id}/clients.csv")).await;
    assert_eq!(status, 404);
    assert!(!body.contains("Smith"));
    let (status, _, _) = get(&app, None, &format!("/reassignments/{id}/clients.csv")).await;
    assert_eq!(status, 401);

    // Undo takes back all of it.
    let undone = app.undo(&admin, &json!(id), "skipped").await;
    assert_eq!(user_error_codes(&undone), Vec::<&str>::new());
    assert_eq!(undone["reassignment"]["skipped"], 0, "everything went back");
    let back = app
        .data(
            &admin,
            "query($id: ID!) { user(id: $id) { workload { openMatters } } }",
            json!({ "id": input["fromUserId"] }),
        )
        .await;
    assert_eq!(back["user"]["workload"]["openMatters"], 6);
}

/// Hostile routing input at the HTTP door: each answer carries a code, none is INTERNAL, and
/// nothing changes.
async fn hostile_routing_input_gets_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let olga_admin = app.token("olga@other.test").await;
    let oscar = app.user_id(&olga_admin, "oscar@other.test").await;
    let base = routed_input(&app, &admin).await;
    let with = |patch: Value| {
        let mut input = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    };
    let long_name = "é".repeat(201);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "a window beyond a year",
            with(json!({ "riskWindowDays": 100000 })),
            "OUT_OF_RANGE",
        ),
        (
            "a negative window",
            with(json!({ "riskWindowDays": -5 })),
            "OUT_OF_RANGE",
        ),
        (
            "a NUL in a client",
            with(json!({ "routes": [{ "when": { "clients": ["a\u{0}b"] }, "toUserId": base["toUserId"] }] })),
            "BAD_USER_INPUT", // the door refuses NUL in any text
        ),
        (
            "a name too long",
            with(json!({ "routes": [{ "when": { "clients": [long_name] }, "toUserId": base["toUserId"] }] })),
            "TOO_LONG",
        ),
        (
            "another firm's user in a pool",
            with(json!({ "routes": [{ "when": {}, "pool": [oscar] }] })),
            "NOT_FOUND",
        ),
        (
            "a garbage pool ID",
            with(json!({ "routes": [{ "when": {}, "pool": ["garbage", "VXNlcjo"] }] })),
            "NOT_FOUND",
        ),
        (
            "an empty route list item",
            with(json!({ "routes": [{ "when": {} }] })),
            "ONE_OF",
        ),
        (
            "a sweep to a garbage ID",
            with(json!({ "assigner": { "toUserId": "VXNlcjo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5" } })),
            "NOT_FOUND",
        ),
    ];
    let before = snapshot(&app.db).await;
    const APPLY: &str = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } } }";
    for (what, input, code) in cases {
        let (status, body) = app.gql(&admin, APPLY, json!({ "i": input })).await;
        assert_eq!(status, 200, "{what}");
        if code == "BAD_USER_INPUT" {
            assert_eq!(error_code(&body), code, "{what}: {body}");
        } else {
            assert!(
                user_error_codes(&body["data"]["reassignWork"]).contains(&code),
                "{what}: expected {code}, got {body}"
            );
        }
        let (status, body) = app
            .gql(
                &admin,
                "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { previewToken } }",
                json!({ "i": input }),
            )
            .await;
        assert_eq!(status, 200, "{what}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
    }
    // Out of GraphQL's Int: refused before it reaches the domain.
    let (_, body) = app
        .gql(
            &admin,
            "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } } }",
            json!({ "i": with(json!({ "riskWindowDays": 99999999999_i64 })) }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(snapshot(&app.db).await, before, "nothing changed");
}

on_both_databases!(a_routed_handover_through_the_api, hostile_routing_input_gets_a_code);
