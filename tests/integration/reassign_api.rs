//! The reassignment API over HTTP: who may use it, what it answers, and that preview and apply
//! agree, on the demo firm (dates moved to today).

use crate::common::*;
use crate::on_both_databases;
use serde_json::{Value, json};

const PREVIEWED: &str = "previewToken timeZone
  matters { count toUser { name } items(first: 100) { nodes { id kind title } } excluded { reason count items { nodes { id } } } }
  tasks { count items(first: 100) { nodes { id } } excluded { reason count } }
  calendarEvents { count items(first: 100) { nodes { id } } excluded { reason count } }";
const PREVIEW: &str = "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { previewToken } }";

const APPLIED: &str =
    "id status reportUrl matters { reassigned } tasks { reassigned } calendarEvents { reassigned } skipped
    fromUser { name } actor { name }
    moved: items(outcome: REASSIGNED, first: 100) { totalCount nodes { kind record { id } } }";
const APPLY: &str = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } } }";

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

async fn preview_then_apply_moves_the_same_records(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    let input =
        json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob, "note": "Lee has left the firm" });
    let preview = app.preview(&admin, &input, PREVIEWED).await;
    assert_eq!(preview["timeZone"], "America/New_York");
    assert_eq!(preview["matters"]["toUser"]["name"], "Bob Barrister");
    // The demo shows every reason.
    let mut reasons: Vec<String> = ["matters", "tasks", "calendarEvents"]
        .iter()
        .flat_map(|c| {
            preview[c]["excluded"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["reason"].as_str().unwrap().to_string())
        })
        .collect();
    reasons.sort();
    reasons.dedup();
    assert_eq!(
        reasons,
        [
            "ATTENDEE_ONLY",
            "CLOSED_MATTER",
            "COMPLETED",
            "NO_MATTER",
            "PAST_DUE",
            "PAST_EVENT",
            "PRIVATE_MATTER",
            "TARGET_NO_ACCESS"
        ]
    );

    let mut with_token = input.clone();
    with_token["previewToken"] = preview["previewToken"].clone();
    let payload = app.reassign(&admin, &with_token, APPLIED).await;
    assert_eq!(user_error_codes(&payload), Vec::<&str>::new());
    let r = &payload["reassignment"];
    assert_eq!(r["status"], "APPLIED");
    assert_eq!(r["fromUser"]["name"], "Lee Leaver");
    assert_eq!(r["actor"]["name"], "Alice Admin");
    assert_eq!(r["matters"]["reassigned"], preview["matters"]["count"]);
    assert_eq!(r["tasks"]["reassigned"], preview["tasks"]["count"]);
    assert_eq!(r["calendarEvents"]["reassigned"], preview["calendarEvents"]["count"]);
    let moved: Vec<&Value> = r["moved"]["nodes"].as_array().unwrap().iter().collect();
    let moved_of = |kind: &str| {
        let mut v: Vec<String> = moved
            .iter()
            .filter(|n| n["kind"] == kind)
            .map(|n| n["record"]["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(moved_of("MATTER"), ids(&preview["matters"]["items"]["nodes"]));
    assert_eq!(moved_of("TASK"), ids(&preview["tasks"]["items"]["nodes"]));
    assert_eq!(
        moved_of("CALENDAR_EVENT"),
        ids(&preview["calendarEvents"]["items"]["nodes"])
    );
    assert!(r["reportUrl"].as_str().unwrap().ends_with("/report.csv"));

    // Bob now holds them.
    let data = app
        .data(
            &admin,
            "query($id: ID!) { user(id: $id) { workload { openMatters } } }",
            json!({ "id": bob }),
        )
        .await;
    assert_eq!(
        data["user"]["workload"]["openMatters"].as_i64().unwrap(),
        1 + preview["matters"]["count"].as_i64().unwrap()
    );

    // History: newest first, filterable, with the report.
    let history = app
        .data(
            &admin,
            "query($from: ID) { reassignments(fromUserId: $from) { totalCount nodes { id note
                skipped: items(outcome: SKIPPED) { totalCount } tasks: items(kind: TASK) { totalCount } } } }",
            json!({ "from": lee }),
        )
        .await;
    let list = &history["reassignments"];
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["nodes"][0]["note"], "Lee has left the firm");
    assert_eq!(
        list["nodes"][0]["tasks"]["totalCount"], 13,
        "every task of Lee's was considered"
    );
    assert!(list["nodes"][0]["skipped"]["totalCount"].as_i64().unwrap() > 0);

    // Undo through the API; a second undo is refused with a code.
    let undone = "undoOf { status } tasks { reassigned }";
    let undo = app.undo(&admin, &r["id"], undone).await;
    assert_eq!(undo["reassignment"]["undoOf"]["status"], "UNDONE");
    assert_eq!(undo["reassignment"]["tasks"]["reassigned"], preview["tasks"]["count"]);
    let again = app.undo(&admin, &r["id"], undone).await;
    assert_eq!(user_error_codes(&again)[0], "ALREADY_UNDONE");
}

async fn only_the_firms_administrators_may_reassign(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob_id = app.user_id(&admin, "bob@demo.test").await;
    let input = json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob_id });
    let batch = app.reassign(&admin, &input, "id").await["reassignment"]["id"].take();
    let before = snapshot(&app.db).await;

    // A member of the firm: FORBIDDEN everywhere, nothing read or changed.
    let bob = app.token("bob@demo.test").await;
    for (query, vars) in [
        (PREVIEW, json!({ "i": input })),
        (APPLY, json!({ "i": input })),
        ("{ reassignments { totalCount } }", json!({})),
        (
            "query($id: ID!) { reassignment(id: $id) { id } }",
            json!({ "id": batch }),
        ),
        (
            "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code } } }",
            json!({ "id": batch }),
        ),
    ] {
        let (status, body) = app.gql(&bob, query, vars).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }

    // Another firm's administrator: our IDs do not exist for them.
    let olga = app.token("olga@other.test").await;
    let oscar = app
        .data(
            &olga,
            "{ users(filter: {search: \"oscar\"}) { nodes { id } } }",
            json!({}),
        )
        .await["users"]["nodes"][0]["id"]
        .clone();
    let (_, body) = app
        .gql(
            &olga,
            PREVIEW,
            json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": oscar } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["userErrors"][0]["code"], "NOT_FOUND");
    assert_eq!(
        body["errors"][0]["extensions"]["userErrors"][0]["field"],
        json!(["input", "fromUserId"])
    );
    let refused = app
        .reassign(
            &olga,
            &json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": oscar }),
            "id",
        )
        .await;
    assert_eq!(user_error_codes(&refused)[0], "NOT_FOUND");
    let (_, body) = app
        .gql(
            &olga,
            "query($id: ID!) { reassignment(id: $id) { id } }",
            json!({ "id": batch }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(user_error_codes(&app.undo(&olga, &batch, "id").await)[0], "NOT_FOUND");
    let data = app.data(&olga, "{ reassignments { totalCount } }", json!({})).await;
    assert_eq!(data["reassignments"]["totalCount"], 0);

    assert_eq!(snapshot(&app.db).await, before, "refused requests change nothing");
}

async fn mutation_input_errors_come_back_as_user_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let erin = app.user_id(&admin, "erin@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    let before = snapshot(&app.db).await;
    let data = app
        .reassign(
            &admin,
            &json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": erin, "tasks": { "toUserId": "nonsense" } }),
            "id",
        )
        .await;
    let errors = &data["userErrors"];
    assert_eq!(data["reassignment"], Value::Null);
    assert_eq!(
        errors[0],
        json!({ "field": ["input", "toUserId"], "code": "TARGET_NOT_ATTORNEY",
                                  "message": "Erin Paralegal cannot be responsible attorney: not an attorney" })
    );
    assert_eq!(errors[1]["field"], json!(["input", "tasks", "toUserId"]));
    assert_eq!(errors[1]["code"], "NOT_FOUND");
    // Stale token.
    let data = app
        .reassign(
            &admin,
            &json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob, "previewToken": "stale" }),
            "id",
        )
        .await;
    assert_eq!(user_error_codes(&data)[0], "PREVIEW_STALE");
    assert_eq!(snapshot(&app.db).await, before);
}

/// Every id of one list, asked for two at a time, and the totals each page reported. `page`
/// answers the list's connection for its arguments (`first: 2`, then with `after:`), selected as
/// `PAGE_FIELDS`.
async fn pages_of_two(page: impl AsyncFn(String) -> Value) -> (Vec<String>, Vec<i64>) {
    let (mut ids, mut totals, mut after) = (Vec::<String>::new(), Vec::new(), None::<String>);
    loop {
        let args = match &after {
            None => "first: 2".to_string(),
            Some(cursor) => format!("first: 2, after: \"{cursor}\""),
        };
        let page = page(args).await;
        let nodes = page["nodes"].as_array().unwrap();
        assert!(nodes.len() <= 2, "a page of two held {}", nodes.len());
        for id in nodes.iter().map(|n| n["id"].as_str().unwrap().to_string()) {
            assert!(!ids.contains(&id), "{id} came again on a later page");
            ids.push(id);
        }
        totals.push(page["totalCount"].as_i64().unwrap());
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (ids, totals);
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_string());
    }
}

const PAGE_FIELDS: &str = "totalCount pageInfo { hasNextPage endCursor } nodes { id }";

/// [`pages_of_two`] over one preview list.
async fn in_pages_of_two(
    app: &TestApp,
    admin: &str,
    input: &Value,
    wrap: impl Fn(&str) -> String,
    list: impl Fn(&Value) -> Value,
) -> (Vec<String>, Vec<i64>) {
    pages_of_two(async |args: String| {
        let fields = wrap(&format!("items({args}) {{ {PAGE_FIELDS} }}"));
        list(&app.preview(admin, input, &fields).await)
    })
    .await
}

/// A preview's lists (what moves, and what is left under each reason) come in pages by record:
/// put together, the pages are the whole list once, and each page counts all of it.
async fn preview_lists_page_through_every_record(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    let input = json!({ "fromUserId": lee, "toUserId": bob });
    let whole = app
        .preview(
            &admin,
            &input,
            "tasks { count items(first: 100) { nodes { id } } excluded { reason count items(first: 100) { nodes { id } } } }
             calendarEvents { count items(first: 100) { nodes { id } } }",
        )
        .await;
    for category in ["tasks", "calendarEvents"] {
        let all = listed(&whole[category]["items"]);
        assert!(all.len() > 2, "{category}: the demo moves more than one page");
        assert_eq!(
            all.len() as i64,
            whole[category]["count"].as_i64().unwrap(),
            "{category}"
        );
        let (paged, totals) = in_pages_of_two(
            &app,
            &admin,
            &input,
            |items| format!("{category} {{ {items} }}"),
            |p| p[category]["items"].clone(),
        )
        .await;
        assert_eq!(paged, all, "{category}");
        assert!(totals.iter().all(|t| *t == whole[category]["count"].as_i64().unwrap()));
    }
    let groups = &whole["tasks"]["excluded"];
    assert!(
        groups.as_array().unwrap().len() > 1,
        "the demo's tasks are left for several reasons"
    );
    groups_in_pages_of_two(
        &app,
        &admin,
        &input,
        groups,
        |g| format!("tasks {{ excluded {{ {g} }} }}"),
        |p| p["tasks"]["excluded"].clone(),
    )
    .await;

    let risks = app
        .preview(
            &admin,
            &input,
            "risks { reason count items(first: 100) { nodes { id } } }",
        )
        .await;
    let walked = groups_in_pages_of_two(
        &app,
        &admin,
        &input,
        &risks["risks"],
        |g| format!("risks {{ {g} }}"),
        |p| p["risks"].clone(),
    )
    .await;
    assert!(walked >= 2, "the demo's tasks and events due soon each fill two pages");
}

fn listed(items: &Value) -> Vec<String> {
    items["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every group of a grouped list (`excluded`, `risks`) walked in pages of two and checked
/// against the group as a whole; how many took more than one page.
async fn groups_in_pages_of_two(
    app: &TestApp,
    admin: &str,
    input: &Value,
    groups: &Value,
    wrap: impl Fn(&str) -> String,
    groups_of: impl Fn(&Value) -> Value,
) -> usize {
    let mut over_one_page = 0;
    for group in groups.as_array().unwrap() {
        let reason = group["reason"].as_str().unwrap().to_string();
        let all = listed(&group["items"]);
        assert_eq!(all.len() as i64, group["count"].as_i64().unwrap(), "{reason}");
        let (paged, totals) = in_pages_of_two(
            app,
            admin,
            input,
            |items| wrap(&format!("reason {items}")),
            |p| {
                groups_of(p)
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|g| g["reason"] == reason.as_str())
                    .unwrap()["items"]
                    .clone()
            },
        )
        .await;
        assert_eq!(paged, all, "{reason}");
        assert!(totals.iter().all(|t| *t == all.len() as i64), "{reason}");
        over_one_page += usize::from(all.len() > 2);
    }
    over_one_page
}

/// A reassignment's report comes in pages by item: put together, the pages are its items once,
/// in order, filtered or not, each page counting all of them, with another batch written after it.
async fn report_items_page_through_every_item(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    let input = json!({ "fromUserId": lee, "toUserId": bob, "acknowledgeRisks": true });
    let id = app.reassign(&admin, &input, "id").await["reassignment"]["id"].take();
    let undo = app.undo(&admin, &id, "id").await["reassignment"]["id"].take();
    for batch in [&id, &undo] {
        for filter in ["", "kind: TASK, ", "outcome: SKIPPED, "] {
            let items = async |args: String| {
                let query = format!(
                    "query($id: ID!) {{ reassignment(id: $id) {{ items({filter}{args}) {{ {PAGE_FIELDS} }} }} }}"
                );
                app.data(&admin, &query, json!({ "id": batch })).await["reassignment"]["items"].take()
            };
            let whole = items("first: 100".to_string()).await;
            let all = listed(&whole);
            if batch == &id {
                assert!(all.len() > 2, "{filter}: the demo's report is more than one page");
            }
            assert_eq!(whole["totalCount"].as_u64().unwrap() as usize, all.len());
            let (paged, totals) = pages_of_two(items).await;
            assert!(totals.iter().all(|t| *t == all.len() as i64), "{filter}");
            assert_eq!(paged, all, "{filter}");
        }
    }
}

on_both_databases!(
    preview_then_apply_moves_the_same_records,
    preview_lists_page_through_every_record,
    report_items_page_through_every_item,
    only_the_firms_administrators_may_reassign,
    mutation_input_errors_come_back_as_user_errors,
);
