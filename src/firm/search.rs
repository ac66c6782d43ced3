//! Free-text search over the folded search column: a case-insensitive substring (Unicode case,
//! the same on both databases), with `%`, `_` and `\` matched as themselves.

use crate::error::{AppError, AppResult};
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, SimpleExpr};

/// Longest search accepted, in characters (SQLite refuses LIKE patterns past 50,000 bytes).
pub const MAX_SEARCH_CHARS: usize = 200;

/// The condition for `search` on `column`; `None` when the search is blank (no filter).
pub fn matches<Col: ColumnTrait>(column: Col, search: Option<&str>) -> AppResult<Option<SimpleExpr>> {
    let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if search.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::BadUserInput(format!(
            "search is limited to {MAX_SEARCH_CHARS} characters"
        )));
    }
    if search.chars().any(char::is_control) {
        return Err(AppError::BadUserInput(
            "search may not contain control characters".into(),
        ));
    }
    let mut pattern = String::with_capacity(search.len() + 8);
    pattern.push('%');
    for c in entity::fold(search).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Ok(Some(Expr::col(column).like(LikeExpr::new(pattern).escape('\\'))))
}
