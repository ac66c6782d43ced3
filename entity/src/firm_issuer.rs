use sea_orm::entity::prelude::*;

/// An identity provider a firm trusts: tokens whose `iss` is `issuer` and whose audience holds
/// `audience`, signed by a key of `jwks_url` (or, without one, of the issuer's OpenID Connect
/// discovery document), act as the firm's user their `identity_claim` names.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "firm_issuer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    pub identity_claim: String,
    /// What the claim holds: `id` (handover's user ID), `key` (the import's user key), `email`.
    pub identity: String,
    /// The claim that must be `true` for an email to name anyone.
    pub email_verified_claim: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
