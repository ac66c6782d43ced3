//! The `Viewer`: who is asking, loaded from the database (or from the cache of viewers, which
//! every change to a user empties at once, see `cache`) on every request, so that a deactivated
//! user's token stops working at once and a demoted administrator loses their rights at once.

use super::{JwtKeys, Viewers};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};
use entity::{firm, user};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QuerySelect, RelationDef};

#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: user::Model,
    pub firm: firm::Model,
}

impl Viewer {
    pub fn firm_id(&self) -> i64 {
        self.firm.id
    }

    pub fn user_id(&self) -> i64 {
        self.user.id
    }

    /// Enabled account administrator (enabled is already guaranteed by authentication).
    pub fn is_admin(&self) -> bool {
        self.user.account_admin && self.user.enabled
    }

    /// The user `user_id` and their firm, as a request of theirs would see them (for work done
    /// on someone's behalf without a request: a scheduled start, the demo). `None`: no such user.
    pub async fn load<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<Option<Viewer>> {
        // One statement: every request pays for this lookup.
        let firm_of: RelationDef = user::Entity::belongs_to(firm::Entity)
            .from(user::Column::FirmId)
            .to(firm::Column::Id)
            .into();
        let found = user::Entity::find_by_id(user_id)
            .select_also(firm::Entity)
            .join(JoinType::InnerJoin, firm_of)
            .one(db)
            .await?;
        Ok(found.and_then(|(user, firm)| firm.map(|firm| Viewer { user, firm })))
    }

    pub fn require_admin(&self) -> AppResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

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
pub async fn authenticate_session(
    db: &DatabaseConnection,
    viewers: &Viewers,
    keys: &JwtKeys,
    token: &str,
) -> AppResult<(Viewer, u64)> {
    let claims = keys.verify(token).map_err(AppError::Unauthenticated)?;
    let user_id = ids::decode(Kind::User, &claims.sub).map_err(|_| AppError::Unauthenticated("unknown user"))?;
    let viewer = viewers
        .load(db, user_id)
        .await?
        .ok_or(AppError::Unauthenticated("unknown user"))?;
    if !viewer.user.enabled {
        return Err(AppError::Unauthenticated("the account is deactivated"));
    }
    Ok((viewer, claims.exp))
}
