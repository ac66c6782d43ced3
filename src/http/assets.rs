//! Browser code served by handover itself: third-party packages embedded at build time
//! (`build.rs`, pinned in `web/embedded`) and our own pages' scripts. Every page and asset goes
//! out under one locked-down policy: administrators paste their token into these pages.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));

/// Whether the build embedded the third-party packages (npm was there when it ran).
pub fn embedded() -> bool {
    EMBEDDED.is_some()
}

/// Scripts, styles and connections from this server only; GraphiQL's React components set
/// inline style attributes, hence `'unsafe-inline'` for styles (not scripts).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub fn locked_down(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Our own scripts and styles: (name, content type, text).
const OWN: [(&str, &str, &str); 4] = [
    ("graphiql-page.js", "text/javascript", include_str!("pages/graphiql.js")),
    ("graphiql-page.css", "text/css", include_str!("pages/graphiql.css")),
    ("console.js", "text/javascript", include_str!("pages/console.js")),
    ("console.css", "text/css", include_str!("pages/console.css")),
];

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    let found = OWN
        .iter()
        .map(|(n, t, text)| (*n, *t, text.as_bytes()))
        .chain(EMBEDDED.unwrap_or(&[]).iter().copied())
        .find(|(n, ..)| *n == name);
    let Some((_, content_type, bytes)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The binary is the version: a rebuilt server may serve different bytes under one name.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    locked_down(response)
}

/// The page shown instead of GraphiQL or the console when the build could not embed them.
pub const NOT_EMBEDDED: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>handover: browser assets not built in</title></head>
<body>
  <h1>This page's browser assets were not built into the server</h1>
  <p>handover embeds GraphiQL, React and the graphql-ws client at build time with npm, and loads
  nothing from other sites. npm was missing (or the npm registry unreachable) when this binary
  was built. Install Node.js and npm, then build and start again:</p>
  <pre>cargo run --release -- serve --demo</pre>
  <p>The API itself works without them: <code>POST /graphql</code>, and WebSocket on
  <code>/graphql</code>.</p>
</body>
</html>
"#;
