//! Prometheus metrics, kept in atomics and rendered as text at `/metrics`. Counters only grow;
//! gauges are read at scrape time.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the request latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    /// By status class: 1xx (WebSocket upgrades), 2xx, 3xx, 4xx, 5xx.
    requests: [AtomicU64; 5],
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    pub reassignments: AtomicU64,
    pub undos: AtomicU64,
    pub matters_moved: AtomicU64,
    pub tasks_moved: AtomicU64,
    pub events_moved: AtomicU64,
    pub notifications: AtomicU64,
    pub emails_sent: AtomicU64,
    pub email_failures: AtomicU64,
    pub subscribers: AtomicI64,
    /// TCP connections closed at once because the connection cap was reached.
    pub connections_refused: AtomicU64,
    /// Outbox emails given up on after the last attempt.
    pub emails_abandoned: AtomicU64,
    /// SQL statements sent by this process (requests, the scheduler, the outbox worker).
    pub sql_statements: AtomicU64,
    /// Vacuums run after big reassignments (PostgreSQL; `db::vacuum`).
    pub vacuums: AtomicU64,
}

impl Metrics {
    pub fn observe_request(&self, status: u16, took: Duration) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.requests[class].fetch_add(1, Relaxed);
        let secs = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros.fetch_add(took.as_micros() as u64, Relaxed);
    }

    /// The Prometheus text exposition; `outbox_backlog` is read from the database by the caller.
    pub fn render(&self, outbox_backlog: u64) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, samples: &[(&str, u64)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
            for (labels, v) in samples {
                out.push_str(&format!("{name}{labels} {v}\n"));
            }
        };
        counter(
            "handover_http_requests_total",
            "HTTP requests answered, by status class.",
            &[
                ("{class=\"1xx\"}", self.requests[0].load(Relaxed)),
                ("{class=\"2xx\"}", self.requests[1].load(Relaxed)),
                ("{class=\"3xx\"}", self.requests[2].load(Relaxed)),
                ("{class=\"4xx\"}", self.requests[3].load(Relaxed)),
                ("{class=\"5xx\"}", self.requests[4].load(Relaxed)),
            ],
        );
        counter(
            "handover_reassignments_total",
            "Reassignments applied (undos included).",
            &[("", self.reassignments.load(Relaxed))],
        );
        counter(
            "handover_undos_total",
            "Reassignments undone.",
            &[("", self.undos.load(Relaxed))],
        );
        counter(
            "handover_items_moved_total",
            "Records moved by reassignments, by kind.",
            &[
                ("{kind=\"matter\"}", self.matters_moved.load(Relaxed)),
                ("{kind=\"task\"}", self.tasks_moved.load(Relaxed)),
                ("{kind=\"calendar_event\"}", self.events_moved.load(Relaxed)),
            ],
        );
        counter(
            "handover_notifications_total",
            "Assignee notifications written.",
            &[("", self.notifications.load(Relaxed))],
        );
        counter(
            "handover_emails_total",
            "Outbox emails, by result.",
            &[
                ("{result=\"sent\"}", self.emails_sent.load(Relaxed)),
                ("{result=\"failed\"}", self.email_failures.load(Relaxed)),
                ("{result=\"abandoned\"}", self.emails_abandoned.load(Relaxed)),
            ],
        );
        counter(
            "handover_sql_statements_total",
            "SQL statements sent to the database by this process.",
            &[("", self.sql_statements.load(Relaxed))],
        );
        counter(
            "handover_vacuums_total",
            "Vacuums of the rewritten tables after big reassignments (PostgreSQL).",
            &[("", self.vacuums.load(Relaxed))],
        );
        counter(
            "handover_connections_refused_total",
            "TCP connections closed at once because the connection cap was reached.",
            &[("", self.connections_refused.load(Relaxed))],
        );
        out.push_str("# HELP handover_http_request_duration_seconds Time to answer an HTTP request.\n");
        out.push_str("# TYPE handover_http_request_duration_seconds histogram\n");
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            out.push_str(&format!(
                "handover_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
                bucket.load(Relaxed)
            ));
        }
        let count = self.latency_count.load(Relaxed);
        out.push_str(&format!(
            "handover_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n"
        ));
        out.push_str(&format!(
            "handover_http_request_duration_seconds_sum {}\n",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!("handover_http_request_duration_seconds_count {count}\n"));
        out.push_str(&gauge(
            "handover_outbox_backlog",
            "Emails waiting to be sent.",
            outbox_backlog,
        ));
        out.push_str(&gauge(
            "handover_subscribers_connected",
            "Open WebSocket connections.",
            self.subscribers.load(Relaxed),
        ));
        out
    }
}

/// A gauge read at scrape time, in the text exposition.
pub fn gauge(name: &str, help: &str, value: impl std::fmt::Display) -> String {
    format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n")
}
