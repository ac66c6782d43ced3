//! The domain error as a GraphQL error: its public message and `extensions.code`.

use crate::error::AppError;
use async_graphql::ErrorExtensions;

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.log();
        async_graphql::Error::new(err.public_message()).extend_with(|_, ext| ext.set("code", err.code()))
    }
}
