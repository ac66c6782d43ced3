//! The read API: what an administrator and a member see, workloads, pagination, and the
//! statement budget that DataLoader keeps.

use crate::common::*;
use crate::on_both_databases;
use serde_json::{Value, json};

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().or(n["displayNumber"].as_str()).unwrap().to_string())
        .collect()
}

async fn workload_counts_work_in_motion(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let data = app
        .data(
            &admin,
            "query($id: ID!) { user(id: $id) { name enabled workload { openMatters openTasks upcomingEvents }
               matters { totalCount nodes { displayNumber } }
               tasks { totalCount } all: tasks(includeCompleted: true) { totalCount }
               calendarEvents { totalCount } everything: calendarEvents(upcomingOnly: false) { totalCount } } }",
            json!({ "id": lee }),
        )
        .await;
    let user = &data["user"];
    assert_eq!(user["enabled"], false, "Lee is the deactivated leaver");
    // Open or pending matters where Lee is responsible: Smith (two), Garcia, Nguyen, Patel and
    // the private review (OldCo is closed).
    assert_eq!(user["workload"]["openMatters"], 6);
    assert_eq!(user["matters"]["totalCount"], 6);
    assert!(!names(&user["matters"]["nodes"]).contains(&"00090-OldCo".to_string()));
    // 13 tasks, one complete.
    assert_eq!(user["workload"]["openTasks"], 12);
    assert_eq!(user["tasks"]["totalCount"], 12);
    assert_eq!(user["all"]["totalCount"], 13);
    // 9 events on Lee's calendar; yesterday's signing has passed; today's all-day event counts.
    assert_eq!(user["workload"]["upcomingEvents"], 8);
    assert_eq!(user["calendarEvents"]["totalCount"], 8);
    assert_eq!(user["everything"]["totalCount"], 9);
}

async fn members_see_themselves_and_permitted_matters(backend: Backend) {
    let app = spawn_app(backend).await;
    let bob = app.token("bob@demo.test").await;
    let admin = app.token("alice@demo.test").await;

    // Bob may not list the firm's users or look at a colleague.
    let (_, body) = app.gql(&bob, "{ users { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let carol = app.user_id(&admin, "carol@demo.test").await;
    let (_, body) = app
        .gql(
            &bob,
            "query($id: ID!) { user(id: $id) { name } }",
            json!({ "id": carol }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    // ... but may look at himself, his workload and his tasks.
    let me = app.data(&bob, "{ viewer { id } }", json!({})).await["viewer"]["id"].clone();
    let data = app
        .data(
            &bob,
            "query($id: ID!) { user(id: $id) { name workload { openTasks } tasks { nodes { name } } } }",
            json!({ "id": me }),
        )
        .await;
    assert_eq!(data["user"]["workload"]["openTasks"], 1);
    assert_eq!(names(&data["user"]["tasks"]["nodes"]), vec!["Serve discovery requests"]);

    // Matters: everyone-matters plus those of the Litigation group Bob belongs to; never the
    // Family group's, Carol's private one, or Dan's listed-users one.
    let data = app
        .data(
            &bob,
            "{ matters(first: 100) { totalCount nodes { displayNumber } } }",
            json!({}),
        )
        .await;
    let mut seen = names(&data["matters"]["nodes"]);
    seen.sort();
    assert_eq!(
        seen,
        vec![
            "00090-OldCo",
            "00091-Archer",
            "00101-Smith",
            "00102-Garcia",
            "00103-Nguyen",
            "00107-Brown",
            "00108-Lopez",
            "00110-Chen",
            "00111-Smith"
        ]
    );
    assert_eq!(data["matters"]["totalCount"], 9);

    // A matter Bob may not see is simply not found.
    let all = app
        .data(
            &admin,
            "{ matters(first: 100) { totalCount nodes { id displayNumber } } }",
            json!({}),
        )
        .await;
    assert_eq!(all["matters"]["totalCount"], 13);
    let private_id = all["matters"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["displayNumber"] == "00106-Whitman")
        .unwrap()["id"]
        .clone();
    let (_, body) = app
        .gql(
            &bob,
            "query($id: ID!) { matter(id: $id) { description } }",
            json!({ "id": private_id }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let data = app
        .data(
            &admin,
            "query($id: ID!) { matter(id: $id) { private description } }",
            json!({ "id": private_id }),
        )
        .await;
    assert_eq!(data["matter"]["private"], true);
}

async fn other_firms_records_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let olga = app.token("olga@other.test").await;
    let other_matter =
        app.data(&olga, "{ matters { nodes { id } } }", json!({})).await["matters"]["nodes"][0]["id"].clone();
    let other_user = app.data(&olga, "{ viewer { id } }", json!({})).await["viewer"]["id"].clone();

    let (_, body) = app
        .gql(
            &admin,
            "query($id: ID!) { matter(id: $id) { description } }",
            json!({ "id": other_matter }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["data"]["matter"], Value::Null);
    assert!(
        !body.to_string().contains("Secret"),
        "nothing of the other firm may leak: {body}"
    );
    let (_, body) = app
        .gql(
            &admin,
            "query($id: ID!) { user(id: $id) { name } }",
            json!({ "id": other_user }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let (_, body) = app
        .gql(
            &admin,
            "query($id: ID!) { matters(filter: {responsibleAttorneyId: $id}) { totalCount } }",
            json!({ "id": other_user }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    // A matter's ID is not a user's ID, and garbage is not an ID.
    for id in [other_matter.clone(), json!("garbage"), json!("")] {
        let (_, body) = app
            .gql(
                &admin,
                "query($id: ID!) { user(id: $id) { name } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND");
    }
    // Each firm's admin sees only their firm.
    let data = app
        .data(&admin, "{ users { totalCount } matters { totalCount } }", json!({}))
        .await;
    assert_eq!(
        data,
        json!({ "users": { "totalCount": 9 }, "matters": { "totalCount": 13 } })
    );
    let data = app
        .data(&olga, "{ users { totalCount } matters { totalCount } }", json!({}))
        .await;
    assert_eq!(
        data,
        json!({ "users": { "totalCount": 2 }, "matters": { "totalCount": 1 } })
    );
}

async fn pages_walk_the_list_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let query = "query($after: String) { users(first: 4, after: $after) { totalCount
                   edges { cursor node { email } } pageInfo { hasNextPage endCursor } } }";
    let mut after = Value::Null;
    let mut emails = Vec::new();
    let mut pages = 0;
    loop {
        let data = app.data(&admin, query, json!({ "after": after })).await;
        let conn = &data["users"];
        assert_eq!(conn["totalCount"], 9);
        for e in conn["edges"].as_array().unwrap() {
            emails.push(e["node"]["email"].as_str().unwrap().to_string());
        }
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    let mut unique = emails.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 9, "every user exactly once: {emails:?}");

    // Filters.
    let data = app
        .data(
            &admin,
            "{ attorneys: users(filter: {licence: ATTORNEY, enabled: true}) { totalCount }
               admins: users(filter: {accountAdmin: true}) { nodes { name } }
               disabled: users(filter: {enabled: false}) { nodes { name } }
               search: users(filter: {search: \"PARA\"}) { nodes { name } }
               closed: matters(filter: {status: [CLOSED]}) { totalCount }
               lit: matters(filter: {practiceArea: \"Litigation\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["attorneys"]["totalCount"], 5);
    assert_eq!(
        names(&data["admins"]["nodes"]),
        vec!["Alice Admin", "Olivia Operations"]
    );
    assert_eq!(names(&data["disabled"]["nodes"]), vec!["Lee Leaver"]);
    assert_eq!(names(&data["search"]["nodes"]), vec!["Erin Paralegal"]);
    assert_eq!(data["closed"]["totalCount"], 2);
    assert_eq!(data["lit"]["totalCount"], 5);

    // A cursor that is not one of ours, and a negative page size, are input errors.
    let (_, body) = app
        .gql(&admin, "{ users(after: \"bogus\") { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let (_, body) = app.gql(&admin, "{ users(first: -1) { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    // Page size is capped at 100.
    let data = app
        .data(&admin, "{ matters(first: 100000) { nodes { id } } }", json!({}))
        .await;
    assert_eq!(data["matters"]["nodes"].as_array().unwrap().len(), 13);
}

/// A page of matters with their people, permissions and counts costs the same small number of
/// statements whether it holds 2 matters or 100.
async fn dataloader_bounds_statements(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    // More matters, so that a page of 100 is full.
    {
        use entity::matter;
        use sea_orm::{ActiveValue::Set, EntityTrait};
        let template = app.data(&admin, "{ viewer { firm { id } } }", json!({})).await;
        assert!(template["viewer"]["firm"]["id"].is_string());
        let firm_id = entity::firm::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.key == "demo")
            .unwrap()
            .id;
        let users: Vec<i64> = entity::user::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.firm_id == firm_id)
            .map(|u| u.id)
            .collect();
        let rows = (0..150).map(|i| matter::ActiveModel {
            firm_id: Set(firm_id),
            key: Set(format!("bulk-{i}")),
            display_number: Set(format!("B{i:04}")),
            description: Set("bulk".into()),
            status: Set(entity::MatterStatus::Open),
            practice_area: Set(None),
            client_name: Set("bulk".into()),
            responsible_attorney_id: Set(Some(users[i % users.len()])),
            originating_attorney_id: Set(Some(users[(i + 1) % users.len()])),
            permission_everyone: Set(true),
            ..Default::default()
        });
        matter::Entity::insert_many(rows)
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    }
    let query = "query($n: Int) { matters(first: $n) { totalCount nodes { displayNumber private
                   responsibleAttorney { name workload { openMatters openTasks upcomingEvents } }
                   originatingAttorney { name } permission { everyone users { name } groups { name } }
                   openTaskCount upcomingEventCount } } }";
    let mut counts = Vec::new();
    for n in [2, 100] {
        app.reset_statements();
        let data = app.data(&admin, query, json!({ "n": n })).await;
        assert_eq!(data["matters"]["nodes"].as_array().unwrap().len(), n as usize);
        counts.push(app.statement_count());
    }
    // 2 to authenticate, 2 for the page and its total, 1 for the attorneys, 3 for their
    // workloads, up to 4 for permissions (users, groups, group rows, members), 2 for counts.
    assert!(counts[1] <= 14, "a page of 100 matters took {} statements", counts[1]);
    // Only the group lookups (2 statements) may join in when the bigger page has group matters.
    assert!(
        counts[1] <= counts[0] + 2,
        "statements must not grow with the page size: {counts:?}"
    );
}

on_both_databases!(
    workload_counts_work_in_motion,
    members_see_themselves_and_permitted_matters,
    other_firms_records_are_not_found,
    pages_walk_the_list_once,
    dataloader_bounds_statements,
);
