//! A real identity provider for the single sign-on tests: an HTTP server on port 0 that
//! publishes an OpenID Connect discovery document and a JWKS of keys generated here. It can
//! rotate its keys, go down, and counts the key fetches it answered.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A private key of the provider's, with the JWK it publishes for it.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

impl SigningKey {
    fn new(kid: &str, alg: Algorithm, encoding: EncodingKey) -> Self {
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).expect("jwk");
        jwk.common.key_id = Some(kid.to_string());
        SigningKey {
            kid: kid.to_string(),
            alg,
            encoding,
            jwk: serde_json::to_value(jwk).unwrap(),
        }
    }

    /// A new EC P-256 key (ES256).
    pub fn ec(kid: &str) -> Self {
        use p256::pkcs8::EncodePrivateKey;
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let der = key.to_pkcs8_der().unwrap();
        Self::new(kid, Algorithm::ES256, EncodingKey::from_ec_der(der.as_bytes()))
    }

    /// A new Ed25519 key (EdDSA).
    pub fn ed(kid: &str) -> Self {
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        // PKCS#8 v1: the fixed prefix of an Ed25519 private key, then its 32 bytes.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ];
        der.extend_from_slice(&key.to_bytes());
        Self::new(kid, Algorithm::EdDSA, EncodingKey::from_ed_der(&der))
    }

    /// An RSA key (RS256), generated once per test run (2048-bit generation is slow).
    pub fn rsa(kid: &str) -> Self {
        static DER: OnceLock<Vec<u8>> = OnceLock::new();
        let der = DER.get_or_init(|| {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
            key.to_pkcs1_der().unwrap().as_bytes().to_vec()
        });
        Self::new(kid, Algorithm::RS256, EncodingKey::from_rsa_der(der))
    }

    /// A token with these claims, signed by this key and naming its `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

#[derive(Default)]
struct Published {
    keys: Mutex<Vec<Value>>,
    down: AtomicBool,
    fetches: AtomicUsize,
    issuer: OnceLock<String>,
}

pub struct Provider {
    /// Its issuer URL (`iss`), which is also where discovery starts.
    pub issuer: String,
    pub jwks_url: String,
    published: Arc<Published>,
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Provider {
    pub async fn start(keys: &[&SigningKey]) -> Provider {
        let published = Arc::new(Published::default());
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/keys", get(jwks))
            .with_state(published.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        published.issuer.set(issuer.clone()).unwrap();
        let provider = Provider {
            jwks_url: format!("{issuer}/keys"),
            issuer,
            published,
        };
        provider.publish(keys);
        provider
    }

    /// Publish exactly these keys from now on.
    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.published.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    /// Down: every request is answered 503.
    pub fn set_down(&self, down: bool) {
        self.published.down.store(down, Ordering::SeqCst);
    }

    /// JWKS fetches answered so far (down or not).
    pub fn fetches(&self) -> usize {
        self.published.fetches.load(Ordering::SeqCst)
    }

    /// A token from this provider: its `iss`, an hour of life, and `claims` over those.
    pub fn token(&self, key: &SigningKey, claims: Value) -> String {
        let mut all = json!({ "iss": self.issuer, "iat": now(), "exp": now() + 3600 });
        for (k, v) in claims.as_object().unwrap() {
            all[k] = v.clone();
        }
        key.sign(&all)
    }

    /// The `firm.auth.issuers` entry that trusts this provider (keys by discovery when
    /// `jwks_url` is false).
    pub fn trusted_as(&self, audience: &str, identity: &str, extra: Value, jwks_url: bool) -> Value {
        let mut entry = json!({ "issuer": self.issuer, "audience": audience, "identity": identity });
        if jwks_url {
            entry["jwksUrl"] = json!(self.jwks_url);
        }
        for (k, v) in extra.as_object().unwrap() {
            entry[k] = v.clone();
        }
        entry
    }
}

async fn discovery(State(p): State<Arc<Published>>) -> Response {
    if p.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let issuer = p.issuer.get().unwrap();
    axum::Json(json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/keys") })).into_response()
}

async fn jwks(State(p): State<Arc<Published>>) -> Response {
    p.fetches.fetch_add(1, Ordering::SeqCst);
    if p.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = p.keys.lock().unwrap().clone();
    // No caching: every request after a refresh interval may fetch again (what rotation tests
    // need); the server's own rate limit still applies.
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({ "keys": keys })),
    )
        .into_response()
}

/// Make a firm (by its import file) trust these issuers: the file is imported again with
/// `firm.auth.issuers` set.
pub async fn trust(db: &sea_orm::DatabaseConnection, firm_file: &str, rebase: bool, issuers: Vec<Value>) {
    let mut doc: Value = serde_json::from_str(firm_file).unwrap();
    doc["firm"]["auth"] = json!({ "issuers": issuers });
    handover::import::import_text(db, &doc.to_string(), rebase)
        .await
        .expect("import with auth");
}
