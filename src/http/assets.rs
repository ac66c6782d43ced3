//! Browser code served by handover itself: third-party packages embedded at build time
//! (`build.rs`, pinned in `web/embedded`) and our own pages' scripts. Every page and asset goes
//! out under one locked-down policy: administrators paste their token into these pages.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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

/// An asset's entity tag: a digest of its bytes, computed once per asset and process.
fn etag(name: &'static str, bytes: &'static [u8]) -> HeaderValue {
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static TAGS: OnceLock<Mutex<HashMap<&'static str, HeaderValue>>> = OnceLock::new();
    let mut tags = TAGS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    tags.entry(name)
        .or_insert_with(|| {
            let digest = Sha256::digest(bytes);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
        })
        .clone()
}

/// `GET /assets/{name}`. Revalidated on every use (`no-cache`): a rebuilt server may serve other
/// bytes under one name; an unchanged asset costs a `304` and no body.
pub async fn asset(Path(name): Path<String>, request_headers: HeaderMap) -> Response {
    let found = OWN
        .iter()
        .map(|(n, t, text)| (*n, *t, text.as_bytes()))
        .chain(EMBEDDED.unwrap_or(&[]).iter().copied())
        .find(|(n, ..)| *n == name);
    let Some((name, content_type, bytes)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tag = etag(name, bytes);
    let unchanged = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| {
            let candidate = candidate.trim();
            candidate == "*" || candidate.trim_start_matches("W/") == tag
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ETAG, tag);
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
