//! Authentication happens once per request: a bearer token becomes a `Viewer`, or the request
//! is refused. Resolvers ask the `Viewer`; they never look at tokens.

pub mod cache;
pub mod identity;
mod jwks;
mod jwt;
mod setup;
mod viewer;

pub use cache::Viewers;
pub use identity::{IdentityKind, IdentityRule};
pub use jwt::{Claims, JwtKeys, Verified};
pub use viewer::{Viewer, authenticate, authenticate_session, bearer_token};
