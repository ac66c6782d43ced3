//! Authentication happens once per request: a bearer token becomes a `Viewer`, or the request
//! is refused. Resolvers ask the `Viewer`; they never look at tokens.

mod authenticate;
pub mod cache;
pub mod identity;
mod jwks;
mod jwt;
mod key;
mod setup;
mod viewer;

pub use authenticate::{authenticate, authenticate_session, bearer_token};
pub use cache::Viewers;
pub use identity::{IdentityKind, IdentityRule};
pub use jwt::{Claims, JwtKeys, Verified};
pub use viewer::Viewer;
