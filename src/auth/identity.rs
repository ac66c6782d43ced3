//! Who a verified token is: the claim that names the person, and what it holds (handover's user
//! ID, the firm's own key for the person, or their email, which counts only when the provider
//! says it is verified). The same rule for the server's own keys and for a firm's issuers; a
//! firm's issuer names people of that firm only.

use crate::error::AppResult;
use crate::ids::{self, Kind};
use entity::user;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Map, Value};

/// What the identity claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// handover's public user ID (`User:…`), as `handover token` signs.
    Id,
    /// The user's `key` in the firm's import file (the firm's own identifier for them).
    Key,
    /// The user's email, compared folded (Unicode lower case), when verified.
    Email,
}

impl IdentityKind {
    pub const NAMES: [(&'static str, IdentityKind); 3] = [
        ("id", IdentityKind::Id),
        ("key", IdentityKind::Key),
        ("email", IdentityKind::Email),
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == text).map(|(_, k)| *k)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("id")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRule {
    pub claim: String,
    pub kind: IdentityKind,
    /// For `Email`: the claim that must be `true` (or `"true"`).
    pub email_verified_claim: String,
}

impl Default for IdentityRule {
    fn default() -> Self {
        IdentityRule {
            claim: "sub".into(),
            kind: IdentityKind::Id,
            email_verified_claim: "email_verified".into(),
        }
    }
}

impl IdentityRule {
    /// The rule a firm's issuer row states.
    pub fn of_issuer(row: &entity::firm_issuer::Model) -> Self {
        IdentityRule {
            claim: row.identity_claim.clone(),
            // The import only writes known names; an unknown one names nobody by handover's ID.
            kind: IdentityKind::parse(&row.identity).unwrap_or(IdentityKind::Id),
            email_verified_claim: row.email_verified_claim.clone(),
        }
    }
}

/// Longest identity value looked up (an email is at most 320 bytes).
const MAX_IDENTITY_BYTES: usize = 512;

impl IdentityRule {
    /// The value the token names its person by, checked for shape. `Err`: the reason for a 401.
    pub fn value<'c>(&self, claims: &'c Map<String, Value>) -> Result<&'c str, &'static str> {
        let value = match claims.get(&self.claim) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim(),
            _ => return Err("the token does not name a user"),
        };
        if value.len() > MAX_IDENTITY_BYTES || value.contains('\0') {
            return Err("the token does not name a user");
        }
        if self.kind == IdentityKind::Email {
            let verified = match claims.get(&self.email_verified_claim) {
                Some(Value::Bool(b)) => *b,
                // Some providers (Amazon Cognito) send it as a string.
                Some(Value::String(s)) => s == "true",
                _ => false,
            };
            if !verified {
                return Err("the token's email is not verified");
            }
        }
        Ok(value)
    }

    /// A stable text for caching the lookup of `value` in `firm_id` (or in every firm).
    pub fn cache_key(&self, firm_id: Option<i64>, value: &str) -> String {
        let folded = match self.kind {
            IdentityKind::Email => entity::fold(value),
            _ => value.to_string(),
        };
        format!("{}:{}:{folded}", firm_id.unwrap_or(0), self.kind.name())
    }

    /// The users `value` names, in `firm_id` only when given (at most two are read: more than
    /// one is as good as none).
    pub async fn users(&self, db: &DatabaseConnection, firm_id: Option<i64>, value: &str) -> AppResult<Vec<i64>> {
        let mut find = user::Entity::find().select_only().column(user::Column::Id);
        find = match self.kind {
            IdentityKind::Id => match ids::decode(Kind::User, value) {
                Ok(id) => find.filter(user::Column::Id.eq(id)),
                Err(_) => return Ok(Vec::new()),
            },
            IdentityKind::Key => find.filter(user::Column::Key.eq(value)),
            IdentityKind::Email => find.filter(user::Column::EmailFolded.eq(entity::fold(value))),
        };
        if let Some(firm_id) = firm_id {
            find = find.filter(user::Column::FirmId.eq(firm_id));
        }
        Ok(find.limit(2).into_tuple::<i64>().all(db).await?)
    }
}
