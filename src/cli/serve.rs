use crate::auth::JwtKeys;
use crate::config::{DatabaseArgs, JwtArgs, ServeArgs};
use crate::demo::{DEMO_ADMIN_EMAIL, DEMO_ASSIGNEE_EMAIL, DEMO_FIRM_JSON};
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::import::{ImportError, import_text};
use entity::{firm, firm_issuer};
use rand::RngCore;
use sea_orm::{EntityTrait, PaginatorTrait};

pub async fn run(database: &DatabaseArgs, jwt: &JwtArgs, args: &ServeArgs) -> AppResult<()> {
    let mut keys = JwtKeys::from_args(jwt)?;
    let mut db = crate::db::connect(&database.database_url).await?;
    crate::db::migrate(&db).await?;
    if keys.is_none() && firm_issuer::Entity::find().count(&db).await? > 0 {
        // Every token then comes from a firm's identity provider.
        keys = Some(JwtKeys::firm_issuers_only(jwt)?);
    }
    if keys.is_none() {
        if !args.demo {
            return Err(AppError::BadUserInput(
                "no token verification key: set --jwt-secret (HANDOVER_JWT_SECRET), --jwt-public-key \
                 (HANDOVER_JWT_PUBLIC_KEY), --jwt-jwks-url or --jwt-oidc-issuer, or import a firm with \
                 `auth.issuers`; --demo generates a development secret"
                    .into(),
            ));
        }
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        tracing::warn!("demo mode: generated a development signing secret; tokens are valid until this process stops");
        keys = Some(JwtKeys::hs256(
            &secret,
            jwt.jwt_issuer.clone(),
            jwt.jwt_audience.clone(),
        ));
    }
    let keys = keys.expect("set above");

    // Every statement this process sends is counted, for /metrics (and `bench --reads`).
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
    let counter = metrics.clone();
    db.set_metric_callback(move |_| {
        counter
            .sql_statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    let fresh_demo = args.demo && firm::Entity::find().count(&db).await? == 0;
    if fresh_demo {
        match import_text(&db, DEMO_FIRM_JSON, true).await {
            Ok(summary) => tracing::info!(records = summary.changed(), "demo firm imported, dates moved to today"),
            Err(ImportError::Invalid(problems)) => {
                return Err(AppError::internal(format!(
                    "the bundled demo file is invalid: {problems:?}"
                )));
            }
            Err(ImportError::Failed(e)) => return Err(e),
        }
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| AppError::BadUserInput(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = crate::db::backend_name(&db), "handover listening");
    println!("GraphiQL: http://{addr}/graphiql");
    println!("Console:  http://{addr}/console");
    if args.demo {
        for (role, email) in [("administrator", DEMO_ADMIN_EMAIL), ("assignee", DEMO_ASSIGNEE_EMAIL)] {
            match super::token_for_email(&db, &keys, email, Some("demo"), 12 * 3600).await {
                Ok(token) => println!("Demo {role} {email} token (12 h):\n  {token}"),
                Err(e) => tracing::warn!(email, error = %e.detail(), "no demo token"),
            }
        }
        println!(
            "Try: curl -s http://{addr}/graphql -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \
             -d '{{\"query\":\"{{ viewer {{ name email accountAdmin }} }}\"}}'"
        );
    }

    let state = AppState::with_metrics(db.clone(), keys, args.limits.clone(), metrics)
        .with_cors_origins(args.cors_origins.clone());
    if fresh_demo {
        crate::demo::plan_leave(&db, &state.live, chrono::Utc::now()).await?;
    }
    if !crate::http::browser_assets_embedded() {
        tracing::warn!(
            "GraphiQL and the console were not built in (npm was missing at build time): /graphiql says what to do"
        );
    }
    // Planned starts and returns: the schedule is in the database; every instance ticks.
    let (stop_schedule, schedule_stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = tokio::spawn(crate::planned::schedule::run(db.clone(), state.live.clone(), async {
        let _ = schedule_stopped.await;
    }));
    let mail = &args.mail;
    let mailer = crate::notify::mailer::Mailer::new(
        db,
        mail.smtp_url.as_deref(),
        mail.mail_dir.clone(),
        &mail.mail_from,
        state.live.hub.mail_waker(),
    )?
    .with_metrics(state.metrics.clone())
    .with_public_url(mail.public_url.clone().unwrap_or_else(|| {
        let host = if addr.ip().is_unspecified() {
            "localhost".to_string()
        } else {
            addr.ip().to_string()
        };
        format!("http://{host}:{}", addr.port())
    }));
    tracing::info!(to = %mailer.describe(), "outbox worker started");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(mailer.run(async {
        let _ = stop_rx.await;
    }));

    crate::http::server::serve(listener, state, shutdown_signal()).await;
    // The outbox worker stops between messages.
    let _ = stop_tx.send(());
    let _ = stop_schedule.send(());
    let _ = worker.await;
    let _ = scheduler.await;
    tracing::info!("handover stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
