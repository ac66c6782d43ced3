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

/// mimalloc 3 keeps freed pages for a second (whole arenas for ten) before it gives them back.
/// A plan over 100,000 records frees tens of MiB at once, and a few previews in a row held the
/// server's resident memory at 165 MiB where it needed about 110 (`handover-bench`, SQLite,
/// reference firm). So freed pages go back at once; `MIMALLOC_PURGE_DELAY` still decides when
/// it is set.
fn purge_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: stores one of mimalloc's option values (an atomic); no memory is touched.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

/// mimalloc commits each arena it reserves (1 GiB) at once on Linux, counting on overcommit, and
/// freed pages inside such an arena stayed resident though the purge delay is 0: over a bench
/// run of six rounds of the reference apply and undo (SQLite) the server climbed from 121 MiB
/// after the first to 155 MiB. Committed as they are needed, freed pages are decommitted: 88–91
/// MiB after the first round, 102–104 after five, with previews and applies no slower. The first arena
/// is reserved at the first allocation, before `main`, so this runs as a constructor, and
/// allocates nothing. `MIMALLOC_ARENA_EAGER_COMMIT` still decides when it is set.
#[cfg(target_os = "linux")]
extern "C" fn commit_arenas_on_demand() {
    // SAFETY: `getenv` reads the environment the process started with (nothing writes it yet);
    // `mi_option_set` stores one of mimalloc's option values (an atomic).
    unsafe {
        if libc::getenv(c"MIMALLOC_ARENA_EAGER_COMMIT".as_ptr()).is_null() {
            libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        }
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static COMMIT_ARENAS_ON_DEMAND: extern "C" fn() = commit_arenas_on_demand;

/// SQLite allocates through the C library's `malloc`, not mimalloc. glibc's thresholds move:
/// once a large mapped block is freed, blocks up to that size (up to 32 MiB) are served from the
/// heap, and up to twice that much freed heap is kept rather than given back. A big selection's
/// aggregates are such blocks, so each SQLite connection's thread kept what its largest had
/// needed: the server peaked at 189 MiB at `--scale 2` instead of 138. Fixing the threshold
/// (1 MiB) fixes both: large blocks are mapped and unmapped, freed heap above 128 KiB is given
/// back. `MALLOC_MMAP_THRESHOLD_` still decides when it is set.
fn unmap_large_c_blocks() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: sets one of glibc's malloc parameters before any thread allocates much.
        return unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) } == 1;
    }
    false
}

/// glibc gives each thread that allocates its own arena (up to eight per core), and an arena
/// keeps the holes its freed blocks leave. SQLite's connections each run on a thread of their
/// own, so the pool's eight connections grew eight arenas, each holding what its largest
/// statement had left behind: downloading a big report moved the server from 85 to 121 MiB at
/// `--scale 2`, and the undo after it peaked at 153 MiB. With one arena the same run peaked at
/// 137 MiB and the previews ran no slower (SQLite's own work is a small part of its malloc
/// calls, and two cores share them). `MALLOC_ARENA_MAX` still decides when it is set.
fn one_arena_for_c_blocks() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: sets one of glibc's malloc parameters; arenas already made are kept.
        return unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) } == 1;
    }
    false
}

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (the crate does not name it; a test
/// checks its default).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// `mi_option_arena_eager_commit`, likewise (its default, 2, means "where the OS overcommits").
#[cfg(target_os = "linux")]
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

fn main() -> ExitCode {
    purge_freed_memory_at_once();
    unmap_large_c_blocks();
    // Before the runtime starts its threads: a thread that allocates before this takes an arena
    // of its own and keeps it. Set inside an async main, the server kept one to three arenas
    // besides the main one (`/proc/PID/maps`); set here, none, and six previews in a row peaked
    // at 64-65 MiB instead of 66-68 at `--scale 1` (SQLite).
    one_arena_for_c_blocks();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run_cli()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run_cli() -> ExitCode {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads and stores one of mimalloc's option values.
        let default = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(default, 1000, "mimalloc's purge delay defaults to 1000 ms");
        purge_freed_memory_at_once();
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 0);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn arenas_are_committed_on_demand_from_the_start() {
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_some() {
            return;
        }
        // SAFETY: reads one of mimalloc's option values. The constructor set it before this
        // test binary's first allocation (the default, 2, commits arenas eagerly on Linux).
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT) }, 0);
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_the_mmap_threshold() {
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            assert!(unmap_large_c_blocks(), "mallopt refused M_MMAP_THRESHOLD");
        }
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_one_arena() {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            assert!(one_arena_for_c_blocks(), "mallopt refused M_ARENA_MAX");
        }
    }
}
