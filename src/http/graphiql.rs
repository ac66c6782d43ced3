//! GraphiQL at `/graphiql`, served by handover itself: its assets come from the npm packages
//! installed in `web/graphiql` (`npm ci` there; nothing third-party is committed). When they
//! are absent the page says so and how to install them: it never loads code from elsewhere.
//! Above the editor, a field for the Bearer token; subscriptions run over `/graphql` with the
//! token in `connection_init`.
//!
//! Administrators paste their token here, so the page is locked down: a Content-Security-Policy
//! that allows scripts, styles and connections from this server only (no inline script: the
//! console's own code is an asset too), and no framing by any site.

use super::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::path::{Path as FsPath, PathBuf};

/// (name in our URL, path in the npm tree, content type)
const ASSETS: [(&str, &str, &str); 4] = [
    ("react.js", "react/umd/react.production.min.js", "text/javascript"),
    (
        "react-dom.js",
        "react-dom/umd/react-dom.production.min.js",
        "text/javascript",
    ),
    ("graphiql.js", "graphiql/graphiql.min.js", "text/javascript"),
    ("graphiql.css", "graphiql/graphiql.min.css", "text/css"),
];

/// Scripts, styles and connections from this server only; GraphiQL's React components set
/// inline style attributes, hence `'unsafe-inline'` for styles (not scripts).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn locked_down(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The assets directory if every asset is there.
pub fn locate(dir: &FsPath) -> Option<PathBuf> {
    ASSETS
        .iter()
        .all(|(_, path, ..)| dir.join(path).is_file())
        .then(|| dir.to_path_buf())
}

pub async fn page(State(state): State<AppState>) -> Response {
    let page = if state.graphiql_assets.is_some() {
        Html(PAGE).into_response()
    } else {
        Html(NOT_INSTALLED).into_response()
    };
    locked_down(page)
}

pub async fn asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let own = match name.as_str() {
        "console.js" => Some((CONSOLE_JS, "text/javascript")),
        "console.css" => Some((CONSOLE_CSS, "text/css")),
        _ => None,
    };
    if let Some((body, content_type)) = own {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        return locked_down(response);
    }
    let (Some(dir), Some((_, path, content_type))) = (&state.graphiql_assets, ASSETS.iter().find(|(n, ..)| *n == name))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(dir.join(path)).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            locked_down(response)
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

const NOT_INSTALLED: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>handover GraphiQL: not installed</title></head>
<body>
  <h1>GraphiQL's assets are not installed</h1>
  <p>handover serves GraphiQL from npm packages on this machine and loads nothing from elsewhere.
  Install them once, then restart the server:</p>
  <pre>cd web/graphiql &amp;&amp; npm ci</pre>
  <p>(or point <code>--graphiql-assets</code> / <code>HANDOVER_GRAPHIQL_ASSETS</code> at an installed tree).
  The API itself works without them: <code>POST /graphql</code>.</p>
</body>
</html>
"#;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>handover GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/assets/graphiql.css">
  <link rel="stylesheet" href="/graphiql/assets/console.css">
</head>
<body>
  <div id="bar">
    <label for="token">Bearer token</label>
    <input id="token" type="password" autocomplete="off" placeholder="paste the token printed by `handover serve --demo` or `handover token`">
  </div>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/assets/react.js"></script>
  <script src="/graphiql/assets/react-dom.js"></script>
  <script src="/graphiql/assets/graphiql.js"></script>
  <script src="/graphiql/assets/console.js"></script>
</body>
</html>
"#;

/// The console's own code: the token field, the fetcher, subscriptions over WebSocket.
const CONSOLE_JS: &str = r#"
    const tokenInput = document.getElementById('token');
    tokenInput.value = sessionStorage.getItem('handover-token') || '';
    tokenInput.addEventListener('input', () => sessionStorage.setItem('handover-token', tokenInput.value.trim()));

    function headersFor(opts) {
      const headers = Object.assign({ 'content-type': 'application/json',
                                      accept: 'application/graphql-response+json, application/json' },
                                    (opts && opts.headers) || {});
      const token = tokenInput.value.trim();
      if (token && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
        headers.Authorization = 'Bearer ' + token;
      }
      return headers;
    }

    // A small graphql-transport-ws client for subscriptions: an async iterable of results.
    function subscribe(params, headers) {
      const queue = [];
      let wake = null, done = false;
      const push = (item) => { queue.push(item); if (wake) { wake(); wake = null; } };
      const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
      const socket = new WebSocket(url, 'graphql-transport-ws');
      socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init',
        payload: { Authorization: headers.Authorization || '' } }));
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: params }));
        } else if (message.type === 'next') {
          push({ value: message.payload });
        } else if (message.type === 'error') {
          push({ value: { errors: message.payload } }); done = true; push(null);
        } else if (message.type === 'complete') {
          done = true; push(null);
        } else if (message.type === 'ping') {
          socket.send(JSON.stringify({ type: 'pong' }));
        }
      };
      socket.onclose = (event) => {
        if (!done) { push({ value: { errors: [{ message: 'connection closed (' + event.code + ') ' + event.reason }] } }); }
        done = true; push(null);
      };
      return {
        [Symbol.asyncIterator]() {
          return {
            async next() {
              while (queue.length === 0) { await new Promise((r) => (wake = r)); }
              const item = queue.shift();
              return item === null ? { done: true, value: undefined } : { done: false, value: item.value };
            },
            async return() { done = true; socket.close(1000); return { done: true, value: undefined }; },
          };
        },
      };
    }

    async function fetcher(params, opts) {
      const headers = headersFor(opts);
      if (/(^|[\s}])subscription\b/.test(params.query || '')) {
        return subscribe(params, headers);
      }
      const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params) });
      return response.json();
    }

    const initial = new URLSearchParams(location.search).get('query') || undefined;
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery: initial, query: initial, defaultEditorToolsVisibility: true }),
    );
"#;

const CONSOLE_CSS: &str = r#"    html, body { height: 100%; margin: 0; font-family: system-ui, sans-serif; }
    body { display: flex; flex-direction: column; }
    #bar { display: flex; gap: .5rem; align-items: center; padding: .4rem .8rem; background: #f3f4f6; border-bottom: 1px solid #ddd; }
    #bar label { font-size: .85rem; color: #333; }
    #token { flex: 1; font-family: monospace; font-size: .8rem; padding: .25rem; }
    #graphiql { flex: 1; min-height: 0; }
"#;
