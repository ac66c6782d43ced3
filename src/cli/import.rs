use super::Outcome;
use crate::config::{DatabaseArgs, ImportArgs};
use crate::error::{AppError, AppResult};
use crate::import::{ImportError, import_text};

pub async fn run(database: &DatabaseArgs, args: &ImportArgs) -> AppResult<Outcome> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| AppError::BadUserInput(format!("cannot read {}: {e}", args.file.display())))?;
    let db = crate::db::connect(&database.database_url).await?;
    crate::db::migrate(&db).await?;
    match import_text(&db, &text, args.rebase_dates).await {
        Ok(summary) => {
            print!("{summary}");
            Ok(Outcome::Success)
        }
        Err(ImportError::Invalid(problems)) => {
            eprintln!(
                "{}: rejected, nothing was written ({} problems):",
                args.file.display(),
                problems.len()
            );
            const SHOWN: usize = 20;
            for p in problems.iter().take(SHOWN) {
                eprintln!("  {p}");
            }
            if problems.len() > SHOWN {
                eprintln!("  ... and {} more", problems.len() - SHOWN);
            }
            Ok(Outcome::Rejected)
        }
        Err(ImportError::Failed(e)) => Err(e),
    }
}
