//! Authentication per SPEC.md section 5 and RFC 8725: who gets in, who gets 401.

use crate::common::*;
use crate::on_both_databases;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use handover::auth::Claims;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

const VIEWER: &str = "{ viewer { name email accountAdmin } }";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(claims: &Claims, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn claims_for(sub: &str) -> Claims {
    Claims {
        sub: sub.into(),
        exp: now() + 600,
        iat: Some(now()),
        nbf: None,
        iss: None,
        aud: None,
    }
}

/// The `sub` of a valid token.
fn subject(app: &TestApp, token: &str) -> String {
    app.keys.verify(token).unwrap().sub().unwrap().to_string()
}

async fn assert_unauthenticated(app: &TestApp, token: &str, why: &str) {
    let (status, body) = app.gql(token, VIEWER, json!({})).await;
    assert_eq!(status, 401, "{why}: {body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{why}: {body}");
    assert!(
        body.get("data").is_none(),
        "{why}: no data for an unauthenticated request"
    );
}

async fn admin_token_gets_the_admin(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.token("alice@demo.test").await;
    let data = app.data(&token, VIEWER, json!({})).await;
    assert_eq!(
        data["viewer"],
        json!({ "name": "Alice Admin", "email": "alice@demo.test", "accountAdmin": true })
    );
}

async fn bad_tokens_get_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let good = app.token("alice@demo.test").await;
    let sub = subject(&app, &good);

    // No header at all.
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // Not a bearer scheme.
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("Authorization", format!("Basic {good}"))
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    assert_unauthenticated(&app, "not.a.jwt", "garbage").await;

    let mut expired = claims_for(&sub);
    expired.exp = now() - 3600;
    assert_unauthenticated(&app, &sign(&expired, SECRET), "expired").await;

    assert_unauthenticated(
        &app,
        &sign(&claims_for(&sub), b"another-secret-another-secret-1234"),
        "other key",
    )
    .await;

    let mut not_yet = claims_for(&sub);
    not_yet.nbf = Some(now() + 3600);
    assert_unauthenticated(&app, &sign(&not_yet, SECRET), "nbf in the future").await;

    // alg: none, the classic forgery.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims_for(&sub)).unwrap());
    assert_unauthenticated(&app, &format!("{header}.{payload}."), "alg none").await;

    // The right key used with another algorithm (HS512) is refused: the algorithm is pinned.
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &claims_for(&sub),
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    assert_unauthenticated(&app, &hs512, "HS512 instead of HS256").await;

    // A token without exp.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json!({ "sub": sub })).unwrap());
    let signing_input = format!("{header}.{payload}");
    let no_exp = {
        use jsonwebtoken::crypto::sign as raw_sign;
        let sig = raw_sign(
            signing_input.as_bytes(),
            &EncodingKey::from_secret(SECRET),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{signing_input}.{sig}")
    };
    assert_unauthenticated(&app, &no_exp, "no exp").await;

    // A well-signed token for a user that does not exist.
    assert_unauthenticated(
        &app,
        &sign(
            &claims_for(&handover::ids::encode(handover::ids::Kind::User, 999_999)),
            SECRET,
        ),
        "unknown user",
    )
    .await;
}

async fn deactivated_user_is_refused_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    // A token issued while Bob was active stops working the moment he is deactivated.
    let bob = app.token("bob@demo.test").await;
    app.data(&bob, VIEWER, json!({})).await;
    app.change_users_by_hand("UPDATE \"user\" SET enabled = FALSE WHERE email = 'bob@demo.test'")
        .await;
    assert_unauthenticated(&app, &bob, "deactivated after issue").await;

    // Lee is deactivated in the demo: a correctly signed token for Lee is refused.
    let lee_id = {
        let admin = app.token("alice@demo.test").await;
        app.user_id(&admin, "lee@demo.test").await
    };
    assert_unauthenticated(&app, &sign(&claims_for(&lee_id), SECRET), "deactivated user").await;
}

async fn issuer_and_audience_are_required_when_configured(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            issuer: Some("https://idp.demo.test".into()),
            audience: Some("handover".into()),
            ..Default::default()
        },
    )
    .await;
    let good = app.token("alice@demo.test").await;
    app.data(&good, VIEWER, json!({})).await;
    let sub = subject(&app, &good);

    let mut wrong_iss = claims_for(&sub);
    wrong_iss.iss = Some("https://evil.test".into());
    wrong_iss.aud = Some("handover".into());
    assert_unauthenticated(&app, &sign(&wrong_iss, SECRET), "wrong iss").await;

    let mut wrong_aud = claims_for(&sub);
    wrong_aud.iss = Some("https://idp.demo.test".into());
    wrong_aud.aud = Some("another-api".into());
    assert_unauthenticated(&app, &sign(&wrong_aud, SECRET), "wrong aud").await;

    assert_unauthenticated(&app, &sign(&claims_for(&sub), SECRET), "no iss / aud").await;
}

on_both_databases!(
    admin_token_gets_the_admin,
    bad_tokens_get_401,
    deactivated_user_is_refused_at_once,
    issuer_and_audience_are_required_when_configured,
);

#[test]
fn rs256_and_es256_keys_verify_their_own_tokens_only() {
    // Key pairs generated for this test only (see tests/fixtures/keys/README.md).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
    for (alg, public, private) in [
        ("RS256", "rsa-public.pem", "rsa-private.pem"),
        ("ES256", "ec-public.pem", "ec-private.pem"),
    ] {
        let args = handover::config::JwtArgs {
            jwt_public_key: vec![format!("{dir}/{public}").into()],
            jwt_private_key: Some(format!("{dir}/{private}").into()),
            ..Default::default()
        };
        let keys = handover::auth::JwtKeys::from_args(&args).unwrap().unwrap();
        assert_eq!(format!("{:?}", keys.algorithm()), alg);
        let token = keys.sign("VXNlcjox", 60).unwrap();
        assert_eq!(keys.verify(&token).unwrap().sub(), Some("VXNlcjox"));
        let hs = handover::auth::JwtKeys::hs256(SECRET, None, None);
        assert!(
            hs.verify(&token).is_err(),
            "an HS256 configuration must refuse {alg} tokens"
        );
        assert!(
            keys.verify(&hs.sign("VXNlcjox", 60).unwrap()).is_err(),
            "{alg} must refuse HS256 tokens"
        );
    }
}

#[test]
fn keys_rotate_by_kid() {
    // Two verification keys at once: tokens signed with either are accepted (each selected by
    // its kid); a token claiming one kid but signed by the other key, or naming an unknown kid,
    // is refused.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
    let args = |public: Vec<&str>, private: &str| handover::config::JwtArgs {
        jwt_public_key: public.into_iter().map(|p| format!("{dir}/{p}").into()).collect(),
        jwt_private_key: Some(format!("{dir}/{private}").into()),
        ..Default::default()
    };
    let verifier =
        handover::auth::JwtKeys::from_args(&args(vec!["rsa-public.pem", "ec-public.pem"], "rsa-private.pem"))
            .unwrap()
            .unwrap();
    let old = handover::auth::JwtKeys::from_args(&args(vec!["rsa-public.pem"], "rsa-private.pem"))
        .unwrap()
        .unwrap();
    let new = handover::auth::JwtKeys::from_args(&args(vec!["ec-public.pem"], "ec-private.pem"))
        .unwrap()
        .unwrap();
    let (old_token, new_token) = (old.sign("VXNlcjox", 60).unwrap(), new.sign("VXNlcjox", 60).unwrap());
    assert_eq!(
        jsonwebtoken::decode_header(&new_token).unwrap().kid.as_deref(),
        Some("ec-public")
    );
    assert!(verifier.verify(&old_token).is_ok());
    assert!(verifier.verify(&new_token).is_ok());
    // The EC token relabelled as the RSA key: refused.
    let mut parts: Vec<String> = new_token.split('.').map(str::to_string).collect();
    parts[0] = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256","kid":"rsa-public"}"#);
    assert!(verifier.verify(&parts.join(".")).is_err());
    parts[0] = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256","kid":"retired"}"#);
    assert_eq!(
        verifier.verify(&parts.join(".")).unwrap_err(),
        "the token's key id is unknown"
    );
    // After rotation the old key is gone: its tokens stop working.
    assert!(new.verify(&old_token).is_err());
}
