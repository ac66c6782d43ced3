//! Text that a database cannot hold, or would match wrongly, is handled the same on SQLite and
//! PostgreSQL: NUL refused as `BAD_USER_INPUT` before either database sees it (by the preview
//! as by the apply), search matching `%` and `_` literally and folding Unicode case, emails
//! unique by their folded address and always one mailbox.

use crate::common::*;
use crate::on_both_databases;
use handover::import::{ImportError, import_text};
use serde_json::{Value, json};

/// A small firm whose names need care: an underscore and a percent sign in matter numbers,
/// non-ASCII capitals in a name and an email.
const CAREFUL: &str = r#"{
  "firm": { "key": "careful", "name": "Careful & Co", "timeZone": "Europe/Paris" },
  "users": [
    { "key": "ada", "name": "Ada Admin", "email": "ada@careful.test", "accountAdmin": true, "licence": "ATTORNEY" },
    { "key": "zoe", "name": "ZOË Œuvre", "email": "ZOË@careful.test", "licence": "ATTORNEY" },
    { "key": "max", "name": "Max Müller", "email": "max@careful.test", "licence": "ATTORNEY" }
  ],
  "matters": [
    { "key": "m1", "displayNumber": "00101_Smith", "description": "Smith estate", "status": "OPEN",
      "client": "Smith", "responsibleAttorney": "zoe", "permission": { "everyone": true } },
    { "key": "m2", "displayNumber": "00101-Smith", "description": "Smith lease", "status": "OPEN",
      "client": "Smith", "responsibleAttorney": "zoe", "permission": { "everyone": true } },
    { "key": "m3", "displayNumber": "00102", "description": "Fees at 100% for ÉLAN", "status": "OPEN",
      "client": "Élan SA", "responsibleAttorney": "max", "permission": { "everyone": true } }
  ]
}"#;

async fn careful_app(backend: Backend) -> (TestApp, String) {
    let app = spawn_app(backend).await;
    import_text(&app.db, CAREFUL, false).await.expect("careful firm");
    let token = handover::cli::token_for_email(&app.db, &app.keys, "ada@careful.test", Some("careful"), 600)
        .await
        .unwrap();
    (app, token)
}

async fn matter_numbers(app: &TestApp, token: &str, search: &str) -> Vec<String> {
    let data = app
        .data(
            token,
            "query($s: String) { matters(filter: {search: $s}) { nodes { displayNumber } } }",
            json!({ "s": search }),
        )
        .await;
    let mut found: Vec<String> = data["matters"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["displayNumber"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    found
}

async fn search_is_literal_and_folds_unicode(backend: Backend) {
    let (app, token) = careful_app(backend).await;
    let cases: [(&str, &[&str]); 7] = [
        ("00101_Smith", &["00101_Smith"]),
        ("00101%Smith", &[]),
        ("_", &["00101_Smith"]),
        ("100%", &["00102"]),
        ("élan", &["00102"]),
        ("00101", &["00101-Smith", "00101_Smith"]),
        ("SMITH ESTATE", &["00101_Smith"]),
    ];
    for (search, expected) in cases {
        assert_eq!(
            matter_numbers(&app, &token, search).await,
            expected,
            "search {search:?}"
        );
    }
    for search in ["zoë", "ZOË", "œuvre", "zoë@careful"] {
        let data = app
            .data(
                &token,
                "query($s: String) { users(filter: {search: $s}) { nodes { key } } }",
                json!({ "s": search }),
            )
            .await;
        assert_eq!(data["users"]["nodes"], json!([{ "key": "zoe" }]), "search {search:?}");
    }
    // Too long is refused with a code, not a database error.
    let (_, body) = app
        .gql(
            &token,
            "query($s: String) { matters(filter: {search: $s}) { totalCount } }",
            json!({ "s": "é".repeat(201) }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

async fn nul_is_refused_alike_by_preview_and_apply(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let (lee, bob) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let before = snapshot(&app.db).await;
    let preview = "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { previewToken } }";
    let apply =
        "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { reassignment { id } userErrors { code } } }";
    for field in ["note", "idempotencyKey", "previewToken"] {
        let mut input = json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob });
        input[field] = json!("before\u{0}after");
        for q in [preview, apply] {
            let (_, body) = app.gql(&admin, q, json!({ "i": input })).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{field}: {body}");
        }
    }
    for (q, vars) in [
        (
            "query($s: String) { users(filter: {search: $s}) { totalCount } }",
            json!({ "s": "\u{0}" }),
        ),
        (
            "query($p: String) { matters(filter: {practiceArea: $p}) { totalCount } }",
            json!({ "p": "Lit\u{0}" }),
        ),
    ] {
        let (_, body) = app.gql(&admin, q, vars).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
    assert!(snapshot(&app.db).await == before);
}

async fn emails_are_one_folded_mailbox(backend: Backend) {
    let (app, _) = careful_app(backend).await;
    let before = snapshot(&app.db).await;
    let mut doc: Value = serde_json::from_str(CAREFUL).unwrap();
    // The same mailbox in another case, for another user.
    doc["users"][2]["email"] = json!("zoë@CAREFUL.test");
    match import_text(&app.db, &doc.to_string(), false).await {
        Err(ImportError::Invalid(problems)) => {
            assert!(problems.iter().any(|p| p.path == "$.users[2].email"), "{problems:?}")
        }
        other => panic!("accepted a second zoë: {:?}", other.map(|s| s.to_string())),
    }
    // The same, from a second file that does not mention the first user.
    let second = json!({
        "firm": { "key": "careful", "name": "Careful & Co", "timeZone": "Europe/Paris" },
        "users": [ { "key": "zed", "name": "Zed", "email": "zoë@careful.test", "licence": "ATTORNEY" } ]
    });
    assert!(matches!(
        import_text(&app.db, &second.to_string(), false).await,
        Err(ImportError::Invalid(_))
    ));
    // Not one mailbox, and NUL anywhere: refused with the path.
    let mut doc: Value = serde_json::from_str(CAREFUL).unwrap();
    doc["users"][2]["email"] = json!("a@x.test,evil@y.test");
    doc["matters"][0]["description"] = json!("Smith\u{0}estate");
    doc["firm"]["name"] = json!("Careful\u{0}");
    match import_text(&app.db, &doc.to_string(), false).await {
        Err(ImportError::Invalid(problems)) => {
            let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
            for wanted in ["$.users[2].email", "$.matters[0].description", "$.firm.name"] {
                assert!(paths.contains(&wanted), "{wanted} missing from {paths:?}");
            }
        }
        other => panic!("accepted: {:?}", other.map(|s| s.to_string())),
    }
    assert!(snapshot(&app.db).await == before);
    // Tokens are found by the folded address too.
    handover::cli::token_for_email(&app.db, &app.keys, "zoë@careful.test", Some("careful"), 60)
        .await
        .expect("token for zoë in any case");
}

/// Migration m0004 makes emails unique by their folded form: on a database that already holds
/// two that differ only in case, it stops before changing anything, and runs once one is changed.
async fn folding_migration_stops_on_case_twins(backend: Backend) {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = empty_database_url(backend, dir.path()).await;
    migration::Migrator::up(&db, Some(3)).await.expect("up to m0003");
    for sql in [
        "INSERT INTO firm (id, key, name, time_zone) VALUES (1, 'f', 'F', 'UTC')",
        "INSERT INTO \"user\" (id, firm_id, key, name, email, account_admin, licence, enabled) \
         VALUES (1, 1, 'a', 'A', 'ZOË@f.test', TRUE, 'ATTORNEY', TRUE)",
        "INSERT INTO \"user\" (id, firm_id, key, name, email, account_admin, licence, enabled) \
         VALUES (2, 1, 'b', 'B', 'zoë@f.test', FALSE, 'ATTORNEY', TRUE)",
    ] {
        db.execute_unprepared(sql).await.expect(sql);
    }
    let err = migration::Migrator::up(&db, None).await.expect_err("case twins");
    assert!(err.to_string().contains("differ only in case"), "{err}");
    db.execute_unprepared("UPDATE \"user\" SET email = 'zoe@f.test' WHERE id = 2")
        .await
        .unwrap();
    migration::Migrator::up(&db, None)
        .await
        .expect("migrates once one is changed");
}

on_both_databases!(
    folding_migration_stops_on_case_twins,
    search_is_literal_and_folds_unicode,
    nul_is_refused_alike_by_preview_and_apply,
    emails_are_one_folded_mailbox
);
