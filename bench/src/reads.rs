//! Front-end reads on the reference firm.
//!
//! `handover-bench --reads SECONDS`: each workload a front end sends most (an authenticated
//! `{ __typename }`, a page of 50 users with workloads, a page of 100 matters with their
//! attorneys, the heavy source's open tasks, a typical user's open tasks, a preview of a typical
//! user's work, a page of notifications) is sent by `CONCURRENCY` clients for SECONDS after a
//! one-second warm-up. For each: requests per second, the server's CPU time per request (from
//! the kernel's account of the server process, less what it spends idle) and SQL statements per request (from the
//! server's `/metrics`; "n/a" for a server without the counter). The server logs as in
//! production (one line per request, to a file). `--server-bin` measures another build on the
//! same data, for a before/after.

use crate::{Server, generate};
use chrono::Utc;
use entity::{Licence, user};
use handover::auth::JwtKeys;
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use rand::RngCore;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) const CONCURRENCY: usize = 8;

pub(crate) struct Workload {
    pub name: &'static str,
    pub token: String,
    pub query: &'static str,
    pub variables: Value,
}

/// The reference firm at `scale` on `database_url`, generated when missing.
pub(crate) async fn reference_firm(
    database_url: &str,
    scale: f64,
) -> AppResult<(sea_orm::DatabaseConnection, generate::People)> {
    let db = handover::db::connect(database_url).await?;
    // An existing firm is left at its schema version: the server under test migrates it (an
    // older build, for a before/after, must find no step it does not know).
    if entity::firm::Entity::find().one(&db).await.is_err() {
        handover::db::migrate(&db).await?;
    }
    let (people, _) = generate::ensure(&db, generate::Size::scaled(scale), Utc::now()).await?;
    Ok((db, people))
}

pub async fn run(database_url: &str, scale: f64, seconds: u64) -> AppResult<()> {
    let (db, people) = reference_firm(database_url, scale).await?;
    let backend = handover::db::backend_name(&db);
    // A typical member: an attorney other than the source and the target, early in the firm.
    let typical = user::Entity::find()
        .filter(user::Column::FirmId.eq(people.firm_id))
        .filter(user::Column::Licence.eq(Licence::Attorney))
        .filter(user::Column::Id.ne(people.source))
        .filter(user::Column::Id.ne(people.target))
        .order_by_asc(user::Column::Id)
        .one(&db)
        .await?
        .ok_or_else(|| AppError::internal("no typical attorney"))?
        .id;

    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let log = std::env::temp_dir().join("handover-bench-reads.log");
    let (server, port) = Server::start_logging(database_url, &secret, &log).await?;
    let keys = JwtKeys::hs256(secret.as_bytes(), None, None);
    let token = |id: i64| keys.sign(&ids::encode(Kind::User, id), 3600);
    let (admin, member) = (token(people.admin)?, token(typical)?);
    let user = |id: i64| json!(ids::encode(Kind::User, id));
    let workloads = [
        Workload {
            name: "`{ __typename }`",
            token: member.clone(),
            query: "{ __typename }",
            variables: json!({}),
        },
        Workload {
            name: "50 users with workloads",
            token: admin.clone(),
            query: "{ users(first: 50) { nodes { id name email licence workload { openMatters openTasks upcomingEvents } } } }",
            variables: json!({}),
        },
        Workload {
            name: "100 matters with attorneys",
            token: admin.clone(),
            query: "{ matters(first: 100) { nodes { id displayNumber description status \
                    responsibleAttorney { name } originatingAttorney { name } } } }",
            variables: json!({}),
        },
        Workload {
            name: "the heavy user's open tasks",
            token: admin.clone(),
            query: "query($id: ID!) { user(id: $id) { tasks(first: 50) { nodes { id name dueDate status } } } }",
            variables: json!({ "id": user(people.source) }),
        },
        Workload {
            name: "a typical user's open tasks",
            token: member.clone(),
            query: "query($id: ID!) { user(id: $id) { tasks(first: 50) { nodes { id name dueDate status } } } }",
            variables: json!({ "id": user(typical) }),
        },
        Workload {
            name: "a preview of a typical user's work",
            token: admin.clone(),
            query: "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { previewToken \
                    matters { count items(first: 20) { nodes { title } } excluded { reason count } } \
                    tasks { count items(first: 20) { nodes { title } } excluded { reason count } } \
                    calendarEvents { count excluded { reason count } } } }",
            variables: json!({ "i": { "fromUserId": user(typical), "toUserId": user(people.target) } }),
        },
        Workload {
            name: "20 notifications",
            token: member.clone(),
            query: "{ notifications(first: 20) { totalCount nodes { id title body createdAt read } } }",
            variables: json!({}),
        },
    ];

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .map_err(AppError::internal)?;
    let base = format!("http://127.0.0.1:{port}");
    // The server's own background work (the scheduler's tick, the outbox worker) costs CPU with
    // no request at all: measured idle, and taken off each workload's share.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_from = (cpu_ms(&server), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let idle_rate = (cpu_ms(&server) - idle_from.0) / idle_from.1.elapsed().as_secs_f64();
    eprintln!("server CPU while idle: {idle_rate:.1} ms/s (taken off each workload)");
    println!(
        "| workload ({backend}, {CONCURRENCY} clients, {seconds} s) | requests/s | server CPU ms/request | SQL statements/request |"
    );
    println!("|---|---|---|---|");
    // HANDOVER_BENCH_READS_ONLY=matters: only the workloads whose name holds that text (to
    // profile one).
    let only = std::env::var("HANDOVER_BENCH_READS_ONLY").unwrap_or_default();
    for w in workloads.iter().filter(|w| w.name.contains(only.as_str())) {
        load(&client, &base, w, Duration::from_secs(1)).await?;
        let (cpu_before, sql_before) = (cpu_ms(&server), statements(&client, &base).await);
        let (requests, took) = load(&client, &base, w, Duration::from_secs(seconds)).await?;
        let (cpu_after, sql_after) = (cpu_ms(&server), statements(&client, &base).await);
        let cpu = (cpu_after - cpu_before - idle_rate * took.as_secs_f64()).max(0.0);
        let per = |x: f64| x / requests as f64;
        let sql = match (sql_before, sql_after) {
            // One /metrics request between the two readings sends no SQL.
            (Some(a), Some(b)) => format!("{:.2}", per((b - a) as f64)),
            _ => "n/a".into(),
        };
        println!(
            "| {} | {:.0} | {:.3} | {sql} |",
            w.name,
            requests as f64 / took.as_secs_f64(),
            per(cpu),
        );
    }
    Ok(())
}

/// `CONCURRENCY` clients sending the workload back to back for `span`; (requests, time taken).
pub(crate) async fn load(
    client: &reqwest::Client,
    base: &str,
    w: &Workload,
    span: Duration,
) -> AppResult<(u64, Duration)> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let body = Arc::new(json!({ "query": w.query, "variables": w.variables }).to_string());
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, done, stop, body) = (client.clone(), done.clone(), stop.clone(), body.clone());
        let (url, token) = (format!("{base}/graphql"), w.token.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.as_str().to_owned())
                    .send()
                    .await
                    .map_err(AppError::internal)?;
                let answer: Value = res.json().await.map_err(AppError::internal)?;
                if answer.get("errors").is_some() {
                    return Err(AppError::internal(format!("the server answered with errors: {answer}")));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), AppError>(())
        }));
    }
    tokio::time::sleep(span).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.map_err(AppError::internal)??;
    }
    Ok((done.load(Ordering::Relaxed), started.elapsed()))
}

/// The server process's CPU time so far (user + system), in milliseconds.
pub(crate) fn cpu_ms(server: &Server) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", server.pid())).unwrap_or_default();
    // Fields after the command name (which may hold spaces, inside parentheses).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line (11 and 12 after the name); 100 ticks/s.
    (ticks(11) + ticks(12)) * 10.0
}

/// The server's count of SQL statements, if it reports one.
pub(crate) async fn statements(client: &reqwest::Client, base: &str) -> Option<u64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("handover_sql_statements_total "))
        .and_then(|v| v.trim().parse().ok())
}
