//! The server's token keys from its configuration: a secret, PEM files, identity providers by
//! JWKS URL or OpenID Connect discovery, and the identity rule for tokens they verify.

use super::identity::{IdentityKind, IdentityRule};
use super::jwks::KeySources;
use super::jwt::JwtKeys;
use super::key::VerifyKey;
use crate::config::JwtArgs;
use crate::error::{AppError, AppResult};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use std::time::Duration;

impl JwtKeys {
    /// From the configuration. `Ok(None)` when no key and no identity provider is configured.
    pub fn from_args(args: &JwtArgs) -> AppResult<Option<Self>> {
        Self::build(args, false)
    }

    /// With no key of the server's own: every token comes from a firm's identity provider.
    pub fn firm_issuers_only(args: &JwtArgs) -> AppResult<Self> {
        Ok(Self::build(args, true)?.unwrap_or_else(Self::none))
    }

    fn build(args: &JwtArgs, allow_none: bool) -> AppResult<Option<Self>> {
        let (iss, aud) = (args.jwt_issuer.clone(), args.jwt_audience.clone());
        let mut keys = if let Some(secret) = &args.jwt_secret {
            if secret.len() < 32 {
                return Err(AppError::BadUserInput(
                    "the JWT secret must be at least 32 bytes long".into(),
                ));
            }
            Self::hs256(secret.as_bytes(), iss, aud)
        } else if !args.jwt_public_key.is_empty() {
            Self::from_pem_files(args, iss, aud)?
        } else if !args.jwt_jwks_url.is_empty() || args.jwt_oidc_issuer.is_some() || allow_none {
            Self::with_keys(Vec::new(), iss, aud)
        } else {
            return Ok(None);
        };
        keys.sources = KeySources::new(Duration::from_secs(args.jwt_jwks_min_refresh));
        for url in &args.jwt_jwks_url {
            keys = keys.with_jwks_url(url);
        }
        if let Some(issuer) = &args.jwt_oidc_issuer {
            keys = keys.with_oidc_issuer(issuer);
        }
        let kind = IdentityKind::parse(&args.jwt_identity).ok_or_else(|| {
            AppError::BadUserInput(format!(
                "--jwt-identity must be one of id, key, email, not {:?}",
                args.jwt_identity
            ))
        })?;
        keys.identity = IdentityRule {
            claim: args.jwt_identity_claim.clone(),
            kind,
            email_verified_claim: args.jwt_email_verified_claim.clone(),
        };
        Ok(Some(keys))
    }

    fn from_pem_files(args: &JwtArgs, iss: Option<String>, aud: Option<String>) -> AppResult<Self> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| AppError::BadUserInput(format!("cannot read {}: {e}", path.display())))
        };
        let bad_key = |what: String, e: jsonwebtoken::errors::Error| {
            AppError::BadUserInput(format!("{what} is neither an RSA nor an EC P-256 PEM key: {e}"))
        };
        let mut keys: Vec<VerifyKey> = Vec::new();
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
            if keys.iter().any(|k| k.kid == kid) {
                return Err(AppError::BadUserInput(format!(
                    "two public keys with the key id {kid:?}"
                )));
            }
            keys.push(VerifyKey::new(kid, algorithm, key));
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
        let mut out = Self::with_keys(keys, iss, aud);
        out.signing = signing;
        Ok(out)
    }
}
