//! The binary as an operator uses it.

use std::process::Command;

fn handover() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_handover"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("HANDOVER_JWT_SECRET")
        .env("HANDOVER_LOG", "warn");
    cmd
}

#[test]
fn import_token_and_schema_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/demo-firm.json");

    let out = handover()
        .args(["import", demo, "--database-url", &db])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("60 records written"));
    let out = handover()
        .args(["import", demo, "--database-url", &db])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 records written"),
        "second import writes nothing"
    );

    // A broken file: exit status 1, every problem by JSON path, nothing written.
    let broken = dir.path().join("broken.json");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    doc["users"][0]["email"] = "not-an-email".into();
    doc["tasks"][3]["status"] = "DONE".into();
    std::fs::write(&broken, doc.to_string()).unwrap();
    let out = handover()
        .args(["import", broken.to_str().unwrap(), "--database-url", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("$.users[0].email") && err.contains("$.tasks[3].status"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");

    let secret = "cli-test-secret-cli-test-secret-0123456789";
    let out = handover()
        .args([
            "token",
            "--email",
            "alice@demo.test",
            "--database-url",
            &db,
            "--jwt-secret",
            secret,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap();
    let keys = handover::auth::JwtKeys::hs256(secret.as_bytes(), None, None);
    assert!(keys.verify(token.trim()).is_ok());
    let out = handover()
        .args([
            "token",
            "--email",
            "lee@demo.test",
            "--database-url",
            &db,
            "--jwt-secret",
            secret,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "no token for a deactivated user");

    let out = handover().arg("schema").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), handover::graphql::sdl());
}

#[test]
fn serve_refuses_to_start_without_a_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let out = handover()
        .args(["serve", "--database-url", &db, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jwt-secret"));
}

#[test]
fn nonsense_limits_are_refused_at_start_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    for (flag, value) in [
        ("--max-reassignments-per-minute", "0"),
        ("--max-connections", "0"),
        ("--max-concurrent-plans", "0"),
        ("--max-concurrent-plans", "100000"),
        ("--max-nesting", "100000"),
        ("--header-read-timeout", "-1"),
        ("--max-depth", "lots"),
    ] {
        let out = handover()
            .args(["serve", "--demo", "--database-url", &db, "--listen", "127.0.0.1:0"])
            .arg(format!("{flag}={value}"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
    }
}

/// The first of the README's two commands: a demo that shows every capability out of the box,
/// a scheduled plan included (Carol's leave, from next Monday for three weeks).
#[tokio::test]
async fn the_demo_server_shows_a_scheduled_plan() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/demo.db", dir.path().display());
    let mut server = handover()
        .args(["serve", "--demo", "--database-url", &db, "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let (mut base, mut token) = (None, None);
    while let Some(Ok(line)) = lines.next() {
        if let Some(url) = line.strip_prefix("GraphiQL: ") {
            base = Some(url.trim_end_matches("/graphiql").to_string());
        }
        if line.starts_with("Demo administrator") {
            token = lines.next().and_then(Result::ok).map(|t| t.trim().to_string());
            break;
        }
    }
    let (base, token) = (base.expect("address printed"), token.expect("token printed"));
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "query":
            "{ plannedHandovers { nodes { status fromUser { name } returnsAt startsAt previewNow { matters { count toUser { name } } } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let plan = &body["data"]["plannedHandovers"]["nodes"][0];
    assert_eq!(plan["status"], "SCHEDULED", "{body}");
    assert_eq!(plan["fromUser"]["name"], "Carol Counsel");
    assert_eq!(plan["previewNow"]["matters"]["toUser"]["name"], "Dan Defender");
    let starts = chrono::DateTime::parse_from_rfc3339(plan["startsAt"].as_str().unwrap()).unwrap();
    let returns = chrono::DateTime::parse_from_rfc3339(plan["returnsAt"].as_str().unwrap()).unwrap();
    assert_eq!((returns - starts).num_days(), 21, "three weeks");
    assert!(starts > chrono::Utc::now(), "from next Monday");
}

/// An import that deactivates someone who still holds work goes through, and says so per user.
#[test]
fn an_import_that_deactivates_a_holder_warns() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/demo-firm.json");
    let out = handover()
        .args(["import", demo, "--database-url", &db])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    for user in doc["users"].as_array_mut().unwrap() {
        if user["key"] == "carol" {
            user["enabled"] = serde_json::json!(false);
        }
    }
    let file = dir.path().join("carol-leaves.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = handover()
        .args(["import", file.to_str().unwrap(), "--database-url", &db])
        .output()
        .unwrap();
    assert!(out.status.success(), "the import goes through");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "warning: Carol Counsel <carol@demo.test> is now deactivated and still holds work that would move: 1 matter"
        ),
        "{stderr}"
    );
}
