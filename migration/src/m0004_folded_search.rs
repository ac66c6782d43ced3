//! Folded columns for search and email uniqueness, computed by the application (Unicode lower
//! case, `entity::fold`), because SQLite's `lower()` folds ASCII only and PostgreSQL's depends
//! on the cluster's locale. Backfilled here with the same rule.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, TryGetable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
    FirmId,
    Name,
    Email,
    EmailFolded,
    SearchText,
}

#[derive(DeriveIden)]
enum Matter {
    Table,
    Id,
    DisplayNumber,
    Description,
    ClientName,
    SearchText,
}

/// The same rule as `entity::fold` (this crate does not depend on `entity`).
fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn add_text(table: impl IntoIden, column: impl IntoIden) -> TableAlterStatement {
    Table::alter()
        .table(table)
        .add_column(ColumnDef::new(column).text().not_null().default(""))
        .to_owned()
}

async fn rows(
    m: &SchemaManager<'_>,
    query: SelectStatement,
) -> Result<Vec<sea_orm_migration::sea_orm::QueryResult>, DbErr> {
    let db = m.get_connection();
    db.query_all_raw(db.get_database_backend().build(&query)).await
}

fn get<T: TryGetable>(row: &sea_orm_migration::sea_orm::QueryResult, col: &str) -> Result<T, DbErr> {
    row.try_get("", col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Two emails of one firm that differ only in case would break the unique index: say so
        // before anything is altered.
        let mut seen = std::collections::HashMap::new();
        for row in rows(
            m,
            Query::select()
                .columns([User::Id, User::FirmId, User::Email])
                .from(User::Table)
                .to_owned(),
        )
        .await?
        {
            let (id, firm, email): (i64, i64, String) = (get(&row, "id")?, get(&row, "firm_id")?, get(&row, "email")?);
            if let Some(other) = seen.insert((firm, fold(&email)), id) {
                return Err(DbErr::Custom(format!(
                    "users {other} and {id} of firm {firm} have emails that differ only in case ({email}); \
                     change one, then migrate again"
                )));
            }
        }
        m.alter_table(add_text(User::Table, User::EmailFolded)).await?;
        m.alter_table(add_text(User::Table, User::SearchText)).await?;
        m.alter_table(add_text(Matter::Table, Matter::SearchText)).await?;
        let db = m.get_connection();
        let backend = db.get_database_backend();

        let users = rows(
            m,
            Query::select()
                .columns([User::Id, User::Name, User::Email])
                .from(User::Table)
                .to_owned(),
        )
        .await?;
        for row in users {
            let (id, name, email): (i64, String, String) = (get(&row, "id")?, get(&row, "name")?, get(&row, "email")?);
            let update = Query::update()
                .table(User::Table)
                .values([
                    (User::EmailFolded, fold(&email).into()),
                    (User::SearchText, format!("{}\n{}", fold(&name), fold(&email)).into()),
                ])
                .and_where(Expr::col(User::Id).eq(id))
                .to_owned();
            db.execute_raw(backend.build(&update)).await?;
        }
        let matters = rows(
            m,
            Query::select()
                .columns([
                    Matter::Id,
                    Matter::DisplayNumber,
                    Matter::Description,
                    Matter::ClientName,
                ])
                .from(Matter::Table)
                .to_owned(),
        )
        .await?;
        for row in matters {
            let id: i64 = get(&row, "id")?;
            let text = ["display_number", "description", "client_name"]
                .iter()
                .map(|c| get::<String>(&row, c).map(|v| fold(&v)))
                .collect::<Result<Vec<_>, _>>()?
                .join("\n");
            let update = Query::update()
                .table(Matter::Table)
                .values([(Matter::SearchText, text.into())])
                .and_where(Expr::col(Matter::Id).eq(id))
                .to_owned();
            db.execute_raw(backend.build(&update)).await?;
        }
        // Two addresses that differ only in case are one mailbox.
        m.create_index(
            Index::create()
                .name("ux_user_firm_email_folded")
                .table(User::Table)
                .col(User::FirmId)
                .col(User::EmailFolded)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ux_user_firm_email_folded")
                .table(User::Table)
                .to_owned(),
        )
        .await?;
        for (table, column) in [
            (User::Table.into_iden(), User::EmailFolded.into_iden()),
            (User::Table.into_iden(), User::SearchText.into_iden()),
            (Matter::Table.into_iden(), Matter::SearchText.into_iden()),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
