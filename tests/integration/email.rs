//! Assignee emails: from the outbox to a real SMTP listener (a small SMTP server on a TCP port,
//! speaking the protocol), surviving the listener being down, sent once; and .eml files when no
//! SMTP server is configured.

use crate::common::*;
use crate::on_both_databases;
use entity::{OutboxState, outbox_email};
use handover::notify::mailer::Mailer;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Messages received: (recipients, data).
type Inbox = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
async fn smtp_listener(listener: TcpListener, inbox: Inbox) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let inbox = inbox.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let _ = write.write_all(b"220 test ESMTP\r\n").await;
            let mut rcpt = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                let upper = line.to_ascii_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") {
                    b"250-test\r\n250 OK\r\n"
                } else if upper.starts_with("HELO")
                    || upper.starts_with("MAIL")
                    || upper.starts_with("RSET")
                    || upper.starts_with("NOOP")
                {
                    b"250 OK\r\n"
                } else if upper.starts_with("RCPT") {
                    rcpt.push(
                        line[line.find('<').unwrap_or(0)..]
                            .trim_matches(|c| c == '<' || c == '>')
                            .to_string(),
                    );
                    b"250 OK\r\n"
                } else if upper.starts_with("DATA") {
                    let _ = write.write_all(b"354 go ahead\r\n").await;
                    let mut data = String::new();
                    while let Ok(Some(l)) = lines.next_line().await {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    inbox.lock().unwrap().push((std::mem::take(&mut rcpt), data));
                    b"250 queued\r\n"
                } else if upper.starts_with("QUIT") {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    b"502 not implemented\r\n"
                };
                if write.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn reassign_lee_to_bob(app: &TestApp) {
    let admin = app.token("alice@demo.test").await;
    let lee = app.user_id(&admin, "lee@demo.test").await;
    let bob = app.user_id(&admin, "bob@demo.test").await;
    let q = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code } } }";
    let data = app
        .data(
            &admin,
            q,
            json!({ "i": { "fromUserId": lee, "acknowledgeRisks": true, "toUserId": bob, "note": "Lee has left" } }),
        )
        .await;
    assert_eq!(data["reassignWork"]["userErrors"], json!([]));
}

async fn email_survives_an_smtp_outage_and_is_sent_once(backend: Backend) {
    let app = spawn_app(backend).await;
    reassign_lee_to_bob(&app).await;

    // The SMTP server is down at first: nothing listens on the port.
    let port = {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let url = format!("smtp://127.0.0.1:{port}");
    let mailer = Mailer::new(
        app.db.clone(),
        Some(&url),
        "unused".into(),
        "handover <noreply@demo.test>",
        Default::default(),
    )
    .unwrap();
    assert_eq!(mailer.send_due().await.unwrap(), 0);
    let row = outbox_email::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (OutboxState::Pending, 1));
    assert!(row.last_error.is_some());
    assert!(row.next_attempt_at > chrono::Utc::now(), "backed off");

    // The server process restarts (a new worker; the row is the queue) and the SMTP server
    // comes up; once the backoff has passed, the email goes, once.
    drop(mailer);
    let mailer = Mailer::new(
        app.db.clone(),
        Some(&url),
        "unused".into(),
        "handover <noreply@demo.test>",
        Default::default(),
    )
    .unwrap();
    let inbox: Inbox = Default::default();
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(smtp_listener(listener, inbox.clone()));
    assert_eq!(mailer.send_due().await.unwrap(), 0, "not before its next attempt");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(mailer.send_due().await.unwrap(), 1);
    assert_eq!(mailer.send_due().await.unwrap(), 0, "never twice");
    let messages = inbox.lock().unwrap().clone();
    assert_eq!(messages.len(), 1);
    let (to, data) = &messages[0];
    assert_eq!(to, &vec!["bob@demo.test".to_string()]);
    assert!(
        data.contains("Subject: Alice Admin assigned you work from Lee Leaver"),
        "{data}"
    );
    assert!(
        data.contains("4 matters, 6 tasks and 4 calendar events are now yours."),
        "{data}"
    );
    assert!(data.contains("Lee has left"), "{data}");
    let row = outbox_email::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (OutboxState::Sent, 2));
    assert!(row.sent_at.is_some());

    // Another restart finds nothing left to send.
    let again = Mailer::new(
        app.db.clone(),
        Some(&url),
        "unused".into(),
        "noreply@demo.test",
        Default::default(),
    )
    .unwrap();
    assert_eq!(again.send_due().await.unwrap(), 0);
    assert_eq!(inbox.lock().unwrap().len(), 1);
}

async fn without_smtp_emails_become_eml_files(backend: Backend) {
    let app = spawn_app(backend).await;
    reassign_lee_to_bob(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(
        app.db.clone(),
        None,
        dir.path().into(),
        "noreply@demo.test",
        Default::default(),
    )
    .unwrap();
    assert_eq!(mailer.send_due().await.unwrap(), 1);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.contains("To: bob@demo.test") && text.contains("Lee has left"),
        "{text}"
    );
}

/// A message that can never go (not one mailbox), or that failed its last allowed attempt, is
/// marked FAILED and counted; the rest of the outbox keeps draining.
async fn the_outbox_gives_up_and_keeps_draining(backend: Backend) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    let app = spawn_app(backend).await;
    reassign_lee_to_bob(&app).await;
    let good = outbox_email::Entity::find().one(&app.db).await.unwrap().unwrap();
    let copy = |address: &str, attempts: i32| {
        let mut row = good.clone().into_active_model();
        row.id = sea_orm::ActiveValue::NotSet;
        row.to_address = Set(address.into());
        row.attempts = Set(attempts);
        row
    };
    let bad = copy("a@x.test,evil@y.test", 0).insert(&app.db).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let metrics = std::sync::Arc::new(handover::metrics::Metrics::default());
    let mailer = Mailer::new(
        app.db.clone(),
        None,
        dir.path().into(),
        "noreply@demo.test",
        Default::default(),
    )
    .unwrap()
    .with_metrics(metrics.clone());
    assert_eq!(mailer.send_due().await.unwrap(), 1, "the good one still goes");
    let bad = outbox_email::Entity::find_by_id(bad.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((bad.state, bad.attempts), (OutboxState::Failed, 1));
    assert!(bad.last_error.unwrap().contains("address"));

    // The last allowed attempt fails (the mail directory cannot be written): given up on.
    let last = copy("bob@demo.test", handover::notify::mailer::MAX_ATTEMPTS - 1)
        .insert(&app.db)
        .await
        .unwrap();
    let blocked = dir.path().join("not-a-directory");
    std::fs::write(&blocked, b"").unwrap();
    let mailer = Mailer::new(app.db.clone(), None, blocked, "noreply@demo.test", Default::default())
        .unwrap()
        .with_metrics(metrics.clone());
    assert_eq!(mailer.send_due().await.unwrap(), 0);
    let last = outbox_email::Entity::find_by_id(last.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.state, OutboxState::Failed);
    assert!(
        metrics
            .render(0)
            .contains("handover_emails_total{result=\"abandoned\"} 2")
    );
    // Nothing is left pending: the backlog drained.
    let pending = outbox_email::Entity::find()
        .filter(outbox_email::Column::State.eq(OutboxState::Pending))
        .all(&app.db)
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

/// The digest lists what arrived, as the assignee received it over SMTP: matters by number and
/// description, tasks by due date soonest first (capped, "and N more"), events by start in the
/// assignee's own time zone, the note and a link to the console; a plain text part and an HTML
/// part; and the in-app notification says the same.
async fn the_digest_lists_what_arrived(backend: Backend) {
    use chrono::{Duration as Days, Utc};
    use entity::{ItemOutcome, WorkKind, calendar_event, matter, notification, reassignment_item, task, user};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    let app = spawn_app(backend).await;
    // Bob reads times in his own zone, not the firm's (America/New_York).
    let bob = user::Entity::find()
        .filter(user::Column::Email.eq("bob@demo.test"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row = bob.clone().into_active_model();
    row.time_zone = Set(Some("Europe/Paris".into()));
    row.update(&app.db).await.unwrap();
    // Lee gets nine more tasks on a matter that moves, so the task list needs "and N more";
    // one name carries markup, which the HTML part must escape.
    let lee_task = task::Entity::find()
        .filter(task::Column::Name.eq("Draft motion to compel"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    for n in 0..9 {
        let mut extra = lee_task.clone().into_active_model();
        extra.id = sea_orm::ActiveValue::NotSet;
        extra.key = Set(format!("extra-{n}"));
        extra.name = Set(if n == 0 {
            "Check <b>exhibits</b> & index".into()
        } else {
            format!("Extra task {n}")
        });
        extra.due_date = Set(Some((Utc::now() + Days::days(20 + n)).date_naive()));
        extra.insert(&app.db).await.unwrap();
    }
    reassign_lee_to_bob(&app).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let inbox: Inbox = Arc::default();
    tokio::spawn(smtp_listener(listener, inbox.clone()));
    let mailer = Mailer::new(
        app.db.clone(),
        Some(&url),
        "unused".into(),
        "noreply@demo.test",
        Default::default(),
    )
    .unwrap()
    .with_public_url("https://handover.firm.example/".into());
    assert!(mailer.send_due().await.unwrap() >= 1);
    let raw = inbox
        .lock()
        .unwrap()
        .iter()
        .find(|(to, _)| to == &["bob@demo.test"])
        .map(|(_, data)| data.clone())
        .expect("Bob's email");
    let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    let part = |kind: &str| {
        mail.subparts
            .iter()
            .find(|p| p.ctype.mimetype == kind)
            .unwrap_or_else(|| panic!("no {kind} part"))
            .get_body()
            .unwrap()
            .replace("\r\n", "\n")
    };
    let (text, html) = (part("text/plain"), part("text/html"));

    // What moved to Bob, read from the report's rows and the records themselves.
    let moved = |kind: WorkKind| {
        let db = app.db.clone();
        let bob = bob.id;
        async move {
            reassignment_item::Entity::find()
                .filter(reassignment_item::Column::Kind.eq(kind))
                .filter(reassignment_item::Column::Outcome.eq(ItemOutcome::Reassigned))
                .filter(reassignment_item::Column::NewHolderId.eq(bob))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|i| i.record_id)
                .collect::<Vec<_>>()
        }
    };
    let mut matters = matter::Entity::find()
        .filter(matter::Column::Id.is_in(moved(WorkKind::Matter).await))
        .all(&app.db)
        .await
        .unwrap();
    matters.sort_by(|a, b| a.display_number.cmp(&b.display_number));
    let mut tasks = task::Entity::find()
        .filter(task::Column::Id.is_in(moved(WorkKind::Task).await))
        .all(&app.db)
        .await
        .unwrap();
    tasks.sort_by(|a, b| (a.due_date.is_none(), a.due_date, &a.name).cmp(&(b.due_date.is_none(), b.due_date, &b.name)));
    let mut events = calendar_event::Entity::find()
        .filter(calendar_event::Column::Id.is_in(moved(WorkKind::CalendarEvent).await))
        .all(&app.db)
        .await
        .unwrap();
    events.sort_by(|a, b| (a.start_at, &a.title).cmp(&(b.start_at, &b.title)));
    assert!(!matters.is_empty() && tasks.len() > 10 && !events.is_empty());

    // The lines in order, each where the previous ended.
    let mut expected: Vec<String> = vec!["Matters:".into()];
    expected.extend(
        matters
            .iter()
            .map(|m| format!("- {} {}", m.display_number, m.description)),
    );
    expected.push("Tasks, soonest first:".into());
    for t in &tasks[..10] {
        let due = t
            .due_date
            .map_or("no due date".into(), |d| d.format("%a %-d %b %Y").to_string());
        expected.push(format!("- {due}: {} (", t.name));
    }
    expected.push(format!("- and {} more", tasks.len() - 10));
    expected.push("Calendar events (times in Europe/Paris):".into());
    let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let firm: chrono_tz::Tz = "America/New_York".parse().unwrap();
    for e in &events {
        expected.push(if e.all_day {
            format!(
                "- {}, all day: {}",
                e.start_at.with_timezone(&firm).format("%a %-d %b %Y"),
                e.title
            )
        } else {
            format!(
                "- {}: {}",
                e.start_at.with_timezone(&paris).format("%a %-d %b %Y %H:%M"),
                e.title
            )
        });
    }
    expected.push("Note from Alice Admin: Lee has left".into());
    expected.push("Open your work in handover: https://handover.firm.example/console".into());
    let mut at = 0;
    for line in &expected {
        let found = text[at..]
            .find(line.as_str())
            .unwrap_or_else(|| panic!("{line:?} not in order in:\n{text}"));
        at += found + line.len();
    }
    assert!(text.starts_with("Hello Bob Barrister,\n\n4 matters"), "{text}");

    // The HTML part: the same lists as lists, escaped, and the link.
    assert!(
        html.contains(&format!(
            "<li>{} {}</li>",
            matters[0].display_number, matters[0].description
        )),
        "{html}"
    );
    assert!(html.contains("Check &lt;b&gt;exhibits&lt;/b&gt; &amp; index"), "{html}");
    assert!(!html.contains("<b>exhibits"), "{html}");
    assert!(
        html.contains(&format!("<em>and {} more</em>", tasks.len() - 10)),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://handover.firm.example/console\">"),
        "{html}"
    );

    // In the app: the same content as the email's text.
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(bob.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(text.contains(&told.body), "{}\n---\n{text}", told.body);
    assert!(
        told.body.contains("Tasks, soonest first:") && told.body.contains("- and "),
        "{}",
        told.body
    );
}

on_both_databases!(
    the_digest_lists_what_arrived,
    email_survives_an_smtp_outage_and_is_sent_once,
    without_smtp_emails_become_eml_files,
    the_outbox_gives_up_and_keeps_draining
);
