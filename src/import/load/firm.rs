//! The firm itself, by key.

use super::Counts;
use crate::import::ImportError;
use crate::import::document::FirmDocument;
use entity::firm;
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
    Ok((firm_id, counts))
}
