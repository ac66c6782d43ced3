//! Access tokens per RFC 8725: the algorithm is pinned by configuration (HS256 with a secret,
//! or RS256 / ES256 with a public key), `exp` and `sub` are required, `nbf` is honoured, and
//! `iss` / `aud` are required when configured.

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

#[derive(Clone)]
pub struct JwtKeys {
    algorithm: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Leeway for clock skew between the token issuer and this server.
const LEEWAY_SECONDS: u64 = 30;

impl JwtKeys {
    /// An HS256 configuration from a shared secret.
    pub fn hs256(secret: &[u8], issuer: Option<String>, audience: Option<String>) -> Self {
        Self::build(
            Algorithm::HS256,
            DecodingKey::from_secret(secret),
            Some(EncodingKey::from_secret(secret)),
            issuer,
            audience,
        )
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
        let Some(public_path) = &args.jwt_public_key else {
            return Ok(None);
        };
        let public = std::fs::read(public_path)
            .map_err(|e| AppError::BadUserInput(format!("cannot read {}: {e}", public_path.display())))?;
        let private = match &args.jwt_private_key {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| AppError::BadUserInput(format!("cannot read {}: {e}", path.display())))?,
            ),
            None => None,
        };
        let bad_key = |what: &str, e: jsonwebtoken::errors::Error| {
            AppError::BadUserInput(format!("{what} is neither an RSA nor an EC P-256 PEM key: {e}"))
        };
        let (algorithm, decoding) = match DecodingKey::from_rsa_pem(&public) {
            Ok(key) => (Algorithm::RS256, key),
            Err(_) => (
                Algorithm::ES256,
                DecodingKey::from_ec_pem(&public).map_err(|e| bad_key("the public key", e))?,
            ),
        };
        let encoding = match private {
            None => None,
            Some(pem) => Some(match algorithm {
                Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).map_err(|e| bad_key("the private key", e))?,
                _ => EncodingKey::from_ec_pem(&pem).map_err(|e| bad_key("the private key", e))?,
            }),
        };
        Ok(Some(Self::build(algorithm, decoding, encoding, iss, aud)))
    }

    fn build(
        algorithm: Algorithm,
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(iss) = &issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        match &audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        JwtKeys {
            algorithm,
            decoding,
            encoding,
            validation,
            issuer,
            audience,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Verify a token; the reason for a refusal is for logs and the client alike (it reveals
    /// nothing about users).
    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        use jsonwebtoken::errors::ErrorKind;
        decode::<Claims>(token, &self.decoding, &self.validation)
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
        let Some(key) = &self.encoding else {
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
        encode(&Header::new(self.algorithm), &claims, key).map_err(AppError::internal)
    }
}

pub fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
