//! Single sign-on: the identity providers (token issuers) each firm trusts, and how their tokens
//! name a person. Looked up by issuer on every token that names one, hence the index. On
//! PostgreSQL a change tells every instance (the trigger of m0008), which forgets what it kept.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FirmIssuer {
    Table,
    Id,
    FirmId,
    Issuer,
    Audience,
    JwksUrl,
    IdentityClaim,
    Identity,
    EmailVerifiedClaim,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FirmIssuer::Table)
                .col(big_pk_auto(FirmIssuer::Id))
                .col(big_integer(FirmIssuer::FirmId))
                .col(text(FirmIssuer::Issuer))
                .col(text(FirmIssuer::Audience))
                .col(text_null(FirmIssuer::JwksUrl))
                .col(text(FirmIssuer::IdentityClaim))
                .col(string_len(FirmIssuer::Identity, 16))
                .col(text(FirmIssuer::EmailVerifiedClaim))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_firm_issuer")
                .table(FirmIssuer::Table)
                .col(FirmIssuer::Issuer)
                .col(FirmIssuer::FirmId)
                .unique()
                .take(),
        )
        .await?;
        let db = m.get_connection();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "CREATE TRIGGER handover_users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON firm_issuer
                 FOR EACH STATEMENT EXECUTE FUNCTION handover_users_changed()",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FirmIssuer::Table).take()).await
    }
}
