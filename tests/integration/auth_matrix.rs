//! Every operation against every kind of caller: exactly an enabled administrator of the same
//! firm may preview, apply, undo, read the history and download reports; records of another
//! firm are NOT_FOUND on every ID path; bad credentials are 401 everywhere; refused calls change
//! nothing. Callers come with the server's own tokens and through each firm's identity provider
//! (single sign-on), which must give exactly the same answers.

use crate::common::*;
use crate::idp::{Provider, SigningKey, trust};
use crate::on_both_databases;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use handover::auth::Claims;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const ISS: &str = "https://idp.demo.test";
const AUD: &str = "handover";

enum Op {
    Gql(&'static str, Value),
    Get(String),
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn forged(sub: &str, tweak: impl Fn(&mut Claims), alg: Algorithm, secret: &[u8]) -> String {
    let mut c = Claims {
        sub: sub.into(),
        exp: now() + 600,
        iat: None,
        nbf: None,
        iss: Some(ISS.into()),
        aud: Some(AUD.into()),
    };
    tweak(&mut c);
    encode(&Header::new(alg), &c, &EncodingKey::from_secret(secret)).unwrap()
}

/// What came back, in one word.
async fn outcome(app: &TestApp, token: &str, op: &Op) -> String {
    match op {
        Op::Get(path) => {
            let res = app
                .client
                .get(format!("{}{path}", app.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            match res.status().as_u16() {
                200 => "OK".into(),
                401 => "UNAUTHENTICATED".into(),
                403 => "FORBIDDEN".into(),
                404 => "NOT_FOUND".into(),
                s => format!("HTTP {s}"),
            }
        }
        Op::Gql(query, vars) => {
            let (status, body) = app.gql(token, query, vars.clone()).await;
            if status == 401 {
                return "UNAUTHENTICATED".into();
            }
            if let Some(code) = body["errors"][0]["extensions"]["code"].as_str() {
                // A refused preview carries the business code in userErrors.
                return body["errors"][0]["extensions"]["userErrors"][0]["code"]
                    .as_str()
                    .unwrap_or(code)
                    .to_string();
            }
            let payload = body["data"]
                .as_object()
                .and_then(|d| d.values().next())
                .cloned()
                .unwrap_or(Value::Null);
            match payload["userErrors"][0]["code"].as_str() {
                Some(code) => code.to_string(),
                None => "OK".into(),
            }
        }
    }
}

async fn exactly_the_firms_administrators(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            issuer: Some(ISS.into()),
            audience: Some(AUD.into()),
            ..Default::default()
        },
    )
    .await;
    // Each firm signs its people in through its own identity provider, by verified email.
    let (demo_key, other_key) = (SigningKey::ec("demo-1"), SigningKey::ed("other-1"));
    let (demo_idp, other_idp) = (
        Provider::start(&[&demo_key]).await,
        Provider::start(&[&other_key]).await,
    );
    trust(
        &app.db,
        DEMO,
        true,
        vec![demo_idp.trusted_as(AUD, "email", json!({}), true)],
    )
    .await;
    trust(
        &app.db,
        OTHER_FIRM,
        false,
        vec![other_idp.trusted_as(AUD, "email", json!({}), false)],
    )
    .await;
    let sso = |idp: &Provider, key: &SigningKey, email: &str, verified: bool| {
        idp.token(
            key,
            json!({ "sub": "idp-user", "aud": AUD, "email": email, "email_verified": verified }),
        )
    };
    let admin = app.token("alice@demo.test").await;
    let (lee, bob_id) = (
        app.user_id(&admin, "lee@demo.test").await,
        app.user_id(&admin, "bob@demo.test").await,
    );
    let matters = app
        .data(
            &admin,
            "{ matters(first: 100) { nodes { id displayNumber } } }",
            json!({}),
        )
        .await;
    let matter = |n: &str| {
        matters["matters"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["displayNumber"] == n)
            .unwrap()["id"]
            .clone()
    };
    let (smith, whitman) = (matter("00101-Smith"), matter("00106-Whitman"));
    let apply =
        "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } reassignment { id } } }";
    let batch = app
        .data(
            &admin,
            apply,
            json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob_id, "tasks": { "include": false },
                                          "calendarEvents": { "include": false } } }),
        )
        .await["reassignWork"]["reassignment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let input = json!({ "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob_id });
    let next_week = (chrono::Utc::now() + chrono::Duration::days(7))
        .date_naive()
        .to_string();
    let (carol, dan) = (
        app.user_id(&admin, "carol@demo.test").await,
        app.user_id(&admin, "dan@demo.test").await,
    );
    let plan_q =
        "mutation($i: PlanHandoverInput!) { planHandover(input: $i) { userErrors { code } plannedHandover { id } } }";
    let plan = app
        .data(
            &admin,
            plan_q,
            json!({ "i": { "work": { "fromUserId": carol, "acknowledgeRisks": true, "toUserId": dan }, "startsOn": next_week } }),
        )
        .await["planHandover"]["plannedHandover"]["id"]
        .clone();

    let ops: Vec<(&str, Op, bool)> = vec![
        // (name, operation, administrators only)
        ("viewer", Op::Gql("{ viewer { id } }", json!({})), false),
        ("users", Op::Gql("{ users { totalCount } }", json!({})), true),
        (
            "user(id)",
            Op::Gql("query($id: ID!) { user(id: $id) { name } }", json!({ "id": lee })),
            true,
        ),
        ("matters", Op::Gql("{ matters { totalCount } }", json!({})), false),
        (
            "matter(id)",
            Op::Gql("query($id: ID!) { matter(id: $id) { id } }", json!({ "id": smith })),
            false,
        ),
        (
            "matters(filter id)",
            Op::Gql(
                "query($id: ID) { matters(filter: {responsibleAttorneyId: $id}) { totalCount } }",
                json!({ "id": lee }),
            ),
            false,
        ),
        (
            "reassignmentPreview",
            Op::Gql(
                "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { previewToken } }",
                json!({ "i": input }),
            ),
            true,
        ),
        ("reassignWork", Op::Gql(apply, json!({ "i": input })), true),
        (
            "reassignments",
            Op::Gql("{ reassignments { totalCount } }", json!({})),
            true,
        ),
        (
            "reassignment(id)",
            Op::Gql(
                "query($id: ID!) { reassignment(id: $id) { id } }",
                json!({ "id": batch }),
            ),
            true,
        ),
        (
            "notifications",
            Op::Gql("{ notifications { totalCount } }", json!({})),
            false,
        ),
        (
            "markNotificationsRead",
            Op::Gql("mutation { markNotificationsRead(all: true) { count } }", json!({})),
            false,
        ),
        (
            "report.csv",
            Op::Get(format!("/reassignments/{batch}/report.csv")),
            true,
        ),
        (
            "report.json",
            Op::Get(format!("/reassignments/{batch}/report.json")),
            true,
        ),
        (
            "planHandover",
            Op::Gql(plan_q, json!({ "i": { "work": input, "startsOn": next_week } })),
            true,
        ),
        (
            "plannedHandovers",
            Op::Gql("{ plannedHandovers { totalCount } }", json!({})),
            true,
        ),
        (
            "plannedHandover(id)",
            Op::Gql(
                "query($id: ID!) { plannedHandover(id: $id) { status } }",
                json!({ "id": plan }),
            ),
            true,
        ),
        (
            "cancelPlannedHandover",
            Op::Gql(
                "mutation($id: ID!) { cancelPlannedHandover(id: $id) { userErrors { code } } }",
                json!({ "id": plan }),
            ),
            true,
        ),
        (
            "deactivateUser",
            Op::Gql(
                "mutation($id: ID!) { deactivateUser(id: $id) { userErrors { code } } }",
                json!({ "id": lee }),
            ),
            true,
        ),
        (
            "reactivateUser",
            Op::Gql(
                "mutation($id: ID!) { reactivateUser(id: $id) { userErrors { code } } }",
                json!({ "id": lee }),
            ),
            true,
        ),
        (
            "undoReassignment",
            Op::Gql(
                "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code } } }",
                json!({ "id": batch }),
            ),
            true,
        ),
    ];

    let sub = app.keys.verify(&admin).unwrap().sub().unwrap().to_string();
    let lee_sub = handover::ids::encode(handover::ids::Kind::User, {
        use sea_orm::ColumnTrait;
        one::<entity::user::Entity>(&app.db, entity::user::Column::Email.eq("lee@demo.test"))
            .await
            .id
    });
    let none_alg = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&json!({ "sub": sub, "exp": now() + 600, "iss": ISS, "aud": AUD })).unwrap())
    );
    let bad: Vec<(&str, String)> = vec![
        ("no token", String::new()),
        (
            "expired",
            forged(&sub, |c| c.exp = now() - 3600, Algorithm::HS256, SECRET),
        ),
        (
            "wrong key",
            forged(&sub, |_| {}, Algorithm::HS256, b"another-secret-another-secret-12345"),
        ),
        ("wrong algorithm", forged(&sub, |_| {}, Algorithm::HS512, SECRET)),
        ("alg none", none_alg),
        (
            "wrong iss",
            forged(
                &sub,
                |c| c.iss = Some("https://evil.test".into()),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "wrong aud",
            forged(&sub, |c| c.aud = Some("other-api".into()), Algorithm::HS256, SECRET),
        ),
        ("deactivated user", forged(&lee_sub, |_| {}, Algorithm::HS256, SECRET)),
        (
            "SSO: the other firm's provider naming this firm's admin",
            sso(&other_idp, &other_key, "alice@demo.test", true),
        ),
        (
            "SSO: unverified email",
            sso(&demo_idp, &demo_key, "alice@demo.test", false),
        ),
        (
            "SSO: this firm's issuer, the other firm's key",
            other_key.sign(&json!({ "iss": demo_idp.issuer, "aud": AUD, "exp": now() + 600,
                                    "email": "alice@demo.test", "email_verified": true })),
        ),
        (
            "SSO: deactivated user",
            sso(&demo_idp, &demo_key, "lee@demo.test", true),
        ),
    ];

    let before = snapshot(&app.db).await;
    let mut tried = 0;
    let mut failures = Vec::new();
    let mut check = |who: &str, op: &str, got: String, want: &str| {
        tried += 1;
        if got != want {
            failures.push(format!("{who} / {op}: got {got}, want {want}"));
        }
    };
    for (who, token) in &bad {
        for (name, op, _) in &ops {
            check(who, name, outcome(&app, token, op).await, "UNAUTHENTICATED");
        }
    }
    let bob = app.token("bob@demo.test").await;
    let bob_sso = sso(&demo_idp, &demo_key, "BOB@demo.test", true);
    for (who, token) in [("member", &bob), ("member (SSO)", &bob_sso)] {
        for (name, op, admin_only) in &ops {
            let want = match *name {
                "matters(filter id)"
                | "matter(id)"
                | "matters"
                | "viewer"
                | "notifications"
                | "markNotificationsRead" => "OK",
                _ if *admin_only => "FORBIDDEN",
                _ => "OK",
            };
            check(who, name, outcome(&app, token, op).await, want);
        }
    }
    let (_, body) = app
        .gql(
            &bob,
            "query($id: ID!) { matter(id: $id) { id } }",
            json!({ "id": whitman }),
        )
        .await;
    check(
        "member",
        "matter(private to someone else)",
        error_code(&body).to_string(),
        "NOT_FOUND",
    );
    let olga = app.token("olga@other.test").await;
    let olga_sso = sso(&other_idp, &other_key, "olga@other.test", true);
    for (who, token) in [("other firm's admin", &olga), ("other firm's admin (SSO)", &olga_sso)] {
        for (name, op, _) in &ops {
            let want = match *name {
                "viewer"
                | "users"
                | "matters"
                | "reassignments"
                | "plannedHandovers"
                | "notifications"
                | "markNotificationsRead" => "OK",
                _ => "NOT_FOUND",
            };
            check(who, name, outcome(&app, token, op).await, want);
        }
    }
    assert!(snapshot(&app.db).await == before, "a refused call changed something");
    for (name, op, _) in &ops {
        check("admin", name, outcome(&app, &admin, op).await, "OK");
    }
    // The same administrator through the provider, after the run above changed the state: the
    // operations that cannot run twice answer with their business refusal (proof that they
    // reached the rule, as an administrator), every other is OK.
    let admin_sso = sso(&demo_idp, &demo_key, "alice@demo.test", true);
    for (name, op, _) in &ops {
        let want = match *name {
            "planHandover" => "OVERLAPS",
            "cancelPlannedHandover" => "NOT_CANCELLABLE",
            "deactivateUser" => "HOLDS_WORK",
            "undoReassignment" => "ALREADY_UNDONE",
            _ => "OK",
        };
        check("admin (SSO)", name, outcome(&app, &admin_sso, op).await, want);
    }
    eprintln!(
        "authorization matrix ({backend:?}): {tried} calls tried, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

on_both_databases!(exactly_the_firms_administrators);
