//! Tasks, by key.

use super::{Counts, Keys, by_key, insert_chunks};
use crate::import::ImportError;
use crate::import::document::FirmDocument;
use entity::task;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

pub(super) async fn load<C: ConnectionTrait>(db: &C, doc: &FirmDocument, keys: &Keys) -> Result<Counts, ImportError> {
    let firm_id = keys.firm_id;
    let user_id = |key: &str| keys.user(key);
    let mut counts = Counts::default();
    let existing = by_key(db, task::Column::FirmId, firm_id, |t| (t.key.clone(), t)).await?;
    let mut new_rows = Vec::new();
    for t in &doc.tasks {
        let matter_id = t.matter.as_ref().map(|k| keys.matters[k]);
        let assigner_id = t.assigner.as_deref().map(user_id);
        let mut am = task::ActiveModel {
            firm_id: Set(firm_id),
            key: Set(t.key.clone()),
            name: Set(t.name.clone()),
            matter_id: Set(matter_id),
            assignee_id: Set(user_id(&t.assignee)),
            assigner_id: Set(assigner_id),
            due_date: Set(t.due_date),
            status: Set(t.status),
            statute_of_limitations: Set(t.statute_of_limitations),
            ..Default::default()
        };
        match existing.get(&t.key) {
            None => {
                counts.created += 1;
                new_rows.push(am);
            }
            Some(old)
                if old.name == t.name
                    && old.matter_id == matter_id
                    && old.assignee_id == user_id(&t.assignee)
                    && old.assigner_id == assigner_id
                    && old.due_date == t.due_date
                    && old.status == t.status
                    && old.statute_of_limitations == t.statute_of_limitations =>
            {
                counts.unchanged += 1
            }
            Some(old) => {
                counts.updated += 1;
                am.id = Set(old.id);
                am.update(db).await?;
            }
        }
    }
    insert_chunks::<task::Entity, _>(db, new_rows).await?;
    Ok(counts)
}
