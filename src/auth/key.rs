//! A key that verifies tokens, bound to the one algorithm it verifies (RFC 8725): whatever
//! its source (a secret, a PEM file, a provider's JWKS).

use jsonwebtoken::{Algorithm, DecodingKey};

/// One verification key: its `kid` (a PEM file's name without extension, or the JWK's), and
/// the one algorithm it verifies.
#[derive(Clone)]
pub struct VerifyKey {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

impl VerifyKey {
    pub fn new(kid: Option<String>, algorithm: Algorithm, key: DecodingKey) -> Self {
        VerifyKey { kid, algorithm, key }
    }
}
