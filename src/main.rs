use clap::Parser;
use handover::cli::{Outcome, run};
use handover::config::Cli;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// A request allocates and frees thousands of small values (rows, GraphQL values, JSON); the
/// system allocator spent about a quarter of the server's CPU on them (profiled under
/// `bench --reads`), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_env("HANDOVER_LOG").unwrap_or_else(|_| EnvFilter::new("info,sea_orm=warn,sqlx=warn"));
    // Lines are written by a thread of their own, through a buffer flushed whenever the queue
    // is empty: a request does not wait for a write, and a busy server writes many lines per
    // system call. Nothing is dropped (a full queue makes the logger wait); the guard flushes
    // what is left when main returns.
    let (writer, _flush_at_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    use std::io::IsTerminal;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    if cli.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
    match run(cli).await {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {}", e.detail());
            ExitCode::from(2)
        }
    }
}
