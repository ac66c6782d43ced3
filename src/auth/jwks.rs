//! Signing keys published by an identity provider (a JWKS document, found directly or through
//! OpenID Connect discovery), kept in memory. Refreshed when their HTTP cache lifetime ends (in
//! the background: requests go on with the keys held) and at once when a token names a key id
//! not held, at most once per `min_refresh`. While the provider cannot be reached the held keys
//! keep working; with none held, every token is refused (fail closed).

use super::key::VerifyKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lifetime of keys served without `Cache-Control: max-age`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Longest lifetime honoured, whatever the provider says: rotation must be noticed within a day.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A provider's document larger than this is refused (a JWKS holds a few keys).
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the keys come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    Jwks(String),
    /// An issuer URL: its `/.well-known/openid-configuration` names the JWKS (`jwks_uri`).
    Discovery(String),
}

pub struct KeySource {
    location: Location,
    http: reqwest::Client,
    min_refresh: Duration,
    held: Mutex<Held>,
    /// One fetch at a time; a request that waited for another's fetch uses its result.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct Held {
    keys: Arc<Vec<VerifyKey>>,
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    /// Fetches started so far (a waiting request can tell that one happened meanwhile).
    attempts: u64,
}

impl KeySource {
    pub fn new(location: Location, http: reqwest::Client, min_refresh: Duration) -> Arc<Self> {
        Arc::new(KeySource {
            location,
            http,
            min_refresh,
            held: Mutex::default(),
            fetching: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The keys that may verify a token with this header: the one with its `kid`, or without a
    /// `kid` those whose algorithm is the header's. `Err`: why none.
    pub async fn keys_for(self: &Arc<Self>, kid: Option<&str>, alg: Algorithm) -> Result<Vec<VerifyKey>, &'static str> {
        let (keys, stale, attempts) = {
            let held = self.held();
            let stale = held.fresh_until.is_none_or(|until| Instant::now() >= until);
            (held.keys.clone(), stale, held.attempts)
        };
        let found = matching(&keys, kid, alg);
        if !found.is_empty() {
            if stale && self.may_fetch() {
                let source = self.clone();
                tokio::spawn(async move { source.refresh(None).await });
            }
            return Ok(found);
        }
        // Wait for a fetch in flight, or make one if none was made for `min_refresh`.
        self.refresh(Some(attempts)).await;
        let held = self.held();
        let found = matching(&held.keys, kid, alg);
        if !found.is_empty() {
            Ok(found)
        } else if held.keys.is_empty() {
            Err("the identity provider's signing keys are unavailable")
        } else if kid.is_none() {
            Err("the token's algorithm is not accepted")
        } else {
            Err("the token's key id is unknown")
        }
    }

    fn may_fetch(&self) -> bool {
        self.held()
            .last_attempt
            .is_none_or(|at| at.elapsed() >= self.min_refresh)
    }

    /// Fetch the keys again, unless one was made less than `min_refresh` ago. `seen`: the
    /// attempts count the caller saw, which waits for a fetch in flight; when a fetch started
    /// since, its result is what the caller wanted and no new one is made. `None`: in the
    /// background, and not at all while another fetch is in flight. The fetch runs as its own
    /// task: a client that goes away does not cancel it for those waiting on it.
    async fn refresh(self: &Arc<Self>, seen: Option<u64>) {
        let one = match seen {
            Some(_) => self.fetching.clone().lock_owned().await,
            None => match self.fetching.clone().try_lock_owned() {
                Ok(guard) => guard,
                Err(_) => return,
            },
        };
        {
            let mut held = self.held();
            let fetched_since = seen.is_some_and(|seen| held.attempts != seen);
            let too_soon = held.last_attempt.is_some_and(|at| at.elapsed() < self.min_refresh);
            if fetched_since || too_soon {
                return;
            }
            held.attempts += 1;
            held.last_attempt = Some(Instant::now());
        }
        let source = self.clone();
        let fetch = tokio::spawn(async move {
            let _one = one;
            match source.fetch().await {
                Ok((keys, lifetime)) => {
                    tracing::debug!(source = ?source.location, keys = keys.len(), "identity provider keys fetched");
                    let mut held = source.held();
                    held.keys = Arc::new(keys);
                    held.fresh_until = Some(Instant::now() + lifetime);
                }
                Err(why) => {
                    tracing::warn!(source = ?source.location, %why, "identity provider keys could not be fetched; keeping the keys held")
                }
            }
        });
        let _ = fetch.await;
    }

    async fn fetch(&self) -> Result<(Vec<VerifyKey>, Duration), String> {
        let jwks_url = match &self.location {
            Location::Jwks(url) => url.clone(),
            Location::Discovery(issuer) => {
                let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
                let (doc, _) = self.get_json(&url).await?;
                // OpenID Connect Discovery 1.0, section 4.3: the document must name this issuer.
                if doc.get("issuer").and_then(|v| v.as_str()) != Some(issuer.as_str()) {
                    return Err(format!("{url} names another issuer"));
                }
                doc.get("jwks_uri")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| format!("{url} has no jwks_uri"))?
                    .to_string()
            }
        };
        let (mut doc, lifetime) = self.get_json(&jwks_url).await?;
        // `get_mut`, not indexing: a document that is not an object must not panic.
        let Some(serde_json::Value::Array(listed)) = doc.get_mut("keys").map(serde_json::Value::take) else {
            return Err(format!("{jwks_url} is not a JWKS document"));
        };
        // A key this server cannot use (another algorithm, an encryption key) is skipped, not
        // fatal: providers publish several kinds.
        let keys = listed
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter_map(|jwk| verify_key(&jwk))
            .collect();
        Ok((keys, lifetime))
    }

    async fn get_json(&self, url: &str) -> Result<(serde_json::Value, Duration), String> {
        let mut response = self
            .http
            .get(url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let lifetime = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_LIFETIME)
            .min(MAX_LIFETIME);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("{url}: the document is too large"));
            }
        }
        let value = serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))?;
        Ok((value, lifetime))
    }
}

/// The providers' key sources, one per location, shared by every request.
pub struct KeySources {
    /// Made with the first source: most configurations never fetch a key.
    http: std::sync::OnceLock<reqwest::Client>,
    min_refresh: Duration,
    by_location: Mutex<HashMap<Location, Arc<KeySource>>>,
}

impl KeySources {
    pub fn new(min_refresh: Duration) -> Arc<Self> {
        Arc::new(KeySources {
            http: std::sync::OnceLock::new(),
            min_refresh,
            by_location: Mutex::default(),
        })
    }

    pub fn get(&self, location: Location) -> Arc<KeySource> {
        let http = self.http.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
                .unwrap_or_default()
        });
        let mut map = self.by_location.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(location.clone())
            .or_insert_with(|| KeySource::new(location, http.clone(), self.min_refresh))
            .clone()
    }
}

fn matching(keys: &[VerifyKey], kid: Option<&str>, alg: Algorithm) -> Vec<VerifyKey> {
    keys.iter()
        .filter(|k| match kid {
            Some(kid) => k.kid.as_deref() == Some(kid),
            None => k.algorithm == alg,
        })
        .cloned()
        .collect()
}

/// `max-age=N` of a `Cache-Control` value (`no-cache`/`no-store`: zero).
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').map(str::trim).find_map(|part| {
        let lower = part.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        lower
            .strip_prefix("max-age=")
            .and_then(|n| n.trim_matches('"').parse::<u64>().ok())
            .map(Duration::from_secs)
    })
}

/// A verification key from a published JWK. The algorithm is the key's (its `alg`, else the
/// only one its type allows here): a token's header never chooses it (RFC 8725, 3.1).
fn verify_key(jwk: &Jwk) -> Option<VerifyKey> {
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return None;
    }
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => Algorithm::EdDSA,
        _ => return None,
    };
    let algorithm = match jwk.common.key_algorithm {
        None => by_type,
        Some(KeyAlgorithm::RS256) if by_type == Algorithm::RS256 => by_type,
        Some(KeyAlgorithm::ES256) if by_type == Algorithm::ES256 => by_type,
        Some(KeyAlgorithm::EdDSA) if by_type == Algorithm::EdDSA => by_type,
        Some(_) => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyKey::new(jwk.common.key_id.clone(), algorithm, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_lifetime_from_the_header() {
        assert_eq!(max_age("public, max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("private"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    #[test]
    fn the_key_decides_the_algorithm() {
        let rsa = |alg: &str| {
            serde_json::from_value::<Jwk>(serde_json::json!({
                "kty": "RSA", "kid": "r", "alg": alg, "n": "sXch", "e": "AQAB"
            }))
            .unwrap()
        };
        assert_eq!(verify_key(&rsa("RS256")).unwrap().algorithm, Algorithm::RS256);
        // An RSA key that says it is for HMAC or ECDSA is not used at all.
        assert!(verify_key(&rsa("HS256")).is_none());
        assert!(verify_key(&rsa("ES256")).is_none());
        let secret = serde_json::from_value::<Jwk>(serde_json::json!({ "kty": "oct", "k": "c2VjcmV0" })).unwrap();
        assert!(
            verify_key(&secret).is_none(),
            "symmetric keys are never taken from a JWKS"
        );
    }
}
