use crate::auth::JwtKeys;
use crate::config::{DatabaseArgs, JwtArgs, TokenArgs};
use crate::error::{AppError, AppResult};
use crate::ids::{self, Kind};
use entity::{firm, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub async fn run(database: &DatabaseArgs, jwt: &JwtArgs, args: &TokenArgs) -> AppResult<()> {
    let keys = JwtKeys::from_args(jwt)?.ok_or_else(|| {
        AppError::BadUserInput("no signing key: set --jwt-secret (HANDOVER_JWT_SECRET) or --jwt-private-key".into())
    })?;
    let db = crate::db::connect(&database.database_url).await?;
    let token = token_for_email(&db, &keys, &args.email, args.firm.as_deref(), args.expires_in).await?;
    println!("{token}");
    Ok(())
}

/// Sign a token for the user with this email (in the given firm, when several firms have it).
pub async fn token_for_email(
    db: &DatabaseConnection,
    keys: &JwtKeys,
    email: &str,
    firm_key: Option<&str>,
    ttl_seconds: u64,
) -> AppResult<String> {
    let mut found = user::Entity::find()
        .filter(user::Column::EmailFolded.eq(entity::fold(email.trim())))
        .all(db)
        .await?;
    if let Some(key) = firm_key {
        let firm = firm::Entity::find()
            .filter(firm::Column::Key.eq(key))
            .one(db)
            .await?
            .ok_or(AppError::NotFound("firm"))?;
        found.retain(|u| u.firm_id == firm.id);
    }
    let user = match found.len() {
        0 => return Err(AppError::NotFound("user with that email")),
        1 => found.remove(0),
        _ => {
            return Err(AppError::BadUserInput(
                "several firms have a user with that email; name one with --firm".into(),
            ));
        }
    };
    if !user.enabled {
        return Err(AppError::BadUserInput(format!(
            "{email} is deactivated; its tokens would be refused"
        )));
    }
    keys.sign(&ids::encode(Kind::User, user.id), ttl_seconds)
}
