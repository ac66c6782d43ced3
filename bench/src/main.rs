//! `handover-bench`: generate a large firm, start a real `handover serve` process on it, and
//! time a preview, an apply and an undo over HTTP; read the server's peak memory from the
//! kernel; time the same changes as hand-written SQL (the floor). Prints one Markdown table row.
//! Its own crate: the server's dependency tree carries nothing of it, and it reaches the server
//! over HTTP and WebSocket only (the data it generates and checks, it reads and writes itself).

mod crash;
mod floor;
mod generate;
mod hostile;
mod live;
mod raw;
mod reads;
mod routed;
mod scheduled;
mod soak;
mod sso;

use chrono::Utc;
use clap::Parser;
use handover::auth::JwtKeys;
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use rand::RngCore;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PREVIEW: &str = "query($i: ReassignWorkInput!) { reassignmentPreview(input: $i) { previewToken
  matters { count excluded { reason count } } tasks { count excluded { reason count } }
  calendarEvents { count excluded { reason count } } } }";
const APPLY: &str = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code message }
  reassignment { id matters { reassigned } tasks { reassigned } calendarEvents { reassigned } skipped } } }";
const UNDO: &str = "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code message }
  reassignment { matters { reassigned } tasks { reassigned } calendarEvents { reassigned } skipped } } }";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "handover-bench",
    about = "Measure handover against a server process: the big reassignment, live delivery, crashes, a soak"
)]
struct BenchArgs {
    #[command(flatten)]
    database: handover::config::DatabaseArgs,
    /// The `handover` binary to serve with (default: the one beside this binary).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Size relative to the reference firm (500 users, 50,000 matters, 500,000 tasks, 200,000
    /// events; the source holds 10,000 matters, 100,000 tasks, 50,000 events).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Append the result row (Markdown) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Time the apply, the undo and the raw write reference this many times, alternating on the
    /// same data (each apply after a preview of its own), and report their medians: one pair
    /// of runs on a busy machine can be off by half.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
    rounds: u32,
    /// After the rest, this many previews of the reference order sent at once (after a commit,
    /// so that each reads): the time until all answered, and the server's peak memory over
    /// them alone. The server plans at most `HANDOVER_MAX_CONCURRENT_PLANS` of them at once (the
    /// bench's environment is the server's).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=64))]
    at_once: u32,
    /// Measure live delivery instead: this many subscribed WebSocket connections, and as many
    /// reassignments as half of them, each to a different subscribed assignee.
    #[arg(long)]
    live: Option<usize>,
    /// Crash safety instead: this many times, SIGKILL the server in the middle of the big
    /// reassignment, restart it, and check that all of it or none of it happened.
    #[arg(long)]
    crash: Option<usize>,
    /// Concurrency soak instead: this many seconds of concurrent previews, applies, undos,
    /// reads and subscriptions on overlapping work, then consistency checks.
    #[arg(long)]
    soak: Option<u64>,
    /// Planned handovers instead: the same work applied at once and as a scheduled cover (its
    /// start and its return each timed as one scheduler step). With --crash: kill the server in
    /// the middle of scheduled starts and returns instead of the immediate apply.
    #[arg(long)]
    scheduled: bool,
    /// Routing instead: the work handed to one target and routed across a pool of 10
    /// (`LEAST_LOADED`, work following its matter), alternating, with the ratio.
    #[arg(long)]
    routed: bool,
    /// With --soak: the most the hostile client may slow the normal clients' p99 (a ratio).
    #[arg(long, default_value_t = 2.0)]
    max_slowdown: f64,
    /// Front-end reads instead: each read workload for this many seconds at a fixed
    /// concurrency; requests/s, server CPU and SQL statements per request.
    #[arg(long)]
    reads: Option<u64>,
    /// Sign-in cost instead: an authenticated `{ viewer { id } }` with a PEM key, with the same
    /// key from a JWKS server, and through a firm's issuer (identity by verified email), in turn
    /// in one-second slices, 5 x this many each; requests/s and server CPU per request.
    #[arg(long)]
    sso: Option<u64>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = BenchArgs::parse();
    let _ = SERVER_BIN.set(args.server_bin.clone().unwrap_or_else(|| {
        let here = std::env::current_exe().unwrap_or_default();
        here.with_file_name(format!("handover{}", std::env::consts::EXE_SUFFIX))
    }));
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.detail());
            std::process::ExitCode::from(2)
        }
    }
}

/// The `handover` binary the benchmarks serve with.
static SERVER_BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Kill the server when the benchmark ends, whatever happens.
pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// `handover serve` on a free port of this machine, on `database_url`, with `secret`; waits
    /// until it is ready. Quiet: warnings only.
    async fn start(database_url: &str, secret: &str) -> AppResult<(Server, u16)> {
        Self::start_with(database_url, secret, None).await
    }

    /// As `start`, logging as in production (the default filter, one line per request) to
    /// `log`: the cost of the request log is part of what is measured.
    async fn start_logging(database_url: &str, secret: &str, log: &std::path::Path) -> AppResult<(Server, u16)> {
        Self::start_with(database_url, secret, Some(log)).await
    }

    async fn start_with(database_url: &str, secret: &str, log: Option<&std::path::Path>) -> AppResult<(Server, u16)> {
        Self::start_keyed(database_url, &[("HANDOVER_JWT_SECRET", secret)], log).await
    }

    /// As `start_with`, the token keys configured by these environment variables.
    async fn start_keyed(
        database_url: &str,
        keys: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> AppResult<(Server, u16)> {
        let port = free_port()?;
        let mail = mail_dir();
        let mut command = Command::new(SERVER_BIN.get().ok_or_else(|| AppError::internal("no server binary"))?);
        command
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                database_url,
            ])
            .args(["--mail-dir", &mail.to_string_lossy()])
            // The harness itself sends reassignments back to back.
            .args(["--max-reassignments-per-minute", "1000000"])
            .stdout(Stdio::null());
        // Exactly these keys: an inherited HANDOVER_JWT_SECRET would conflict with a PEM key.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("HANDOVER_JWT_")) {
            command.env_remove(name);
        }
        command.envs(keys.iter().copied());
        match log {
            Some(path) => {
                command.env_remove("HANDOVER_LOG").stderr(std::fs::File::create(path)?);
            }
            None => {
                command.env(
                    "HANDOVER_LOG",
                    std::env::var("HANDOVER_BENCH_SERVER_LOG")
                        .unwrap_or_else(|_| "warn,handover::cli::serve=error".into()),
                );
            }
        }
        let server = Server(command.spawn()?);
        let client = reqwest::Client::new();
        for _ in 0..300 {
            let ready = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok((server, port));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(AppError::internal("the server did not become ready"))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL: no chance to finish anything.
    fn kill_now(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// A figure from /proc/PID/status, in KiB (`VmHWM` = peak resident set).
    /// Start the peak (`VmHWM`) again from the memory the server holds now.
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.0.id()), "5");
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).ok()?;
        text.lines()
            .find(|l| l.starts_with(field))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}

/// Where the bench servers write their emails (.eml files; no SMTP server).
fn mail_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("handover-bench-mail")
}

fn free_port() -> AppResult<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> AppResult<(Value, Duration)> {
    let started = Instant::now();
    let res = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .map_err(AppError::internal)?;
    let body: Value = res.json().await.map_err(AppError::internal)?;
    let elapsed = started.elapsed();
    if body.get("errors").is_some() {
        return Err(AppError::internal(format!("the server answered with errors: {body}")));
    }
    Ok((body["data"].clone(), elapsed))
}

/// A user's personal calendar.
async fn personal_calendar(db: &sea_orm::DatabaseConnection, user_id: i64) -> AppResult<i64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(entity::calendar::Entity::find()
        .filter(entity::calendar::Column::OwnerUserId.eq(user_id))
        .one(db)
        .await?
        .map_or(-1, |c| c.id))
}

/// PostgreSQL: wait until no vacuum or analyse runs on the bench database (the server's after a
/// big reassignment, `--vacuum-after`, or autovacuum's), so that none is timed with a phase.
async fn settle(db: &sea_orm::DatabaseConnection) -> AppResult<()> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    // The server starts its vacuum as it answers; give it a moment to show.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waited = Instant::now();
    loop {
        let running = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT (SELECT count(*) FROM pg_stat_progress_vacuum WHERE datname = current_database())
                      + (SELECT count(*) FROM pg_stat_progress_analyze WHERE datname = current_database())",
            ))
            .await?
            .and_then(|r| r.try_get_by_index::<i64>(0).ok())
            .unwrap_or_default();
        if running == 0 || waited.elapsed() > Duration::from_secs(120) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// PostgreSQL: after the bench's own writes (the raw reference's), vacuum as the server does
/// after its own, so that the next phase starts from tables like the server leaves them.
async fn tidy(db: &sea_orm::DatabaseConnection) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        handover::db::vacuum::vacuum_rewritten(db).await?;
    }
    Ok(())
}

/// One round's times, on standard error.
fn print_round(round: u32, apply: Duration, undo: Duration, raw: Duration) {
    eprintln!(
        "round {round}: apply {}, undo {}, raw writes {}, apply / raw {:.2}x",
        ms(apply),
        ms(undo),
        ms(raw),
        ratio(apply, raw)
    );
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

async fn run(args: &BenchArgs) -> AppResult<()> {
    let database = &args.database;
    if let Some(seconds) = args.sso {
        return sso::run(&database.database_url, args.scale, seconds).await;
    }
    if let Some(connections) = args.live {
        return live::run(&database.database_url, connections).await;
    }
    if let Some(times) = args.crash {
        if args.scheduled {
            return scheduled::crash(&database.database_url, args.scale, times).await;
        }
        return crash::run(&database.database_url, args.scale, times).await;
    }
    if args.scheduled {
        return scheduled::run(&database.database_url, args.scale).await;
    }
    if let Some(seconds) = args.reads {
        return reads::run(&database.database_url, args.scale, seconds).await;
    }
    if args.routed {
        return routed::run(&database.database_url, args.scale).await;
    }
    if let Some(seconds) = args.soak {
        return soak::run(&database.database_url, args.scale, seconds, args.max_slowdown).await;
    }
    let db = handover::db::connect(&database.database_url).await?;
    handover::db::migrate(&db).await?;
    let backend = handover::db::backend_name(&db);
    let size = generate::Size::scaled(args.scale);
    let started = Instant::now();
    let (people, created) = generate::ensure(&db, size, Utc::now()).await?;
    eprintln!(
        "bench firm {} in {:.1} s: {size:?}",
        if created { "generated" } else { "found" },
        started.elapsed().as_secs_f64()
    );

    // Made before the server starts, so that its statements are never prepared again for it.
    // (A row written back as it was is no commit to SQLite: identical pages are not written.)
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS bench_commit (n INTEGER)")
        .await?;

    // The server under test, a separate process, so its memory is its own.
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let (server, port) = Server::start(&database.database_url, &secret).await?;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let idle_kib = server.status_kib("VmRSS:").unwrap_or_default();
    let token = JwtKeys::hs256(secret.as_bytes(), None, None).sign(&ids::encode(Kind::User, people.admin), 3600)?;
    let url = format!("{base}/graphql");
    let input = json!({
        "fromUserId": ids::encode(Kind::User, people.source), "acknowledgeRisks": true,
        "toUserId": ids::encode(Kind::User, people.target),
        "note": "benchmark",
    });

    // Three previews that read the records: the first just after the server started, the
    // others each after a commit (a row added to a table of the bench's own, from its own
    // connection), so that nothing kept can be decided on. Then, with nothing committed, the
    // same work for another receiver and the first order again, as a front end trying
    // receivers and paging through its lists asks: on SQLite those decide on the third's
    // loads, as the apply does.
    let mut other = input.clone();
    other["toUserId"] = json!(ids::encode(Kind::User, people.admin));
    let (mut previews, mut again) = (Vec::new(), Vec::new());
    let mut preview = Value::Null;
    for (n, i) in [&input, &input, &input, &other, &input].into_iter().enumerate() {
        if n == 1 || n == 2 {
            db.execute_unprepared("INSERT INTO bench_commit (n) VALUES (1)").await?;
        }
        settle(&db).await?;
        let (data, took) = post(&client, &url, &token, PREVIEW, json!({ "i": i })).await?;
        if n < 3 {
            previews.push(took);
        } else {
            again.push(took);
        }
        preview = data["reassignmentPreview"].clone();
    }
    let after_preview_kib = server.status_kib("VmHWM:").unwrap_or_default();
    eprintln!("server peak RSS after the previews: {} MiB", after_preview_kib / 1024);
    let count = |c: &str| preview[c]["count"].as_i64().unwrap_or_default();
    let considered = |c: &str| {
        count(c)
            + preview[c]["excluded"]
                .as_array()
                .map_or(0, |e| e.iter().map(|x| x["count"].as_i64().unwrap_or(0)).sum())
    };
    let total_considered = considered("matters") + considered("tasks") + considered("calendarEvents");
    eprintln!(
        "preview: {} matters, {} tasks, {} events move; {} records considered",
        count("matters"),
        count("tasks"),
        count("calendarEvents"),
        total_considered
    );

    let mut apply_input = input.clone();
    apply_input["previewToken"] = preview["previewToken"].clone();
    settle(&db).await?;
    let (data, apply_time) = post(&client, &url, &token, APPLY, json!({ "i": apply_input })).await?;
    let payload = &data["reassignWork"];
    if payload["userErrors"].as_array().is_some_and(|e| !e.is_empty()) {
        return Err(AppError::internal(format!("apply refused: {payload}")));
    }
    let batch_id = payload["reassignment"]["id"].clone();
    eprintln!(
        "server peak RSS after the apply: {} MiB",
        server.status_kib("VmHWM:").unwrap_or_default() / 1024
    );
    let moved = payload["reassignment"]["tasks"]["reassigned"]
        .as_i64()
        .unwrap_or_default();
    // The report of the apply, downloaded as CSV (streamed by the server).
    let report_started = Instant::now();
    let report_path = format!("/reassignments/{}/report.csv", batch_id.as_str().unwrap_or_default());
    let report = client
        .get(format!("{base}{report_path}"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(AppError::internal)?;
    let report_bytes = report.bytes().await.map_err(AppError::internal)?.len();
    let report_time = report_started.elapsed();
    let report_kib = server.status_kib("VmHWM:").unwrap_or_default();
    eprintln!(
        "report.csv: {} KiB in {}; server peak RSS after it: {} MiB",
        report_bytes / 1024,
        ms(report_time),
        report_kib / 1024
    );
    settle(&db).await?;
    let (data, undo_time) = post(&client, &url, &token, UNDO, json!({ "id": batch_id })).await?;
    let returned = data["undoReassignment"]["reassignment"]["tasks"]["reassigned"]
        .as_i64()
        .unwrap_or_default();
    if returned != moved {
        return Err(AppError::internal(format!("undo returned {returned} tasks of {moved}")));
    }
    let peak_kib = server.status_kib("VmHWM:").unwrap_or_default();

    // The floor, on the same data (back as it was after the undo).
    let source_calendar = personal_calendar(&db, people.source).await?;
    let target_calendar = personal_calendar(&db, people.target).await?;
    let now = Utc::now();
    let tz = chrono_tz::America::New_York;
    let input = floor::FloorInput {
        firm_id: people.firm_id,
        source: people.source,
        target: people.target,
        source_calendar,
        target_calendar,
        today: now.with_timezone(&tz).date_naive(),
        cutoff: now,
        today_start: handover::firm::start_of_day(now, tz),
    };
    settle(&db).await?;
    let (floor_time, floor_items, floor_batch) = floor::run(&db, &input).await?;
    // Put the data back as it was, through the ordinary undo, over HTTP.
    let floor_id = ids::encode(Kind::Reassignment, floor_batch);
    let (data, _) = post(&client, &url, &token, UNDO, json!({ "id": floor_id })).await?;
    if data["undoReassignment"]["userErrors"]
        .as_array()
        .is_some_and(|e| !e.is_empty())
    {
        return Err(AppError::internal(format!("could not undo the floor's batch: {data}")));
    }
    // The raw write reference, on the same data (back as it was after the floor's undo).
    let apply_batch = ids::decode(Kind::Reassignment, batch_id.as_str().unwrap_or_default())?;
    let raw_input = raw::RawInput {
        batch: apply_batch,
        source: people.source,
        target: people.target,
        source_calendar,
        target_calendar,
    };
    settle(&db).await?;
    let (raw_time, raw_updated, raw_inserted) = raw::run(&db, &raw_input).await?;
    tidy(&db).await?;
    eprintln!("raw write reference: {raw_updated} rows updated, {raw_inserted} inserted");
    print_round(1, apply_time, undo_time, raw_time);
    // Further rounds, on the same data (back as it was after the raw reference).
    let mut rounds = vec![(apply_time, undo_time, raw_time)];
    for round in 2..=args.rounds {
        settle(&db).await?;
        let (data, _) = post(&client, &url, &token, PREVIEW, json!({ "i": apply_input })).await?;
        let mut confirmed = apply_input.clone();
        confirmed["previewToken"] = data["reassignmentPreview"]["previewToken"].clone();
        settle(&db).await?;
        let (data, apply) = post(&client, &url, &token, APPLY, json!({ "i": confirmed })).await?;
        let payload = &data["reassignWork"];
        if payload["userErrors"].as_array().is_some_and(|e| !e.is_empty()) {
            return Err(AppError::internal(format!("apply of round {round} refused: {payload}")));
        }
        let id = payload["reassignment"]["id"].clone();
        settle(&db).await?;
        let (data, undo) = post(&client, &url, &token, UNDO, json!({ "id": id })).await?;
        let returned = &data["undoReassignment"]["reassignment"]["tasks"]["reassigned"];
        if returned.as_i64() != Some(moved) {
            return Err(AppError::internal(format!(
                "undo of round {round} returned {returned} tasks of {moved}"
            )));
        }
        let batch = ids::decode(Kind::Reassignment, id.as_str().unwrap_or_default())?;
        settle(&db).await?;
        let (raw, _, _) = raw::run(&db, &raw::RawInput { batch, ..raw_input }).await?;
        tidy(&db).await?;
        print_round(round, apply, undo, raw);
        rounds.push((apply, undo, raw));
    }
    if rounds.len() > 1 {
        eprintln!(
            "server peak RSS after {} rounds: {} MiB",
            rounds.len(),
            server.status_kib("VmHWM:").unwrap_or_default() / 1024
        );
    }
    if args.at_once > 0 {
        db.execute_unprepared("INSERT INTO bench_commit (n) VALUES (1)").await?;
        let holding = server.status_kib("VmRSS:").unwrap_or_default();
        server.reset_peak();
        let started = Instant::now();
        let answers = futures::future::join_all(
            (0..args.at_once).map(|_| post(&client, &url, &token, PREVIEW, json!({ "i": apply_input }))),
        )
        .await;
        let took = started.elapsed();
        for answer in answers {
            let (data, _) = answer?;
            if data["reassignmentPreview"]["previewToken"] != preview["previewToken"] {
                return Err(AppError::internal("previews at once disagreed with the first"));
            }
        }
        eprintln!(
            "{} previews at once: all answered in {}; server at {} MiB before them, peak {} MiB over them",
            args.at_once,
            ms(took),
            holding / 1024,
            server.status_kib("VmHWM:").unwrap_or_default() / 1024
        );
    }
    drop(server);
    if floor_items as i64 != total_considered {
        eprintln!("note: the floor wrote {floor_items} items, the preview considered {total_considered}");
    }

    previews.sort();
    let median = |pick: fn(&(Duration, Duration, Duration)) -> Duration| {
        let mut v: Vec<Duration> = rounds.iter().map(pick).collect();
        v.sort();
        v[v.len() / 2]
    };
    let (apply_time, undo_time, raw_time) = (median(|r| r.0), median(|r| r.1), median(|r| r.2));
    let mut ratios: Vec<f64> = rounds.iter().map(|r| ratio(r.0, r.2)).collect();
    ratios.sort_by(f64::total_cmp);
    let apply_raw = match ratios.len() {
        1 => format!("{:.2}x", ratios[0]),
        n => format!(
            "{:.2}x ({:.2}x–{:.2}x, {n} rounds)",
            ratios[n / 2],
            ratios[0],
            ratios[n - 1]
        ),
    };
    let row = format!(
        "| {backend} | {} | {} / {} / {} / {} | {} | {} (cold {}) | {} | {} | {} | {} | {:.2}x | {} | {apply_raw} | {} MiB (idle {} MiB) | {} ({} MiB) |",
        args.scale,
        size.users,
        size.matters,
        size.tasks,
        size.events,
        total_considered,
        ms(previews[1]),
        ms(previews[0].max(previews[2]).max(previews[1])),
        ms(again[0].max(again[1])),
        ms(apply_time),
        ms(undo_time),
        ms(floor_time),
        ratio(apply_time, floor_time),
        ms(raw_time),
        peak_kib / 1024,
        idle_kib / 1024,
        ms(report_time),
        report_bytes / (1024 * 1024),
    );
    println!(
        "| database | scale | users / matters / tasks / events | source records considered | preview (median of 3) | preview again (slower of 2) | apply (median of rounds) | undo | SQL floor | apply / floor | raw writes | apply / raw (median, range) | server peak RSS | report.csv |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!("{row}");
    if let Some(path) = &args.out {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(f, "{row}")?;
    }
    Ok(())
}
