//! Command line and environment -> configuration. Every default lives here.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://handover.db";
/// Seconds between key fetches that tokens naming an unknown `kid` may cause.
pub const DEFAULT_JWKS_MIN_REFRESH: u64 = 5;

#[derive(Debug, Parser)]
#[command(
    name = "handover",
    version,
    about = "Reassign a law firm member's work in motion: GraphQL API server"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub jwt: JwtArgs,

    /// Log format: human-readable `text`, or `json` (one object a line).
    #[arg(long, env = "HANDOVER_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    pub log_format: String,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// `handover` with no subcommand is `handover serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (the default subcommand).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load or update one firm from an import file (all-or-nothing, idempotent).
    Import(ImportArgs),
    /// Print a signed access token for a user (operators and tests).
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` (created when missing) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct JwtArgs {
    /// HS256 shared secret for access tokens.
    #[arg(long, env = "HANDOVER_JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file(s) with RSA (RS256) or EC P-256 (ES256) public keys that verify access tokens;
    /// repeat or comma-separate for key rotation. A key's id (`kid`) is its file name without
    /// the extension; a token without `kid` is checked against the first.
    #[arg(
        long,
        env = "HANDOVER_JWT_PUBLIC_KEY",
        global = true,
        conflicts_with = "jwt_secret",
        value_delimiter = ','
    )]
    pub jwt_public_key: Vec<PathBuf>,
    /// PEM file with the private key of the first public key; only `handover token` needs it.
    #[arg(long, env = "HANDOVER_JWT_PRIVATE_KEY", global = true)]
    pub jwt_private_key: Option<PathBuf>,
    /// Required `iss` claim, when set.
    #[arg(long, env = "HANDOVER_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim, when set.
    #[arg(long, env = "HANDOVER_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    /// An identity provider's JWKS URL whose keys verify access tokens (repeat or
    /// comma-separate). Keys are fetched when first needed and kept (see "Single sign-on").
    #[arg(long, env = "HANDOVER_JWT_JWKS_URL", global = true, value_delimiter = ',')]
    pub jwt_jwks_url: Vec<String>,
    /// An OpenID Connect issuer URL: its discovery document names the JWKS, and tokens must name
    /// it as `iss`.
    #[arg(long, env = "HANDOVER_JWT_OIDC_ISSUER", global = true, conflicts_with = "jwt_issuer")]
    pub jwt_oidc_issuer: Option<String>,
    /// The claim that names the user in tokens the server's own keys verify.
    #[arg(long, env = "HANDOVER_JWT_IDENTITY_CLAIM", global = true, default_value = "sub")]
    pub jwt_identity_claim: String,
    /// What that claim holds: handover's user `id`, the user's `key` (from the import file), or
    /// their `email` (accepted only when the token marks it verified).
    #[arg(long, env = "HANDOVER_JWT_IDENTITY", global = true, default_value = "id", value_parser = ["id", "key", "email"])]
    pub jwt_identity: String,
    /// The claim that must be `true` for an email identity to count.
    #[arg(
        long,
        env = "HANDOVER_JWT_EMAIL_VERIFIED_CLAIM",
        global = true,
        default_value = "email_verified"
    )]
    pub jwt_email_verified_claim: String,
    /// Seconds between fetches of a provider's keys made because a token named an unknown key
    /// id (a bound on what unknown key ids can cost the provider).
    #[arg(long, env = "HANDOVER_JWT_JWKS_MIN_REFRESH", global = true, default_value_t = DEFAULT_JWKS_MIN_REFRESH, value_parser = seconds_in(0, 3600))]
    pub jwt_jwks_min_refresh: u64,
}

impl Default for JwtArgs {
    fn default() -> Self {
        JwtArgs {
            jwt_secret: None,
            jwt_public_key: Vec::new(),
            jwt_private_key: None,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_jwks_url: Vec::new(),
            jwt_oidc_issuer: None,
            jwt_identity_claim: "sub".into(),
            jwt_identity: "id".into(),
            jwt_email_verified_claim: "email_verified".into(),
            jwt_jwks_min_refresh: DEFAULT_JWKS_MIN_REFRESH,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HANDOVER_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Demo mode: import the demo firm into an empty database (dates moved to today) and, when no
    /// signing key is configured, generate a development secret and print ready-to-use tokens.
    #[arg(long, env = "HANDOVER_DEMO")]
    pub demo: bool,
    #[command(flatten)]
    pub limits: QueryLimits,
    #[command(flatten)]
    pub mail: MailArgs,
    /// An origin allowed to call the API from a browser (repeatable), e.g.
    /// `--cors-origin https://app.example`. None by default.
    #[arg(long = "cors-origin", env = "HANDOVER_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// SMTP server for assignee emails, e.g. `smtp://mail.example:25` or
    /// `smtps://user:pass@mail.example:465` (lettre URL syntax). Without it, emails are written
    /// as .eml files to --mail-dir.
    #[arg(long, env = "HANDOVER_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Where emails go as .eml files when no SMTP server is configured.
    #[arg(long, env = "HANDOVER_MAIL_DIR", default_value = "mail")]
    pub mail_dir: PathBuf,
    /// The sender of assignee emails.
    #[arg(
        long,
        env = "HANDOVER_MAIL_FROM",
        default_value = "handover <noreply@handover.invalid>"
    )]
    pub mail_from: String,
    /// The address people reach this server at, e.g. `https://handover.firm.example`: emails
    /// link to its `/console`. Default: the listen address (`localhost` when it is 0.0.0.0).
    #[arg(long, env = "HANDOVER_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Every limit on what one client may ask of the server, applied the same way at both doors
/// (HTTP and WebSocket). Each is checked at start-up: zero or nonsense is an error naming the
/// flag, never a panic later.
#[derive(Debug, Clone, Args)]
pub struct QueryLimits {
    /// Maximum query depth (GraphiQL's introspection query needs 15).
    #[arg(long, env = "HANDOVER_MAX_DEPTH", default_value_t = 16, value_parser = count_in(1, 100))]
    pub max_depth: usize,
    /// Maximum query complexity (one point per field; GraphiQL's introspection needs about 230).
    #[arg(long, env = "HANDOVER_MAX_COMPLEXITY", default_value_t = 2000, value_parser = count_in(1, 1_000_000))]
    pub max_complexity: usize,
    /// Maximum number of field selections in one document, aliases included, fragments expanded.
    #[arg(long, env = "HANDOVER_MAX_SELECTIONS", default_value_t = 1000, value_parser = count_in(1, 1_000_000))]
    pub max_selections: usize,
    /// Maximum nesting of brackets (`{`, `[`, `(`) in a document and of lists and objects in its
    /// variables. Checked before parsing: deep values would otherwise exhaust the parser's stack.
    #[arg(long, env = "HANDOVER_MAX_NESTING", default_value_t = 64, value_parser = count_in(8, 256))]
    pub max_nesting: usize,
    /// Maximum size of a query document, in bytes.
    #[arg(long, env = "HANDOVER_MAX_QUERY_BYTES", default_value_t = 32 * 1024, value_parser = count_in(64, 16 * 1024 * 1024))]
    pub max_query_bytes: usize,
    /// Maximum size of a request body, in bytes.
    #[arg(long, env = "HANDOVER_MAX_BODY_BYTES", default_value_t = 256 * 1024, value_parser = count_in(1024, 64 * 1024 * 1024))]
    pub max_body_bytes: usize,
    /// Answer introspection queries (GraphiQL needs them). Turn off in production if wanted.
    #[arg(long, env = "HANDOVER_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// "Did you mean ...?" hints in validation errors; off by default (they reveal the schema).
    #[arg(long, env = "HANDOVER_FIELD_SUGGESTIONS")]
    pub field_suggestions: bool,
    /// Seconds one operation may run (either door); then it is cancelled with a `TIMEOUT` error.
    #[arg(long, env = "HANDOVER_REQUEST_TIMEOUT", default_value_t = 30, value_parser = seconds_in(1, 3600))]
    pub request_timeout: u64,
    /// Seconds a WebSocket client has to send `connection_init` (then: close 4408).
    #[arg(long, env = "HANDOVER_WS_INIT_TIMEOUT", default_value_t = 10, value_parser = seconds_in(1, 3600))]
    pub ws_init_timeout: u64,
    /// Seconds between re-checks of an open WebSocket's user (deactivated: close 4403). Every
    /// operation on the socket is also checked when it starts, and the token's expiry closes it.
    #[arg(long, env = "HANDOVER_WS_RECHECK_INTERVAL", default_value_t = 30, value_parser = seconds_in(1, 3600))]
    pub ws_recheck_interval: u64,
    /// Open WebSocket connections one user may hold (per server instance).
    #[arg(long, env = "HANDOVER_MAX_WEBSOCKETS_PER_USER", default_value_t = 8, value_parser = count_in(1, 100_000))]
    pub max_websockets_per_user: usize,
    /// Operations (subscriptions, queries, mutations) running at once on one WebSocket.
    #[arg(long, env = "HANDOVER_MAX_OPERATIONS_PER_CONNECTION", default_value_t = 16, value_parser = count_in(1, 10_000))]
    pub max_operations_per_connection: usize,
    /// Open TCP connections (HTTP and WebSocket together); further ones are closed at once.
    #[arg(long, env = "HANDOVER_MAX_CONNECTIONS", default_value_t = 4096, value_parser = count_in(1, 1_000_000))]
    pub max_connections: usize,
    /// Seconds a client has to send a complete request head, counted from the moment the server
    /// waits for one: a new connection, or an idle kept-alive one (so it is also the keep-alive
    /// idle timeout).
    #[arg(long, env = "HANDOVER_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = seconds_in(1, 3600))]
    pub header_read_timeout: u64,
    /// Seconds a client has to send a request body once its head arrived (then: 408).
    #[arg(long, env = "HANDOVER_BODY_READ_TIMEOUT", default_value_t = 30, value_parser = seconds_in(1, 3600))]
    pub body_read_timeout: u64,
    /// Seconds the server waits for open requests and connections after SIGTERM; then it exits
    /// anyway.
    #[arg(long, env = "HANDOVER_SHUTDOWN_TIMEOUT", default_value_t = 10, value_parser = seconds_in(1, 3600))]
    pub shutdown_timeout: u64,
    /// Reassignments (and undos) one administrator may apply per minute, per server instance.
    #[arg(long, env = "HANDOVER_MAX_REASSIGNMENTS_PER_MINUTE", default_value_t = 30, value_parser = count_in(1, 1_000_000))]
    pub max_reassignments_per_minute: usize,
    /// Reassignments planned at once per instance (previews, applies, undos, planned handovers'
    /// steps, deactivations); the rest wait their turn. Default: the number of cores.
    #[arg(long, env = "HANDOVER_MAX_CONCURRENT_PLANS", default_value_t = crate::reassign::gate::cores(), value_parser = count_in(1, 1024))]
    pub max_concurrent_plans: usize,
    /// PostgreSQL: after a reassignment that moves at least this many records commits, vacuum
    /// and analyse the tables it rewrote, in the background (autovacuum waits for a fifth of a
    /// table to change). 0: never (leave it to autovacuum).
    #[arg(long, env = "HANDOVER_VACUUM_AFTER", default_value_t = crate::db::vacuum::DEFAULT_AFTER)]
    pub vacuum_after: u64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_depth: 16,
            max_complexity: 2000,
            max_selections: 1000,
            max_nesting: 64,
            max_query_bytes: 32 * 1024,
            max_body_bytes: 256 * 1024,
            introspection: true,
            field_suggestions: false,
            request_timeout: 30,
            ws_init_timeout: 10,
            ws_recheck_interval: 30,
            max_websockets_per_user: 8,
            max_operations_per_connection: 16,
            max_connections: 4096,
            header_read_timeout: 10,
            body_read_timeout: 30,
            shutdown_timeout: 10,
            max_reassignments_per_minute: 30,
            max_concurrent_plans: crate::reassign::gate::cores(),
            vacuum_after: crate::db::vacuum::DEFAULT_AFTER,
        }
    }
}

/// A whole number between `min` and `max`, for limits where zero or a huge value makes no sense.
fn whole_in(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("must be between {min} and {max}"));
    }
    Ok(n)
}

fn count_in(min: u64, max: u64) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text: &str| whole_in(text, min, max).map(|n| n as usize)
}

fn seconds_in(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text: &str| whole_in(text, min, max)
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The import file (JSON, see the README).
    pub file: PathBuf,
    /// Shift every date and time in the file by whole days so that its `referenceDate` becomes
    /// today in the firm's time zone (how the demo stays meaningful whatever day it is loaded).
    #[arg(long)]
    pub rebase_dates: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The user's email address.
    #[arg(long)]
    pub email: String,
    /// The firm's key, when the same email exists in several firms.
    #[arg(long)]
    pub firm: Option<String>,
    /// Lifetime of the token, in seconds.
    #[arg(long, default_value_t = 8 * 3600)]
    pub expires_in: u64,
}
