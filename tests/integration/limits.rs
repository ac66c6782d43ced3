//! Configurable caps: each one refuses with a code and changes nothing.

use crate::common::*;
use handover::config::QueryLimits;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignments_per_minute_are_capped() {
    let limits = QueryLimits {
        max_reassignments_per_minute: 2,
        ..Default::default()
    };
    let app = spawn_app_with_limits(limits).await;
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let q = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code message } reassignment { id } } }";
    let input = json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob } });
    for _ in 0..2 {
        let data = app.data(&admin, q, input.clone()).await;
        assert_eq!(data["reassignWork"]["userErrors"], json!([]));
    }
    let before = snapshot(&app.db).await;
    let data = app.data(&admin, q, input.clone()).await;
    assert_eq!(data["reassignWork"]["userErrors"][0]["code"], "RATE_LIMITED");
    assert!(
        data["reassignWork"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("try again in")
    );
    assert!(snapshot(&app.db).await == before);
    // Another administrator has an allowance of their own.
    let olivia = app.token("olivia@demo.test").await;
    let data = app.data(&olivia, q, input).await;
    assert_eq!(data["reassignWork"]["userErrors"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_be_turned_off() {
    let limits = QueryLimits {
        introspection: false,
        ..Default::default()
    };
    let app = spawn_app_with_limits(limits).await;
    let admin = app.token("alice@demo.test").await;
    let (_, body) = app.gql(&admin, "{ __schema { types { name } } }", json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    assert!(!body.to_string().contains("ReassignmentPreview"));
    // Ordinary queries still run.
    app.data(&admin, "{ viewer { name } }", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complexity_is_capped() {
    let limits = QueryLimits {
        max_complexity: 5,
        ..Default::default()
    };
    let app = spawn_app_with_limits(limits).await;
    let admin = app.token("alice@demo.test").await;
    let (_, body) = app
        .gql(
            &admin,
            "{ users { nodes { id name email enabled licence accountAdmin timeZone key } } }",
            json!({}),
        )
        .await;
    assert!(body.get("data").is_none(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    app.data(&admin, "{ viewer { name } }", json!({})).await;
}
