//! What signing in through an identity provider costs, against a configured PEM key.
//!
//! `handover-bench --sso SECONDS`: one server verifies tokens three ways at once: with its PEM
//! key (`--jwt-public-key`), with the same EC P-256 key published by a JWKS server this harness
//! runs (`--jwt-jwks-url`), and through a firm's trusted issuer (a `firm_issuer` row: the same
//! key by its JWKS URL, the user named by verified email). For each, `CONCURRENCY` clients send
//! an authenticated `{ viewer { id } }` for 5 x SECONDS one-second slices each, the three in
//! turn, so the machine's noise falls on all three alike. Same key, same signature check: what differs is
//! finding the key and the user.

use crate::Server;
use crate::reads::{CONCURRENCY, Workload, cpu_ms, load, reference_firm, statements};
use axum::routing::get;
use chrono::Utc;
use entity::{firm_issuer, user};
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::time::Duration;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keys");
const SLICES_PER_SECOND: usize = 5;

pub async fn run(database_url: &str, scale: f64, seconds: u64) -> AppResult<()> {
    let (db, people) = reference_firm(database_url, scale).await?;
    let backend = handover::db::backend_name(&db);
    let admin = user::Entity::find_by_id(people.admin)
        .one(&db)
        .await?
        .ok_or_else(|| AppError::internal("no admin"))?;

    // The identity provider: the fixture EC key, published as a JWK.
    let private = std::fs::read(format!("{KEYS}/ec-private.pem"))?;
    let signing = EncodingKey::from_ec_pem(&private).map_err(AppError::internal)?;
    let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::ES256).map_err(AppError::internal)?;
    jwk.common.key_id = Some("bench-1".into());
    let jwks = json!({ "keys": [jwk] });
    let app = axum::Router::new().route(
        "/keys",
        get(move || {
            let jwks = jwks.clone();
            async move { ([("cache-control", "max-age=300")], axum::Json(jwks)) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let public = format!("{KEYS}/ec-public.pem");
    let jwks_url = format!("{issuer}/keys");
    let log = std::env::temp_dir().join("handover-bench-sso.log");
    let (server, port) = Server::start_keyed(
        database_url,
        &[
            ("HANDOVER_JWT_PUBLIC_KEY", &public),
            ("HANDOVER_JWT_JWKS_URL", &jwks_url),
        ],
        Some(&log),
    )
    .await?;
    // The firm trusts the provider as its issuer (after the server migrated the database).
    firm_issuer::Entity::delete_many()
        .filter(firm_issuer::Column::FirmId.eq(people.firm_id))
        .exec(&db)
        .await?;
    firm_issuer::ActiveModel {
        firm_id: Set(people.firm_id),
        issuer: Set(issuer.clone()),
        audience: Set("handover".into()),
        jwks_url: Set(Some(jwks_url.clone())),
        identity_claim: Set("email".into()),
        identity: Set("email".into()),
        email_verified_claim: Set("email_verified".into()),
        ..Default::default()
    }
    .insert(&db)
    .await?;

    let exp = Utc::now().timestamp() as u64 + 3600;
    let sign = |kid: &str, claims: Value| {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, &signing).map_err(AppError::internal)
    };
    let sub = ids::encode(Kind::User, people.admin);
    let workload = |name, token| Workload {
        name,
        token,
        query: "{ viewer { id } }",
        variables: json!({}),
    };
    let workloads = [
        workload("PEM key", sign("ec-public", json!({ "sub": sub, "exp": exp }))?),
        workload("JWKS key", sign("bench-1", json!({ "sub": sub, "exp": exp }))?),
        workload(
            "firm issuer, by email",
            sign(
                "bench-1",
                json!({ "iss": issuer, "aud": "handover", "exp": exp, "email": admin.email, "email_verified": true }),
            )?,
        ),
    ];

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .map_err(AppError::internal)?;
    let base = format!("http://127.0.0.1:{port}");
    for w in &workloads {
        load(&client, &base, w, Duration::from_secs(1)).await?;
    }
    // One-second slices, the three in turn (each round starting with the next), SLICES_PER_SECOND
    // rounds per second asked: the machine's noise, which moves throughput by a fifth from one
    // second to the next here, falls on all three alike.
    #[derive(Clone, Copy, Default)]
    struct Sum {
        requests: u64,
        seconds: f64,
        cpu_ms: f64,
        statements: Option<u64>,
    }
    let mut sums = vec![Sum::default(); workloads.len()];
    for round in 0..seconds as usize * SLICES_PER_SECOND {
        for k in 0..workloads.len() {
            let i = (k + round) % workloads.len();
            let (cpu_before, sql_before) = (cpu_ms(&server), statements(&client, &base).await);
            let (requests, took) = load(&client, &base, &workloads[i], Duration::from_secs(1)).await?;
            let (cpu_after, sql_after) = (cpu_ms(&server), statements(&client, &base).await);
            let sum = &mut sums[i];
            sum.requests += requests;
            sum.seconds += took.as_secs_f64();
            sum.cpu_ms += cpu_after - cpu_before;
            sum.statements = match (sql_before, sql_after) {
                (Some(a), Some(b)) => Some(sum.statements.unwrap_or(0) + (b - a)),
                _ => None,
            };
        }
    }
    let rate = |s: &Sum| s.requests as f64 / s.seconds;
    let cpu = |s: &Sum| s.cpu_ms / s.requests as f64;
    println!(
        "| keys ({backend}, {CONCURRENCY} clients, {:.0} s each in 1 s slices) | requests/s | vs PEM | server CPU ms/request | vs PEM | SQL statements/request |",
        sums[0].seconds
    );
    println!("|---|---|---|---|---|---|");
    for (w, s) in workloads.iter().zip(&sums) {
        println!(
            "| {} | {:.0} | {:+.1}% | {:.3} | {:+.1}% | {} |",
            w.name,
            rate(s),
            (rate(s) / rate(&sums[0]) - 1.0) * 100.0,
            cpu(s),
            (cpu(s) / cpu(&sums[0]) - 1.0) * 100.0,
            s.statements
                .map_or("n/a".into(), |n| format!("{:.2}", n as f64 / s.requests as f64)),
        );
    }
    firm_issuer::Entity::delete_many()
        .filter(firm_issuer::Column::FirmId.eq(people.firm_id))
        .exec(&db)
        .await?;
    drop(server);
    Ok(())
}
