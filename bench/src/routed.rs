//! Routing on the reference firm.
//!
//! `handover-bench --routed`: the source's work handed to one target, and the same work routed
//! across a pool of 10 attorneys (`LEAST_LOADED`, every matter; tasks and events follow their
//! matter), alternating in one sitting: each way previewed three times, applied with the preview
//! token and undone, twice. Prints the medians and the ratio routed / one target.

use crate::{PREVIEW, Server, generate, ms, post};
use chrono::Utc;
use entity::{Licence, user};
use handover::auth::JwtKeys;
use handover::error::{AppError, AppResult};
use handover::ids::{self, Kind};
use rand::RngCore;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use std::time::Duration;

const APPLY: &str = "mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code message }
  reassignment { id matters { reassigned } tasks { reassigned } calendarEvents { reassigned } } } }";
const UNDO: &str = "mutation($id: ID!) { undoReassignment(id: $id) { userErrors { code message } } }";
const ROUNDS: usize = 2;
const POOL: u64 = 10;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

pub async fn run(database_url: &str, scale: f64) -> AppResult<()> {
    let db = handover::db::connect(database_url).await?;
    handover::db::migrate(&db).await?;
    let backend = handover::db::backend_name(&db);
    let (people, _) = generate::ensure(&db, generate::Size::scaled(scale), Utc::now()).await?;
    // The target and the next attorneys of the firm, ten in all.
    let pool: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::FirmId.eq(people.firm_id))
        .filter(user::Column::Licence.eq(Licence::Attorney))
        .filter(user::Column::Enabled.eq(true))
        .filter(user::Column::Id.gte(people.target))
        .order_by_asc(user::Column::Id)
        .limit(POOL)
        .into_tuple()
        .all(&db)
        .await?;

    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let (server, port) = Server::start(database_url, &secret).await?;
    let token = JwtKeys::hs256(secret.as_bytes(), None, None).sign(&ids::encode(Kind::User, people.admin), 3600)?;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/graphql");
    let user = |id: i64| ids::encode(Kind::User, id);
    let single = json!({
        "fromUserId": user(people.source), "toUserId": user(people.target), "acknowledgeRisks": true,
    });
    let routed = json!({
        "fromUserId": user(people.source), "toUserId": user(people.target), "acknowledgeRisks": true,
        "routes": [{ "when": {}, "pool": pool.iter().map(|id| user(*id)).collect::<Vec<_>>(), "strategy": "LEAST_LOADED" }],
    });

    let mut previews: [Vec<Duration>; 2] = Default::default();
    let mut applies: [Vec<Duration>; 2] = Default::default();
    let mut moved: [Value; 2] = Default::default();
    for _ in 0..ROUNDS {
        for (way, input) in [&single, &routed].into_iter().enumerate() {
            let mut preview = Value::Null;
            for _ in 0..3 {
                let (mut data, took) = post(&client, &url, &token, PREVIEW, json!({ "i": input })).await?;
                previews[way].push(took);
                preview = data["reassignmentPreview"].take();
            }
            let mut apply = input.clone();
            apply["previewToken"] = preview["previewToken"].clone();
            let (data, took) = post(&client, &url, &token, APPLY, json!({ "i": apply })).await?;
            let payload = &data["reassignWork"];
            if payload["userErrors"].as_array().is_some_and(|e| !e.is_empty()) {
                return Err(AppError::internal(format!("apply refused: {payload}")));
            }
            applies[way].push(took);
            moved[way] = payload["reassignment"].clone();
            let (data, _) = post(
                &client,
                &url,
                &token,
                UNDO,
                json!({ "id": payload["reassignment"]["id"] }),
            )
            .await?;
            if data["undoReassignment"]["userErrors"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
            {
                return Err(AppError::internal(format!("undo refused: {data}")));
            }
        }
    }
    drop(server);
    for (way, name) in ["one target", "routed"].iter().enumerate() {
        let m = &moved[way];
        eprintln!(
            "{name}: {} matters, {} tasks, {} events moved",
            m["matters"]["reassigned"], m["tasks"]["reassigned"], m["calendarEvents"]["reassigned"]
        );
    }
    let (p1, p2) = (median(previews[0].clone()), median(previews[1].clone()));
    let (a1, a2) = (median(applies[0].clone()), median(applies[1].clone()));
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    println!(
        "| database | scale | pool | preview, one target | preview, routed | routed / one | apply, one target | apply, routed | routed / one |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {scale} | {} | {} | {} | {:.2}x | {} | {} | {:.2}x |",
        pool.len(),
        ms(p1),
        ms(p2),
        ratio(p1, p2),
        ms(a1),
        ms(a2),
        ratio(a1, a2)
    );
    Ok(())
}
