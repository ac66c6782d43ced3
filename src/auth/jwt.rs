//! Access tokens per RFC 8725. Every key carries its own algorithm and a token is checked with
//! that algorithm only (HS256 with a secret, RS256 / ES256 / EdDSA with public keys); `exp` is
//! required, `nbf` honoured, `iss` / `aud` required when configured. Keys come from the
//! configuration (a secret, PEM files selected by `kid` for rotation without downtime) and from
//! identity providers' JWKS documents (`jwks`): the server's own, and those of each firm's
//! issuers (`firm_issuer` rows, which also say whom their tokens may name).

use super::identity::IdentityRule;
use super::jwks::{KeySource, KeySources, Location};
use super::key::VerifyKey;
use crate::error::{AppError, AppResult};
use entity::firm_issuer;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The claims `handover token` signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's public ID.
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// A token whose signature and time claims were checked.
#[derive(Debug, Clone)]
pub struct Verified {
    pub claims: Map<String, Value>,
    /// Seconds since the epoch: a long-lived connection closes then.
    pub exp: u64,
}

impl Verified {
    pub fn sub(&self) -> Option<&str> {
        self.claims.get("sub").and_then(Value::as_str)
    }
}

/// The keys and rules tokens are checked by, and the key `handover token` signs with.
#[derive(Clone)]
pub struct JwtKeys {
    /// Configured keys (secret or PEM files).
    pub(super) keys: Vec<VerifyKey>,
    /// The server's identity providers (`--jwt-jwks-url`, `--jwt-oidc-issuer`).
    pub(super) jwks: Vec<Arc<KeySource>>,
    pub(super) signing: Option<(Algorithm, Option<String>, EncodingKey)>,
    pub(super) issuer: Option<String>,
    pub(super) audience: Option<String>,
    /// Whom a token verified by the server's keys names.
    pub(super) identity: IdentityRule,
    /// The firms' identity providers' keys, one source per location, shared by all clones.
    pub(super) sources: Arc<KeySources>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|k| (k.kid.clone(), k.algorithm)).collect();
        f.debug_struct("JwtKeys")
            .field("keys", &kids)
            .field("jwks", &self.jwks.len())
            .finish_non_exhaustive()
    }
}

/// Leeway for clock skew between the token issuer and this server.
const LEEWAY_SECONDS: u64 = 30;
/// Longest `iss` looked up among the firms' issuers.
const MAX_ISSUER_BYTES: usize = 2048;

fn validation(algorithm: Algorithm, issuers: &[&str], audiences: &[&str]) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if !issuers.is_empty() {
        validation.set_issuer(issuers);
        required.push("iss");
    }
    if audiences.is_empty() {
        validation.validate_aud = false;
    } else {
        validation.set_audience(audiences);
        required.push("aud");
    }
    validation.set_required_spec_claims(&required);
    validation
}

fn reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
        ErrorKind::InvalidAudience => "the token's audience is not accepted",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
        _ => "the token is invalid",
    }
}

/// Check `token` with each key in turn; the first that verifies it wins.
fn verify_with(
    token: &str,
    keys: &[VerifyKey],
    issuers: &[&str],
    audiences: &[&str],
) -> Result<Verified, &'static str> {
    let mut why = "the token's key id is unknown";
    for key in keys {
        match decode::<Map<String, Value>>(token, &key.key, &validation(key.algorithm, issuers, audiences)) {
            Ok(data) => {
                let exp = data
                    .claims
                    .get("exp")
                    .and_then(Value::as_u64)
                    .ok_or("the token lacks a required claim")?;
                return Ok(Verified {
                    claims: data.claims,
                    exp,
                });
            }
            Err(e) => why = reason(&e),
        }
    }
    Err(why)
}

/// What a token says of itself before it is verified: only to choose the keys to verify it by.
pub struct Unverified {
    pub header: Header,
    pub issuer: Option<String>,
}

pub fn peek(token: &str) -> Result<Unverified, &'static str> {
    #[derive(Deserialize)]
    struct Iss {
        #[serde(default)]
        iss: Option<String>,
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| "the token is invalid")?;
    let claims: Iss = jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| "the token is invalid")?;
    // No trusted issuer is longer or holds a control character (the import refuses them); a
    // NUL would not even reach PostgreSQL's text comparison.
    if claims
        .iss
        .as_ref()
        .is_some_and(|iss| iss.len() > MAX_ISSUER_BYTES || iss.chars().any(char::is_control))
    {
        return Err("the token's issuer is not accepted");
    }
    Ok(Unverified {
        header,
        issuer: claims.iss,
    })
}

impl JwtKeys {
    pub(super) fn with_keys(keys: Vec<VerifyKey>, issuer: Option<String>, audience: Option<String>) -> Self {
        JwtKeys {
            keys,
            jwks: Vec::new(),
            signing: None,
            issuer,
            audience,
            identity: IdentityRule::default(),
            sources: KeySources::new(Duration::from_secs(crate::config::DEFAULT_JWKS_MIN_REFRESH)),
        }
    }

    /// An HS256 configuration from a shared secret.
    pub fn hs256(secret: &[u8], issuer: Option<String>, audience: Option<String>) -> Self {
        let mut keys = Self::with_keys(
            vec![VerifyKey::new(None, Algorithm::HS256, DecodingKey::from_secret(secret))],
            issuer,
            audience,
        );
        keys.signing = Some((Algorithm::HS256, None, EncodingKey::from_secret(secret)));
        keys
    }

    /// No key of the server's own (tokens come from the firms' issuers only, or from `jwks`).
    pub fn none() -> Self {
        Self::with_keys(Vec::new(), None, None)
    }

    /// The server's own identity provider, by its JWKS URL.
    pub fn with_jwks_url(mut self, url: &str) -> Self {
        self.jwks.push(self.sources.get(Location::Jwks(url.to_string())));
        self
    }

    /// The server's own identity provider, by OpenID Connect discovery from its issuer URL,
    /// which tokens must then name as `iss`.
    pub fn with_oidc_issuer(mut self, issuer: &str) -> Self {
        self.jwks
            .push(self.sources.get(Location::Discovery(issuer.to_string())));
        self.issuer = Some(issuer.to_string());
        self
    }

    pub fn with_identity(mut self, identity: IdentityRule) -> Self {
        self.identity = identity;
        self
    }

    /// How often, at most, an unknown key id makes a provider's keys be fetched again.
    pub fn with_min_refresh(mut self, min_refresh: Duration) -> Self {
        assert!(self.jwks.is_empty(), "set the refresh interval before adding providers");
        self.sources = KeySources::new(min_refresh);
        self
    }

    /// The algorithm of the first (primary) configured key.
    pub fn algorithm(&self) -> Algorithm {
        self.keys.first().map(|k| k.algorithm).unwrap_or(Algorithm::RS256)
    }

    /// Whether `issuer` is the one the server's own keys require (`--jwt-issuer`).
    pub fn is_own_issuer(&self, issuer: &str) -> bool {
        self.issuer.as_deref() == Some(issuer)
    }

    /// Whom tokens verified by the server's own keys name.
    pub fn identity(&self) -> &IdentityRule {
        &self.identity
    }

    fn issuer_and_audience(&self) -> (Vec<&str>, Vec<&str>) {
        (
            self.issuer.as_deref().into_iter().collect(),
            self.audience.as_deref().into_iter().collect(),
        )
    }

    /// Verify a token with the configured keys only: the key named by its `kid` (or, without
    /// one, the first key), with that key's algorithm only.
    pub fn verify(&self, token: &str) -> Result<Verified, &'static str> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the token is invalid")?;
        let (issuers, audiences) = self.issuer_and_audience();
        let key = self.configured_key(header.kid.as_deref());
        verify_with(
            token,
            key.map(std::slice::from_ref).unwrap_or_default(),
            &issuers,
            &audiences,
        )
    }

    /// The configured key a token names by `kid` (without one: the first).
    fn configured_key(&self, kid: Option<&str>) -> Option<&VerifyKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None => self.keys.first(),
        }
    }

    /// Verify a token with the server's keys: the configured ones, then its identity providers'.
    pub async fn verify_own(&self, token: &str, header: &Header) -> Result<Verified, &'static str> {
        let kid = header.kid.as_deref();
        let (issuers, audiences) = self.issuer_and_audience();
        if let Some(key) = self.configured_key(kid) {
            return verify_with(token, std::slice::from_ref(key), &issuers, &audiences);
        }
        let mut why = "the token's key id is unknown";
        for source in &self.jwks {
            match source.keys_for(kid, header.alg).await {
                Ok(keys) => return verify_with(token, &keys, &issuers, &audiences),
                Err(e) => why = e,
            }
        }
        Err(why)
    }

    /// Verify a token whose `iss` is `issuer`, trusted by the firms of `trusts` (their rows for
    /// that issuer), with that issuer's keys. The audience must be one a trusting firm names.
    pub async fn verify_issued(
        &self,
        token: &str,
        header: &Header,
        issuer: &str,
        trusts: &[firm_issuer::Model],
    ) -> Result<Verified, &'static str> {
        let audiences: Vec<&str> = trusts.iter().map(|t| t.audience.as_str()).collect();
        let mut locations: Vec<Location> = Vec::new();
        for trust in trusts {
            let location = match &trust.jwks_url {
                Some(url) => Location::Jwks(url.clone()),
                None => Location::Discovery(issuer.to_string()),
            };
            if !locations.contains(&location) {
                locations.push(location);
            }
        }
        let mut why = "the token's key id is unknown";
        for location in locations {
            let source = self.sources.get(location);
            match source.keys_for(header.kid.as_deref(), header.alg).await {
                Ok(keys) => match verify_with(token, &keys, &[issuer], &audiences) {
                    Ok(verified) => return Ok(verified),
                    Err(e) => why = e,
                },
                Err(e) => why = e,
            }
        }
        Err(why)
    }

    /// Sign a token for `sub`, valid for `ttl_seconds`.
    pub fn sign(&self, sub: &str, ttl_seconds: u64) -> AppResult<String> {
        let Some((algorithm, kid, key)) = &self.signing else {
            return Err(AppError::BadUserInput(
                "signing a token needs the private key (--jwt-private-key / HANDOVER_JWT_PRIVATE_KEY)".into(),
            ));
        };
        let now = now_seconds();
        let claims = Claims {
            sub: sub.to_string(),
            exp: now + ttl_seconds,
            iat: Some(now),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let mut header = Header::new(*algorithm);
        header.kid = kid.clone();
        encode(&header, &claims, key).map_err(AppError::internal)
    }
}

/// The audiences a verified token names (`aud` is a string or a list).
pub fn audiences(claims: &Map<String, Value>) -> Vec<&str> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

pub fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
