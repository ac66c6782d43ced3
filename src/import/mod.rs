//! `handover import FILE.json`: load or update one firm from a JSON document.
//!
//! - [`document`]: the file format and its validation, which names every problem by JSON path.
//! - [`load`]: the transactional, idempotent upsert by key.
//!
//! Records are matched by `key`. Records in the database that the file does not mention are
//! left alone (an import adds and updates; it never deletes). Set-valued fields (group members,
//! matter permission, event attendees) are replaced by the file's set.

pub mod document;
pub mod load;

pub use document::{FirmDocument, Problem, parse};
pub use load::{ImportSummary, load};

use crate::error::AppError;

/// Why an import was refused: every problem found, each with its JSON path.
#[derive(Debug)]
pub enum ImportError {
    Invalid(Vec<Problem>),
    Failed(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Failed(e)
    }
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ImportError::Failed(e.into())
    }
}

/// Parse, validate and load a document in one transaction.
pub async fn import_text(
    db: &sea_orm::DatabaseConnection,
    text: &str,
    rebase_to_today: bool,
) -> Result<ImportSummary, ImportError> {
    let mut doc = parse(text).map_err(ImportError::Invalid)?;
    if rebase_to_today {
        doc.rebase_to_today().map_err(|p| ImportError::Invalid(vec![p]))?;
    }
    load(db, &doc).await
}
