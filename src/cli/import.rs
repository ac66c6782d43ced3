use super::Outcome;
use crate::config::{DatabaseArgs, ImportArgs};
use crate::error::{AppError, AppResult};
use crate::import::{ImportError, import_text};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

pub async fn run(database: &DatabaseArgs, args: &ImportArgs) -> AppResult<Outcome> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| AppError::BadUserInput(format!("cannot read {}: {e}", args.file.display())))?;
    let db = crate::db::connect(&database.database_url).await?;
    crate::db::migrate(&db).await?;
    let enabled: Vec<i64> = entity::user::Entity::find()
        .filter(entity::user::Column::Enabled.eq(true))
        .all(&db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    match import_text(&db, &text, args.rebase_dates).await {
        Ok(summary) => {
            print!("{summary}");
            let now = chrono::Utc::now();
            for (user, held) in crate::planned::deactivate::left_holding_work(&db, &enabled, now).await? {
                eprintln!(
                    "warning: {} <{}> is now deactivated and still holds work that would move: {}; \
                     hand it over with reassignWork",
                    user.name,
                    user.email,
                    crate::notify::store::summary(&held)
                );
            }
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
