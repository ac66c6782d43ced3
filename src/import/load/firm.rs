//! The firm itself, by key.

use super::Counts;
use crate::import::ImportError;
use crate::import::document::{FirmDocument, IssuerIn};
use entity::{firm, firm_issuer};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub(super) async fn load<C: ConnectionTrait>(db: &C, doc: &FirmDocument) -> Result<(i64, Counts), ImportError> {
    let mut counts = Counts::default();
    let existing = firm::Entity::find()
        .filter(firm::Column::Key.eq(&doc.firm.key))
        .one(db)
        .await?;
    let firm_id = match existing {
        Some(f) if f.name == doc.firm.name && f.time_zone == doc.firm.time_zone => {
            counts.unchanged += 1;
            f.id
        }
        Some(f) => {
            let mut am: firm::ActiveModel = f.into();
            am.name = Set(doc.firm.name.clone());
            am.time_zone = Set(doc.firm.time_zone.clone());
            counts.updated += 1;
            am.update(db).await?.id
        }
        None => {
            counts.created += 1;
            firm::ActiveModel {
                key: Set(doc.firm.key.clone()),
                name: Set(doc.firm.name.clone()),
                time_zone: Set(doc.firm.time_zone.clone()),
                ..Default::default()
            }
            .insert(db)
            .await?
            .id
        }
    };
    if let Some(issuers) = &doc.firm.issuers
        && sync_issuers(db, firm_id, issuers).await?
        && counts.unchanged == 1
    {
        counts.unchanged = 0;
        counts.updated = 1;
    }
    Ok((firm_id, counts))
}

/// Make the firm's trusted issuers those of the file. `true`: something changed.
async fn sync_issuers<C: ConnectionTrait>(db: &C, firm_id: i64, issuers: &[IssuerIn]) -> Result<bool, ImportError> {
    let row = |i: &IssuerIn| firm_issuer::ActiveModel {
        firm_id: Set(firm_id),
        issuer: Set(i.issuer.clone()),
        audience: Set(i.audience.clone()),
        jwks_url: Set(i.jwks_url.clone()),
        identity_claim: Set(i.identity_claim.clone()),
        identity: Set(i.identity.name().to_string()),
        email_verified_claim: Set(i.email_verified_claim.clone()),
        ..Default::default()
    };
    let mut existing = firm_issuer::Entity::find()
        .filter(firm_issuer::Column::FirmId.eq(firm_id))
        .all(db)
        .await?;
    existing.sort_by(|a, b| a.issuer.cmp(&b.issuer));
    let mut wanted: Vec<&IssuerIn> = issuers.iter().collect();
    wanted.sort_by(|a, b| a.issuer.cmp(&b.issuer));
    let same = existing.len() == wanted.len()
        && existing.iter().zip(&wanted).all(|(e, w)| {
            e.issuer == w.issuer
                && e.audience == w.audience
                && e.jwks_url == w.jwks_url
                && e.identity_claim == w.identity_claim
                && e.identity == w.identity.name()
                && e.email_verified_claim == w.email_verified_claim
        });
    if same {
        return Ok(false);
    }
    firm_issuer::Entity::delete_many()
        .filter(firm_issuer::Column::FirmId.eq(firm_id))
        .exec(db)
        .await?;
    if !wanted.is_empty() {
        firm_issuer::Entity::insert_many(wanted.into_iter().map(row))
            .exec(db)
            .await?;
    }
    Ok(true)
}
