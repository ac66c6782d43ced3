//! Schema migrations, the same on SQLite and PostgreSQL. One module per step; never edit a
//! step that has shipped, add a new one.

pub use sea_orm_migration::prelude::*;

mod m0001_firm_data;
mod m0002_reassignments;
mod m0003_notifications;
mod m0004_folded_search;
mod m0005_planned_handovers;
mod m0006_routing_and_risk;
mod m0007_email_html;
mod m0008_users_changed_trigger;
mod m0009_item_writes;
mod m0010_firm_issuers;
mod m0011_covering_ids;
mod m0012_item_ranges;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_firm_data::Migration),
            Box::new(m0002_reassignments::Migration),
            Box::new(m0003_notifications::Migration),
            Box::new(m0004_folded_search::Migration),
            Box::new(m0005_planned_handovers::Migration),
            Box::new(m0006_routing_and_risk::Migration),
            Box::new(m0007_email_html::Migration),
            Box::new(m0008_users_changed_trigger::Migration),
            Box::new(m0009_item_writes::Migration),
            Box::new(m0010_firm_issuers::Migration),
            Box::new(m0011_covering_ids::Migration),
            Box::new(m0012_item_ranges::Migration),
        ]
    }
}
