//! Single sign-on: tokens from identity providers, verified by the keys they publish (JWKS),
//! naming people by handover ID, by the firm's key or by verified email, each firm trusting its
//! own issuers only. Every provider here is a real HTTP server (`idp`) with keys made here.

use crate::common::*;
use crate::idp::{Provider, SigningKey, now, trust};
use crate::on_both_databases;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use handover::auth::{IdentityKind, IdentityRule, JwtKeys};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::time::Duration;

const VIEWER: &str = "{ viewer { email } }";

/// The demo firm trusts three providers (one per kind of identity), the other firm a fourth.
struct Sso {
    app: TestApp,
    /// RS256, by discovery, audience `handover`, identity: verified `email`.
    by_email: (Provider, SigningKey),
    /// ES256, by JWKS URL, audience `handover-api`, identity: `key` in claim `employee_id`.
    by_key: (Provider, SigningKey),
    /// EdDSA, by JWKS URL, audience `handover`, identity: handover `id` in `sub`.
    by_id: (Provider, SigningKey),
    /// The other firm's: ES256, audience `handover`, identity: verified `email`.
    other: (Provider, SigningKey),
}

async fn sso_app(backend: Backend, min_refresh: Duration) -> Sso {
    let app = spawn_app_with(
        backend,
        Options {
            keys: Some(JwtKeys::hs256(SECRET, None, None).with_min_refresh(min_refresh)),
            ..Default::default()
        },
    )
    .await;
    let by_email = SigningKey::rsa("r1");
    let by_key = SigningKey::ec("e1");
    let by_id = SigningKey::ed("d1");
    let other = SigningKey::ec("o1");
    let sso = Sso {
        by_email: (Provider::start(&[&by_email]).await, by_email),
        by_key: (Provider::start(&[&by_key]).await, by_key),
        by_id: (Provider::start(&[&by_id]).await, by_id),
        other: (Provider::start(&[&other]).await, other),
        app,
    };
    trust(
        &sso.app.db,
        DEMO,
        true,
        vec![
            sso.by_email.0.trusted_as("handover", "email", json!({}), false),
            sso.by_key
                .0
                .trusted_as("handover-api", "key", json!({ "identityClaim": "employee_id" }), true),
            sso.by_id.0.trusted_as("handover", "id", json!({}), true),
        ],
    )
    .await;
    trust(
        &sso.app.db,
        OTHER_FIRM,
        false,
        vec![sso.other.0.trusted_as("handover", "email", json!({}), true)],
    )
    .await;
    sso
}

impl Sso {
    fn email_token(&self, email: &str, verified: Value) -> String {
        let (p, k) = &self.by_email;
        p.token(
            k,
            json!({ "sub": "idp-123", "aud": "handover", "email": email, "email_verified": verified }),
        )
    }
}

/// The viewer's email, or the 401's message.
async fn who(app: &TestApp, token: &str) -> Result<String, String> {
    let (status, body) = app.gql(token, VIEWER, json!({})).await;
    match status {
        200 => Ok(body["data"]["viewer"]["email"].as_str().unwrap().to_string()),
        401 => {
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
            Err(body["errors"][0]["message"].as_str().unwrap().to_string())
        }
        s => panic!("HTTP {s}: {body}"),
    }
}

fn refused(result: Result<String, String>, because: &str) {
    match result {
        Ok(email) => panic!("accepted as {email}; expected a refusal because {because}"),
        Err(message) => assert!(message.contains(because), "{message:?} should say {because:?}"),
    }
}

async fn user_sub(app: &TestApp, email: &str) -> String {
    use sea_orm::ColumnTrait;
    let id = one::<entity::user::Entity>(&app.db, entity::user::Column::Email.eq(email))
        .await
        .id;
    handover::ids::encode(handover::ids::Kind::User, id)
}

async fn identity_by_email_key_and_id(backend: Backend) {
    let sso = sso_app(backend, Duration::ZERO).await;
    let app = &sso.app;

    // By verified email, folded: case does not matter; Cognito's string "true" counts.
    assert_eq!(
        who(app, &sso.email_token("alice@demo.test", json!(true))).await,
        Ok("alice@demo.test".into())
    );
    assert_eq!(
        who(app, &sso.email_token("ALICE@Demo.TEST", json!(true))).await,
        Ok("alice@demo.test".into())
    );
    assert_eq!(
        who(app, &sso.email_token("bob@demo.test", json!("true"))).await,
        Ok("bob@demo.test".into())
    );
    refused(
        who(app, &sso.email_token("alice@demo.test", json!(false))).await,
        "not verified",
    );
    refused(
        who(app, &sso.email_token("alice@demo.test", json!(null))).await,
        "not verified",
    );
    refused(
        who(app, &sso.email_token("nobody@demo.test", json!(true))).await,
        "unknown user",
    );
    refused(
        who(app, &sso.email_token("lee@demo.test", json!(true))).await,
        "deactivated",
    );
    let (p, k) = &sso.by_email;
    refused(
        who(app, &p.token(k, json!({ "aud": "handover", "email_verified": true }))).await,
        "does not name a user",
    );
    refused(
        who(
            app,
            &p.token(
                k,
                json!({ "aud": "handover", "email": "alice@demo.test\u{0}", "email_verified": true }),
            ),
        )
        .await,
        "does not name a user",
    );
    refused(
        who(
            app,
            &p.token(
                k,
                json!({ "aud": "someone-else", "email": "alice@demo.test", "email_verified": true }),
            ),
        )
        .await,
        "audience",
    );
    refused(
        who(
            app,
            &p.token(k, json!({ "email": "alice@demo.test", "email_verified": true })),
        )
        .await,
        "required claim",
    );
    refused(
        who(
            app,
            &p.token(
                k,
                json!({ "aud": "handover", "email": "alice@demo.test", "email_verified": true, "exp": now() - 3600 }),
            ),
        )
        .await,
        "expired",
    );

    // By the firm's key for the person, in a claim of the firm's choosing; audience as a list.
    let (p, k) = &sso.by_key;
    assert_eq!(
        who(
            app,
            &p.token(
                k,
                json!({ "sub": "x", "aud": ["other-api", "handover-api"], "employee_id": "bob" })
            )
        )
        .await,
        Ok("bob@demo.test".into())
    );
    refused(
        who(
            app,
            &p.token(k, json!({ "aud": "handover-api", "employee_id": "nobody" })),
        )
        .await,
        "unknown user",
    );
    // The other firm's user key names nobody here.
    refused(
        who(
            app,
            &p.token(k, json!({ "aud": "handover-api", "employee_id": "olga" })),
        )
        .await,
        "unknown user",
    );

    // By handover's ID: a user of this firm only.
    let (p, k) = &sso.by_id;
    let alice = user_sub(app, "alice@demo.test").await;
    let olga = user_sub(app, "olga@other.test").await;
    assert_eq!(
        who(app, &p.token(k, json!({ "sub": alice, "aud": "handover" }))).await,
        Ok("alice@demo.test".into())
    );
    refused(
        who(app, &p.token(k, json!({ "sub": olga, "aud": "handover" }))).await,
        "unknown user",
    );

    // The server's own HS256 tokens work as before beside the firms' issuers.
    let own = app.token("carol@demo.test").await;
    assert_eq!(who(app, &own).await, Ok("carol@demo.test".into()));
}

async fn another_firms_issuer_cannot_act_here(backend: Backend) {
    let sso = sso_app(backend, Duration::ZERO).await;
    let app = &sso.app;
    let (other, other_key) = &sso.other;
    let claims = |email: &str| json!({ "aud": "handover", "email": email, "email_verified": true });

    // The other firm's provider names its own people…
    assert_eq!(
        who(app, &other.token(other_key, claims("olga@other.test"))).await,
        Ok("olga@other.test".into())
    );
    // …and nobody of this firm, even with a matching email.
    refused(
        who(app, &other.token(other_key, claims("alice@demo.test"))).await,
        "unknown user",
    );
    // Its key cannot sign for this firm's issuer: the issuer's own keys decide.
    let mut forged = claims("alice@demo.test");
    forged["iss"] = json!(sso.by_email.0.issuer);
    forged["exp"] = json!(now() + 600);
    refused(who(app, &other_key.sign(&forged)).await, "key id is unknown");
    // Nor can another of this firm's providers' keys, nor the server's own secret.
    refused(who(app, &sso.by_key.1.sign(&forged)).await, "key id is unknown");
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &forged,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    refused(who(app, &hs).await, "algorithm is not accepted");
    // A token that claims no trusted issuer goes to the server's own keys, which do not know it.
    let mut elsewhere = claims("alice@demo.test");
    elsewhere["iss"] = json!("https://idp.elsewhere.test");
    elsewhere["exp"] = json!(now() + 600);
    refused(who(app, &other_key.sign(&elsewhere)).await, "key id is unknown");
}

async fn the_key_decides_the_algorithm(backend: Backend) {
    let sso = sso_app(backend, Duration::ZERO).await;
    let app = &sso.app;
    let (p, rsa) = &sso.by_email;
    let claims = json!({ "iss": p.issuer, "aud": "handover", "exp": now() + 600, "email": "alice@demo.test", "email_verified": true });
    // Warm the cache with a genuine token.
    assert!(who(app, &sso.email_token("alice@demo.test", json!(true))).await.is_ok());

    // HS256 over the RSA key's published modulus and exponent, naming the RSA key's kid: the
    // classic confusion. The key is RS256; the token is refused.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(rsa.kid.clone());
    for secret in [rsa.jwk["n"].as_str().unwrap().to_string(), rsa.jwk.to_string()] {
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap();
        refused(who(app, &token).await, "algorithm is not accepted");
    }
    // An EC signature under the RSA key's kid.
    let ec = SigningKey::ec("r1");
    refused(who(app, &ec.sign(&claims)).await, "algorithm is not accepted");
    // `alg: none`.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"r1"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    refused(who(app, &none).await, "invalid");
    // A genuine signature with the header's algorithm changed afterwards.
    let genuine = sso.email_token("alice@demo.test", json!(true));
    let mut parts: Vec<String> = genuine.split('.').map(str::to_string).collect();
    parts[0] = URL_SAFE_NO_PAD.encode(br#"{"alg":"PS256","kid":"r1","typ":"JWT"}"#);
    refused(who(app, &parts.join(".")).await, "");
}

async fn keys_rotate_with_overlap(backend: Backend) {
    let sso = sso_app(backend, Duration::ZERO).await;
    let app = &sso.app;
    let (p, e1) = &sso.by_key;
    let claims = json!({ "aud": "handover-api", "employee_id": "bob" });
    assert_eq!(who(app, &p.token(e1, claims.clone())).await, Ok("bob@demo.test".into()));

    // The provider adds a key: a token with its kid (unknown here) makes the keys be fetched.
    let e2 = SigningKey::ec("e2");
    p.publish(&[e1, &e2]);
    let fetches = p.fetches();
    assert_eq!(
        who(app, &p.token(&e2, claims.clone())).await,
        Ok("bob@demo.test".into())
    );
    assert!(p.fetches() > fetches, "the unknown kid made a fetch");
    // Overlap: the old key still works.
    assert_eq!(who(app, &p.token(e1, claims.clone())).await, Ok("bob@demo.test".into()));

    // The provider retires the old key: once fetched again (the JWKS is `no-store`), the old
    // key's tokens are refused and the new key's keep working.
    p.publish(&[&e2]);
    let mut refused_at = None;
    for attempt in 0..50 {
        if who(app, &p.token(e1, claims.clone())).await.is_err() {
            refused_at = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused_at.is_some(), "a retired key stopped working");
    assert_eq!(who(app, &p.token(&e2, claims)).await, Ok("bob@demo.test".into()));
}

async fn unknown_key_ids_are_rate_limited(backend: Backend) {
    let sso = sso_app(backend, Duration::from_secs(3600)).await;
    let app = &sso.app;
    let (p, e1) = &sso.by_key;
    let claims = json!({ "aud": "handover-api", "employee_id": "bob" });
    assert_eq!(who(app, &p.token(e1, claims.clone())).await, Ok("bob@demo.test".into()));
    assert_eq!(p.fetches(), 1);
    let stranger = SigningKey::ec("zz");
    for _ in 0..5 {
        refused(who(app, &p.token(&stranger, claims.clone())).await, "key id is unknown");
    }
    assert_eq!(who(app, &p.token(e1, claims)).await, Ok("bob@demo.test".into()));
    assert_eq!(p.fetches(), 1, "unknown kids fetched at most once per interval");
}

async fn provider_down(backend: Backend) {
    let sso = sso_app(backend, Duration::ZERO).await;
    let app = &sso.app;
    let (p, e1) = &sso.by_key;
    let claims = json!({ "aud": "handover-api", "employee_id": "bob" });
    assert_eq!(who(app, &p.token(e1, claims.clone())).await, Ok("bob@demo.test".into()));

    // Down after its keys were fetched: they keep working, though every refresh fails.
    p.set_down(true);
    let fetches = p.fetches();
    for _ in 0..5 {
        assert_eq!(who(app, &p.token(e1, claims.clone())).await, Ok("bob@demo.test".into()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(p.fetches() > fetches, "refreshes were tried");
    // A key it never published is refused, not guessed.
    refused(
        who(app, &p.token(&SigningKey::ec("e9"), claims.clone())).await,
        "key id is unknown",
    );

    // Down before any key was fetched (discovery and JWKS): nothing verifies; fail closed.
    let (q, r1) = &sso.by_email;
    q.set_down(true);
    refused(
        who(app, &sso.email_token("alice@demo.test", json!(true))).await,
        "keys are unavailable",
    );
    // A provider nobody listens at.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    trust(
        &app.db,
        OTHER_FIRM,
        false,
        vec![json!({ "issuer": gone, "audience": "handover", "identity": "email" })],
    )
    .await;
    app.live.viewers.forget_all();
    let unreachable = json!({ "iss": gone, "aud": "handover", "exp": now() + 600, "email": "olga@other.test", "email_verified": true });
    refused(who(app, &r1.sign(&unreachable)).await, "keys are unavailable");
    // Back up: the keys are fetched and tokens work again.
    q.set_down(false);
    assert_eq!(
        who(app, &sso.email_token("alice@demo.test", json!(true))).await,
        Ok("alice@demo.test".into())
    );
}

async fn both_doors(backend: Backend) {
    let sso = sso_app(backend, Duration::ZERO).await;
    let app = &sso.app;
    let good = sso.email_token("alice@demo.test", json!(true));
    let mut socket = connect(app).await;
    init(&mut socket, &good).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": VIEWER } }),
    )
    .await;
    let answer = next(&mut socket).await;
    assert_eq!(
        answer["payload"]["data"]["viewer"]["email"], "alice@demo.test",
        "{answer}"
    );
    assert_eq!(next(&mut socket).await["type"], "complete");

    // The firm stops trusting the provider: the open socket's next operation closes it.
    trust(&app.db, DEMO, true, vec![]).await;
    let mut closed = None;
    for attempt in 2..60 {
        send(
            &mut socket,
            json!({ "id": attempt.to_string(), "type": "subscribe", "payload": { "query": VIEWER } }),
        )
        .await;
        loop {
            let message = next(&mut socket).await;
            if message.get("close").is_some() {
                closed = Some(message);
                break;
            }
            if message["type"] == "complete" {
                break;
            }
        }
        if closed.is_some() {
            break;
        }
        // PostgreSQL: the server forgets what it kept when the change's NOTIFY arrives.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(closed, Some(json!({ "close": 4403 })));
    refused(who(app, &good).await, "key id is unknown");
    trust(
        &app.db,
        DEMO,
        true,
        vec![sso.by_email.0.trusted_as("handover", "email", json!({}), false)],
    )
    .await;

    // The other firm's provider naming this firm's admin: refused at connection_init.
    let (other, key) = &sso.other;
    let bad = other.token(
        key,
        json!({ "aud": "handover", "email": "alice@demo.test", "email_verified": true }),
    );
    let mut socket = connect(app).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {bad}") } }),
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({ "close": 4403 }));
    // Unverified email, same.
    let unverified = sso.email_token("alice@demo.test", json!(false));
    let mut socket = connect(app).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {unverified}") } }),
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({ "close": 4403 }));
}

async fn server_wide_provider_by_discovery(backend: Backend) {
    let key = SigningKey::ec("s1");
    let provider = Provider::start(&[&key]).await;
    let keys = JwtKeys::none()
        .with_min_refresh(Duration::ZERO)
        .with_oidc_issuer(&provider.issuer)
        .with_identity(IdentityRule {
            claim: "email".into(),
            kind: IdentityKind::Email,
            email_verified_claim: "email_verified".into(),
        });
    let app = spawn_app_with(
        backend,
        Options {
            keys: Some(keys),
            ..Default::default()
        },
    )
    .await;
    let claims = |email: &str| json!({ "email": email, "email_verified": true });
    // Any firm's people, by their verified email.
    assert_eq!(
        who(&app, &provider.token(&key, claims("alice@demo.test"))).await,
        Ok("alice@demo.test".into())
    );
    assert_eq!(
        who(&app, &provider.token(&key, claims("olga@other.test"))).await,
        Ok("olga@other.test".into())
    );
    // Without a kid, the key whose algorithm the header names.
    let mut all = claims("bob@demo.test");
    all["iss"] = json!(provider.issuer);
    all["exp"] = json!(now() + 600);
    let no_kid = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &all, &key.encoding).unwrap();
    assert_eq!(who(&app, &no_kid).await, Ok("bob@demo.test".into()));
    // Another issuer's claim, the provider's key: the required `iss` refuses it.
    all["iss"] = json!("https://idp.elsewhere.test");
    refused(who(&app, &key.sign(&all)).await, "issuer");
    // The server has no secret: an HS256 token is refused.
    let hs = JwtKeys::hs256(SECRET, None, None)
        .sign(&user_sub(&app, "alice@demo.test").await, 60)
        .unwrap();
    refused(who(&app, &hs).await, "algorithm is not accepted");
}

async fn issuer_rows(db: &sea_orm::DatabaseConnection) -> Vec<entity::firm_issuer::Model> {
    use sea_orm::EntityTrait;
    entity::firm_issuer::Entity::find().all(db).await.unwrap()
}

async fn broken_auth_sections_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut doc: Value = serde_json::from_str(OTHER_FIRM).unwrap();
    doc["firm"]["auth"] = json!({ "issuers": [
        { "issuer": "https://idp.example", "identity": "email" },
        { "issuer": "https://idp.example", "audience": "a", "identity": "phone" },
        { "issuer": "accounts.example", "audience": "a", "identity": "key" },
        { "issuer": "https://idp.two", "audience": "a", "identity": "id", "jwksUrl": "ftp://keys" },
        { "issuer": "https://idp.three\u{0}", "audience": "a", "identity": "id" },
        { "issuer": "https://idp.four", "audience": "a", "identity": "id", "colour": "blue" },
        { "issuer": "https://idp.five", "audience": "a", "identity": "id" },
        { "issuer": "https://idp.five", "audience": "b", "identity": "email" },
        "https://idp.six"
    ] });
    let before = snapshot(&app.db).await;
    let problems = match handover::import::import_text(&app.db, &doc.to_string(), false).await {
        Err(handover::import::ImportError::Invalid(problems)) => problems,
        other => panic!("expected problems, got {:?}", other.map(|s| s.to_string())),
    };
    let said: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
    for expected in [
        "$.firm.auth.issuers[0].audience: is required",
        "$.firm.auth.issuers[1].identity: \"phone\" is not one of id, key, email",
        "$.firm.auth.issuers[2].jwksUrl: is required when the issuer is not an http(s) URL",
        "$.firm.auth.issuers[3].jwksUrl: must be an http(s) URL",
        "$.firm.auth.issuers[4].issuer: must be at most 2048 bytes, without control characters",
        "$.firm.auth.issuers[5].colour: unknown field",
        "$.firm.auth.issuers[7].issuer: duplicate issuer \"https://idp.five\"",
        "$.firm.auth.issuers[8]: must be an object",
    ] {
        assert!(
            said.iter().any(|s| s.starts_with(expected)),
            "missing {expected:?} in {said:#?}"
        );
    }
    doc["firm"]["auth"] = json!({ "providers": [] });
    assert!(
        handover::import::import_text(&app.db, &doc.to_string(), false)
            .await
            .is_err()
    );
    assert!(snapshot(&app.db).await == before, "a refused import changed something");
    assert_eq!(issuer_rows(&app.db).await.len(), 0);

    // A good section is stored; importing it again changes nothing; an empty list clears it.
    doc["firm"]["auth"] = json!({ "issuers": [
        { "issuer": "https://idp.example", "audience": "handover", "identity": "email" }
    ] });
    let first = handover::import::import_text(&app.db, &doc.to_string(), false)
        .await
        .ok()
        .unwrap();
    assert_eq!(first.kinds[0].1.updated, 1);
    let again = handover::import::import_text(&app.db, &doc.to_string(), false)
        .await
        .ok()
        .unwrap();
    assert_eq!(again.changed(), 0);
    let rows = issuer_rows(&app.db).await;
    assert_eq!((rows.len(), rows[0].identity_claim.as_str()), (1, "email"));
    doc["firm"]["auth"] = json!({ "issuers": [] });
    handover::import::import_text(&app.db, &doc.to_string(), false)
        .await
        .ok()
        .unwrap();
    assert!(issuer_rows(&app.db).await.is_empty());
}

async fn first_requests_wait_for_the_fetch(backend: Backend) {
    // The default refresh interval: requests that arrive while the first fetch is in flight
    // wait for it, rather than being refused for want of keys.
    let sso = sso_app(backend, Duration::from_secs(handover::config::DEFAULT_JWKS_MIN_REFRESH)).await;
    let token = sso.email_token("alice@demo.test", json!(true));
    let answers = futures::future::join_all((0..16).map(|_| who(&sso.app, &token))).await;
    for answer in answers {
        assert_eq!(answer, Ok("alice@demo.test".to_string()));
    }
    assert_eq!(sso.by_email.0.fetches(), 1);
}

/// Hostile tokens: each is a 401 with a reason, never a 500, and the server stays up.
async fn hostile_tokens(backend: Backend) {
    let sso = sso_app(backend, Duration::ZERO).await;
    let app = &sso.app;
    let (p, k) = &sso.by_email;
    let base = json!({ "aud": "handover", "email": "alice@demo.test", "email_verified": true, "exp": now() + 600 });
    let with = |field: &str, value: Value| {
        let mut claims = base.clone();
        claims[field] = value;
        claims
    };
    let cases: Vec<(&str, String)> = vec![
        ("NUL in iss", k.sign(&with("iss", json!("https://idp\u{0}.test")))),
        (
            "NUL in iss (JSON escape)",
            k.sign(&with("iss", json!(format!("{}\u{0}", p.issuer)))),
        ),
        ("huge iss", k.sign(&with("iss", json!("x".repeat(5000))))),
        ("iss a number", k.sign(&with("iss", json!(42)))),
        ("iss an object", k.sign(&with("iss", json!({ "a": [1, 2] })))),
        ("non-ASCII iss", k.sign(&with("iss", json!("https://ïdp.tést/ß")))),
        ("aud an object", p.token(k, with("aud", json!({ "x": 1 })))),
        ("email a list", p.token(k, with("email", json!(["alice@demo.test"])))),
        (
            "huge email",
            p.token(k, with("email", json!(format!("{}@demo.test", "a".repeat(100_000))))),
        ),
        ("NUL in email", p.token(k, with("email", json!("alice@demo.test\u{0}")))),
        ("exp a string", p.token(k, with("exp", json!("tomorrow")))),
        ("huge kid", {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some("k".repeat(20_000));
            jsonwebtoken::encode(&h, &with("iss", json!(p.issuer)), &sso.by_key.1.encoding).unwrap()
        }),
        ("payload not an object", {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"r1"}"#);
            format!("{header}.{}.sig", URL_SAFE_NO_PAD.encode(b"[1,2,3]"))
        }),
        ("two segments", "abc.def".into()),
        ("empty segments", "..".into()),
    ];
    for (what, token) in cases {
        let (status, body) = app.gql(&token, VIEWER, json!({})).await;
        assert!(
            status == 401 || status == 431 || status == 400,
            "{what}: HTTP {status} {body}"
        );
        if status == 401 {
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}: {body}");
        }
    }
    assert_eq!(
        who(app, &sso.email_token("alice@demo.test", json!(true))).await,
        Ok("alice@demo.test".into())
    );
}

/// The server's own tokens, with `--jwt-issuer` set, cost what they cost before single sign-on:
/// their issuer is not looked up among the firms'.
async fn own_issuer_costs_no_lookup(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            issuer: Some("https://handover.firm.test".into()),
            ..Default::default()
        },
    )
    .await;
    let token = app.token("alice@demo.test").await;
    assert_eq!(who(&app, &token).await, Ok("alice@demo.test".into()));
    // At most the viewer's own read (SQLite reads it on every request; PostgreSQL keeps it once
    // its listener is connected, which on a loaded machine can take a moment): no lookup of the
    // issuer among the firms'.
    let mut count = usize::MAX;
    for _ in 0..40 {
        app.reset_statements();
        assert_eq!(who(&app, &token).await, Ok("alice@demo.test".into()));
        count = app.statement_count();
        if count <= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(count <= 1, "{count} statements");
}

on_both_databases!(
    own_issuer_costs_no_lookup,
    first_requests_wait_for_the_fetch,
    hostile_tokens,
    identity_by_email_key_and_id,
    another_firms_issuer_cannot_act_here,
    the_key_decides_the_algorithm,
    keys_rotate_with_overlap,
    unknown_key_ids_are_rate_limited,
    provider_down,
    both_doors,
    server_wide_provider_by_discovery,
    broken_auth_sections_are_refused,
);
