//! The one pipeline of both doors: a bearer token -> which keys verify it (the trusting firms'
//! issuer's, or the server's own) -> whom it names -> the `Viewer`, enabled.

use super::cache::Viewers;
use super::identity::{IdentityKind, IdentityRule};
use super::jwt::{self, JwtKeys};
use super::viewer::Viewer;
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};
use sea_orm::DatabaseConnection;

/// The token from an `Authorization: Bearer …` header value.
pub fn bearer_token(header: Option<&str>) -> Result<&str, &'static str> {
    let value = header.ok_or("missing bearer token")?;
    let (scheme, token) = value.trim().split_once(' ').ok_or("malformed Authorization header")?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err("malformed Authorization header");
    }
    Ok(token.trim())
}

pub async fn authenticate(
    db: &DatabaseConnection,
    viewers: &Viewers,
    keys: &JwtKeys,
    token: &str,
) -> AppResult<Viewer> {
    authenticate_session(db, viewers, keys, token)
        .await
        .map(|(viewer, _)| viewer)
}

/// As `authenticate`, with the token's expiry (`exp`, seconds since the epoch): a long-lived
/// connection closes then.
///
/// A token whose `iss` a firm trusts is verified by that issuer's keys only, and names a user of
/// the trusting firms only (those whose audience it holds); any other (and any naming the
/// server's own `--jwt-issuer`) is verified by the server's own keys and names a user of any
/// firm, by the server's identity rule.
pub async fn authenticate_session(
    db: &DatabaseConnection,
    viewers: &Viewers,
    keys: &JwtKeys,
    token: &str,
) -> AppResult<(Viewer, u64)> {
    let unverified = jwt::peek(token).map_err(AppError::Unauthenticated)?;
    // The server's own issuer is never looked up among the firms': its tokens cost no more
    // than before there were any.
    let trusts = match &unverified.issuer {
        Some(issuer) if !keys.is_own_issuer(issuer) => viewers.firm_issuers(db, issuer).await?,
        _ => Default::default(),
    };
    let (user_id, exp) = match (&unverified.issuer, trusts.is_empty()) {
        (Some(issuer), false) => {
            let verified = keys
                .verify_issued(token, &unverified.header, issuer, &trusts)
                .await
                .map_err(AppError::Unauthenticated)?;
            let named = jwt::audiences(&verified.claims);
            let mut found = Vec::new();
            for trust in trusts.iter().filter(|t| named.contains(&t.audience.as_str())) {
                let rule = IdentityRule::of_issuer(trust);
                found.extend(identify(db, viewers, &rule, &verified.claims, Some(trust.firm_id)).await?);
            }
            (one_user(found)?, verified.exp)
        }
        _ => {
            let verified = keys
                .verify_own(token, &unverified.header)
                .await
                .map_err(AppError::Unauthenticated)?;
            let found = identify(db, viewers, keys.identity(), &verified.claims, None).await?;
            (one_user(found)?, verified.exp)
        }
    };
    let viewer = viewers
        .load(db, user_id)
        .await?
        .ok_or(AppError::Unauthenticated("unknown user"))?;
    if !viewer.user.enabled {
        return Err(AppError::Unauthenticated("the account is deactivated"));
    }
    Ok((viewer, exp))
}

/// The users a verified token's identity claim names (in `firm_id` only, when given).
async fn identify(
    db: &DatabaseConnection,
    viewers: &Viewers,
    rule: &IdentityRule,
    claims: &serde_json::Map<String, serde_json::Value>,
    firm_id: Option<i64>,
) -> AppResult<Vec<i64>> {
    let value = rule.value(claims).map_err(AppError::Unauthenticated)?;
    if rule.kind == IdentityKind::Id && firm_id.is_none() {
        // handover's own IDs name one user wherever they are: no lookup needed.
        return Ok(ids::decode(Kind::User, value).into_iter().collect());
    }
    viewers
        .identity(rule.cache_key(firm_id, value), || rule.users(db, firm_id, value))
        .await
}

fn one_user(mut found: Vec<i64>) -> AppResult<i64> {
    found.sort_unstable();
    found.dedup();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(AppError::Unauthenticated("unknown user")),
        _ => Err(AppError::Unauthenticated("the token names several users")),
    }
}
