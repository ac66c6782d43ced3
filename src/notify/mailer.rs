//! The outbox worker: sends pending emails over SMTP, or writes them as .eml files when no SMTP
//! server is configured. At least once, never twice once recorded: a row is leased before it is
//! sent (so two workers never take it together) and marked SENT right after; a failed attempt
//! is retried with exponential backoff, across restarts, since the rows are the queue.

use crate::error::{AppError, AppResult};
use chrono::{Duration as Span, Utc};
use entity::{OutboxState, outbox_email};
use lettre::message::{Mailbox, Message, MultiPart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a worker owns a row it is sending before another may try (longer than the SMTP
/// timeout; after a crash mid-send, the row waits this long before it is sent again).
const LEASE_SECONDS: i64 = 15;
/// Retry delays double from 1 s up to this.
const MAX_BACKOFF_SECONDS: i64 = 300;
const BATCH: u64 = 20;
/// After this many failed attempts (about 70 minutes of retries) a message is marked FAILED and
/// counted in `/metrics`; the rest of the outbox keeps draining. A message that cannot be built
/// at all (an address that is not one mailbox) fails at its first attempt.
pub const MAX_ATTEMPTS: i32 = 20;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dir(PathBuf),
}

pub struct Mailer {
    metrics: Option<Arc<crate::metrics::Metrics>>,
    db: DatabaseConnection,
    transport: Transport,
    from: Mailbox,
    wake: Arc<Notify>,
    poll: Duration,
    /// Where the emails' link points (`{public_url}/console`); none: no link.
    public_url: Option<String>,
}

impl Mailer {
    pub fn new(
        db: DatabaseConnection,
        smtp_url: Option<&str>,
        mail_dir: PathBuf,
        from: &str,
        wake: Arc<Notify>,
    ) -> AppResult<Self> {
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| AppError::BadUserInput(format!("--smtp-url: {e}")))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            None => Transport::Dir(mail_dir),
        };
        let from = from
            .parse()
            .map_err(|e| AppError::BadUserInput(format!("--mail-from: {e}")))?;
        Ok(Mailer {
            metrics: None,
            db,
            transport,
            from,
            wake,
            poll: Duration::from_secs(5),
            public_url: None,
        })
    }

    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn with_public_url(mut self, url: String) -> Self {
        self.public_url = Some(url.trim_end_matches('/').to_string());
        self
    }

    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Dir(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Send what is due, until `stop` resolves; between messages, never in the middle of one.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.send_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.detail(), "outbox pass failed"),
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }

    /// One pass: lease, send and record up to a batch of due rows. Returns how many were sent.
    pub async fn send_due(&self) -> AppResult<usize> {
        let now = Utc::now();
        let due = outbox_email::Entity::find()
            .filter(outbox_email::Column::State.eq(OutboxState::Pending))
            .filter(outbox_email::Column::NextAttemptAt.lte(now))
            .order_by_asc(outbox_email::Column::Id)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        let mut sent = 0;
        for row in due {
            // Lease it: only the worker whose update matched may send it.
            let leased = outbox_email::Entity::update_many()
                .col_expr(
                    outbox_email::Column::NextAttemptAt,
                    Expr::value(now + Span::seconds(LEASE_SECONDS)),
                )
                .filter(outbox_email::Column::Id.eq(row.id))
                .filter(outbox_email::Column::State.eq(OutboxState::Pending))
                .filter(outbox_email::Column::NextAttemptAt.eq(row.next_attempt_at))
                .exec(&self.db)
                .await?;
            if leased.rows_affected != 1 {
                continue;
            }
            let attempt = match self.message(&row) {
                Ok(message) => self.deliver(&row, message).await.map_err(|why| (why, false)),
                Err(why) => Err((why, true)),
            };
            match attempt {
                Ok(()) => {
                    outbox_email::Entity::update_many()
                        .col_expr(outbox_email::Column::State, Expr::value(OutboxState::Sent))
                        .col_expr(outbox_email::Column::SentAt, Expr::value(Utc::now()))
                        .col_expr(outbox_email::Column::Attempts, Expr::value(row.attempts + 1))
                        .filter(outbox_email::Column::Id.eq(row.id))
                        .exec(&self.db)
                        .await?;
                    sent += 1;
                    if let Some(m) = &self.metrics {
                        m.emails_sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                Err((why, permanent)) => {
                    if let Some(m) = &self.metrics {
                        m.email_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let attempts = row.attempts + 1;
                    if permanent || attempts >= MAX_ATTEMPTS {
                        tracing::error!(outbox = row.id, attempts, error = %why, "email given up on");
                        if let Some(m) = &self.metrics {
                            m.emails_abandoned.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        outbox_email::Entity::update_many()
                            .col_expr(outbox_email::Column::State, Expr::value(OutboxState::Failed))
                            .col_expr(outbox_email::Column::Attempts, Expr::value(attempts))
                            .col_expr(outbox_email::Column::LastError, Expr::value(why))
                            .filter(outbox_email::Column::Id.eq(row.id))
                            .exec(&self.db)
                            .await?;
                        continue;
                    }
                    let backoff = (1i64 << attempts.min(16)).min(MAX_BACKOFF_SECONDS);
                    tracing::warn!(outbox = row.id, attempts, error = %why, "email not sent; will retry");
                    outbox_email::Entity::update_many()
                        .col_expr(outbox_email::Column::Attempts, Expr::value(attempts))
                        .col_expr(
                            outbox_email::Column::NextAttemptAt,
                            Expr::value(Utc::now() + Span::seconds(backoff)),
                        )
                        .col_expr(outbox_email::Column::LastError, Expr::value(why))
                        .filter(outbox_email::Column::Id.eq(row.id))
                        .exec(&self.db)
                        .await?;
                }
            }
        }
        Ok(sent)
    }

    fn message(&self, row: &outbox_email::Model) -> Result<Message, String> {
        let to: Mailbox = row.to_address.parse().map_err(|e| format!("bad address: {e}"))?;
        let link = self.public_url.as_ref().map(|url| format!("{url}/console"));
        let text = match &link {
            Some(link) => format!("{}\nOpen your work in handover: {link}\n", row.body),
            None => format!("{}\nOpen handover to see your work.\n", row.body),
        };
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&row.subject)
            // Receivers can tell a resend after a crash from a new message.
            .message_id(Some(format!("<outbox-{}@handover>", row.id)));
        let built = match &row.body_html {
            Some(html) => {
                let footer = match &link {
                    Some(link) => format!(
                        "<p><a href=\"{}\">Open your work in handover</a></p>",
                        crate::notify::digest::escape(link)
                    ),
                    None => "<p>Open handover to see your work.</p>".to_string(),
                };
                let html = format!(
                    "<!doctype html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{html}{footer}\n</body></html>\n"
                );
                builder.multipart(MultiPart::alternative_plain_html(text, html))
            }
            None => builder.header(ContentType::TEXT_PLAIN).body(text),
        };
        built.map_err(|e| e.to_string())
    }

    async fn deliver(&self, row: &outbox_email::Model, message: Message) -> Result<(), String> {
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Dir(dir) => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| e.to_string())?;
                // Named by outbox id and written whole before it appears: a resend overwrites.
                let tmp = dir.join(format!(".outbox-{}.eml.tmp", row.id));
                tokio::fs::write(&tmp, message.formatted())
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::fs::rename(&tmp, dir.join(format!("outbox-{}.eml", row.id)))
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}
