//! The one error type, free of any framework: each variant has a code (`extensions.code` in
//! answers) and a message a client may see. Internal details (database messages, I/O) are
//! logged here and never sent to clients. The GraphQL layer converts it into a GraphQL error
//! (`graphql::error`), the HTTP layer into a status code (`http::status_of`).
//!
//! `AppError` deliberately has no `Display` impl: async-graphql converts any `Display` type into
//! a client-visible message with `?`, which is exactly how SQL text leaks.

#[derive(Debug)]
pub enum AppError {
    /// No valid credentials: missing, malformed, expired, wrongly signed token, or the user is
    /// unknown or deactivated.
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The record does not exist, or belongs to another firm (never told apart).
    NotFound(&'static str),
    /// The input is invalid; the message is safe to show.
    BadUserInput(String),
    /// Anything else. The detail is logged, the client sees only "internal error".
    Internal(String),
    /// A conflict between concurrent transactions that the database resolved by aborting this
    /// one (a deadlock victim): worth running again. Shown to clients as `INTERNAL` if it
    /// persists.
    Transient(String),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::Internal(_) | AppError::Transient(_) => "INTERNAL",
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Unauthenticated(why) => format!("authentication required: {why}"),
            AppError::Forbidden => "only an account administrator of this firm may do this".into(),
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::BadUserInput(msg) => msg.clone(),
            AppError::Internal(_) | AppError::Transient(_) => "internal error".into(),
        }
    }

    /// The full message, for logs and the command line (operators, not API clients).
    pub fn detail(&self) -> String {
        match self {
            AppError::Internal(detail) | AppError::Transient(detail) => detail.clone(),
            other => other.public_message(),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        AppError::Internal(detail.to_string())
    }

    /// Log the internal detail, if any (once, where the error becomes an answer).
    pub fn log(&self) {
        if let AppError::Internal(detail) | AppError::Transient(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
    }

    /// The GraphQL error object as JSON, for responses built outside the executor.
    pub fn to_graphql_json(&self) -> serde_json::Value {
        self.log();
        serde_json::json!({
            "message": self.public_message(),
            "extensions": { "code": self.code() }
        })
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        let text = format!("database: {err}");
        // PostgreSQL's deadlock victim (40P01) and serialization failure (40001); SQLite's busy.
        let transient = ["deadlock detected", "could not serialize access", "database is locked"];
        if transient.iter().any(|t| text.contains(t)) {
            AppError::Transient(text)
        } else {
            AppError::Internal(text)
        }
    }
}

impl From<std::io::Error> for AppError {
    fn from(err: std::io::Error) -> Self {
        AppError::Internal(format!("io: {err}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;
