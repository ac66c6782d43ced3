//! Integration tests: the real server over HTTP, on a real SQLite file and (in CI) a real
//! PostgreSQL cluster. One binary, so the suite links once.

mod common;

mod auth;
mod auth_matrix;
mod cli;
mod email;
mod graphql_cop;
mod hostile;
mod http_protocol;
mod idp;
mod import;
mod import_fuzz;
mod limits;
mod notifications;
mod operations;
mod pieces;
mod planned;
mod read_api;
mod reassign_api;
mod reassign_rules;
mod report;
mod routing;
mod routing_api;
mod schema;
mod sso;
mod stock_integration;
mod strings;
mod viewer_cache;
mod websocket_protocol;
