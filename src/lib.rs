//! handover: move a person's work in motion to other firm members in one safe, reviewable,
//! reversible step.
//!
//! Data flows one way: `http` -> `graphql` -> domain (`firm`, `reassign`, `import`) -> `entity`.
//! The domain never imports from `graphql` or `http`.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod firm;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod import;
pub mod metrics;
pub mod notify;
pub mod planned;
pub mod reassign;
pub mod report;

pub use http::{AppState, router as app};
