//! The hostile member of `bench --soak`: beside the normal clients, until the deadline, with a
//! valid member's token, it sends nesting and fragment bombs, alias floods, oversized and NUL
//! documents; holds half-sent requests (slowloris) and bodies that trickle; and floods
//! WebSocket connections and subscriptions past their caps. Every attack must be refused with a
//! code (or cut off), never answered with data, a 5xx or `INTERNAL`.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Most half-sent requests held at once.
const SLOW_CONNECTIONS: usize = 200;
/// WebSocket connections and subscriptions per connection tried (past the default caps).
const SOCKETS: usize = 12;
const SUBSCRIPTIONS: usize = 24;

#[derive(Default)]
pub struct Attacks {
    documents: AtomicU64,
    documents_refused: AtomicU64,
    got_through: AtomicU64,
    slow_opened: AtomicU64,
    slow_cut_off: AtomicU64,
    sockets_refused: AtomicU64,
    subscriptions_refused: AtomicU64,
}

impl Attacks {
    pub fn all_refused(&self) -> bool {
        self.got_through.load(Relaxed) == 0
    }
}

impl std::fmt::Display for Attacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |a: &AtomicU64| a.load(Relaxed);
        write!(
            f,
            "{} hostile documents ({} refused with a code, {} got through), {} half-sent requests \
             ({} cut off by the server), WebSocket: {} connections and {} subscriptions refused over the caps",
            n(&self.documents),
            n(&self.documents_refused),
            n(&self.got_through),
            n(&self.slow_opened),
            n(&self.slow_cut_off),
            n(&self.sockets_refused),
            n(&self.subscriptions_refused),
        )
    }
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

/// Documents every one of which must be refused.
fn bombs() -> Vec<(String, Value)> {
    let mut fragments = String::from("query { ...F0 }\n");
    for i in 0..19 {
        fragments.push_str(&format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1));
    }
    fragments.push_str("fragment F19 on Query { __typename }\n");
    vec![
        (
            format!("{{ viewer(x: {}) {{ id }} }}", nested("[", "1", "]", 3000)),
            json!({}),
        ),
        (
            format!(
                "{{ users(filter: {}) {{ totalCount }} }}",
                nested("{a: ", "1", "}", 3000)
            ),
            json!({}),
        ),
        (fragments, json!({})),
        (
            format!(
                "{{ {} }}",
                (0..2000).map(|i| format!("a{i}: __typename ")).collect::<String>()
            ),
            json!({}),
        ),
        (format!("{{ viewer {{ id }} }} #{}", "x".repeat(40_000)), json!({})),
        (
            "query($s: String) { matters(filter: {search: $s}) { totalCount } }".into(),
            json!({ "s": "a\u{0}b" }),
        ),
    ]
}

pub async fn run(port: u16, member: String, deadline: Instant) -> Attacks {
    let attacks = Arc::new(Attacks::default());
    let tasks = vec![
        tokio::spawn(documents(port, member.clone(), deadline, attacks.clone())),
        tokio::spawn(slowloris(port, deadline, attacks.clone())),
        tokio::spawn(trickle(port, member.clone(), deadline, attacks.clone())),
        tokio::spawn(socket_flood(port, member, deadline, attacks.clone())),
    ];
    for t in tasks {
        let _ = t.await;
    }
    Arc::try_unwrap(attacks).unwrap_or_default()
}

async fn documents(port: u16, member: String, deadline: Instant, attacks: Arc<Attacks>) {
    let client = reqwest::Client::new();
    let bombs = bombs();
    let mut i = 0;
    while Instant::now() < deadline {
        let (query, variables) = &bombs[i % bombs.len()];
        i += 1;
        attacks.documents.fetch_add(1, Relaxed);
        let res = client
            .post(format!("http://127.0.0.1:{port}/graphql"))
            .bearer_auth(&member)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        let refused = match res {
            Ok(r) if r.status().as_u16() < 500 => {
                let body: Value = r.json().await.unwrap_or(Value::Null);
                body.get("data").is_none_or(Value::is_null)
                    && body["errors"][0]["extensions"]["code"]
                        .as_str()
                        .is_some_and(|c| c != "INTERNAL")
            }
            _ => false,
        };
        if refused {
            attacks.documents_refused.fetch_add(1, Relaxed);
        } else {
            attacks.got_through.fetch_add(1, Relaxed);
        }
    }
}

/// Connections that send half a request head and then nothing; reopened when the server cuts
/// them off.
async fn slowloris(port: u16, deadline: Instant, attacks: Arc<Attacks>) {
    let mut held: Vec<tokio::net::TcpStream> = Vec::new();
    while Instant::now() < deadline {
        while held.len() < SLOW_CONNECTIONS {
            let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                break;
            };
            let _ = stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n").await;
            attacks.slow_opened.fetch_add(1, Relaxed);
            held.push(stream);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Keep only those the server has not closed.
        let mut alive = Vec::new();
        for mut stream in held.drain(..) {
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Ok(Ok(_)) => {
                    attacks.slow_cut_off.fetch_add(1, Relaxed);
                }
                Err(_) => alive.push(stream),
            }
        }
        held = alive;
    }
}

/// A request whose body arrives a byte a second.
async fn trickle(port: u16, member: String, deadline: Instant, attacks: Arc<Attacks>) {
    while Instant::now() < deadline {
        let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
            return;
        };
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {member}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes()).await;
        attacks.documents.fetch_add(1, Relaxed);
        let mut answer = Vec::new();
        while Instant::now() < deadline {
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            match tokio::time::timeout(Duration::from_secs(1), stream.read_buf(&mut answer)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) if answer.windows(4).any(|w| w == b"\r\n\r\n") => break,
                _ => {}
            }
        }
        if answer.starts_with(b"HTTP/1.1 408") {
            attacks.documents_refused.fetch_add(1, Relaxed);
        } else if !answer.is_empty() {
            attacks.got_through.fetch_add(1, Relaxed);
        } else {
            // The soak ended first: neither refused nor through.
            attacks.documents.fetch_sub(1, Relaxed);
        }
    }
}

/// More sockets than one user may hold, each with more subscriptions than one may run.
async fn socket_flood(port: u16, member: String, deadline: Instant, attacks: Arc<Attacks>) {
    let mut open = Vec::new();
    for _ in 0..SOCKETS {
        let mut request = format!("ws://127.0.0.1:{port}/graphql")
            .into_client_request()
            .expect("url");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
            continue;
        };
        let init = json!({ "type": "connection_init", "payload": { "token": member } });
        let _ = socket.send(Message::Text(init.to_string().into())).await;
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("connection_ack") => {}
            _ => {
                attacks.sockets_refused.fetch_add(1, Relaxed);
                continue;
            }
        }
        for i in 0..SUBSCRIPTIONS {
            let sub = json!({ "id": format!("s{i}"), "type": "subscribe",
                              "payload": { "query": "subscription { workAssigned { id } }" } });
            let _ = socket.send(Message::Text(sub.to_string().into())).await;
        }
        open.push(socket);
    }
    // Read what the server says (refusals of the subscriptions over the cap) until the end.
    let mut readers = Vec::new();
    for mut socket in open {
        let attacks = attacks.clone();
        readers.push(tokio::spawn(async move {
            while let Ok(Some(Ok(message))) =
                tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), socket.next()).await
            {
                if matches!(&message, Message::Text(t) if t.contains("\"error\"")) {
                    attacks.subscriptions_refused.fetch_add(1, Relaxed);
                }
            }
        }));
    }
    for r in readers {
        let _ = r.await;
    }
}
