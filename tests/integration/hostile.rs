//! Hostile input at both doors (issue: one policy at every door). Every limit and credential
//! case runs through HTTP and WebSocket from one table; sockets lose their rights when the user
//! does; slow and greedy clients are cut off; thousands of generated hostile documents never
//! crash the process or come back as `INTERNAL`.

use crate::common::*;
use crate::on_both_databases;
use handover::config::QueryLimits;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a case must answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Data,
    Code(&'static str),
}

/// The answer of one operation over a WebSocket, shaped like an HTTP body: `{"data": …}` or
/// `{"errors": […]}`.
async fn ws_answer(socket: &mut Socket, id: &str, query: &str, variables: &Value) -> Value {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
    let message = next(socket).await;
    match message["type"].as_str() {
        Some("error") => json!({ "errors": message["payload"] }),
        Some("next") => {
            let done = next(socket).await;
            assert_eq!(done["type"], "complete", "{done}");
            message["payload"].clone()
        }
        _ => json!({ "closed": message }),
    }
}

fn check(door: &str, name: &str, body: &Value, expect: Expect) {
    match expect {
        Expect::Data => assert!(
            body.get("errors").is_none() && body["data"].is_object(),
            "{door} {name}: {body}"
        ),
        Expect::Code(code) => assert_eq!(error_code(body), code, "{door} {name}: {body}"),
    }
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

fn fragment_bomb(levels: usize) -> String {
    let mut doc = String::from("query { ...F0 }\n");
    for i in 0..levels {
        doc.push_str(&format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1));
    }
    doc.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
    doc
}

async fn every_limit_and_credential_case_at_both_doors(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("alice@demo.test").await;
    let member = app.token("bob@demo.test").await;
    let olga = app.token("olga@other.test").await;
    let foreign_user = app.data(&olga, "{ viewer { id } }", json!({})).await["viewer"]["id"].clone();
    let deep_json = (0..100).fold(json!(1), |v, _| json!([v]));
    let search = "query($s: String) { users(filter: {search: $s}) { totalCount } }";
    let aliases: String = (0..1500).map(|i| format!("a{i}: __typename ")).collect();
    let deep_selection = format!(
        "{{ __schema {{ types {} }} }}",
        nested("{ fields { type ", "{ name }", " } }", 9)
    );

    let cases: Vec<(&str, &str, String, Value, Expect)> = vec![
        (
            "a plain query",
            "admin",
            "{ viewer { email } }".into(),
            json!({}),
            Expect::Data,
        ),
        (
            "a list literal 3,000 deep",
            "member",
            format!("{{ viewer(x: {}) {{ email }} }}", nested("[", "1", "]", 3000)),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "an object literal 3,000 deep",
            "member",
            format!(
                "{{ users(filter: {}) {{ totalCount }} }}",
                nested("{a: ", "1", "}", 3000)
            ),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "a variable default 3,000 deep",
            "member",
            format!(
                "query($v: [Int] = {}) {{ viewer {{ email }} }}",
                nested("[", "1", "]", 3000)
            ),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "a directive argument 3,000 deep",
            "member",
            format!(
                "{{ viewer @include(if: {}) {{ email }} }}",
                nested("[", "true", "]", 3000)
            ),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "variables 100 deep",
            "member",
            search.into(),
            json!({ "s": deep_json }),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "a fragment bomb",
            "member",
            fragment_bomb(19),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "1,500 aliases",
            "member",
            format!("{{ {aliases} }}"),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "a 40 KB document",
            "member",
            format!("{{ viewer {{ email }} }} #{}", "x".repeat(40_000)),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "selections too deep",
            "admin",
            deep_selection,
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "NUL in a variable",
            "admin",
            search.into(),
            json!({ "s": "a\u{0}b" }),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "NUL escaped in a literal",
            "admin",
            "{ users(filter: {search: \"a\\u0000b\"}) { totalCount } }".into(),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "a 50,001-character search",
            "admin",
            search.into(),
            json!({ "s": "x".repeat(50_001) }),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "an unknown operation name",
            "admin",
            "query A { viewer { email } } query B { viewer { name } }".into(),
            json!({}),
            Expect::Code("BAD_USER_INPUT"),
        ),
        (
            "an administrator's query as a member",
            "member",
            "{ users { totalCount } }".into(),
            json!({}),
            Expect::Code("FORBIDDEN"),
        ),
        (
            "another firm's user",
            "admin",
            "query($id: ID!) { user(id: $id) { name } }".into(),
            json!({ "id": foreign_user }),
            Expect::Code("NOT_FOUND"),
        ),
        (
            "history filtered by another firm's user",
            "admin",
            "query($id: ID!) { reassignments(fromUserId: $id) { totalCount } }".into(),
            json!({ "id": foreign_user }),
            Expect::Code("NOT_FOUND"),
        ),
        (
            "a malformed ID",
            "admin",
            "{ reassignment(id: \"%%%\") { id } }".into(),
            json!({}),
            Expect::Code("NOT_FOUND"),
        ),
    ];

    let mut admin_socket = connect(&app).await;
    init(&mut admin_socket, &admin).await;
    let mut member_socket = connect(&app).await;
    init(&mut member_socket, &member).await;
    let before = snapshot(&app.db).await;
    for (i, (name, who, query, variables, expect)) in cases.iter().enumerate() {
        let token = if *who == "admin" { &admin } else { &member };
        let (_, body) = app.gql(token, query, variables.clone()).await;
        check("HTTP", name, &body, *expect);
        let socket = if *who == "admin" {
            &mut admin_socket
        } else {
            &mut member_socket
        };
        let body = ws_answer(socket, &format!("op{i}"), query, variables).await;
        check("WebSocket", name, &body, *expect);
    }
    assert!(snapshot(&app.db).await == before, "a refused request changed something");

    // Credentials: HTTP answers 401, a WebSocket `connection_init` is closed with 4403.
    let sub = app.data(&member, "{ viewer { id } }", json!({})).await["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = handover::auth::JwtKeys::hs256(b"not-the-server-secret-not-the-server-secret", None, None)
        .sign(&sub, 600)
        .unwrap();
    let expired = {
        use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
        let claims = json!({ "sub": sub, "exp": 1_000_000_000u64 });
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    };
    let deactivated = app.token("frank@demo.test").await;
    set_user(&app, "frank@demo.test", "enabled", false).await;
    for (name, token) in [("forged", forged), ("expired", expired), ("deactivated", deactivated)] {
        let (status, body) = app.gql(&token, "{ viewer { email } }", json!({})).await;
        assert_eq!(
            (status, error_code(&body)),
            (401, "UNAUTHENTICATED"),
            "HTTP {name}: {body}"
        );
        let mut socket = connect(&app).await;
        send(
            &mut socket,
            json!({ "type": "connection_init", "payload": { "token": token } }),
        )
        .await;
        assert_eq!(next(&mut socket).await, json!({ "close": 4403 }), "WebSocket {name}");
    }
}

/// Change one column of a user, as an import or another administrator would.
async fn set_user(app: &TestApp, email: &str, column: &str, value: bool) {
    let sql = format!(
        "UPDATE \"user\" SET {column} = {} WHERE email = '{email}'",
        if value { "TRUE" } else { "FALSE" }
    );
    app.change_users_by_hand(&sql).await;
}

async fn an_open_socket_never_outlives_its_rights(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            limits: Some(QueryLimits {
                ws_recheck_interval: 1,
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;

    // Demoted: the next operation runs with the rights of now.
    let olivia = app.token("olivia@demo.test").await;
    let mut socket = connect(&app).await;
    init(&mut socket, &olivia).await;
    let users = "{ users { totalCount } }";
    let body = ws_answer(&mut socket, "1", users, &json!({})).await;
    assert!(body["data"]["users"]["totalCount"].as_i64().unwrap() > 0, "{body}");
    set_user(&app, "olivia@demo.test", "account_admin", false).await;
    let body = ws_answer(&mut socket, "2", users, &json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Deactivated: the next operation closes the socket with 4403.
    let carol = app.token("carol@demo.test").await;
    let mut socket = connect(&app).await;
    init(&mut socket, &carol).await;
    set_user(&app, "carol@demo.test", "enabled", false).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ viewer { email } }" } }),
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({ "close": 4403 }));

    // Deactivated while only subscribed: the periodic re-check closes it with 4403.
    let dan = app.token("dan@demo.test").await;
    let mut socket = connect(&app).await;
    init(&mut socket, &dan).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { workAssigned { id } }" } }),
    )
    .await;
    set_user(&app, "dan@demo.test", "enabled", false).await;
    assert_eq!(next(&mut socket).await, json!({ "close": 4403 }));

    // The token expires: closed with 4403 at its `exp`.
    let short = handover::cli::token_for_email(&app.db, &app.keys, "grace@demo.test", Some("demo"), 2)
        .await
        .unwrap();
    let mut socket = connect(&app).await;
    init(&mut socket, &short).await;
    assert_eq!(next(&mut socket).await, json!({ "close": 4403 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_and_operations_are_capped_per_user_and_connection() {
    let app = spawn_app_with_limits(QueryLimits {
        max_websockets_per_user: 2,
        max_operations_per_connection: 2,
        ..Default::default()
    })
    .await;
    let bob = app.token("bob@demo.test").await;
    let mut first = connect(&app).await;
    init(&mut first, &bob).await;
    let mut second = connect(&app).await;
    init(&mut second, &bob).await;
    let mut third = connect(&app).await;
    send(
        &mut third,
        json!({ "type": "connection_init", "payload": { "token": bob } }),
    )
    .await;
    assert_eq!(next(&mut third).await, json!({ "close": 1013 }));
    // Someone else is not affected.
    let mut carol = connect(&app).await;
    init(&mut carol, &app.token("carol@demo.test").await).await;

    let live = json!({ "query": "subscription { workAssigned { id } }" });
    for id in ["a", "b"] {
        send(&mut first, json!({ "id": id, "type": "subscribe", "payload": live })).await;
    }
    send(&mut first, json!({ "id": "c", "type": "subscribe", "payload": live })).await;
    let refused = next(&mut first).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // The connection stays usable: closing one makes room.
    send(&mut first, json!({ "id": "a", "type": "complete" })).await;
    let body = ws_answer(&mut first, "d", "{ viewer { email } }", &json!({})).await;
    assert_eq!(body["data"]["viewer"]["email"], "bob@demo.test", "{body}");

    // A socket that closes gives its place back.
    drop(second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = connect(&app).await;
    init(&mut again, &bob).await;
}

/// Whether the server closed this connection (EOF or reset) within `within`.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(within, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_greedy_clients_are_cut_off() {
    let app = spawn_app_with_limits(QueryLimits {
        header_read_timeout: 1,
        body_read_timeout: 1,
        max_connections: 4,
        ..Default::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let token = app.token("bob@demo.test").await;

    // Half a request head: closed after the header read timeout.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(4)).await,
        "half a head was held"
    );

    // A body that never arrives: 408 with a code after the body read timeout.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\""
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(4), slow.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"BAD_USER_INPUT\""), "{answer}");

    // The connection cap: the fifth connection is closed at once; the others still work.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = tokio::net::TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_millis(500)).await,
        "over the cap, yet held"
    );
    let first = &mut held[0];
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), first.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Held connections that send nothing are dropped after the header timeout: room again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_has_a_deadline() {
    let db = fresh_database(Backend::Sqlite, tempfile::tempdir().unwrap().keep().as_path()).await;
    let limits = QueryLimits {
        header_read_timeout: 3600,
        shutdown_timeout: 1,
        ..Default::default()
    };
    let state = handover::AppState::new(db, handover::auth::JwtKeys::hs256(SECRET, None, None), limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(handover::http::server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    // A client that sends half a request and then nothing.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = std::time::Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops within its shutdown deadline")
        .unwrap();
    assert!(asked.elapsed() < Duration::from_secs(3), "took {:?}", asked.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_outside_execution_carry_a_code() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.token("alice@demo.test").await;
    let put = app
        .client
        .put(format!("{}/graphql", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 405);
    let body: Value = put.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let huge = json!({ "query": format!("{{ viewer {{ email }} }} #{}", "x".repeat(300_000)) });
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&token)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let missing = app
        .client
        .get(format!("{}/nothing-here", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(error_code(&body), "NOT_FOUND");

    // 5,000 IDs that name no matter: a short answer, not one error per ID.
    let lee = app.user_id(&token, "lee@demo.test").await;
    let bob = app.user_id(&token, "bob@demo.test").await;
    let ids: Vec<String> = (0..5000).map(|i| format!("garbage-{i}")).collect();
    let q = "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { previewToken } }";
    let (_, body) = app
        .gql(
            &token,
            q,
            json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob, "matterIds": ids } }),
        )
        .await;
    let errors = body["errors"].as_array().unwrap();
    assert!(errors.len() <= 21, "{} errors", errors.len());
    assert!(body.to_string().len() < 20_000, "{} bytes", body.to_string().len());
}

/// Valid documents the fuzzer starts from.
const CORPUS: [&str; 8] = [
    "{ viewer { id name email accountAdmin } }",
    "query($s: String) { users(first: 5, filter: {search: $s}) { totalCount nodes { id name } pageInfo { hasNextPage endCursor } } }",
    "{ matters(first: 3) { edges { cursor node { id displayNumber responsibleAttorney { name } } } } }",
    "query Q($id: ID!) { user(id: $id) { name openMatters { totalCount } } }",
    "{ notifications(first: 2, unreadOnly: true) { totalCount nodes { title body } } }",
    "{ reassignments(first: 2) { totalCount nodes { id status } } }",
    "fragment U on User { id name } { viewer { ...U } users(first: 2) { nodes { ...U } } }",
    "mutation { markNotificationsRead(all: true) { count userErrors { code } } }",
];

const ALPHABET: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "\"\"\"",
    "\\",
    "#",
    "$",
    "@",
    ":",
    "!",
    ",",
    "...",
    "é",
    "𝔘",
    "\u{0}",
    "\\u0000",
    "\n",
    " ",
    "a",
    "1",
    "-",
    "__typename",
    "query",
    "fragment",
    "on",
    "null",
    "true",
];

/// One hostile document and its variables, from the seeded generator.
fn hostile(rng: &mut rand::rngs::StdRng) -> (String, Value) {
    let pick = |rng: &mut rand::rngs::StdRng, items: &[&str]| items[rng.random_range(0..items.len())].to_string();
    let base = CORPUS[rng.random_range(0..CORPUS.len())].to_string();
    let doc = match rng.random_range(0..8) {
        // Deep nesting in a value position, of every bracket kind.
        0 => {
            let depth = rng.random_range(50..4000);
            let (open, close) = [("[", "]"), ("{a:", "}"), ("(", ")"), ("{", "}")][rng.random_range(0..4)];
            let at = ["x: ", "$v: [Int] = ", "@include(if: "][rng.random_range(0..3)];
            format!(
                "query($v: Int) {{ viewer({at}{}) {{ id }} }}",
                nested(open, "1", close, depth)
            )
        }
        // Random edits of a valid document.
        1..=3 => {
            let mut chars: Vec<String> = base.chars().map(String::from).collect();
            for _ in 0..rng.random_range(1..12) {
                let at = rng.random_range(0..=chars.len());
                match rng.random_range(0..3) {
                    0 => chars.insert(at, pick(rng, ALPHABET)),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => chars.truncate(at),
                }
            }
            chars.concat()
        }
        // Fragment chains, cycles and bombs.
        4 => {
            let n = rng.random_range(2..40);
            let mut doc = String::from("{ ...F0 }\n");
            for i in 0..n {
                let target = if rng.random_bool(0.2) { 0 } else { i + 1 };
                doc.push_str(&format!("fragment F{i} on Query {{ ...F{target} ...F{target} }}\n"));
            }
            doc.push_str(&format!("fragment F{n} on Query {{ __typename }}\n"));
            doc
        }
        // Many aliases, many directives.
        5 => {
            let n = rng.random_range(100..2500);
            let piece = if rng.random_bool(0.5) {
                "__typename @skip(if: false) "
            } else {
                "viewer { id } "
            };
            (0..n).map(|i| format!("a{i}: {piece}")).collect()
        }
        // Odd strings in argument values.
        6 => {
            let text: String = (0..rng.random_range(1..200)).map(|_| pick(rng, ALPHABET)).collect();
            format!(
                "{{ users(filter: {{search: \"{}\"}}) {{ totalCount }} }}",
                text.replace('"', "'")
            )
        }
        // Junk.
        _ => (0..rng.random_range(1..400)).map(|_| pick(rng, ALPHABET)).collect(),
    };
    let variables = match rng.random_range(0..4) {
        0 => json!({ "s": (0..rng.random_range(0..300)).map(|_| pick(rng, ALPHABET)).collect::<String>(), "id": "x" }),
        1 => json!({ "s": (0..rng.random_range(1..120)).fold(json!("x"), |v, _| json!([v])) }),
        2 => json!({ "v": (0..rng.random_range(1..90)).fold(json!(1), |v, _| json!({ "a": v })) }),
        _ => json!({}),
    };
    (doc, variables)
}

/// Whether an answer is well-formed and not an internal error.
fn well_formed(body: &Value) -> Result<(), String> {
    if let Some(errors) = body.get("errors") {
        let errors = errors.as_array().ok_or("errors is not a list")?;
        if errors.is_empty() {
            return Err("empty errors".into());
        }
        for e in errors {
            match e["extensions"]["code"].as_str() {
                None => return Err(format!("an error without a code: {e}")),
                Some("INTERNAL") => return Err(format!("INTERNAL: {e}")),
                Some(_) => {}
            }
        }
        Ok(())
    } else if body.get("data").is_some() {
        Ok(())
    } else {
        Err("neither data nor errors".into())
    }
}

async fn thousands_of_hostile_documents_through_both_doors(backend: Backend) {
    let per_door: usize = std::env::var("HANDOVER_FUZZ_DOCUMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5000);
    let app = spawn_app(backend).await;
    let token = app.token("alice@demo.test").await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261128);
    let (mut refused, mut answered) = (0usize, 0usize);
    for i in 0..per_door {
        let (doc, variables) = hostile(&mut rng);
        let res = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&token)
            .json(&json!({ "query": doc, "variables": variables }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("HTTP document {i}: no answer ({e}): {doc:.200}"));
        let status = res.status().as_u16();
        assert!([200, 400, 413].contains(&status), "HTTP document {i}: status {status}");
        let body: Value = res
            .json()
            .await
            .unwrap_or_else(|_| panic!("HTTP document {i}: not JSON"));
        well_formed(&body).unwrap_or_else(|why| panic!("HTTP document {i}: {why}: {doc:.300}"));
        if body.get("errors").is_some() {
            refused += 1
        } else {
            answered += 1
        }
    }
    let mut socket = connect(&app).await;
    init(&mut socket, &token).await;
    for i in 0..per_door {
        let (doc, variables) = hostile(&mut rng);
        let body = ws_answer(&mut socket, &format!("h{i}"), &doc, &variables).await;
        assert!(
            body.get("closed").is_none(),
            "WebSocket document {i} closed the socket: {body}: {doc:.300}"
        );
        well_formed(&body).unwrap_or_else(|why| panic!("WebSocket document {i}: {why}: {doc:.300}"));
        if body.get("errors").is_some() {
            refused += 1
        } else {
            answered += 1
        }
    }
    // Still alive and serving.
    let data = app.data(&token, "{ viewer { email } }", json!({})).await;
    assert_eq!(data["viewer"]["email"], "alice@demo.test");
    println!(
        "hostile documents: {} (HTTP {per_door}, WebSocket {per_door}); {refused} refused with a code, \
         {answered} answered; 0 crashes, 0 INTERNAL",
        2 * per_door
    );
}

on_both_databases!(
    every_limit_and_credential_case_at_both_doors,
    an_open_socket_never_outlives_its_rights,
    thousands_of_hostile_documents_through_both_doors
);
