//! The test harness: a fresh database per test (a SQLite file in a temp dir, or a new database
//! on the PostgreSQL cluster named by `HANDOVER_TEST_POSTGRES_URL`), migrated, loaded with the
//! demo firm (dates moved to today) and a second firm, and the app served on port 0.

#![allow(dead_code)]

use handover::AppState;
use handover::auth::JwtKeys;
use handover::config::QueryLimits;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";
pub const POSTGRES_ENV: &str = "HANDOVER_TEST_POSTGRES_URL";
pub const DEMO: &str = include_str!("../../demo/demo-firm.json");
pub const OTHER_FIRM: &str = include_str!("../fixtures/other-firm.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Write the same scenario once and run it on both databases. The PostgreSQL variant is
/// ignored by default, with the reason; `.ci/run` starts a cluster and runs it.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set HANDOVER_TEST_POSTGRES_URL (.ci/run starts a throwaway cluster)"]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            }
        )+
    };
}

pub struct TestApp {
    pub base: String,
    /// The database URL, for a second server instance on the same database.
    pub url: String,
    pub db: DatabaseConnection,
    /// The server's live delivery, for domain calls made beside it (the scheduler's tick).
    pub live: handover::notify::Live,
    pub keys: JwtKeys,
    pub client: reqwest::Client,
    /// SQL statements executed through the app's connection pool.
    pub statements: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

#[derive(Default, Clone)]
pub struct Options {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub limits: Option<QueryLimits>,
    pub cors_origins: Vec<String>,
    /// The server's token policy, instead of HS256 with `SECRET` (and `issuer`, `audience`).
    pub keys: Option<JwtKeys>,
}

pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> DatabaseConnection {
    fresh_database_url(backend, dir).await.1
}

/// A fresh, migrated database and its URL.
pub async fn fresh_database_url(backend: Backend, dir: &std::path::Path) -> (String, DatabaseConnection) {
    let (url, db) = empty_database_url(backend, dir).await;
    handover::db::migrate(&db).await.expect("migrate");
    (url, db)
}

/// A fresh database with no tables yet, and its URL.
pub async fn empty_database_url(backend: Backend, dir: &std::path::Path) -> (String, DatabaseConnection) {
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/test.db", dir.display()),
        Backend::Postgres => {
            let base = std::env::var(POSTGRES_ENV)
                .unwrap_or_else(|_| panic!("{POSTGRES_ENV} is not set: PostgreSQL tests need a cluster (see .ci/run)"));
            let base = base.trim_end_matches('/').to_string();
            let admin = handover::db::connect(&format!("{base}/postgres"))
                .await
                .expect("connect to PostgreSQL");
            drop_abandoned_databases(&admin).await;
            let name = format!("handover_test_{}", rand_suffix());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            format!("{base}/{name}")
        }
    };
    let db = handover::db::connect(&url).await.expect("connect");
    (url, db)
}

/// Drops the test databases of test processes that have ended, once per test process. A test
/// leaves its database behind (its pools may still be open when it returns), and a cluster kept
/// between runs filled up with them: hundreds on a developer's machine after a day. A name
/// carries its process's id ([`rand_suffix`]); one whose process still runs is left alone. Only
/// where `/proc` says which processes run.
async fn drop_abandoned_databases(admin: &DatabaseConnection) {
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::SeqCst) || !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let names = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'handover\\_test\\_%'",
        ))
        .await
        .unwrap_or_default();
    for row in names {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let pid = name
            .strip_prefix("handover_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .await
                .ok();
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{}", std::process::id(), nanos)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

/// A SQLite app with these query and connection limits.
pub async fn spawn_app_with_limits(limits: QueryLimits) -> TestApp {
    spawn_app_on_with_limits(Backend::Sqlite, limits).await
}

pub async fn spawn_app_on_with_limits(backend: Backend, limits: QueryLimits) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            limits: Some(limits),
            ..Default::default()
        },
    )
    .await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, mut db) = fresh_database_url(backend, dir.path()).await;
    handover::import::import_text(&db, DEMO, true)
        .await
        .expect("demo import");
    handover::import::import_text(&db, OTHER_FIRM, false)
        .await
        .expect("other firm import");

    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::SeqCst);
        if std::env::var_os("HANDOVER_TEST_SHOW_SQL").is_some() {
            eprintln!("SQL: {}", info.statement.sql);
        }
    });

    let keys = options
        .keys
        .clone()
        .unwrap_or_else(|| JwtKeys::hs256(SECRET, options.issuer.clone(), options.audience.clone()));
    let state = AppState::new(db.clone(), keys.clone(), options.limits.clone().unwrap_or_default())
        .with_cors_origins(options.cors_origins.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let live = state.live.clone();
    tokio::spawn(async move {
        handover::http::server::serve(listener, state, std::future::pending()).await;
    });
    TestApp {
        base,
        url,
        db,
        live,
        keys,
        client: reqwest::Client::new(),
        statements,
        _dir: dir,
    }
}

impl TestApp {
    /// Another server process's worth of state (its own pool, hub and listener) on the same
    /// database, served on its own port; returns its base URL.
    pub async fn second_instance(&self) -> String {
        let db = handover::db::connect(&self.url).await.expect("connect");
        let state = AppState::new(db, self.keys.clone(), QueryLimits::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            handover::http::server::serve(listener, state, std::future::pending()).await;
        });
        base
    }

    pub async fn token(&self, email: &str) -> String {
        let firm = if email.ends_with("@other.test") {
            "other"
        } else {
            "demo"
        };
        handover::cli::token_for_email(&self.db, &self.keys, email, Some(firm), 600)
            .await
            .expect("token")
    }

    /// POST a GraphQL request with a bearer token; returns the status and the JSON body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.expect("JSON body"))
    }

    /// As `gql`, for requests that must succeed: panics on errors, returns `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql(token, query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// `reassignmentPreview(input)` selecting `fields`: the preview.
    pub async fn preview(&self, token: &str, input: &Value, fields: &str) -> Value {
        let query = format!("query($i: ReassignWorkInput!) {{ reassignmentPreview(input: $i) {{ {fields} }} }}");
        self.data(token, &query, json!({ "i": input })).await["reassignmentPreview"].take()
    }

    /// `reassignWork(input)`: the payload, `replayed`, `userErrors` and `reassignment { fields }`.
    pub async fn reassign(&self, token: &str, input: &Value, fields: &str) -> Value {
        let query = format!(
            "mutation($i: ReassignWorkInput!) {{ reassignWork(input: $i) {{ {} }} }}",
            payload(fields)
        );
        self.data(token, &query, json!({ "i": input })).await["reassignWork"].take()
    }

    /// `undoReassignment(id)`: the payload, as for `reassign`.
    pub async fn undo(&self, token: &str, id: &Value, fields: &str) -> Value {
        let query = format!(
            "mutation($id: ID!) {{ undoReassignment(id: $id) {{ {} }} }}",
            payload(fields)
        );
        self.data(token, &query, json!({ "id": id })).await["undoReassignment"].take()
    }

    /// Change users by hand (SQL outside handover, as an operator might): `change` runs, then
    /// this waits until the server has heard of it (PostgreSQL: the trigger's NOTIFY reaching the
    /// listener, which empties the viewers' cache; SQLite keeps no viewers).
    pub async fn change_users_by_hand(&self, sql: &str) {
        use sea_orm::ConnectionTrait;
        let heard = self.live.viewers.changes_heard();
        self.db.execute_unprepared(sql).await.expect("change users");
        if self.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let started = std::time::Instant::now();
            while self.live.viewers.changes_heard() == heard {
                assert!(started.elapsed() < Duration::from_secs(5), "the change was never heard");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    pub fn reset_statements(&self) {
        self.statements.store(0, Ordering::SeqCst);
    }

    pub fn statement_count(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    /// The ID of a user found by email (via the admin API).
    pub async fn user_id(&self, admin_token: &str, email: &str) -> String {
        let data = self
            .data(
                admin_token,
                "query($s: String) { users(filter: {search: $s}) { nodes { id email } } }",
                json!({ "s": email }),
            )
            .await;
        data["users"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .map(|u| u["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no user {email}"))
    }
}

/// The selection of a `ReassignWorkPayload`, with `reassignment { fields }`.
fn payload(fields: &str) -> String {
    format!("replayed userErrors {{ field code message }} reassignment {{ {fields} }}")
}

/// The codes of a payload's `userErrors`, in order.
pub fn user_error_codes(payload: &Value) -> Vec<&str> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors in {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap_or("<no code>"))
        .collect()
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

/// A fixture firm imported beside the other firm on a fresh database of `backend`, with the
/// live delivery the domain's writes report to. Keep the directory as long as the database.
pub async fn fixture_firm(
    backend: Backend,
    firm_json: &str,
) -> (DatabaseConnection, handover::notify::Live, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_database(backend, dir.path()).await;
    handover::import::import_text(&db, firm_json, false)
        .await
        .expect("fixture firm");
    handover::import::import_text(&db, OTHER_FIRM, false)
        .await
        .expect("other firm");
    let live = handover::notify::Live::start(&db, Default::default());
    (db, live, dir)
}

/// The `Viewer` a token of the user `filter` selects would give: the user and their firm.
pub async fn viewer_where(
    db: &DatabaseConnection,
    filter: impl sea_orm::sea_query::IntoCondition,
) -> handover::auth::Viewer {
    use sea_orm::ColumnTrait;
    let user = one::<entity::user::Entity>(db, filter).await;
    let firm = one::<entity::firm::Entity>(db, entity::firm::Column::Id.eq(user.firm_id)).await;
    handover::auth::Viewer { user, firm }
}

/// The one row of `E` that `filter` selects; fails the test saying what was looked for.
pub async fn one<E: sea_orm::EntityTrait>(
    db: &DatabaseConnection,
    filter: impl sea_orm::sea_query::IntoCondition,
) -> E::Model {
    use sea_orm::QueryFilter;
    let filter = filter.into_condition();
    let what = format!("{} where {filter:?}", E::default().table_name());
    E::find()
        .filter(filter)
        .one(db)
        .await
        .unwrap_or_else(|e| panic!("loading {what}: {e}"))
        .unwrap_or_else(|| panic!("no {what}"))
}

/// Every row of every firm table, in a stable order: equal snapshots mean nothing changed.
pub async fn snapshot(db: &DatabaseConnection) -> String {
    use entity::*;
    use sea_orm::{EntityTrait, QueryOrder};
    let mut out = String::new();
    macro_rules! dump {
        ($($m:ident by $col:expr),+) => {$(
            let rows = $m::Entity::find().order_by_asc($col).all(db).await.expect("read");
            out.push_str(&format!("{}: {rows:?}\n", stringify!($m)));
        )+};
    }
    dump!(
        firm by firm::Column::Id,
        user by user::Column::Id,
        group by group::Column::Id,
        group_member by group_member::Column::GroupId,
        matter by matter::Column::Id,
        matter_permitted_user by matter_permitted_user::Column::MatterId,
        matter_permitted_group by matter_permitted_group::Column::MatterId,
        task by task::Column::Id,
        calendar by calendar::Column::Id,
        calendar_event by calendar_event::Column::Id,
        event_attendee by event_attendee::Column::EventId
    );
    out
}

// WebSocket (graphql-transport-ws) client helpers, shared by the protocol and hostile-input tests.

use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(app: &TestApp) -> Socket {
    let mut request = format!("{}/graphql", app.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    tokio_tungstenite::connect_async(request).await.expect("WebSocket").0
}

pub async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::Text(value.to_string().into())).await.unwrap();
}

/// The next protocol message, or the close code as `{"close": code}`.
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("an answer within 5 s")
        {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Close(frame))) => {
                return json!({ "close": frame.map(|f| u16::from(f.code)).unwrap_or(1005) });
            }
            Some(Ok(_)) => continue,
            None => return json!({ "close": "ended without a close frame" }),
            Some(Err(e)) => return json!({ "close": e.to_string() }),
        }
    }
}

pub async fn init(socket: &mut Socket, token: &str) {
    send(
        socket,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert_eq!(next(socket).await["type"], "connection_ack");
}
