//! Access tokens per RFC 8725: the algorithm is pinned by configuration (HS256 with a secret,
//! or RS256 / ES256 with public keys, one algorithm per key), `exp` and `sub` are required,
//! `nbf` is honoured, and `iss` / `aud` are required when configured. Several public keys may be
//! configured at once, selected by the token's `kid`, so keys can be rotated without downtime.

use crate::config::JwtArgs;
use crate::error::{AppError, AppResult};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// One verification key: its `kid` (the PEM file's name without extension), its algorithm.
#[derive(Clone)]
struct VerifyKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
    validation: Validation,
}

/// The keys tokens are verified with (several, selected by `kid`, so keys can be rotated) and
/// the key `handover token` signs with.
#[derive(Clone)]
pub struct JwtKeys {
    keys: Vec<VerifyKey>,
    signing: Option<(Algorithm, Option<String>, EncodingKey)>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|k| (k.kid.clone(), k.algorithm)).collect();
        f.debug_struct("JwtKeys").field("keys", &kids).finish_non_exhaustive()
    }
}

/// Leeway for clock skew between the token issuer and this server.
const LEEWAY_SECONDS: u64 = 30;

fn validation(algorithm: Algorithm, issuer: &Option<String>, audience: &Option<String>) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    if let Some(iss) = issuer {
        validation.set_issuer(&[iss]);
        required.push("iss");
    }
    match audience {
        Some(aud) => {
            validation.set_audience(&[aud]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

impl JwtKeys {
    /// An HS256 configuration from a shared secret.
    pub fn hs256(secret: &[u8], issuer: Option<String>, audience: Option<String>) -> Self {
        JwtKeys {
            keys: vec![VerifyKey {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret),
                validation: validation(Algorithm::HS256, &issuer, &audience),
            }],
            signing: Some((Algorithm::HS256, None, EncodingKey::from_secret(secret))),
            issuer,
            audience,
        }
    }

    /// From the configuration. `Ok(None)` when no key is configured at all.
    pub fn from_args(args: &JwtArgs) -> AppResult<Option<Self>> {
        let (iss, aud) = (args.jwt_issuer.clone(), args.jwt_audience.clone());
        if let Some(secret) = &args.jwt_secret {
            if secret.len() < 32 {
                return Err(AppError::BadUserInput(
                    "the JWT secret must be at least 32 bytes long".into(),
                ));
            }
            return Ok(Some(Self::hs256(secret.as_bytes(), iss, aud)));
        }
        if args.jwt_public_key.is_empty() {
            return Ok(None);
        }
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| AppError::BadUserInput(format!("cannot read {}: {e}", path.display())))
        };
        let bad_key = |what: String, e: jsonwebtoken::errors::Error| {
            AppError::BadUserInput(format!("{what} is neither an RSA nor an EC P-256 PEM key: {e}"))
        };
        let mut keys = Vec::new();
        for path in &args.jwt_public_key {
            let pem = read(path)?;
            let (algorithm, key) = match DecodingKey::from_rsa_pem(&pem) {
                Ok(key) => (Algorithm::RS256, key),
                Err(_) => (
                    Algorithm::ES256,
                    DecodingKey::from_ec_pem(&pem).map_err(|e| bad_key(path.display().to_string(), e))?,
                ),
            };
            let kid = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            if keys.iter().any(|k: &VerifyKey| k.kid == kid) {
                return Err(AppError::BadUserInput(format!(
                    "two public keys with the key id {kid:?}"
                )));
            }
            keys.push(VerifyKey {
                kid,
                algorithm,
                key,
                validation: validation(algorithm, &iss, &aud),
            });
        }
        // The private key signs as the first public key (its algorithm and kid).
        let signing = match &args.jwt_private_key {
            None => None,
            Some(path) => {
                let pem = read(path)?;
                let first = &keys[0];
                let key = match first.algorithm {
                    Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
                    _ => EncodingKey::from_ec_pem(&pem),
                }
                .map_err(|e| bad_key(path.display().to_string(), e))?;
                Some((first.algorithm, first.kid.clone(), key))
            }
        };
        Ok(Some(JwtKeys {
            keys,
            signing,
            issuer: iss,
            audience: aud,
        }))
    }

    /// The algorithm of the first (primary) key.
    pub fn algorithm(&self) -> Algorithm {
        self.keys[0].algorithm
    }

    /// Verify a token: the key named by its `kid` (or, without one, the first key), with that
    /// key's algorithm only. The reason for a refusal is for logs and the client alike.
    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        use jsonwebtoken::errors::ErrorKind;
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the token is invalid")?;
        let key = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                .ok_or("the token's key id is unknown")?,
            None => &self.keys[0],
        };
        decode::<Claims>(token, &key.key, &key.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
                ErrorKind::InvalidAudience => "the token's audience is not accepted",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                _ => "the token is invalid",
            })
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

pub fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
