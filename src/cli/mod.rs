//! Subcommands. Each is a small function over the library; `main` only dispatches.

mod import;
mod serve;
mod token;

use crate::config::{Cli, Command};
use crate::error::AppResult;

pub use token::token_for_email;

/// What a subcommand asks the process to exit with.
pub enum Outcome {
    Success,
    /// The command ran and found problems it has already reported (exit status 1).
    Rejected,
}

pub async fn run(cli: Cli) -> AppResult<Outcome> {
    match cli.command {
        None => serve::run(&cli.database, &cli.jwt, &cli.serve)
            .await
            .map(|_| Outcome::Success),
        Some(Command::Serve(ref args)) => serve::run(&cli.database, &cli.jwt, args)
            .await
            .map(|_| Outcome::Success),
        Some(Command::Migrate) => {
            let db = crate::db::connect(&cli.database.database_url).await?;
            crate::db::migrate(&db).await?;
            println!("migrations applied ({})", crate::db::backend_name(&db));
            Ok(Outcome::Success)
        }
        Some(Command::Import(ref args)) => import::run(&cli.database, args).await,
        Some(Command::Token(ref args)) => token::run(&cli.database, &cli.jwt, args)
            .await
            .map(|_| Outcome::Success),
        Some(Command::Schema) => {
            print!("{}", crate::graphql::sdl());
            Ok(Outcome::Success)
        }
    }
}
